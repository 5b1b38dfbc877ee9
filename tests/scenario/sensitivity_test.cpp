// fwdsim sensitivity: what moves a result, and whether a declared
// comparison survives the cost profile's uncertainty.
#include <fwdsim/scenario/comparison.h>
#include <fwdsim/scenario/sensitivity.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

// The headline device at 1 k/s under irqfd and forwarded delivery, short.
const char* kScenario = R"(scenario: sens
seed: 3
duration_us: 6000
warmup_us: 1000
vms:
  - {name: vm0, vcpus: 1, pin: [1]}
guest:
  handler: {kind: fixed, cycles: 2000}
  workload: idle
devices:
  - name: plat0
    kind: platform
    vm: vm0
    iommu_group: 1
    irqs:
      - {index: 0, trigger: level, host_irq: 48, guest_irq: 48, delivery: forwarded,
         traffic: {kind: periodic, rate_per_s: 1000}}
compare:
  - forwarded < irqfd on host_cycles_per_irq
sweep:
  devices.0.irqs.0.delivery: [irqfd, forwarded]
)";

std::vector<SweepPoint> points() { return expand_sweep(kScenario, "sens.yaml"); }

std::size_t primitive_index(const SensitivityReport& r, const std::string& key)
{
    const auto it = std::find_if(r.primitives.begin(), r.primitives.end(),
                                 [&](const PrimitiveRange& p) { return p.key == key; });
    REQUIRE(it != r.primitives.end());
    return static_cast<std::size_t>(it - r.primitives.begin());
}

} // namespace

TEST_CASE("comparisons parse as '[F *] MODE OP [F *] MODE on METRIC' and refuse anything else")
{
    const auto c = parse_comparison("1.5 * forwarded <= irqfd on host_cycles_per_irq", "f", 7, 0);
    CHECK(c.lhs_factor == 1.5);
    CHECK(c.lhs == "forwarded");
    CHECK(c.op == Comparison::Op::less_equal);
    CHECK(c.rhs == "irqfd");
    CHECK(c.metric == "host_cycles_per_irq");
    CHECK(c.holds(10, 15));
    CHECK_FALSE(c.holds(10, 14.9));
    CHECK(c.margin(10, 16) == Approx(1.0));
    for (const char* bad : {"forwarded < irqfd", "forwarded < irqfd on latency", "forwarded << irqfd on ack_p50",
                            "fast < irqfd on ack_p50", "forwarded < forwarded on ack_p50",
                            "-1 * forwarded < irqfd on ack_p50", "inf * forwarded < irqfd on ack_p50",
                            "forwarded < irqfd on ack_p50 extra", ""}) {
        INFO(bad);
        try {
            (void)parse_comparison(bad, "s.yaml", 12, 3);
            FAIL("accepted");
        } catch (const sim::ConfigError& e) {
            CHECK(e.line() == 12);
            CHECK(e.field() == "compare.3");
        }
    }
}

TEST_CASE("a scenario's compare list is read with the line of each entry")
{
    const auto p = points();
    REQUIRE(p.front().config.compare.size() == 1);
    CHECK(p.front().config.compare[0].line == 18);
    CHECK_THROWS_AS(expand_sweep(std::string(kScenario).replace(std::string(kScenario).find("on host_cycles"), 2, "in"),
                                 "sens.yaml"),
                    sim::ConfigError);
}

TEST_CASE("one at a time: a fixed primitive moves nothing, one on no path is irrelevant, one on the path moves "
          "exactly the results whose paths hold it")
{
    auto profile = load_profile(points().front().config);
    profile.set("test.unused", sim::Cycles{1000}, "on no path", "estimate");
    profile.set_range("kvm.irqfd_inject", profile.get("kvm.irqfd_inject"), profile.get("kvm.irqfd_inject"));
    SensitivityOptions o;
    o.samples = 4;
    const auto r = run_sensitivity(points(), {}, profile, o);

    const auto idle = r.irrelevant();
    CHECK(std::find(idle.begin(), idle.end(), "test.unused") != idle.end());
    CHECK(std::find(idle.begin(), idle.end(), "kvm.irqfd_inject") == idle.end()); // fixed, not irrelevant
    const auto inject = primitive_index(r, "kvm.irqfd_inject");
    CHECK(r.primitives[inject].fixed());
    for (std::size_t m = 0; m < r.metrics.size(); ++m) {
        CHECK(r.oat[inject][m].at_low == r.base[m]);
        CHECK(r.oat[inject][m].at_high == r.base[m]);
    }
    for (const auto& s : r.samples) CHECK(s[inject] == r.primitives[inject].value);

    // The eventfd is signalled on the irqfd path only: its range moves
    // irqfd's latency and none of forwarded's results.
    const auto signal = primitive_index(r, "host.eventfd_signal");
    bool moved_irqfd = false;
    for (std::size_t m = 0; m < r.metrics.size(); ++m) {
        const bool moved = r.oat[signal][m].at_low != r.base[m] || r.oat[signal][m].at_high != r.base[m];
        if (r.metrics[m].delivery == "forwarded") CHECK_FALSE(moved);
        if (r.metrics[m].delivery == "irqfd" && r.metrics[m].metric == "ack_p50") moved_irqfd = moved;
    }
    CHECK(moved_irqfd);
}

TEST_CASE("joint samples and the whole report are bit-identical for one seed with 1 or 2 jobs, and differ with "
          "another seed")
{
    const auto profile = load_profile(points().front().config);
    SensitivityOptions o;
    o.one_at_a_time = false;
    o.samples = 6;
    o.seed = 9;
    const auto text = [&](unsigned jobs, std::uint64_t seed) {
        o.jobs = jobs;
        o.seed = seed;
        std::ostringstream s;
        write_sensitivity_json(s, run_sensitivity(points(), points().front().config.compare, profile, o));
        return s.str();
    };
    const auto one = text(1, 9);
    CHECK(one == text(2, 9));
    CHECK(one != text(2, 10));
}

TEST_CASE("Latin-hypercube samples put one draw in each stratum of every primitive's range")
{
    auto profile = load_profile(points().front().config);
    for (const char* key : {"host.idle_exit", "kvm.world_switch_enter", "host.eventfd_signal", "kvm.irqfd_inject"}) {
        const auto v = profile.get(key).count();
        profile.set_range(key, sim::Cycles{v - 50}, sim::Cycles{v + 49}); // 100 cycles: 5 strata of 20
    }
    SensitivityOptions o;
    o.one_at_a_time = false;
    o.samples = 5;
    const auto r = run_sensitivity({points().front()}, {}, profile, o);
    std::size_t checked = 0;
    for (std::size_t k = 0; k < r.primitives.size(); ++k) {
        const auto& p = r.primitives[k];
        for (const auto& s : r.samples) {
            REQUIRE(s[k] >= p.low);
            REQUIRE(s[k] <= p.high);
        }
        // Where the range's width divides into whole strata, each holds one draw.
        const std::uint64_t width = p.high - p.low + 1;
        if (width % 5 != 0) continue;
        ++checked;
        std::vector<int> hits(5, 0);
        for (const auto& s : r.samples) ++hits[(s[k] - p.low) / (width / 5)];
        INFO(p.key);
        CHECK(std::count(hits.begin(), hits.end(), 1) == 5);
    }
    CHECK(checked >= 4);
}

TEST_CASE("a comparison one primitive overturns is reported with the value at which it turns")
{
    // irqfd pays kvm.irqfd_inject on each interrupt's host cycles;
    // forwarded does not.  With a factor that leaves a margin smaller than
    // that primitive's range, lowering it alone turns the comparison.
    auto pts = points();
    const auto profile = load_profile(pts.front().config);
    const RunResult irqfd = run_scenario(pts[0].config, profile);
    const RunResult fwd = run_scenario(pts[1].config, profile);
    const double a = metric_value(fwd.irqs[0], "host_cycles_per_irq");
    const double b = metric_value(irqfd.irqs[0], "host_cycles_per_irq");
    // Scale the forwarded side so that it is just 100 cycles cheaper.
    const double factor = (b - 100.0) / a;
    std::ostringstream text;
    text.precision(17);
    text << factor << " * forwarded < irqfd on host_cycles_per_irq";
    const auto cmp = parse_comparison(text.str(), "t", 1, 0);
    REQUIRE(cmp.holds(a, b));
    auto wide = profile;
    wide.set_range("kvm.irqfd_inject", sim::Cycles{0}, profile.get("kvm.irqfd_inject"));
    SensitivityOptions o;
    o.samples = 0;
    const auto r = run_sensitivity(pts, std::vector<Comparison>{cmp}, wide, o);
    REQUIRE(r.cases.size() == 1);
    const auto& cc = r.cases[0];
    CHECK(cc.holds_at_base);
    const auto it = std::find_if(cc.overturns.begin(), cc.overturns.end(),
                                 [](const Overturn& t) { return t.primitive == "kvm.irqfd_inject"; });
    REQUIRE(it != cc.overturns.end());
    CHECK_FALSE(it->upward);
    // The threshold is exact: it fails there and holds one cycle above.
    const auto at = [&](std::uint64_t cycles) {
        auto p = wide;
        p.set("kvm.irqfd_inject", sim::Cycles{cycles});
        return cmp.holds(metric_value(run_scenario(pts[1].config, p).irqs[0], "host_cycles_per_irq"),
                         metric_value(run_scenario(pts[0].config, p).irqs[0], "host_cycles_per_irq"));
    };
    CHECK_FALSE(at(it->threshold));
    CHECK(at(it->threshold + 1));
}

TEST_CASE("a comparison that applies to no pair of results is refused naming its line")
{
    auto pts = points();
    pts.pop_back(); // irqfd only
    SensitivityOptions o;
    o.samples = 0;
    o.one_at_a_time = false;
    try {
        (void)run_sensitivity(pts, pts.front().config.compare, load_profile(pts.front().config), o);
        FAIL("accepted");
    } catch (const sim::ConfigError& e) {
        CHECK(e.field() == "compare.0");
        CHECK(e.line() == 18);
    }
}

TEST_CASE("an analysis run in shards and analysed from their files equals the one run whole, and bad shard sets "
          "are refused")
{
    const auto pts = points();
    auto profile = load_profile(pts.front().config);
    profile.set_range("kvm.irqfd_inject", sim::Cycles{0}, sim::Cycles{400});
    SensitivityOptions o;
    o.samples = 3;
    const auto compare = pts.front().config.compare;
    std::ostringstream whole;
    write_sensitivity_json(whole, run_sensitivity(pts, compare, profile, o));

    const auto digest = sensitivity_plan_digest(pts, profile, o);
    const auto tasks = sensitivity_tasks(pts, profile, o);
    std::vector<std::string> files;
    for (std::size_t shard = 0; shard < 3; ++shard) {
        std::ostringstream f;
        write_sensitivity_runs(f, digest, tasks, shard, 3, run_sensitivity_tasks(pts, profile, o, shard, 3));
        files.push_back(f.str());
    }
    const auto read_all = [&](const std::vector<std::string>& texts) {
        std::vector<SensitivityRun> runs;
        for (const auto& t : texts) {
            std::istringstream in(t);
            auto part = read_sensitivity_runs(in, "shard", digest, tasks);
            runs.insert(runs.end(), part.begin(), part.end());
        }
        return runs;
    };
    std::ostringstream merged;
    write_sensitivity_json(merged, analyse_sensitivity(pts, compare, profile, o, read_all(files)));
    CHECK(merged.str() == whole.str());

    // A shard missing, a shard twice, a truncated shard, another seed's shard.
    CHECK_THROWS_AS(analyse_sensitivity(pts, compare, profile, o, read_all({files[0], files[2]})), sim::ConfigError);
    CHECK_THROWS_AS(analyse_sensitivity(pts, compare, profile, o, read_all({files[0], files[1], files[1], files[2]})),
                    sim::ConfigError);
    const std::string cut = files[1].substr(0, files[1].size() / 2);
    CHECK_THROWS_AS(read_all({cut}), sim::ConfigError);
    auto other = o;
    other.seed = 2;
    CHECK(sensitivity_plan_digest(pts, profile, other) != digest);
    std::ostringstream foreign;
    write_sensitivity_runs(foreign, sensitivity_plan_digest(pts, profile, other), tasks, 0, 1,
                           run_sensitivity_tasks(pts, profile, other, 0, 9));
    CHECK_THROWS_AS(read_all({foreign.str()}), sim::ConfigError);
}
