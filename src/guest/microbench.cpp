// Microbenchmarks as simulations (Dall et al., ISCA 2016, Table 3's rows).
// See include/fwdsim/guest/microbench.h and docs/calibration.md.
#include <fwdsim/guest/microbench.h>

#include <fwdsim/gic/registers.h>

#include <algorithm>
#include <array>
#include <memory>
#include <numeric>
#include <stdexcept>

namespace fwdsim::guest {

namespace {

constexpr std::array<MicrobenchInfo, 8> kInfo{{
    {Microbench::hypercall, "hypercall", "Hypercall", 6500, true},
    {Microbench::gicd_trap, "gicd_trap", "Interrupt Controller Trap", 7370, false},
    {Microbench::virtual_ipi, "virtual_ipi", "Virtual IPI", 11557, false},
    {Microbench::virq_completion, "virq_completion", "Virtual IRQ Completion", 71, false},
    {Microbench::vm_switch, "vm_switch", "VM Switch", 10387, false},
    {Microbench::io_out, "io_out", "I/O Latency Out", 6024, false},
    {Microbench::io_in, "io_in", "I/O Latency In", 13872, false},
    {Microbench::io_in_running, "io_in_running", "I/O Latency In, vCPU running (prediction)", 0, false},
}};

} // namespace

// --- results -------------------------------------------------------------------------

std::span<const MicrobenchInfo> microbenchmarks() { return kInfo; }

const MicrobenchInfo& info(Microbench kind)
{
    for (const auto& i : kInfo) {
        if (i.kind == kind) return i;
    }
    throw std::invalid_argument("microbench: unknown kind");
}

void MicrobenchGuest::Shared::record(sim::Cycles sample)
{
    if (warmup > 0) {
        --warmup;
    } else if (!done()) {
        samples->push_back(sample.count());
    }
    if (after_sample) after_sample();
}

// --- the guest driver ----------------------------------------------------------------

MicrobenchGuest::MicrobenchGuest(kvm::Vcpu& vcpu, const GuestCosts& costs, Role role, Shared& shared,
                                 std::vector<BootWrite> boot, std::uint64_t mmio_addr)
    : vcpu_(&vcpu), costs_(costs), role_(role), shared_(shared), boot_(std::move(boot)), mmio_addr_(mmio_addr)
{
    vcpu_->set_guest(this);
    vcpu_->guest_run(sim::Cycles{0}); // boot at the first entry
}

MicrobenchGuest::~MicrobenchGuest()
{
    if (vcpu_ != nullptr && vcpu_->guest() == this) vcpu_->set_guest(nullptr);
}

void MicrobenchGuest::vcpu_destroyed(kvm::Vcpu&) { vcpu_ = nullptr; }

sim::Cycles MicrobenchGuest::now() const { return vcpu_->now(); }

void MicrobenchGuest::run(Phase phase, sim::Cycles cycles)
{
    phase_ = phase;
    vcpu_->guest_run(cycles);
}

void MicrobenchGuest::boot_step()
{
    if (boot_next_ < boot_.size()) {
        const BootWrite w = boot_[boot_next_++];
        phase_ = Phase::boot;
        vcpu_->trap_gicd_write(w.offset, w.value);
        return;
    }
    vcpu_->gicv_write(gic::gicc::pmr, 0xF8);
    vcpu_->gicv_write(gic::gicc::ctlr, gic::gicc::ctlr_enable_grp0);
    run(Phase::boot_cpuif, vcpu_->gicv_access_cost() * 2);
}

void MicrobenchGuest::start()
{
    switch (role_) {
    case Role::irq_busy: run(Phase::busy, kChunk); break;
    case Role::counter_loop:
        entries_seen_ = vcpu_->entries();
        run(Phase::busy, kChunk);
        break;
    case Role::irq_idle: run(Phase::idle, costs_.idle_loop); break;
    default: run(Phase::gap, kSettle); break;
    }
    if (vcpu_->virq_line()) virq(*vcpu_);
}

void MicrobenchGuest::iterate()
{
    if (shared_.done()) {
        phase_ = Phase::stopped;
        return;
    }
    namespace d = gic::gicd;
    phase_ = Phase::trap;
    t0_ = now();
    switch (role_) {
    case Role::hypercall: vcpu_->trap_hypercall(); return;
    case Role::gicd_read: vcpu_->trap_gicd_read(d::typer); return;
    case Role::ipi_sender:
        shared_.t0 = t0_;
        vcpu_->trap_gicd_write(d::sgir, (1u << (16 + 1)) | kSgi); // target list: vCPU 1
        return;
    case Role::self_sgi: vcpu_->trap_gicd_write(d::sgir, (2u << 24) | kSgi); return; // filter: this vCPU
    case Role::mmio_notify:
        shared_.t0 = t0_;
        vcpu_->trap_mmio_write(mmio_addr_, 1);
        return;
    case Role::irq_busy:
    case Role::irq_idle:
    case Role::counter_loop: return;
    }
}

void MicrobenchGuest::note_gap()
{
    // The loop reads the counter back to back, so a gap in its readings is
    // time out of the guest: from its last read before the exit to its
    // first after the entry.  Paired with the peer VM's readings, the
    // peer's last read before the switch starts the interval -- if the
    // peer's last exit lies inside this vCPU's gap, the peer ran in it.
    const std::uint64_t entries = vcpu_->entries();
    if (entries != entries_seen_ && peer_ != nullptr) {
        const sim::Cycles first = vcpu_->guest_entered_at();
        const sim::Cycles peer_last = peer_->guest_left_at();
        if (vcpu_->guest_left_at() <= peer_last && peer_last <= first) shared_.record(first - peer_last);
    }
    entries_seen_ = entries;
}

void MicrobenchGuest::trap_done(kvm::Vcpu&)
{
    switch (phase_) {
    case Phase::boot: boot_step(); return;
    case Phase::wfi: run(Phase::idle, costs_.idle_loop); return;
    case Phase::trap: break;
    default: return;
    }
    switch (role_) {
    case Role::hypercall:
    case Role::gicd_read:
        shared_.record(now() - t0_);
        run(Phase::gap, kGap);
        return;
    case Role::self_sgi: run(Phase::wait, kChunk); return; // the SGI is in a list register now
    default: run(Phase::gap, kLongGap); return;              // the other side records
    }
}

void MicrobenchGuest::take_irq()
{
    (void)vcpu_->guest_preempt();
    run(Phase::irq_entry, costs_.irq_entry);
}

void MicrobenchGuest::virq(kvm::Vcpu&)
{
    if (phase_ == Phase::wait && role_ == Role::self_sgi) {
        // Virtual IRQ completion: acknowledge and complete on GICV, timed.
        (void)vcpu_->guest_preempt();
        t0_ = now();
        exits_at_t0_ = vcpu_->total_exits();
        iar_ = vcpu_->gicv_read(gic::gicc::iar);
        run(Phase::cmp_ack, vcpu_->gicv_access_cost());
        return;
    }
    if (phase_ == Phase::busy || phase_ == Phase::idle) take_irq();
}

void MicrobenchGuest::segment_done(kvm::Vcpu&)
{
    switch (phase_) {
    case Phase::boot: boot_step(); return;
    case Phase::boot_cpuif: start(); return;
    case Phase::gap: iterate(); return;
    case Phase::trap:
    case Phase::wfi:
    case Phase::stopped: return;
    case Phase::wait: run(Phase::wait, kChunk); return;
    case Phase::busy:
        if (role_ == Role::counter_loop) note_gap();
        run(Phase::busy, kChunk);
        return;
    case Phase::idle:
        phase_ = Phase::wfi;
        vcpu_->trap_wfi();
        return;
    case Phase::cmp_ack:
        vcpu_->gicv_write(gic::gicc::eoir, iar_);
        run(Phase::cmp_eoi, vcpu_->gicv_access_cost());
        return;
    case Phase::cmp_eoi:
        exits_in_window_ += vcpu_->total_exits() - exits_at_t0_;
        if ((iar_ & 0x3FF) == kSgi) shared_.record(now() - t0_);
        run(Phase::gap, kGap);
        return;
    case Phase::irq_entry:
        iar_ = vcpu_->gicv_read(gic::gicc::iar);
        run(Phase::irq_ack, vcpu_->gicv_access_cost());
        return;
    case Phase::irq_ack:
        if ((iar_ & 0x3FF) == gic::spurious_intid) {
            run(Phase::irq_exit, costs_.irq_exit);
            return;
        }
        // The handler's first instruction: the interrupt has been received.
        ++handled_;
        shared_.record(now() - shared_.t0);
        vcpu_->gicv_write(gic::gicc::eoir, iar_);
        run(Phase::irq_eoi, vcpu_->gicv_access_cost());
        return;
    case Phase::irq_eoi: run(Phase::irq_exit, costs_.irq_exit); return;
    case Phase::irq_exit:
        if (role_ == Role::irq_busy) run(Phase::busy, kChunk);
        else run(Phase::idle, costs_.idle_loop);
        if (vcpu_->virq_line()) take_irq();
        return;
    }
}

} // namespace fwdsim::guest
