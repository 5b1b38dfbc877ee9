// GuestCode: what runs inside a vCPU -- the upward interface through which
// KVM tells the guest model what happens to it.  fwdsim::guest implements
// it; KVM never looks inside.
//
// The guest spends guest time only through its vCPU (Vcpu::guest_run); that
// time stops while the vCPU is out of the guest and resumes where it stopped,
// so an exit the guest did not ask for is invisible to it except as delay.
#pragma once

namespace fwdsim::kvm {

class Vcpu;

class GuestCode {
public:
    /// The vCPU entered the guest after an exit the guest made itself
    /// (WFI, a trapped access, a hypercall): the trapping instruction is
    /// complete.  Not called after exits the guest did not cause.
    virtual void trap_done(Vcpu& vcpu) = 0;
    /// The segment started with Vcpu::guest_run has run its cycles.
    virtual void segment_done(Vcpu& vcpu) = 0;
    /// The virtual CPU interface's nVIRQ rose while in the guest (or is high
    /// when the guest resumes).  Falls are not reported: a guest that needs
    /// the line reads Vcpu::virq_line().
    virtual void virq(Vcpu& vcpu) = 0;
    /// The vCPU is being destroyed (its VM went with the VMM): the guest
    /// must not touch it again.
    virtual void vcpu_destroyed(Vcpu& vcpu) = 0;

protected:
    ~GuestCode() = default;
};

} // namespace fwdsim::kvm
