// Sensitivity: how far a scenario's results, and the conclusions it
// declares, move over the cost profile's uncertainty.
//
// Every primitive of a profile carries a range (sim::CostEntry::low/high).
// run_sensitivity() runs the chosen sweep points
//
//  * once at the profile's values (the base),
//  * one at a time: with each primitive at the low and at the high end of
//    its range, the others at their values (a tornado table per metric;
//    a primitive that moves no metric of any point is on no path of the
//    scenario and is reported as irrelevant), and
//  * jointly: `samples` Latin-hypercube samples of every primitive over its
//    range at once, drawn up front from one seed, so the result is the same
//    bit for bit with any number of jobs.
//
// For each comparison the scenario declares (comparison.h) it reports, per
// pair of results it applies to, whether it holds at the base, at every
// one-at-a-time end (and, where one primitive alone overturns it, the value
// at which it does, found by bisection), and in what fraction of the joint
// samples.  Simulations are independent and run on `jobs` threads.
#pragma once

#include <fwdsim/scenario/comparison.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/sim/cost_profile.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fwdsim::scenario {

struct SensitivityOptions {
    bool one_at_a_time = true;
    unsigned samples = 0;       ///< joint Latin-hypercube samples (0: none)
    std::uint64_t seed = 1;     ///< of the joint samples (the runs keep the scenario's seed)
    unsigned jobs = 1;          ///< threads (0: one per core)
    std::optional<double> duration_us; ///< overrides every point's duration
};

/// One output of one interrupt at one sweep point.
struct MetricId {
    std::size_t point = 0;   ///< index into SensitivityReport::points
    std::string irq;         ///< "<device>.<irq>"
    std::string delivery;
    std::string metric;
};

struct PrimitiveRange {
    std::string key;
    sim::Evidence evidence = sim::Evidence::estimate;
    std::uint64_t value = 0, low = 0, high = 0;
    bool fixed() const { return low == high; }
};

/// A primitive's one-at-a-time effect on one metric: value at the low and
/// at the high end of its range.
struct OneAtATime {
    double at_low = 0, at_high = 0;
};

/// Where one primitive alone overturns a comparison: it holds for values on
/// the base side of `threshold` and fails at the range's end beyond it.
struct Overturn {
    std::string primitive;
    bool upward = true;          ///< fails when the primitive rises past threshold
    std::uint64_t threshold = 0; ///< first value (in cycles) at which it fails
};

/// One comparison applied to one pair of results.
struct ComparisonCase {
    std::size_t comparison = 0; ///< index into SensitivityReport::comparisons
    std::string irq;
    std::vector<std::pair<std::string, std::string>> group; ///< the shared sweep parameters
    MetricId lhs, rhs;         ///< indices into metrics, as ids
    std::size_t lhs_metric = 0, rhs_metric = 0;
    bool holds_at_base = false;
    double base_margin = 0;
    std::vector<Overturn> overturns;     ///< one-at-a-time ends at which it fails
    std::size_t joint_holds = 0;         ///< samples in which it holds
    double joint_worst_margin = 0;       ///< smallest margin over the samples
};

struct SensitivityReport {
    std::string scenario;
    std::string profile;
    std::uint64_t seed = 0;
    std::vector<SweepPoint> points;             ///< those analysed
    std::vector<PrimitiveRange> primitives;     ///< every primitive of the profile
    std::vector<MetricId> metrics;              ///< every (point, irq, metric)
    std::vector<double> base;                   ///< per metric
    /// [primitive][metric]; empty when one-at-a-time did not run.  A fixed
    /// primitive's entry equals the base.
    std::vector<std::vector<OneAtATime>> oat;
    std::vector<std::vector<std::uint64_t>> samples; ///< [sample][primitive] cycles
    std::vector<std::vector<double>> joint;          ///< [sample][metric]
    std::vector<Comparison> comparisons;
    std::vector<ComparisonCase> cases;
    std::size_t runs = 0; ///< simulations run

    /// Primitives whose one-at-a-time ends move no metric (nor fixed).
    std::vector<std::string> irrelevant() const;
    /// Spearman rank correlation of primitive `p`'s samples with metric `m`
    /// (0 when either does not vary).
    double rank_correlation(std::size_t p, std::size_t m) const;
};

using SensitivityProgress = std::function<void(std::size_t done, std::size_t total)>;

/// Analyses `points` (each validated, as a sweep's) under `profile`.  Throws
/// sim::ConfigError when a declared comparison applies to no pair of results.
SensitivityReport run_sensitivity(const std::vector<SweepPoint>& points, const std::vector<Comparison>& comparisons,
                                  const sim::CostProfile& profile, const SensitivityOptions& options,
                                  const SensitivityProgress& progress = {});

// The same in slices, for a cluster: the analysis is a fixed list of
// simulations (tasks), which shards run apart and one process analyses.

/// What one simulation measured: metric_names() of each interrupt.
struct SensitivityRun {
    struct Irq {
        std::string name, delivery;
        std::vector<double> values;
    };
    std::size_t task = 0;
    std::vector<Irq> irqs;
};

/// How many simulations the analysis takes (the one-at-a-time bisections aside).
std::size_t sensitivity_tasks(const std::vector<SweepPoint>& points, const sim::CostProfile& profile,
                              const SensitivityOptions& options);
/// A digest of everything the task list depends on: shards agree on it.
std::uint64_t sensitivity_plan_digest(const std::vector<SweepPoint>& points, const sim::CostProfile& profile,
                                      const SensitivityOptions& options);
/// Runs the tasks t with t mod shards == shard.
std::vector<SensitivityRun> run_sensitivity_tasks(const std::vector<SweepPoint>& points, const sim::CostProfile& profile,
                                                  const SensitivityOptions& options, std::size_t shard = 0,
                                                  std::size_t shards = 1, const SensitivityProgress& progress = {});
/// The analysis from every task's run (in any order); throws
/// sim::ConfigError when one is missing, doubled or does not fit the plan.
SensitivityReport analyse_sensitivity(const std::vector<SweepPoint>& points, const std::vector<Comparison>& comparisons,
                                      const sim::CostProfile& profile, const SensitivityOptions& options,
                                      std::vector<SensitivityRun> runs);
/// Runs as a shard file: a header naming the plan's digest, the task
/// count and the shard, one line a run, and an end line with the count (so
/// a truncated file is refused).  Values are written to round-trip exactly.
void write_sensitivity_runs(std::ostream& out, std::uint64_t plan_digest, std::size_t tasks, std::size_t shard,
                            std::size_t shards, const std::vector<SensitivityRun>& runs);
/// Reads a shard file; throws sim::ConfigError naming `origin` and the line
/// when it is malformed, truncated or of another plan than `plan_digest`.
std::vector<SensitivityRun> read_sensitivity_runs(std::istream& in, const std::string& origin,
                                                  std::uint64_t plan_digest, std::size_t tasks);

/// The report as a table for a terminal: per metric the primitives that move
/// it most (at most `top` each), the irrelevant ones, the joint spread and
/// every comparison's robustness.
void write_sensitivity_table(std::ostream& out, const SensitivityReport& r, std::size_t top = 8);
/// One JSON document with everything in the report.
void write_sensitivity_json(std::ostream& out, const SensitivityReport& r);
/// Each declared comparison with its robustness, as Markdown lines for a
/// document ("holds for every sample", "holds unless X reaches Y cycles").
void write_sensitivity_markdown(std::ostream& out, const SensitivityReport& r);
/// CSV, one row per (primitive, metric) of the one-at-a-time analysis.
void write_sensitivity_csv(std::ostream& out, const SensitivityReport& r);

} // namespace fwdsim::scenario
