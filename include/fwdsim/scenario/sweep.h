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
// shards' results by point index restores the whole grid.
#pragma once

#include <fwdsim/scenario/config.h>

#include <string>
#include <utility>
#include <vector>

namespace fwdsim::scenario {

struct SweepPoint {
    std::size_t index = 0;
    std::vector<std::pair<std::string, std::string>> params; ///< path, value (as written)
    ScenarioConfig config;
};

/// All points of the file's grid; a file without `sweep` is one point.
std::vector<SweepPoint> expand_sweep(const std::string& text, const std::string& origin);
std::vector<SweepPoint> load_sweep(const std::string& path);

/// "I/N" -> (I, N), with 0 <= I < N; throws sim::ConfigError otherwise.
std::pair<std::size_t, std::size_t> parse_shard(const std::string& spec);
/// The points of shard `shard` out of `shards`.
std::vector<SweepPoint> select_shard(std::vector<SweepPoint> points, std::size_t shard, std::size_t shards);

} // namespace fwdsim::scenario
