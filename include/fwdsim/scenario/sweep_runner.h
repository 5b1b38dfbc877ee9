// SweepRunner: runs the points of a sweep on local cores.
//
// Points are independent simulations, so they run on a pool of threads;
// each point's result depends only on its own configuration and seed, and
// results come back ordered by point index -- the output is the same with
// one thread or many.  A progress callback reports completed/total, which
// the command-line tool draws as a bar when stderr is a terminal.
#pragma once

#include <fwdsim/scenario/results.h>
#include <fwdsim/scenario/sweep.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

namespace fwdsim::scenario {

using PointRunner = std::function<RunResult(const SweepPoint&)>;
using Progress = std::function<void(std::size_t done, std::size_t total)>;

/// Runs every point with `jobs` threads (0: one per hardware thread).  An
/// exception in any point is rethrown after the others have finished.
std::vector<RunResult> run_points(const std::vector<SweepPoint>& points, const PointRunner& runner,
                                  unsigned jobs = 0, const Progress& progress = {});

/// Runs points 0..count-1 of a list with `jobs` threads (0: one per
/// hardware thread), handing each result to `finished` as it comes (in
/// completion order, one call at a time).  `run` returns nullopt when it was
/// stopped (an interrupt); no new point starts once one stopped or failed.
/// The first exception is rethrown once the points under way are done.
/// Returns the number of points finished.
using StoppablePointRunner = std::function<std::optional<RunResult>(std::size_t k)>;
std::size_t run_each(std::size_t count, const StoppablePointRunner& run, unsigned jobs,
                     const std::function<void(RunResult&&)>& finished, const Progress& progress = {});

} // namespace fwdsim::scenario
