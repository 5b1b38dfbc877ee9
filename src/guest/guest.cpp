// Guest: a guest kernel's interrupt path (drivers/irqchip/irq-gic.c seen
// from inside a VM) and its idle loop.  See include/fwdsim/guest/guest.h.
#include <fwdsim/gic/registers.h>
#include <fwdsim/guest/guest.h>

#include <map>

namespace fwdsim::guest {

namespace {
/// A busy workload's segment: long, so a busy guest costs few events.
constexpr sim::Cycles kBusyChunk{1'000'000};
} // namespace

GuestCosts GuestCosts::from_profile(const sim::CostProfile& p)
{
    return GuestCosts{p.get("guest.irq_entry"), p.get("guest.irq_exit"), p.get("guest.idle_loop"),
                      p.get("guest.device_access")};
}

Guest::Guest(kvm::Vcpu& vcpu, const GuestCosts& costs, GuestParams params)
    : vcpu_(&vcpu), costs_(costs), params_(params)
{
    vcpu_->set_guest(this);
    vcpu_->guest_run(sim::Cycles{0}); // boot starts at the first entry
}

Guest::~Guest()
{
    if (vcpu_ != nullptr && vcpu_->guest() == this) vcpu_->set_guest(nullptr);
}

void Guest::vcpu_destroyed(kvm::Vcpu&)
{
    vcpu_ = nullptr; // every other entry point is a call from the vCPU itself
}

sim::Cycles Guest::now() const
{
    return vcpu_->now();
}

void Guest::add_irq(unsigned intid, bool edge, IrqHandler& handler)
{
    if (irqs_.size() <= intid) irqs_.resize(intid + 1);
    irqs_[intid] = Installed{edge, &handler};
}

void Guest::remove_irq(unsigned intid)
{
    if (intid < irqs_.size()) irqs_[intid] = Installed{};
}

void Guest::run(Phase phase, sim::Cycles cycles)
{
    phase_ = phase;
    vcpu_->guest_run(cycles);
}

// --- boot ----------------------------------------------------------------------------

void Guest::boot_step()
{
    namespace d = gic::gicd;
    if (!boot_planned_) {
        boot_planned_ = true;
        // gic_dist_init / the drivers' request_irq, as trapped accesses:
        // one write per register word, then the distributor on.
        std::map<std::uint32_t, std::uint32_t> words;
        for (unsigned intid = 0; intid < irqs_.size(); ++intid) {
            const Installed& irq = irqs_[intid];
            if (irq.handler == nullptr) continue;
            words[d::isenabler + 4 * (intid / 32)] |= 1u << (intid % 32);
            if (intid < 32) continue; // banked SGIs/PPIs: no target, fixed trigger
            words[d::itargetsr + (intid & ~3u)] |= (1u << vcpu_->id()) << (8 * (intid % 4));
            if (irq.edge) words[d::icfgr + 4 * (intid / 16)] |= 2u << (2 * (intid % 16));
        }
        for (const auto& w : words) boot_writes_.push_back(w);
        boot_writes_.emplace_back(d::ctlr, 1u);
    }
    if (!boot_writes_.empty()) {
        const auto [offset, value] = boot_writes_.front();
        boot_writes_.pop_front();
        phase_ = Phase::boot;
        vcpu_->trap_gicd_write(offset, value);
        return;
    }
    // gic_cpu_if_up on the virtual CPU interface: no trap.
    vcpu_->gicv_write(gic::gicc::pmr, 0xF8);
    vcpu_->gicv_write(gic::gicc::ctlr, gic::gicc::ctlr_enable_grp0 | (params_.split_eoi ? gic::gicc::ctlr_eoimode : 0u));
    run(Phase::boot_cpuif, vcpu_->gicv_access_cost() * 2);
}

// --- the workload ----------------------------------------------------------------------

void Guest::start_workload()
{
    if (params_.workload == Workload::busy) begin_workload(Phase::busy, kBusyChunk);
    else begin_workload(Phase::idle_loop, costs_.idle_loop);
}

void Guest::resume_workload()
{
    if (preempted_left_ > sim::Cycles{0} && (preempted_phase_ == Phase::busy || preempted_phase_ == Phase::idle_loop)) {
        begin_workload(preempted_phase_, preempted_left_);
    } else {
        start_workload();
    }
}

void Guest::begin_workload(Phase phase, sim::Cycles cycles)
{
    // An interrupt already signalled is taken before the workload runs a
    // cycle: it is preempted whole, without a segment started and stopped.
    if (vcpu_->virq_line()) {
        phase_ = phase;
        enter_irq(cycles);
    } else {
        run(phase, cycles);
    }
}

// --- interrupts --------------------------------------------------------------------------

void Guest::take_irq()
{
    enter_irq(vcpu_->guest_preempt());
}

void Guest::enter_irq(sim::Cycles preempted_left)
{
    preempted_left_ = preempted_left;
    preempted_phase_ = phase_;
    in_irq_ = true;
    acked_in_entry_ = false;
    irq_started_ = now();
    run(Phase::irq_entry, costs_.irq_entry);
}

void Guest::acknowledge()
{
    iar_ = vcpu_->gicv_read(gic::gicc::iar);
    if ((iar_ & 0x3FF) == gic::spurious_intid) {
        // Nothing (more) to handle: the read and the way out are one
        // segment -- nothing happens at the boundary between them that
        // anyone could see (virq() ignores a line rising in the handler).
        if (!acked_in_entry_) spurious_.add(); // nVIRQ fell before we read IAR
        run(Phase::irq_exit, vcpu_->gicv_access_cost() + costs_.irq_exit);
        return;
    }
    run(Phase::irq_ack, vcpu_->gicv_access_cost());
}

void Guest::virq(kvm::Vcpu&)
{
    if (in_irq_) return;
    if (phase_ == Phase::busy || phase_ == Phase::idle_loop) take_irq();
}

void Guest::trap_done(kvm::Vcpu&)
{
    switch (phase_) {
    case Phase::boot: boot_step(); return;
    case Phase::wfi: start_workload(); return; // WFI done: back round the idle loop
    case Phase::irq_access:
        // The trapped device access is done: the rest of the handler.
        if (IrqHandler* const handler = handler_of(iar_ & 0x3FF)) run(Phase::irq_handle, handler->service_time());
        else run(Phase::irq_handle, sim::Cycles{});
        return;
    default: return;
    }
}

void Guest::segment_done(kvm::Vcpu&)
{
    switch (phase_) {
    case Phase::boot: boot_step(); return;
    case Phase::boot_cpuif: start_workload(); return;
    case Phase::busy: start_workload(); return;
    case Phase::idle_loop:
        phase_ = Phase::wfi;
        vcpu_->trap_wfi();
        return;
    case Phase::wfi:
    case Phase::irq_access: return; // traps: trap_done follows
    case Phase::irq_entry: acknowledge(); return;
    case Phase::irq_ack: {
        const unsigned intid = iar_ & 0x3FF; // not spurious: acknowledge() saw to that
        IrqHandler* const handler = handler_of(intid);
        if (handler == nullptr) {
            // No driver: complete it at once so it cannot block the CPU interface.
            unexpected_.add();
            acked_in_entry_ = true;
            vcpu_->gicv_write(gic::gicc::eoir, iar_);
            if (params_.split_eoi) vcpu_->gicv_write(gic::gicc::dir, iar_);
            run(Phase::irq_eoi, vcpu_->gicv_access_cost() * (params_.split_eoi ? 2 : 1));
            return;
        }
        acked_in_entry_ = true;
        handler->acknowledged(now());
        serviced_ = false;
        if (const std::uint64_t addr = handler->mmio_address(); addr != 0 && vcpu_->mmio_exits_to_user(addr)) {
            // The region is not mapped: the access exits to user space and
            // the VMM performs it on the device.
            phase_ = Phase::irq_access;
            vcpu_->trap_mmio_user(addr, [this, handler] {
                handler->service(now());
                serviced_ = true;
            });
            return;
        }
        run(Phase::irq_handle, costs_.device_access + handler->service_time());
        return;
    }
    case Phase::irq_handle: {
        IrqHandler* const handler = handler_of(iar_ & 0x3FF);
        if (handler != nullptr && !serviced_) handler->service(now());
        serviced_ = false;
        vcpu_->gicv_write(gic::gicc::eoir, iar_);
        if (params_.split_eoi) vcpu_->gicv_write(gic::gicc::dir, iar_);
        handled_.add();
        if (handler != nullptr) handler->completed(now());
        run(Phase::irq_eoi, vcpu_->gicv_access_cost() * (params_.split_eoi ? 2 : 1));
        return;
    }
    case Phase::irq_eoi: acknowledge(); return; // gic_handle_irq reads IAR until it is spurious
    case Phase::irq_exit:
        in_irq_ = false;
        irq_cycles_ += now() - irq_started_;
        resume_workload();
        return;
    }
}

} // namespace fwdsim::guest
