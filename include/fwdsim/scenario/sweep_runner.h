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
#include <vector>

namespace fwdsim::scenario {

using PointRunner = std::function<RunResult(const SweepPoint&)>;
using Progress = std::function<void(std::size_t done, std::size_t total)>;

/// Runs every point with `jobs` threads (0: one per hardware thread).  An
/// exception in any point is rethrown after the others have finished.
std::vector<RunResult> run_points(const std::vector<SweepPoint>& points, const PointRunner& runner,
                                  unsigned jobs = 0, const Progress& progress = {});

} // namespace fwdsim::scenario
