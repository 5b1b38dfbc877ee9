#include <fwdsim/scenario/sensitivity.h>
#include <fwdsim/scenario/sweep_runner.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/random.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

namespace fwdsim::scenario {
namespace {

// One simulation: a sweep point under a profile with some primitives moved.
using Overrides = std::vector<std::pair<std::size_t, std::uint64_t>>; // (primitive, cycles)

sim::CostProfile with_overrides(const sim::CostProfile& base, const std::vector<PrimitiveRange>& prims,
                                const Overrides& overrides)
{
    sim::CostProfile p = base;
    for (const auto& [k, cycles] : overrides) {
        p.set(prims[k].key, sim::Cycles{cycles});
    }
    return p;
}

std::vector<double> ranks(const std::vector<double>& v)
{
    std::vector<std::size_t> order(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
        const double mean_rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0;
        for (std::size_t k = i; k <= j; ++k) r[order[k]] = mean_rank;
        i = j + 1;
    }
    return r;
}

bool is_delivery_key(const std::string& key)
{
    return key == "delivery" || (key.size() > 9 && key.compare(key.size() - 9, 9, ".delivery") == 0);
}

} // namespace

std::vector<std::string> SensitivityReport::irrelevant() const
{
    std::vector<std::string> out;
    if (oat.empty()) return out;
    for (std::size_t p = 0; p < primitives.size(); ++p) {
        if (primitives[p].fixed()) continue;
        bool moves = false;
        for (std::size_t m = 0; m < metrics.size() && !moves; ++m) {
            moves = oat[p][m].at_low != base[m] || oat[p][m].at_high != base[m];
        }
        if (!moves) out.push_back(primitives[p].key);
    }
    return out;
}

double SensitivityReport::rank_correlation(std::size_t p, std::size_t m) const
{
    if (samples.size() < 2) return 0.0;
    std::vector<double> x, y;
    for (std::size_t s = 0; s < samples.size(); ++s) {
        x.push_back(static_cast<double>(samples[s][p]));
        y.push_back(joint[s][m]);
    }
    const auto rx = ranks(x);
    const auto ry = ranks(y);
    const double n = static_cast<double>(rx.size());
    const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / n;
    const double my = std::accumulate(ry.begin(), ry.end(), 0.0) / n;
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < rx.size(); ++i) {
        sxy += (rx[i] - mx) * (ry[i] - my);
        sxx += (rx[i] - mx) * (rx[i] - mx);
        syy += (ry[i] - my) * (ry[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

namespace {

// Every simulation an analysis needs, in a fixed order: the base, then each
// movable primitive at its low and high end, then the joint samples -- each
// at every point.  Task t is unit t / points at point t % points.
struct Plan {
    std::vector<SweepPoint> points;
    std::vector<PrimitiveRange> primitives;
    std::vector<std::size_t> movable;
    std::vector<std::vector<std::uint64_t>> samples;
    std::vector<Overrides> units;
    std::size_t tasks() const { return units.size() * points.size(); }
};

Plan make_plan(const std::vector<SweepPoint>& points, const sim::CostProfile& profile, const SensitivityOptions& options)
{
    Plan plan;
    plan.points = points;
    if (options.duration_us) {
        for (auto& p : plan.points) p.config.duration_us = *options.duration_us;
    }
    for (const auto& [key, e] : profile.entries()) {
        plan.primitives.push_back({key, e.evidence, e.cycles.count(), e.low.count(), e.high.count()});
    }
    for (std::size_t k = 0; k < plan.primitives.size(); ++k) {
        if (!plan.primitives[k].fixed()) plan.movable.push_back(k);
    }
    plan.units.emplace_back();
    if (options.one_at_a_time) {
        for (std::size_t k : plan.movable) {
            plan.units.push_back({{k, plan.primitives[k].low}});
            plan.units.push_back({{k, plan.primitives[k].high}});
        }
    }
    if (options.samples > 0) {
        // Latin hypercube: each primitive's range cut into `samples` strata,
        // one draw in each, strata paired across primitives by a permutation.
        sim::Rng rng(options.seed);
        const std::size_t n = options.samples;
        plan.samples.assign(n, {});
        for (auto& s : plan.samples) {
            for (const auto& p : plan.primitives) s.push_back(p.value);
        }
        for (std::size_t k : plan.movable) {
            std::vector<std::size_t> perm(n);
            std::iota(perm.begin(), perm.end(), 0);
            for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.uniform(i)]);
            const auto& p = plan.primitives[k];
            const double width = static_cast<double>(p.high - p.low) + 1.0;
            for (std::size_t i = 0; i < n; ++i) {
                const double u = (static_cast<double>(perm[i]) + rng.uniform01()) / static_cast<double>(n);
                plan.samples[i][k] = std::min(p.high, p.low + static_cast<std::uint64_t>(u * width));
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            Overrides o;
            for (std::size_t k : plan.movable) o.emplace_back(k, plan.samples[i][k]);
            plan.units.push_back(std::move(o));
        }
    }
    return plan;
}

SensitivityRun measure(std::size_t task, const RunResult& run)
{
    SensitivityRun m;
    m.task = task;
    for (const auto& irq : run.irqs) {
        auto& out = m.irqs.emplace_back();
        out.name = irq.name;
        out.delivery = irq.delivery;
        for (auto name : metric_names()) out.values.push_back(metric_value(irq, name));
    }
    return m;
}

} // namespace

std::size_t sensitivity_tasks(const std::vector<SweepPoint>& points, const sim::CostProfile& profile,
                              const SensitivityOptions& options)
{
    return make_plan(points, profile, options).tasks();
}

std::uint64_t sensitivity_plan_digest(const std::vector<SweepPoint>& points, const sim::CostProfile& profile,
                                      const SensitivityOptions& options)
{
    std::uint64_t h = 0xCBF29CE484222325ull;
    auto mix = [&h](std::string_view s) {
        for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
        h = (h ^ 0xFF) * 0x100000001B3ull;
    };
    const Plan plan = make_plan(points, profile, options);
    mix(fmt::format("{:x} {} {} {}", profile.digest(), options.one_at_a_time, options.samples, options.seed));
    for (const auto& p : plan.primitives) mix(fmt::format("{} {} {}", p.key, p.low, p.high));
    for (const auto& p : plan.points) {
        mix(fmt::format("{} {} {} {} {}", p.config.name, p.index, p.config.seed, p.config.duration_us,
                        p.config.warmup_us));
        for (const auto& [k, v] : p.params) mix(k + "=" + v);
    }
    return h;
}

std::vector<SensitivityRun> run_sensitivity_tasks(const std::vector<SweepPoint>& points, const sim::CostProfile& profile,
                                                  const SensitivityOptions& options, std::size_t shard,
                                                  std::size_t shards, const SensitivityProgress& progress)
{
    const Plan plan = make_plan(points, profile, options);
    std::vector<SweepPoint> tasks;
    for (std::size_t t = shard; t < plan.tasks(); t += shards) {
        SweepPoint task;
        task.index = t;
        task.config = plan.points[t % plan.points.size()].config;
        tasks.push_back(std::move(task));
    }
    const PointRunner runner = [&](const SweepPoint& t) {
        return run_scenario(t.config, with_overrides(profile, plan.primitives, plan.units[t.index / plan.points.size()]));
    };
    const auto results = run_points(tasks, runner, options.jobs, progress);
    std::vector<SensitivityRun> out;
    for (std::size_t i = 0; i < results.size(); ++i) out.push_back(measure(tasks[i].index, results[i]));
    return out;
}

SensitivityReport run_sensitivity(const std::vector<SweepPoint>& points, const std::vector<Comparison>& comparisons,
                                  const sim::CostProfile& profile, const SensitivityOptions& options,
                                  const SensitivityProgress& progress)
{
    return analyse_sensitivity(points, comparisons, profile, options,
                               run_sensitivity_tasks(points, profile, options, 0, 1, progress));
}

SensitivityReport analyse_sensitivity(const std::vector<SweepPoint>& points, const std::vector<Comparison>& comparisons,
                                      const sim::CostProfile& profile, const SensitivityOptions& options,
                                      std::vector<SensitivityRun> runs)
{
    const Plan plan = make_plan(points, profile, options);
    std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.task < b.task; });
    const std::string origin = points.empty() ? std::string{} : points.front().config.origin;
    for (std::size_t t = 0; t < plan.tasks(); ++t) {
        if (t >= runs.size() || runs[t].task != t) {
            throw sim::ConfigError(origin, 0, "runs",
                                   fmt::format("run {} of {} is {}", t, plan.tasks(),
                                               t < runs.size() && runs[t].task < t ? "there twice" : "missing"));
        }
    }
    if (runs.size() != plan.tasks()) {
        throw sim::ConfigError(origin, 0, "runs",
                               fmt::format("{} runs for a plan of {}", runs.size(), plan.tasks()));
    }
    SensitivityReport r;
    r.points = plan.points;
    r.primitives = plan.primitives;
    r.samples = plan.samples;
    r.scenario = points.empty() ? std::string{} : points.front().config.name;
    r.profile = profile.name();
    r.seed = options.seed;
    r.comparisons = comparisons;
    r.runs = runs.size();
    const auto& movable = plan.movable;

    // The metrics, named from the base runs; every run of a point measures
    // the same interrupts in the same order.
    for (std::size_t p = 0; p < r.points.size(); ++p) {
        for (const auto& irq : runs[p].irqs) {
            for (auto name : metric_names()) r.metrics.push_back({p, irq.name, irq.delivery, std::string(name)});
        }
    }
    const std::size_t per_irq = metric_names().size();
    const auto values = [&](std::size_t unit) {
        std::vector<double> v;
        v.reserve(r.metrics.size());
        for (std::size_t p = 0; p < r.points.size(); ++p) {
            const auto& run = runs[unit * r.points.size() + p];
            if (run.irqs.size() != runs[p].irqs.size()) {
                throw sim::ConfigError(origin, 0, "runs", fmt::format("run {} measured another set of interrupts", run.task));
            }
            for (const auto& irq : run.irqs) {
                if (irq.values.size() != per_irq) {
                    throw sim::ConfigError(origin, 0, "runs", fmt::format("run {} has {} values an interrupt, not {}",
                                                                          run.task, irq.values.size(), per_irq));
                }
                v.insert(v.end(), irq.values.begin(), irq.values.end());
            }
        }
        return v;
    };
    r.base = values(0);
    std::size_t unit = 1;
    if (options.one_at_a_time) {
        r.oat.assign(r.primitives.size(), std::vector<OneAtATime>(r.metrics.size()));
        for (std::size_t p = 0; p < r.primitives.size(); ++p) {
            for (std::size_t m = 0; m < r.metrics.size(); ++m) r.oat[p][m] = {r.base[m], r.base[m]};
        }
        for (std::size_t k : movable) {
            const auto low = values(unit++);
            const auto high = values(unit++);
            for (std::size_t m = 0; m < r.metrics.size(); ++m) r.oat[k][m] = {low[m], high[m]};
        }
    }
    for (std::size_t s = 0; s < r.samples.size(); ++s) r.joint.push_back(values(unit++));

    // Each comparison, between the results of one interrupt at points that
    // differ only in their delivery.
    std::map<std::vector<std::pair<std::string, std::string>>, std::vector<std::size_t>> groups;
    for (std::size_t p = 0; p < r.points.size(); ++p) {
        std::vector<std::pair<std::string, std::string>> key;
        for (const auto& kv : r.points[p].params) {
            if (!is_delivery_key(kv.first)) key.push_back(kv);
        }
        groups[key].push_back(p);
    }
    for (std::size_t c = 0; c < comparisons.size(); ++c) {
        const auto& cmp = comparisons[c];
        std::size_t found = 0;
        for (const auto& [group, members] : groups) {
            std::map<std::string, std::pair<std::optional<std::size_t>, std::optional<std::size_t>>> sides;
            for (std::size_t m = 0; m < r.metrics.size(); ++m) {
                const auto& id = r.metrics[m];
                if (id.metric != cmp.metric || std::find(members.begin(), members.end(), id.point) == members.end()) {
                    continue;
                }
                if (id.delivery == cmp.lhs) sides[id.irq].first = m;
                if (id.delivery == cmp.rhs) sides[id.irq].second = m;
            }
            for (const auto& [irq, lr] : sides) {
                if (!lr.first || !lr.second) continue;
                ++found;
                ComparisonCase cc;
                cc.comparison = c;
                cc.irq = irq;
                cc.group = group;
                cc.lhs_metric = *lr.first;
                cc.rhs_metric = *lr.second;
                cc.lhs = r.metrics[cc.lhs_metric];
                cc.rhs = r.metrics[cc.rhs_metric];
                cc.holds_at_base = cmp.holds(r.base[cc.lhs_metric], r.base[cc.rhs_metric]);
                cc.base_margin = cmp.margin(r.base[cc.lhs_metric], r.base[cc.rhs_metric]);
                cc.joint_worst_margin = cc.base_margin;
                for (const auto& j : r.joint) {
                    cc.joint_holds += cmp.holds(j[cc.lhs_metric], j[cc.rhs_metric]) ? 1 : 0;
                    cc.joint_worst_margin = std::min(cc.joint_worst_margin, cmp.margin(j[cc.lhs_metric], j[cc.rhs_metric]));
                }
                r.cases.push_back(std::move(cc));
            }
        }
        if (found == 0) {
            throw sim::ConfigError(r.points.empty() ? std::string{} : r.points.front().config.origin, cmp.line,
                                   "compare." + std::to_string(c),
                                   "'" + cmp.text + "' applies to no pair of results: no interrupt is run under both " +
                                       cmp.lhs + " and " + cmp.rhs + " at points that differ only in delivery");
        }
    }

    // Where one primitive alone changes a comparison's outcome, find the
    // value at which it does by bisection over whole cycles.
    if (!r.oat.empty()) {
        for (auto& cc : r.cases) {
            const auto& cmp = comparisons[cc.comparison];
            for (std::size_t k : movable) {
                for (const bool up : {false, true}) {
                    const auto& o = r.oat[k];
                    const double a = up ? o[cc.lhs_metric].at_high : o[cc.lhs_metric].at_low;
                    const double b = up ? o[cc.rhs_metric].at_high : o[cc.rhs_metric].at_low;
                    if (cmp.holds(a, b) == cc.holds_at_base) continue;
                    std::uint64_t same = r.primitives[k].value;
                    std::uint64_t flipped = up ? r.primitives[k].high : r.primitives[k].low;
                    const auto pick = [&](const SweepPoint& point, const sim::CostProfile& prof) {
                        const RunResult run = run_scenario(point.config, prof);
                        const auto it = std::find_if(run.irqs.begin(), run.irqs.end(),
                                                     [&](const IrqResult& i) { return i.name == cc.irq; });
                        return metric_value(*it, cmp.metric);
                    };
                    // Assumes one crossing between the value and the range's end.
                    for (int step = 0; step < 64 && (up ? flipped - same : same - flipped) > 1; ++step) {
                        const std::uint64_t mid = up ? same + (flipped - same) / 2 : flipped + (same - flipped) / 2;
                        const auto prof = with_overrides(profile, r.primitives, Overrides{{k, mid}});
                        const bool holds = cmp.holds(pick(r.points[cc.lhs.point], prof), pick(r.points[cc.rhs.point], prof));
                        r.runs += 2;
                        (holds == cc.holds_at_base ? same : flipped) = mid;
                    }
                    cc.overturns.push_back({r.primitives[k].key, up, flipped});
                }
            }
        }
    }
    return r;
}

} // namespace fwdsim::scenario
