// The machines the microbenchmarks run on: for each of the seven
// hypervisor microbenchmarks of Dall et al. (ISCA 2016) -- and the I/O-in
// row with a running vCPU -- a small host (physical GIC, host CPUs, KVM
// with a vgic-v2 VM, an eventfd host thread where the benchmark needs one)
// with guest::MicrobenchGuest drivers on its vCPUs, run until the guest has
// timed its iterations.  docs/calibration.md fits the cost profile to them.
#pragma once

#include <fwdsim/guest/microbench.h>
#include <fwdsim/sim/cost_profile.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fwdsim::machine {

using guest::Microbench;

struct MicrobenchResult {
    Microbench kind = Microbench::hypercall;
    std::vector<std::uint64_t> samples; ///< simulated cycles per iteration
    std::uint64_t exits_in_window = 0;  ///< virq_completion: exits inside a timed window (must be 0)
    std::uint64_t context_switches = 0; ///< host scheduler switches between vCPU threads (vm_switch)
    std::uint64_t elapsed = 0;          ///< simulated cycles the run took
    std::string note;                   ///< what went wrong (a run that did not complete its iterations)
    double mean() const;
    std::uint64_t min() const;
    std::uint64_t max() const;
};

/// Builds the benchmark's machine with `profile`, runs `iterations` timed
/// iterations (after two untimed warm-up ones) and returns the samples.
MicrobenchResult run_microbench(Microbench kind, const sim::CostProfile& profile, unsigned iterations = 32);

} // namespace fwdsim::machine
