// PathSteps: what one delivery path is made of, primitive by primitive,
// found by perturbation rather than written down.
//
// path_steps() runs a scenario whose interrupts all take the same path
// (each one alone, e.g. 1 k/s with an idle or busy guest: every latency
// sample the same), then runs it again with each primitive of the cost
// profile raised by `delta` cycles in turn.  How far the first IRQ's
// latency moved, divided by `delta`, is how many times that primitive lies
// on the path.  The steps' cycles (count x cost) add up to the measured
// latency to the cycle when the path is made of primitives only -- which
// is the model's rule (no end-to-end figure is stored); `sum` and
// `latency` are reported apart so a caller can check it.  Throws
// std::runtime_error when a run's samples differ (the path is not unique)
// or a count is not whole.  Used by `fwdsim demo --steps`, the path tests
// and docs/delivery-paths.md.
#pragma once

#include <fwdsim/scenario/config.h>
#include <fwdsim/sim/cost_profile.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fwdsim::scenario {

enum class PathMetric { to_ack, to_eoi, host_cycles };

struct PathStep {
    std::string primitive;
    std::string description;
    std::int64_t count = 0;      ///< times on the path
    std::uint64_t cycles = 0;    ///< its cost in the profile
};

struct PathSteps {
    std::string irq;              ///< the IRQ measured (the scenario's first)
    std::string delivery;
    std::uint64_t latency = 0;    ///< the metric as the run reports it
    std::int64_t sum = 0;         ///< sum of count x cycles over the steps
    std::vector<PathStep> steps;  ///< primitives with a non-zero count, in profile order
};

/// The steps of `config`'s first IRQ for `metric` (to_ack / to_eoi: the
/// latency, identical for every interrupt; host_cycles: per interrupt,
/// rounded).  `only` restricts the perturbation to those keys (empty: all).
PathSteps path_steps(const ScenarioConfig& config, const sim::CostProfile& profile, PathMetric metric = PathMetric::to_ack,
                     std::uint64_t delta = 1000, const std::vector<std::string>& only = {});

} // namespace fwdsim::scenario
