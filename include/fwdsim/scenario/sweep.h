// Sweeps: a grid of scenario variants, and slices of it for clusters.
//
// A scenario file's `sweep` section maps parameter paths to lists of values:
//
//     sweep:
//       devices.0.irqs.0.traffic.rate_per_s: [1000, 10000, 100000]
//       devices.0.irqs.0.delivery: [userspace, irqfd, forwarded]
//
// The grid is the Cartesian product, in the order the parameters are
// written, the last one varying fastest.  Each point is the base scenario
// with those values substituted and is validated like a scenario of its own.
// Point i of N belongs to shard (i mod N), so shards are balanced and a
// cluster's job array can run `--shard I/N` independently; merging the
// shards' results by point index restores the whole grid.  Points are
// expanded one at a time (Sweep::point), so a grid of any size costs the
// memory of one point.
#pragma once

#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/overrides.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fwdsim::scenario {

struct SweepPoint {
    std::size_t index = 0;
    std::vector<std::pair<std::string, std::string>> params; ///< path, value (as written)
    ScenarioConfig config;
};

/// A sweep file, read once and expanded point by point on demand: memory and
/// time stay linear in the file, whatever the grid's size.  Copies share the
/// parsed file.
class Sweep {
public:
    /// Most points a grid may have (split a larger one over several files).
    static constexpr std::uint64_t kMaxPoints = 1'000'000'000;

    /// Checks the base scenario (with `overrides` applied, none of them of
    /// a swept key) and the axes (each a path that exists, once, with a
    /// non-empty list); throws sim::ConfigError naming file and line, or the
    /// override.
    static Sweep parse(const std::string& text, const std::string& origin, const std::vector<Override>& overrides = {});
    static Sweep load(const std::string& path, const std::vector<Override>& overrides = {});

    /// Points in the grid (1 without a `sweep` section).
    std::size_t size() const;
    /// Point `index`: the base with the axes' values substituted, validated
    /// as a scenario; a bad value is a sim::ConfigError naming the point and
    /// the line of the value in the sweep section.
    SweepPoint point(std::size_t index) const;
    /// Whether an axis sets `path` (e.g. "seed").
    bool sweeps(const std::string& path) const;
    /// A 64-bit digest of the file's text and the overrides: results of one
    /// grid carry it.
    std::uint64_t digest() const;
    /// The scenario without its sweep section (overrides applied).
    const ScenarioConfig& base() const;

private:
    struct Impl;
    std::shared_ptr<const Impl> impl_;
};

/// All points of the file's grid; a file without `sweep` is one point.
std::vector<SweepPoint> expand_sweep(const std::string& text, const std::string& origin);
std::vector<SweepPoint> load_sweep(const std::string& path);

/// "I/N" -> (I, N), with 0 <= I < N; throws sim::ConfigError otherwise.
std::pair<std::size_t, std::size_t> parse_shard(const std::string& spec);
/// The points of shard `shard` out of `shards`.
std::vector<SweepPoint> select_shard(std::vector<SweepPoint> points, std::size_t shard, std::size_t shards);

} // namespace fwdsim::scenario
