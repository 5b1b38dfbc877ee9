// IrqJourney: one device interrupt's way to the guest, drawn in a trace.
//
// A journey begins at the assertion that finds the device with nothing
// outstanding -- the assertion every latency the results report is
// measured from (InterruptSource::oldest_outstanding) -- and is claimed by
// the guest's next acknowledge.  Its steps (assert, the host's IAR and
// DIR, the injection into the vgic, the guest's IAR, its EOI, which also
// deactivates a forwarded interrupt) share one flow id, so a viewer joins
// them with arrows across the device's, the host CPUs' and the vCPU's
// tracks; the device's track shows the assertion outstanding until the
// guest's handler services the device.  Assertions that join one already
// outstanding (coalesced) are plain instants.  It only observes.
#pragma once

#include <fwdsim/sim/trace.h>

#include <cstdint>
#include <string>

namespace fwdsim::scenario {

class IrqJourney {
public:
    /// `device_track`: "devices/<name>"; `vcpu_track`: the track of the
    /// vCPU the guest takes it on; `next_flow`: the run's flow counter.
    IrqJourney(sim::Tracer& tracer, std::string device_track, std::string vcpu_track, std::uint64_t& next_flow)
        : tracer_(tracer), device_(std::move(device_track)), vcpu_(std::move(vcpu_track)), next_flow_(next_flow)
    {
    }

    const std::string& device_track() const { return device_; }
    /// The device asserts; `nothing_outstanding`: the first since its last service.
    void asserted(sim::Cycles now, bool nothing_outstanding);
    void host_acknowledged(const std::string& cpu_track, sim::Cycles now);
    void host_deactivated(const std::string& cpu_track, sim::Cycles now);
    /// The vgic made it pending, on `track` (the CPU that injected).
    void injected(const std::string& track, sim::Cycles now);
    /// The guest's IAR returned it; `claims`: the device had something outstanding.
    void guest_acknowledged(sim::Cycles now, bool claims);
    /// The guest's handler serviced the device (what was outstanding is consumed).
    void serviced(sim::Cycles now);
    /// The guest's EOI (and DIR); `forwarded`: it deactivates the physical IRQ.
    void completed(sim::Cycles now, bool forwarded);

private:
    sim::Tracer& tracer_;
    std::string device_, vcpu_;
    std::uint64_t& next_flow_;
    std::uint64_t open_ = 0;     ///< the journey waiting for the guest's IAR (0: none)
    std::uint64_t handling_ = 0; ///< the journey the guest is handling, until its EOI
    sim::Cycles outstanding_since_{};
    bool outstanding_ = false;
    bool host_acked_ = false, host_deactivated_ = false, injected_ = false;
};

} // namespace fwdsim::scenario
