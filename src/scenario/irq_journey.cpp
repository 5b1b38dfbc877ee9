#include "irq_journey.h"

namespace fwdsim::scenario {

void IrqJourney::asserted(sim::Cycles now, bool nothing_outstanding)
{
    if (!nothing_outstanding) {
        tracer_.instant(device_, "assert (coalesced)", now);
        return;
    }
    open_ = next_flow_++;
    host_acked_ = host_deactivated_ = injected_ = false;
    outstanding_ = true;
    outstanding_since_ = now;
    tracer_.step(device_, "assert", now, open_, false);
}

void IrqJourney::host_acknowledged(const std::string& cpu_track, sim::Cycles now)
{
    if (open_ == 0 || host_acked_) return;
    host_acked_ = true;
    tracer_.step(cpu_track, "IAR (host)", now, open_, false);
}

void IrqJourney::host_deactivated(const std::string& cpu_track, sim::Cycles now)
{
    if (open_ == 0 || host_deactivated_) return;
    host_deactivated_ = true;
    tracer_.step(cpu_track, "deactivate (host DIR)", now, open_, false);
}

void IrqJourney::injected(const std::string& track, sim::Cycles now)
{
    if (open_ == 0 || injected_) return;
    injected_ = true;
    tracer_.step(track, "inject", now, open_, false);
}

void IrqJourney::guest_acknowledged(sim::Cycles now, bool claims)
{
    if (!claims || open_ == 0) {
        tracer_.instant(vcpu_, "IAR (guest: nothing outstanding)", now);
        return;
    }
    tracer_.step(vcpu_, "IAR (guest)", now, open_, false);
    handling_ = open_;
    open_ = 0;
}

void IrqJourney::serviced(sim::Cycles now)
{
    if (!outstanding_) return;
    outstanding_ = false;
    tracer_.span(device_, "outstanding", outstanding_since_, now - outstanding_since_);
}

void IrqJourney::completed(sim::Cycles now, bool forwarded)
{
    if (handling_ == 0) {
        tracer_.instant(vcpu_, "EOI (guest)", now);
        return;
    }
    tracer_.step(vcpu_, forwarded ? "EOI (guest) = deactivate" : "EOI (guest)", now, handling_, true);
    handling_ = 0;
}

} // namespace fwdsim::scenario
