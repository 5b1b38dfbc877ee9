#include <fwdsim/scenario/sensitivity.h>
#include <fwdsim/scenario/sweep_runner.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/random.h>
#include <fwdsim/sim/trace.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <charconv>
#include <istream>
#include <ostream>
#include <sstream>
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

std::string params_text(const std::vector<std::pair<std::string, std::string>>& params)
{
    std::string s;
    for (const auto& [k, v] : params) {
        const auto dot = k.rfind('.');
        s += (s.empty() ? "" : ", ") + (dot == std::string::npos ? k : k.substr(dot + 1)) + "=" + v;
    }
    return s.empty() ? "(the scenario)" : s;
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

void write_sensitivity_table(std::ostream& out, const SensitivityReport& r, std::size_t top)
{
    std::size_t fixed = 0;
    for (const auto& p : r.primitives) fixed += p.fixed() ? 1 : 0;
    out << fmt::format("sensitivity of {} (profile {}): {} point(s), {} primitives ({} with no range), {} runs\n",
                       r.scenario, r.profile, r.points.size(), r.primitives.size(), fixed, r.runs);
    if (!r.oat.empty()) {
        out << "\none at a time: each primitive at the ends of its range, the others at their values\n";
        for (std::size_t m = 0; m < r.metrics.size(); ++m) {
            const auto& id = r.metrics[m];
            std::vector<std::pair<double, std::size_t>> swing;
            for (std::size_t p = 0; p < r.primitives.size(); ++p) {
                const double s = std::abs(r.oat[p][m].at_high - r.oat[p][m].at_low);
                if (s > 0) swing.emplace_back(s, p);
            }
            if (swing.empty()) continue;
            std::stable_sort(swing.begin(), swing.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
            out << fmt::format("\n  {} at {} [{}], {}: base {:.6g}\n", id.irq, params_text(r.points[id.point].params),
                               id.delivery, id.metric, r.base[m]);
            out << fmt::format("    {:<28} {:<9} {:>17} {:>12} {:>12}\n", "primitive", "evidence", "range (cycles)",
                               "at low", "at high");
            for (std::size_t i = 0; i < swing.size() && i < top; ++i) {
                const auto& p = r.primitives[swing[i].second];
                const auto& o = r.oat[swing[i].second][m];
                out << fmt::format("    {:<28} {:<9} {:>8}..{:<8} {:>+12.6g} {:>+12.6g}\n", p.key,
                                   sim::evidence_name(p.evidence), p.low, p.high, o.at_low - r.base[m],
                                   o.at_high - r.base[m]);
            }
            if (swing.size() > top) out << fmt::format("    ... and {} more\n", swing.size() - top);
        }
        const auto idle = r.irrelevant();
        out << fmt::format("\n  irrelevant (on no path of these points: no metric moves): {}\n",
                           idle.empty() ? std::string("none") : fmt::format("{}", fmt::join(idle, ", ")));
    }
    if (!r.joint.empty()) {
        out << fmt::format("\njointly: {} Latin-hypercube samples of every primitive over its range (seed {})\n",
                           r.joint.size(), r.seed);
        out << fmt::format("  {:<44} {:>12} {:>12} {:>12}  {}\n", "metric", "base", "min", "max",
                           "most correlated (Spearman)");
        for (std::size_t m = 0; m < r.metrics.size(); ++m) {
            double lo = r.joint[0][m], hi = r.joint[0][m];
            for (const auto& j : r.joint) {
                lo = std::min(lo, j[m]);
                hi = std::max(hi, j[m]);
            }
            if (lo == hi && lo == r.base[m]) continue;
            std::size_t best = 0;
            double best_rho = 0;
            for (std::size_t p = 0; p < r.primitives.size(); ++p) {
                const double rho = r.rank_correlation(p, m);
                if (std::abs(rho) > std::abs(best_rho)) {
                    best_rho = rho;
                    best = p;
                }
            }
            const auto& id = r.metrics[m];
            out << fmt::format("  {:<44} {:>12.6g} {:>12.6g} {:>12.6g}  {} ({:+.2f})\n",
                               fmt::format("{} [{}] {} @{}", id.irq, id.delivery, id.metric, id.point), r.base[m], lo,
                               hi, r.primitives[best].key, best_rho);
        }
    }
    if (!r.cases.empty()) out << "\ncomparisons\n";
    for (const auto& cc : r.cases) {
        const auto& cmp = r.comparisons[cc.comparison];
        out << fmt::format("  {}  [{} at {}]\n", cmp.text, cc.irq, params_text(cc.group));
        out << fmt::format("    base: {} (margin {:.6g})\n", cc.holds_at_base ? "holds" : "FAILS", cc.base_margin);
        if (!r.oat.empty()) {
            if (cc.overturns.empty()) {
                out << "    one at a time: the same at both ends of every primitive's range\n";
            }
            for (const auto& o : cc.overturns) {
                out << fmt::format("    one at a time: {} unless {} {} {} cycles\n",
                                   cc.holds_at_base ? "holds" : "fails", o.primitive, o.upward ? "reaches" : "falls to",
                                   o.threshold);
            }
        }
        if (!r.joint.empty()) {
            out << fmt::format("    jointly: holds in {} of {} samples ({:.1f}%), worst margin {:.6g}\n", cc.joint_holds,
                               r.joint.size(), 100.0 * static_cast<double>(cc.joint_holds) / static_cast<double>(r.joint.size()),
                               cc.joint_worst_margin);
        }
    }
}

void write_sensitivity_json(std::ostream& out, const SensitivityReport& r)
{
    using sim::json_escape;
    out << fmt::format(R"({{"scenario":"{}","profile":"{}","seed":{},"runs":{},"points":[)", json_escape(r.scenario),
                       json_escape(r.profile), r.seed, r.runs);
    for (std::size_t p = 0; p < r.points.size(); ++p) {
        out << (p ? "," : "") << fmt::format(R"({{"index":{},"params":{{)", r.points[p].index);
        for (std::size_t k = 0; k < r.points[p].params.size(); ++k) {
            out << fmt::format(R"({}"{}":"{}")", k ? "," : "", json_escape(r.points[p].params[k].first),
                               json_escape(r.points[p].params[k].second));
        }
        out << "}}";
    }
    out << R"(],"primitives":[)";
    const auto idle = r.irrelevant();
    for (std::size_t p = 0; p < r.primitives.size(); ++p) {
        const auto& pr = r.primitives[p];
        const bool irrelevant = std::find(idle.begin(), idle.end(), pr.key) != idle.end();
        out << (p ? "," : "")
            << fmt::format(R"({{"key":"{}","evidence":"{}","value":{},"low":{},"high":{},"irrelevant":{}}})",
                           json_escape(pr.key), sim::evidence_name(pr.evidence), pr.value, pr.low, pr.high,
                           irrelevant ? "true" : "false");
    }
    out << R"(],"metrics":[)";
    for (std::size_t m = 0; m < r.metrics.size(); ++m) {
        const auto& id = r.metrics[m];
        out << (m ? "," : "")
            << fmt::format(R"({{"point":{},"irq":"{}","delivery":"{}","metric":"{}","base":{}}})", id.point,
                           json_escape(id.irq), id.delivery, id.metric, r.base[m]);
    }
    out << R"(],"one_at_a_time":[)";
    bool first = true;
    for (std::size_t p = 0; p < r.oat.size(); ++p) {
        for (std::size_t m = 0; m < r.metrics.size(); ++m) {
            if (r.oat[p][m].at_low == r.base[m] && r.oat[p][m].at_high == r.base[m]) continue;
            out << (first ? "" : ",")
                << fmt::format(R"({{"primitive":"{}","metric":{},"at_low":{},"at_high":{}}})",
                               json_escape(r.primitives[p].key), m, r.oat[p][m].at_low, r.oat[p][m].at_high);
            first = false;
        }
    }
    out << R"(],"joint":{"samples":)" << r.joint.size() << R"(,"range":[)";
    for (std::size_t m = 0; m < r.metrics.size() && !r.joint.empty(); ++m) {
        double lo = r.joint[0][m], hi = r.joint[0][m];
        for (const auto& j : r.joint) {
            lo = std::min(lo, j[m]);
            hi = std::max(hi, j[m]);
        }
        out << (m ? "," : "") << fmt::format(R"({{"metric":{},"min":{},"max":{}}})", m, lo, hi);
    }
    out << R"(]},"comparisons":[)";
    for (std::size_t c = 0; c < r.cases.size(); ++c) {
        const auto& cc = r.cases[c];
        out << (c ? "," : "")
            << fmt::format(R"({{"compare":"{}","irq":"{}","group":"{}","holds_at_base":{},"base_margin":{},"overturns":[)",
                           json_escape(r.comparisons[cc.comparison].text), json_escape(cc.irq),
                           json_escape(params_text(cc.group)), cc.holds_at_base ? "true" : "false", cc.base_margin);
        for (std::size_t o = 0; o < cc.overturns.size(); ++o) {
            out << (o ? "," : "")
                << fmt::format(R"({{"primitive":"{}","direction":"{}","threshold":{}}})",
                               json_escape(cc.overturns[o].primitive), cc.overturns[o].upward ? "up" : "down",
                               cc.overturns[o].threshold);
        }
        out << fmt::format(R"(],"joint_holds":{},"joint_samples":{},"joint_worst_margin":{}}})", cc.joint_holds,
                           r.joint.size(), cc.joint_worst_margin);
    }
    out << "]}\n";
}

void write_sensitivity_markdown(std::ostream& out, const SensitivityReport& r)
{
    out << fmt::format("| conclusion | where | at the profile's values | one primitive at a time | jointly ({} samples) |\n"
                       "|---|---|---|---|---|\n",
                       r.joint.size());
    for (const auto& cc : r.cases) {
        const auto& cmp = r.comparisons[cc.comparison];
        std::string alone;
        if (r.oat.empty()) {
            alone = "not run";
        } else if (cc.overturns.empty()) {
            alone = cc.holds_at_base ? "holds over every range" : "fails over every range";
        } else {
            std::vector<std::string> turns;
            for (const auto& o : cc.overturns) {
                turns.push_back(fmt::format("`{}` {} {}", o.primitive, o.upward ? "reaches" : "falls to", o.threshold));
            }
            alone = fmt::format("{} unless {}", cc.holds_at_base ? "holds" : "fails", fmt::join(turns, ", or "));
        }
        const std::string joint =
            r.joint.empty() ? std::string("not run")
            : cc.joint_holds == r.joint.size() ? std::string("holds in every sample")
            : cc.joint_holds == 0             ? std::string("fails in every sample")
                                              : fmt::format("holds in {} of {} ({:.0f} %)", cc.joint_holds, r.joint.size(),
                                                            100.0 * static_cast<double>(cc.joint_holds) /
                                                                static_cast<double>(r.joint.size()));
        out << fmt::format("| `{}` | {} {} | {} (margin {:.4g}) | {} | {} |\n", cmp.text, cc.irq, params_text(cc.group),
                           cc.holds_at_base ? "holds" : "**fails**", cc.base_margin, alone, joint);
    }
}

void write_sensitivity_csv(std::ostream& out, const SensitivityReport& r)
{
    out << "primitive,evidence,value,low,high,point,irq,delivery,metric,base,at_low,at_high\n";
    for (std::size_t p = 0; p < r.oat.size(); ++p) {
        const auto& pr = r.primitives[p];
        for (std::size_t m = 0; m < r.metrics.size(); ++m) {
            const auto& id = r.metrics[m];
            out << fmt::format("{},{},{},{},{},{},\"{}\",{},{},{},{},{}\n", pr.key, sim::evidence_name(pr.evidence),
                               pr.value, pr.low, pr.high, r.points[id.point].index, id.irq, id.delivery, id.metric,
                               r.base[m], r.oat[p][m].at_low, r.oat[p][m].at_high);
        }
    }
}

} // namespace fwdsim::scenario
