#include <fwdsim/scenario/resolved.h>
#include <fwdsim/scenario/results.h>
#include <fwdsim/sim/trace.h>

#include <fmt/format.h>

#include <algorithm>
#include <ostream>

namespace fwdsim::scenario {
namespace {

// Each bucket as [low, high, count], cycles inclusive.
std::string hist_json(const sim::Histogram& h)
{
    std::string buckets;
    for (const auto& b : h.buckets()) buckets += fmt::format("{}[{},{},{}]", buckets.empty() ? "" : ",", b.low, b.high, b.count);
    return fmt::format(R"({{"count":{},"min":{},"mean":{:.3f},"p50":{},"p90":{},"p99":{},"p999":{},"max":{},"buckets":[{}]}})",
                       h.count(), h.min(), h.mean(), h.percentile(50), h.percentile(90), h.percentile(99),
                       h.percentile(99.9), h.max(), buckets);
}

// Each bucket as LOW-HIGH:COUNT (LOW:COUNT when it holds one value),
// blank-separated: no comma, so the CSV field needs no quotes.
std::string hist_csv(const sim::Histogram& h)
{
    std::string out;
    for (const auto& b : h.buckets()) {
        out += out.empty() ? "" : " ";
        out += b.low == b.high ? fmt::format("{}:{}", b.low, b.count) : fmt::format("{}-{}:{}", b.low, b.high, b.count);
    }
    return out;
}

std::string csv_field(const std::string& s)
{
    if (s.find_first_of(",\"\n") == std::string::npos) {
        return s;
    }
    std::string out = "\"";
    for (char c : s) {
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    }
    return out + "\"";
}

std::string params_text(const RunResult& r)
{
    std::string s;
    for (const auto& [k, v] : r.params) {
        s += fmt::format("{}{}={}", s.empty() ? "" : ";", k, v);
    }
    return s;
}

std::uint64_t total_exits(const IrqResult& irq)
{
    std::uint64_t n = 0;
    for (const auto& [reason, count] : irq.exits) n += count;
    return n;
}

} // namespace

namespace {
// The sweep parameters of a point, short: the last key component and its
// value ("rate_per_s=1000").  An interrupt's configured delivery has its
// own column; a switch's (vmm.switches.N.delivery) has not, and without it
// two points would print the same row labels.
std::string short_params(const RunResult& r)
{
    std::string out;
    for (const auto& [path, value] : r.params) {
        const std::string key = path.substr(path.rfind('.') + 1);
        if (key == "delivery" && path.rfind("devices.", 0) == 0) continue;
        out += (out.empty() ? "" : " ") + key + "=" + value;
    }
    return out.empty() ? "-" : out;
}
} // namespace

void write_table(std::ostream& out, const std::vector<RunResult>& runs, TablePart part)
{
    if (part == TablePart::all || part == TablePart::header)
    out << fmt::format("{:<6} {:<20} {:<12} {:<10} {:>8} {:>8} {:>6} {:>10} {:>10} {:>10} {:>8} {:>7} {:>7} {:>6} {:>11}\n", "point",
                       "sweep", "irq", "mode", "raised", "deliv", "coal", "ack p50", "ack p99", "eoi p50", "exits/i",
                       "maint/i", "unmsk/i", "user/i", "host cy/i");
    for (const auto& r : part == TablePart::all || part == TablePart::rows ? runs : std::vector<RunResult>{}) {
        for (const auto& i : r.irqs) {
            out << fmt::format("{:<6} {:<20} {:<12} {:<10} {:>8} {:>8} {:>6} {:>10} {:>10} {:>10} {:>8.2f} {:>7.2f} {:>7.2f} {:>6.2f} {:>11.0f}\n",
                               r.point, short_params(r), i.name, i.delivery, i.raised, i.delivered, i.coalesced,
                               i.to_ack.percentile(50), i.to_ack.percentile(99), i.to_eoi.percentile(50),
                               i.per_irq(total_exits(i)), i.per_irq(i.maintenance_irqs), i.per_irq(i.vfio_unmasks),
                               i.per_irq(i.user_round_trips), i.per_irq(i.host_cycles));
        }
    }
    // The VMM's switches, where the run made any: the latency of the
    // interrupts raised just after each one began, and what the switch
    // itself cost the host.
    for (const auto& r : part == TablePart::all || part == TablePart::rows ? runs : std::vector<RunResult>{}) {
        if (r.switches.empty()) continue;
        for (const auto& i : r.irqs) {
            const sim::Histogram& h = i.to_ack_near_switch;
            out << fmt::format("{:<6} {:<20} {:<12} policy {}: {} raised within {:g} us of a switch: ack p50 {} p99 {} max {} (jitter p99-p50 {})\n",
                               r.point, short_params(r), i.name, r.forward_policy, h.count(), kSwitchWindowUs,
                               h.percentile(50), h.percentile(99), h.max(), h.percentile(99) - h.percentile(50));
        }
        for (const auto& w : r.switches) {
            out << fmt::format("{:<6} {:<20} switch {} -> {}: {} times, {:.0f} host cycles each\n", r.point, short_params(r),
                               w.from, w.to, w.count, w.per_switch());
        }
    }
    if (part == TablePart::all || part == TablePart::footer)
        out << "latencies in cycles from the device raising the interrupt; '/i' = per delivered interrupt;\n"
               "user = round trips to the VMM in user space (its I/O thread woken, a vCPU exit to it)\n";
}

void write_json_lines(std::ostream& out, const std::vector<RunResult>& runs)
{
    for (const auto& r : runs) {
        out << fmt::format(R"({{"point":{},"scenario":"{}","fwdsim":"{}","params":{{)", r.point, sim::json_escape(r.scenario),
                           fwdsim_version());
        for (std::size_t k = 0; k < r.params.size(); ++k) {
            out << fmt::format(R"({}"{}":"{}")", k ? "," : "", sim::json_escape(r.params[k].first),
                               sim::json_escape(r.params[k].second));
        }
        out << fmt::format(R"(}},"seed":{},"profile":"{}","profile_digest":"{:016x}","clock_hz":{},"duration_us":{:.3f},"events":{},"irqs":[)",
                           r.seed, sim::json_escape(r.profile), r.profile_digest, r.clock_hz, r.duration_us, r.events);
        for (std::size_t n = 0; n < r.irqs.size(); ++n) {
            const auto& i = r.irqs[n];
            out << fmt::format(R"({}{{"name":"{}","delivery":"{}","raised":{},"delivered":{},"coalesced":{},"outstanding":{},"lost":{},"dropped":{},"redelivered":{},"duplicated":{},)",
                               n ? "," : "", sim::json_escape(i.name), i.delivery, i.raised, i.delivered, i.coalesced,
                               i.outstanding, i.lost, i.dropped, i.redelivered, i.duplicated);
            out << fmt::format(R"("latency_to_ack":{},"latency_to_eoi":{},"latency_to_deactivate":{},"exits":{{)",
                               hist_json(i.to_ack), hist_json(i.to_eoi), hist_json(i.to_deactivate));
            bool first = true;
            for (const auto& [reason, count] : i.exits) {
                out << fmt::format(R"({}"{}":{})", first ? "" : ",", sim::json_escape(reason), count);
                first = false;
            }
            out << fmt::format(R"(}},"exits_per_irq":{:.4f},"maintenance_irqs":{},"maintenance_per_irq":{:.4f},"vfio_masks":{},"vfio_unmasks":{},"unmasks_per_irq":{:.4f},"user_round_trips":{},"user_round_trips_per_irq":{:.4f},"host_cycles_per_irq":{:.1f},"guest_cycles_per_irq":{:.1f},"breakdown":[)",
                               i.per_irq(total_exits(i)), i.maintenance_irqs, i.per_irq(i.maintenance_irqs), i.vfio_masks,
                               i.vfio_unmasks, i.per_irq(i.vfio_unmasks), i.user_round_trips, i.per_irq(i.user_round_trips),
                               i.per_irq(i.host_cycles),
                               i.per_irq(i.guest_cycles));
            for (std::size_t s = 0; s < i.breakdown.size(); ++s) {
                out << fmt::format(R"({}{{"step":"{}","cycles":{:.1f}}})", s ? "," : "", sim::json_escape(i.breakdown[s].first),
                                   i.breakdown[s].second);
            }
            out << "]";
            if (!r.switches.empty()) out << R"(,"latency_to_ack_near_switch":)" << hist_json(i.to_ack_near_switch);
            out << "}";
        }
        out << "]";
        if (!r.switches.empty()) {
            out << fmt::format(R"(,"forward_policy":"{}","switch_window_us":{:g},"switches":[)", r.forward_policy, kSwitchWindowUs);
            for (std::size_t k = 0; k < r.switches.size(); ++k) {
                const SwitchResult& w = r.switches[k];
                out << fmt::format(R"({}{{"from":"{}","to":"{}","count":{},"host_cycles":{},"host_cycles_per_switch":{:.1f}}})",
                                   k ? "," : "", w.from, w.to, w.count, w.host_cycles, w.per_switch());
            }
            out << "]";
        }
        out << R"(,"resolved":)" << (r.resolved.empty() ? "null" : r.resolved) << "}\n";
    }
}

void write_csv(std::ostream& out, const std::vector<RunResult>& runs, bool header)
{
    if (header) {
        out << "point,scenario,params,seed,profile,irq,delivery,raised,delivered,coalesced,outstanding,lost,dropped,redelivered,duplicated,"
               "ack_p50,ack_p90,ack_p99,ack_p999,ack_max,eoi_p50,eoi_p99,deact_p50,deact_p99,"
               "exits_per_irq,maintenance_per_irq,unmasks_per_irq,host_cycles_per_irq,guest_cycles_per_irq,user_round_trips_per_irq,"
               "fwdsim,profile_digest,ack_buckets,eoi_buckets,deact_buckets,resolved\n";
    }
    for (const auto& r : runs) {
        for (const auto& i : r.irqs) {
            out << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4f},{:.4f},{:.4f},{:.1f},{:.1f},{:.4f},{},{:016x},{},{},{},{}\n",
                               r.point, csv_field(r.scenario), csv_field(params_text(r)), r.seed, csv_field(r.profile),
                               csv_field(i.name), i.delivery, i.raised, i.delivered, i.coalesced, i.outstanding, i.lost,
                               i.dropped, i.redelivered, i.duplicated,
                               i.to_ack.percentile(50), i.to_ack.percentile(90), i.to_ack.percentile(99),
                               i.to_ack.percentile(99.9), i.to_ack.max(), i.to_eoi.percentile(50),
                               i.to_eoi.percentile(99), i.to_deactivate.percentile(50), i.to_deactivate.percentile(99),
                               i.per_irq(total_exits(i)), i.per_irq(i.maintenance_irqs), i.per_irq(i.vfio_unmasks),
                               i.per_irq(i.host_cycles), i.per_irq(i.guest_cycles), i.per_irq(i.user_round_trips),
                               fwdsim_version(), r.profile_digest, hist_csv(i.to_ack), hist_csv(i.to_eoi),
                               hist_csv(i.to_deactivate), csv_field(r.resolved));
        }
    }
}

} // namespace fwdsim::scenario
