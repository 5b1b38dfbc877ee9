// A sensitivity report as a table, JSON, Markdown and CSV (sensitivity.h).
#include <fwdsim/scenario/sensitivity.h>
#include <fwdsim/sim/trace.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <ostream>

namespace fwdsim::scenario {
namespace {

std::string params_text(const std::vector<std::pair<std::string, std::string>>& params)
{
    std::string s;
    for (const auto& [k, v] : params) {
        const auto dot = k.rfind('.');
        s += (s.empty() ? "" : ", ") + (dot == std::string::npos ? k : k.substr(dot + 1)) + "=" + v;
    }
    return s.empty() ? "(the scenario)" : s;
}

} // namespace

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
                                              : fmt::format("holds in {} of {} ({:.1f} %)", cc.joint_holds, r.joint.size(),
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
