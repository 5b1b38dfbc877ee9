// path_steps: a path's primitives by perturbation.  See
// include/fwdsim/scenario/path_steps.h.
#include <fwdsim/scenario/path_steps.h>
#include <fwdsim/scenario/system.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fwdsim::scenario {

namespace {

double measure(const ScenarioConfig& config, const sim::CostProfile& profile, PathMetric metric)
{
    System sys(config, profile);
    sys.start();
    sys.run_for(sys.us(config.duration_us));
    const RunResult r = sys.report();
    if (r.irqs.empty()) throw std::runtime_error("path_steps: the scenario has no interrupt");
    const IrqResult& i = r.irqs.front();
    if (i.delivered == 0) throw std::runtime_error("path_steps: " + i.name + " delivered nothing");
    if (metric == PathMetric::host_cycles) return i.per_irq(i.host_cycles);
    const sim::Histogram& h = metric == PathMetric::to_ack ? i.to_ack : i.to_eoi;
    if (h.min() != h.max())
        throw std::runtime_error("path_steps: " + i.name + "'s samples differ (" + std::to_string(h.min()) + " to " +
                                 std::to_string(h.max()) + "): its interrupts do not all take one path");
    return static_cast<double>(h.min());
}

} // namespace

PathSteps path_steps(const ScenarioConfig& config, const sim::CostProfile& profile, PathMetric metric, std::uint64_t delta,
                     const std::vector<std::string>& only)
{
    PathSteps out;
    out.irq = config.devices.empty() || config.devices.front().irqs.empty() ? std::string{} : config.devices.front().name + ".0";
    out.delivery = config.devices.empty() || config.devices.front().irqs.empty()
                       ? std::string{}
                       : std::string(to_string(config.devices.front().irqs.front().delivery));
    const double base = measure(config, profile, metric);
    out.latency = static_cast<std::uint64_t>(std::llround(base));
    for (const auto& [key, e] : profile.entries()) {
        if (key == "host.sched_slice") continue; // a duration, not a cost
        if (!only.empty() && std::find(only.begin(), only.end(), key) == only.end()) continue;
        sim::CostProfile p = profile;
        p.set(key, e.cycles + sim::Cycles{delta}, e.description, "perturbed by path_steps");
        const double moved = (measure(config, p, metric) - base) / static_cast<double>(delta);
        const double whole = std::round(moved);
        if (metric != PathMetric::host_cycles && std::fabs(moved - whole) > 1e-9)
            throw std::runtime_error("path_steps: " + key + " moved the path by " + std::to_string(moved) + " x its change");
        const auto count = static_cast<std::int64_t>(whole);
        if (count == 0) continue;
        out.steps.push_back(PathStep{key, e.description, count, e.cycles.count()});
        out.sum += count * static_cast<std::int64_t>(e.cycles.count());
    }
    return out;
}

} // namespace fwdsim::scenario
