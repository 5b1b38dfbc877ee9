// A sensitivity analysis's runs as a shard file, so that shards run apart
// and one process analyses them (sensitivity.h).
#include <fwdsim/scenario/sensitivity.h>
#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <istream>
#include <ostream>
#include <sstream>

namespace fwdsim::scenario {

void write_sensitivity_runs(std::ostream& out, std::uint64_t plan_digest, std::size_t tasks, std::size_t shard,
                            std::size_t shards, const std::vector<SensitivityRun>& runs)
{
    out << fmt::format("fwdsim-sensitivity-runs v1 plan={:016x} tasks={} shard={}/{}\n", plan_digest, tasks, shard, shards);
    for (const auto& run : runs) {
        out << fmt::format("run {} {}\n", run.task, run.irqs.size());
        for (const auto& irq : run.irqs) {
            // The name in hex: it is the user's text, and may hold anything.
            std::string hex;
            for (unsigned char c : irq.name) hex += fmt::format("{:02x}", c);
            out << fmt::format("irq {} {} {}\n", hex.empty() ? "-" : hex, irq.delivery, fmt::join(irq.values, " "));
        }
    }
    out << fmt::format("end {}\n", runs.size());
}

std::vector<SensitivityRun> read_sensitivity_runs(std::istream& in, const std::string& origin,
                                                  std::uint64_t plan_digest, std::size_t tasks)
{
    std::vector<SensitivityRun> runs;
    std::string line;
    int line_no = 0;
    auto fail = [&](const std::string& what) -> void { throw sim::ConfigError(origin, line_no, "runs", what); };
    auto number = [&](std::string_view w, auto& out) {
        const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), out);
        if (w.empty() || ec != std::errc{} || end != w.data() + w.size()) fail("'" + std::string(w) + "' is not a number");
    };
    auto split = [](const std::string& text) {
        std::vector<std::string> w;
        std::istringstream ss(text);
        for (std::string x; ss >> x;) w.push_back(x);
        return w;
    };
    ++line_no;
    if (!std::getline(in, line)) fail("empty: not a sensitivity shard file");
    const std::string want = fmt::format("fwdsim-sensitivity-runs v1 plan={:016x} tasks={} shard=", plan_digest, tasks);
    if (line.rfind("fwdsim-sensitivity-runs v1 ", 0) != 0) fail("not a sensitivity shard file (fwdsim sensitivity --shard)");
    if (line.rfind(want, 0) != 0) {
        fail("written for another analysis (scenario, points, profile, ranges, samples or seed differ): '" + line + "'");
    }
    bool ended = false;
    while (std::getline(in, line)) {
        ++line_no;
        const auto w = split(line);
        if (ended) fail("text after the end line");
        if (w.size() == 2 && w[0] == "end") {
            std::size_t n = 0;
            number(w[1], n);
            if (n != runs.size()) fail(fmt::format("the end line counts {} runs, the file holds {}", n, runs.size()));
            ended = true;
        } else if (w.size() == 3 && w[0] == "run") {
            auto& run = runs.emplace_back();
            std::size_t n = 0;
            number(w[1], run.task);
            number(w[2], n);
            if (run.task >= tasks) fail(fmt::format("run {} is beyond the plan's {} tasks", run.task, tasks));
            for (std::size_t i = 0; i < n; ++i) {
                ++line_no;
                if (!std::getline(in, line)) fail("truncated inside a run");
                const auto v = split(line);
                if (v.size() != 3 + metric_names().size() || v[0] != "irq") fail("expected an irq line with every metric");
                auto& irq = run.irqs.emplace_back();
                if (v[1] != "-") {
                    if (v[1].size() % 2 != 0) fail("a name's hex has an odd length");
                    for (std::size_t c = 0; c < v[1].size(); c += 2) {
                        unsigned byte = 0;
                        const auto [end, ec] = std::from_chars(v[1].data() + c, v[1].data() + c + 2, byte, 16);
                        if (ec != std::errc{} || end != v[1].data() + c + 2) fail("a name is not hex");
                        irq.name += static_cast<char>(byte);
                    }
                }
                irq.delivery = v[2];
                for (std::size_t k = 3; k < v.size(); ++k) number(v[k], irq.values.emplace_back());
            }
        } else {
            fail("expected 'run TASK IRQS' or 'end COUNT'");
        }
    }
    if (!ended) fail("truncated: no end line");
    return runs;
}

} // namespace fwdsim::scenario
