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
#include <ostream>
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

// Runs every (overrides, point) pair on `jobs` threads, in the sweep
// runner's pool; results come back in task order whatever the thread count.
std::vector<RunResult> simulate(const std::vector<SweepPoint>& points, const std::vector<Overrides>& units,
                                const sim::CostProfile& profile, const std::vector<PrimitiveRange>& prims,
                                unsigned jobs, const SensitivityProgress& progress)
{
    std::vector<SweepPoint> tasks;
    tasks.reserve(units.size() * points.size());
    for (std::size_t u = 0; u < units.size(); ++u) {
        for (std::size_t p = 0; p < points.size(); ++p) {
            SweepPoint t;
            t.index = u * points.size() + p;
            t.config = points[p].config;
            tasks.push_back(std::move(t));
        }
    }
    const PointRunner runner = [&](const SweepPoint& t) {
        const auto& overrides = units[t.index / points.size()];
        return run_scenario(t.config, with_overrides(profile, prims, overrides));
    };
    return run_points(tasks, runner, jobs, progress);
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

SensitivityReport run_sensitivity(const std::vector<SweepPoint>& points, const std::vector<Comparison>& comparisons,
                                  const sim::CostProfile& profile, const SensitivityOptions& options,
                                  const SensitivityProgress& progress)
{
    SensitivityReport r;
    r.points = points;
    r.scenario = points.empty() ? std::string{} : points.front().config.name;
    r.profile = profile.name();
    r.seed = options.seed;
    r.comparisons = comparisons;
    if (options.duration_us) {
        for (auto& p : r.points) p.config.duration_us = *options.duration_us;
    }
    for (const auto& [key, e] : profile.entries()) {
        r.primitives.push_back({key, e.evidence, e.cycles.count(), e.low.count(), e.high.count()});
    }
    std::vector<std::size_t> movable;
    for (std::size_t k = 0; k < r.primitives.size(); ++k) {
        if (!r.primitives[k].fixed()) movable.push_back(k);
    }

    // Every simulation up front: the base, then each movable primitive at its
    // low and high end, then the joint samples.
    std::vector<Overrides> units{{}};
    if (options.one_at_a_time) {
        for (std::size_t k : movable) {
            units.push_back({{k, r.primitives[k].low}});
            units.push_back({{k, r.primitives[k].high}});
        }
    }
    if (options.samples > 0) {
        // Latin hypercube: each primitive's range cut into `samples` strata,
        // one draw in each, strata paired across primitives by a permutation.
        sim::Rng rng(options.seed);
        const std::size_t n = options.samples;
        r.samples.assign(n, {});
        for (auto& s : r.samples) {
            for (const auto& p : r.primitives) s.push_back(p.value);
        }
        for (std::size_t k : movable) {
            std::vector<std::size_t> perm(n);
            std::iota(perm.begin(), perm.end(), 0);
            for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.uniform(i)]);
            const auto& p = r.primitives[k];
            const double width = static_cast<double>(p.high - p.low) + 1.0;
            for (std::size_t i = 0; i < n; ++i) {
                const double u = (static_cast<double>(perm[i]) + rng.uniform01()) / static_cast<double>(n);
                r.samples[i][k] = std::min(p.high, p.low + static_cast<std::uint64_t>(u * width));
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            Overrides o;
            for (std::size_t k : movable) o.emplace_back(k, r.samples[i][k]);
            units.push_back(std::move(o));
        }
    }
    const auto results = simulate(r.points, units, profile, r.primitives, options.jobs, progress);
    r.runs = results.size();

    // The metrics, named from the base runs.
    std::map<std::tuple<std::size_t, std::string, std::string>, std::size_t> metric_of; // (point, irq, metric)
    for (std::size_t p = 0; p < r.points.size(); ++p) {
        for (const auto& irq : results[p].irqs) {
            for (auto name : metric_names()) {
                metric_of[{p, irq.name, std::string(name)}] = r.metrics.size();
                r.metrics.push_back({p, irq.name, irq.delivery, std::string(name)});
            }
        }
    }
    const auto values = [&](std::size_t unit) {
        std::vector<double> v(r.metrics.size());
        for (std::size_t m = 0; m < r.metrics.size(); ++m) {
            const auto& id = r.metrics[m];
            const auto& run = results[unit * r.points.size() + id.point];
            const auto it = std::find_if(run.irqs.begin(), run.irqs.end(),
                                         [&](const IrqResult& i) { return i.name == id.irq; });
            v[m] = metric_value(*it, id.metric);
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
                    const std::vector<SweepPoint> pair{r.points[cc.lhs.point], r.points[cc.rhs.point]};
                    for (int step = 0; step < 24 && (up ? flipped - same : same - flipped) > 1; ++step) {
                        const std::uint64_t mid = up ? same + (flipped - same) / 2 : flipped + (same - flipped) / 2;
                        const std::vector<Overrides> one{Overrides{{k, mid}}};
                        const auto res = simulate(pair, one, profile, r.primitives, 1, {});
                        r.runs += res.size();
                        const auto pick = [&](const RunResult& run, const std::string& irq) {
                            const auto it = std::find_if(run.irqs.begin(), run.irqs.end(),
                                                         [&](const IrqResult& i) { return i.name == irq; });
                            return metric_value(*it, cmp.metric);
                        };
                        if (cmp.holds(pick(res[0], cc.irq), pick(res[1], cc.irq)) == cc.holds_at_base) {
                            same = mid;
                        } else {
                            flipped = mid;
                        }
                    }
                    cc.overturns.push_back({r.primitives[k].key, up, flipped});
                }
            }
        }
    }
    return r;
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
