// Vcpu: the run loop and world switch of one vCPU
// (arch/arm64/kvm/arm.c: kvm_arch_vcpu_ioctl_run; handle_exit.c;
// virt/kvm/kvm_main.c: kvm_vcpu_block, kvm_vcpu_kick).
// See include/fwdsim/kvm/vcpu.h.
#include <fwdsim/gic/registers.h>
#include <fwdsim/kvm/vcpu.h>
#include <fwdsim/kvm/vm.h>

#include <cassert>
#include <string>
#include <utility>

namespace fwdsim::kvm {

Vcpu::Vcpu(Vm& vm, unsigned id, host::Cpu& pcpu)
    : vm_(vm), id_(id), pcpu_(pcpu), entry_work_("kvm: vcpu run", [this] { entry_work_done(); }),
      block_work_("kvm: vcpu block", [this] { block_work_done(); }),
      exit_work_("kvm: handle exit", [this] { exit_work_done(); }), entered_event_(this, "kvm.entered"),
      exited_event_(this, "kvm.exited"), segment_event_(this, "kvm.guest_segment")
{
    retrack();
    // Both run in this vCPU's thread: the host scheduler switches threads around them.
    entry_work_.set_owner(this);
    block_work_.set_owner(this);
    exit_work_.set_owner(this);
}

Vcpu::~Vcpu()
{
    stop();
    if (GuestCode* g = std::exchange(guest_, nullptr)) g->vcpu_destroyed(*this);
}

const char* Vcpu::state_name(State s)
{
    switch (s) {
    case State::stopped: return "stopped";
    case State::host: return "host";
    case State::entering: return "entering";
    case State::guest: return "guest";
    case State::exiting: return "exiting";
    case State::blocked: return "blocked";
    }
    return "?";
}

std::uint64_t Vcpu::total_exits() const
{
    std::uint64_t n = 0;
    for (const auto& c : exits_) n += c.value();
    return n;
}

sim::EventQueue& Vcpu::events() const { return vm_.env().events; }

sim::Cycles Vcpu::now() const { return events().now(); }

bool Vcpu::mmio_exits_to_user(std::uint64_t addr) const { return vm_.user_mmio_exits(addr); }

void Vcpu::trace(const char* what, sim::Cycles start, sim::Cycles duration)
{
    sim::Tracer* t = vm_.env().tracer;
    if (t && t->enabled()) t->span(track_, what, start, duration);
}

void Vcpu::retrack()
{
    track_ = vm_.trace_name() + "/vcpu" + std::to_string(id_);
}

void Vcpu::set_loaded(bool loaded)
{
    auto* table = vm_.env().loaded;
    if (table == nullptr || pcpu_.id() >= table->size()) return;
    Vcpu*& slot = (*table)[pcpu_.id()];
    if (loaded) slot = this;
    else if (slot == this) slot = nullptr;
}

// --- the run loop ------------------------------------------------------------------

void Vcpu::run()
{
    if (state_ != State::stopped) return;
    state_ = State::host;
    queue_entry(vm_.env().costs.run_loop);
}

void Vcpu::queue_entry(sim::Cycles cost)
{
    (void)pcpu_.submit(entry_work_, cost);
}

void Vcpu::entry_work_done()
{
    if (state_ != State::host) return;
    // kvm_vgic_map_resources on the first run; a VM without an in-kernel
    // irqchip runs with no list registers to fill.
    sim::Cycles flush{};
    if (vm_.ensure_vgic() == 0) {
        if (arch::Vgic* vgic = vm_.arch().vgic(); vgic != nullptr && id_ < vgic->nr_vcpus())
            flush = vgic->flush(id_, pcpu_.id()) + vm_.env().costs.vgic_restore;
    }
    const sim::Cycles cost = flush + vm_.env().costs.world_switch_enter;
    switch_cycles_ += cost;
    // From here to the guest's first instruction the host has IRQs masked
    // (local_irq_disable before kvm_vgic_flush_hwstate, then the hyp call):
    // an interrupt or the scheduler's wish that arrives meanwhile is taken
    // once the entry is complete, as an exit from the guest (on_entered).
    state_ = State::entering;
    set_loaded(true);
    pcpu_.enter_guest(*this);
    entering_since_ = events().now();
    events().schedule_after(entered_event_, cost);
}

// Inline: both handlers that chain ask it once per guest segment.
[[gnu::always_inline]] inline sim::Event* Vcpu::take_chained()
{
    sim::Event* const next = std::exchange(chained_, nullptr);
    if (next == nullptr) return nullptr;
    if (events().continue_at(chain_at_)) return next;
    events().schedule_deferred(*next, chain_at_);
    return nullptr;
}

void Vcpu::on_entered()
{
    // The guest's first segment (or the exit owed since the entry began)
    // goes on at once when it is the next event due anywhere, as a
    // segment's successor does in on_segment.
    chaining_ = true;
    entered();
    chaining_ = false;
    sim::Event* const next = take_chained();
    if (next == nullptr) return;
    if (next == &exited_event_) on_exited();
    else on_segment();
}

void Vcpu::entered()
{
    assert(state_ == State::entering);
    trace("world switch: enter", entering_since_, events().now() - entering_since_);
    state_ = State::guest;
    entries_.add();
    guest_since_ = events().now();
    if (exit_owed_ != ExitOwed::none) {
        // What arrived during the entry is taken now, before the guest's
        // first instruction: an IRQ exit like any other, no guest time.
        guest_left_at_ = guest_since_;
        const ExitOwed owed = std::exchange(exit_owed_, ExitOwed::none);
        start_exit(owed == ExitOwed::host_irq ? host_irq_reason() : ExitReason::irq);
        return;
    }
    if (segment_paused_) {
        segment_paused_ = false;
        events().schedule_after(segment_event_, segment_left_);
    }
    if (guest_trapped_) {
        guest_trapped_ = false;
        if (guest_) guest_->trap_done(*this);
    }
    if (state_ == State::guest && guest_ && virq_line()) guest_->virq(*this);
}

void Vcpu::host_irq(host::Cpu&)
{
    if (state_ == State::entering) {
        // kvm_arch_vcpu_ioctl_run masks IRQs before the flush and the world
        // switch: the interrupt waits for the guest to be entered.
        exit_owed_ = ExitOwed::host_irq;
        return;
    }
    if (state_ == State::guest) begin_exit(host_irq_reason());
}

ExitReason Vcpu::host_irq_reason()
{
    // Which interrupt made us leave: GICH_MISR is non-zero when the vgic's
    // own maintenance interrupt is asserted.
    gic::Gic& gic = vm_.env().gic;
    const std::uint32_t misr = gic.read(gic::Block::gich, pcpu_.id(), gic::gich::misr);
    pending_exit_cost_ = gic.access_cost(gic::Block::gich);
    return misr != 0 ? ExitReason::maintenance : ExitReason::irq;
}

void Vcpu::sched_out(host::Cpu&)
{
    // kvm_sched_out -> kvm_arch_vcpu_put: the thread leaves its CPU to another.
    vm_.env().this_cpu.charge(vm_.env().costs.vcpu_put);
}

void Vcpu::sched_in(host::Cpu&)
{
    vm_.env().this_cpu.charge(vm_.env().costs.vcpu_load);
}

void Vcpu::host_work(host::Cpu&)
{
    // The scheduler wants this CPU (a reschedule IPI in Linux): leave --
    // once the entry under way is complete, as for a host IRQ.
    if (state_ == State::entering) {
        if (exit_owed_ == ExitOwed::none) exit_owed_ = ExitOwed::host_work;
    } else if (state_ == State::guest) {
        begin_exit(ExitReason::irq);
    }
}

void Vcpu::account_guest_time()
{
    const sim::Cycles now = events().now();
    guest_cycles_ += now - guest_since_;
    trace("guest", guest_since_, now - guest_since_);
}

void Vcpu::abandon_entry()
{
    // Only the part of the entry that has run is spent.
    switch_cycles_ -= entered_event_.when() - events().now();
    events().deschedule(entered_event_);
    exit_owed_ = ExitOwed::none;
}

void Vcpu::begin_exit(ExitReason reason)
{
    if (state_ == State::entering) {
        // A halt: the request check before the guest entry sends the vCPU
        // round its run loop (its LRs folded) without running the guest.
        abandon_entry();
        trace("world switch: enter (cut short)", entering_since_, events().now() - entering_since_);
    } else {
        account_guest_time();
        guest_left_at_ = events().now();
        if (segment_event_.scheduled()) {
            segment_left_ = segment_event_.when() - events().now();
            events().deschedule(segment_event_);
            segment_paused_ = true;
        } else if (segment_deferred()) {
            segment_left_ = chain_at_ - events().now();
            chained_ = nullptr;
            segment_paused_ = true;
        }
    }
    start_exit(reason);
}

void Vcpu::start_exit(ExitReason reason)
{
    exit_reason_ = reason;
    state_ = State::exiting;
    kick_pending_ = false;
    // kvm_vgic_sync_hwstate runs on this CPU before the host takes its
    // interrupt, so a handler that injects sees the folded state.
    sim::Cycles fold{};
    if (arch::Vgic* vgic = vm_.arch().vgic(); vgic != nullptr && id_ < vgic->nr_vcpus()) {
        pending_exit_cost_ += pcpu_.execute([&] { fold = vgic->fold(id_, pcpu_.id()); });
        fold += vm_.env().costs.vgic_save;
    }
    const sim::Cycles cost = vm_.env().costs.world_switch_exit + fold + pending_exit_cost_;
    pending_exit_cost_ = {};
    switch_cycles_ += cost;
    trace("world switch: exit", events().now(), cost);
    schedule_own(exited_event_, events().now() + cost);
}

void Vcpu::on_exited()
{
    assert(state_ == State::exiting);
    exits_[static_cast<std::size_t>(exit_reason_)].add();
    set_loaded(false);
    state_ = State::host;
    const KvmCosts& c = vm_.env().costs;
    sim::Cycles handling = c.handle_exit;
    pcpu_.exit_guest();
    switch (exit_reason_) {
    case ExitReason::gicd_trap:
    case ExitReason::mmio:
        // A data abort on emulated MMIO: decoded and dispatched first; what
        // the access does happens when that is done (exit_work_done).
        (void)pcpu_.submit(exit_work_, handling + c.mmio_abort);
        return;
    case ExitReason::mmio_user:
        // No memslot, no in-kernel device: KVM_RUN returns to user space.
        (void)pcpu_.submit(exit_work_, handling + c.mmio_abort + vm_.env().host_costs.return_to_user);
        return;
    case ExitReason::hypercall: handling += c.hypercall; break;
    case ExitReason::wfi:
        (void)pcpu_.submit(block_work_, handling);
        return;
    default: break;
    }
    queue_entry(handling + c.run_loop);
}

void Vcpu::exit_work_done()
{
    if (state_ != State::host) return;
    host::ThisCpu& this_cpu = vm_.env().this_cpu;
    switch (exit_reason_) {
    case ExitReason::gicd_trap:
        // The emulation's cost comes before its effects (a queued SGI's kick).
        this_cpu.charge(vm_.env().vgic_costs.mmio_emulate);
        if (vm_.ensure_vgic() != 0) {
            mmio_value_ = 0; // no in-kernel irqchip: reads as zero, writes ignored
        } else {
            arch::Vgic& vgic = *vm_.arch().vgic();
            sim::Cycles charged_above{};
            if (mmio_is_write_) vgic.dist_write(id_, mmio_offset_, mmio_write_value_, charged_above);
            else mmio_value_ = vgic.dist_read(id_, mmio_offset_, charged_above);
        }
        break;
    case ExitReason::mmio: (void)vm_.ioeventfd_write(mmio_addr_); break;
    case ExitReason::mmio_user: {
        // The VMM's vCPU thread handles KVM_EXIT_MMIO, then calls KVM_RUN.
        // A guest model gone meanwhile performs nothing.
        const std::function<void()> access = guest_ != nullptr ? std::exchange(mmio_access_, {}) : std::function<void()>{};
        mmio_access_ = {};
        vm_.handle_user_mmio(*this, mmio_addr_, access ? access : [] {});
        this_cpu.charge(vm_.env().host_costs.syscall);
        break;
    }
    default: break;
    }
    queue_entry(vm_.env().costs.run_loop);
}

void Vcpu::block_work_done()
{
    if (state_ != State::host) return;
    // kvm_vcpu_block: nothing to deliver, so give the CPU up until a kick.
    arch::Vgic* vgic = vm_.arch().vgic();
    if (vgic != nullptr && id_ < vgic->nr_vcpus() && vgic->has_pending(id_)) {
        queue_entry(vm_.env().costs.run_loop);
        return;
    }
    // This runs as the block work's completion: it lengthens that step.
    // The thread schedules out to the idle task (kvm_sched_out -> vcpu_put).
    vm_.env().this_cpu.charge(vm_.env().costs.vcpu_block + vm_.env().costs.vcpu_put);
    state_ = State::blocked;
    blocked_since_ = events().now();
    pcpu_.task_sleep(*this); // another vCPU thread may have the CPU at once
}

void Vcpu::kick()
{
    switch (state_) {
    case State::entering:
    case State::guest:
        // kvm_vcpu_kick: an IPI makes the CPU leave the guest; the next
        // entry flushes what was queued.
        if (!kick_pending_) {
            kick_pending_ = true;
            kicks_.add();
            (void)vm_.env().irqs.send_ipi(pcpu_.id(), kKickSgi);
        }
        break;
    case State::blocked:
        // kvm_vcpu_wake_up: try_to_wake_up of the vCPU thread; once on its
        // CPU it switches in from the idle task (kvm_sched_in -> vcpu_load)
        // and goes round the run loop.
        wakeups_.add();
        trace("blocked (WFI)", blocked_since_, events().now() - blocked_since_);
        state_ = State::host;
        pcpu_.wake_up(entry_work_, vm_.env().host_costs.idle_to_task + vm_.env().costs.vcpu_load +
                                       vm_.env().costs.run_loop);
        break;
    default: break; // in the host: the next entry flushes it
    }
}

void Vcpu::halt()
{
    if (state_ != State::entering && state_ != State::guest) return;
    kicks_.add();
    begin_exit(ExitReason::irq);
}

void Vcpu::stop()
{
    if (state_ == State::stopped) return;
    if (state_ == State::guest) account_guest_time();
    if (state_ == State::entering) abandon_entry();
    events().deschedule(exited_event_);
    if (state_ == State::entering || state_ == State::guest) {
        // Save the vgic state so nothing stays in this CPU's list registers.
        if (arch::Vgic* vgic = vm_.arch().vgic(); vgic != nullptr && id_ < vgic->nr_vcpus())
            (void)vgic->fold(id_, pcpu_.id());
    }
    if (pcpu_.guest() == this) pcpu_.exit_guest();
    set_loaded(false);
    entry_work_.cancel();
    block_work_.cancel();
    exit_work_.cancel();
    mmio_access_ = {};
    if (segment_event_.scheduled()) events().deschedule(segment_event_);
    chained_ = nullptr;
    segment_paused_ = false;
    guest_trapped_ = false;
    state_ = State::stopped;
    pcpu_.task_exit(*this);
}

// --- for the guest -------------------------------------------------------------------

void Vcpu::schedule_own(sim::Event& ev, sim::Cycles at)
{
    if (chaining_ && chained_ == nullptr && events().may_defer(at)) {
        chained_ = &ev;
        chain_at_ = at;
        return;
    }
    events().schedule(ev, at);
}

void Vcpu::guest_run(sim::Cycles cycles)
{
    assert(!segment_event_.scheduled() && !segment_paused_ && !segment_deferred());
    if (state_ == State::guest) {
        schedule_own(segment_event_, events().now() + cycles);
    } else {
        segment_left_ = cycles;
        segment_paused_ = true;
    }
}

sim::Cycles Vcpu::guest_preempt()
{
    if (segment_deferred()) {
        chained_ = nullptr;
        return chain_at_ - events().now();
    }
    if (segment_event_.scheduled()) {
        const sim::Cycles left = segment_event_.when() - events().now();
        events().deschedule(segment_event_);
        return left;
    }
    if (segment_paused_) {
        segment_paused_ = false;
        return segment_left_;
    }
    return {};
}

bool Vcpu::guest_running_segment() const
{
    return segment_event_.scheduled() || segment_paused_ || segment_deferred();
}

void Vcpu::on_segment()
{
    for (;;) {
        chaining_ = true;
        if (guest_) guest_->segment_done(*this);
        chaining_ = false;
        sim::Event* const next = take_chained();
        if (next == nullptr) return;
        if (next == &exited_event_) {
            on_exited();
            return;
        }
    }
}

std::uint32_t Vcpu::gicv_read(std::uint32_t offset)
{
    return vm_.env().gic.read(gic::Block::gicv, pcpu_.id(), offset);
}

void Vcpu::gicv_write(std::uint32_t offset, std::uint32_t value)
{
    vm_.env().gic.write(gic::Block::gicv, pcpu_.id(), offset, value);
}

sim::Cycles Vcpu::gicv_access_cost() const
{
    return vm_.env().gic.access_cost(gic::Block::gicv);
}

bool Vcpu::virq_line() const
{
    return vm_.env().gic.virq_line(pcpu_.id());
}

void Vcpu::virq_rose()
{
    if (state_ == State::guest && guest_) guest_->virq(*this);
}

void Vcpu::trap(ExitReason reason)
{
    assert(state_ == State::guest);
    guest_trapped_ = true;
    begin_exit(reason);
}

void Vcpu::trap_gicd_read(std::uint32_t offset)
{
    mmio_is_write_ = false;
    mmio_offset_ = offset;
    trap(ExitReason::gicd_trap);
}

void Vcpu::trap_gicd_write(std::uint32_t offset, std::uint32_t value)
{
    mmio_is_write_ = true;
    mmio_offset_ = offset;
    mmio_write_value_ = value;
    trap(ExitReason::gicd_trap);
}

void Vcpu::trap_mmio_write(std::uint64_t addr, std::uint32_t value)
{
    mmio_is_write_ = true;
    mmio_addr_ = addr;
    mmio_write_value_ = value;
    trap(ExitReason::mmio);
}

void Vcpu::trap_mmio_user(std::uint64_t addr, std::function<void()> access)
{
    mmio_addr_ = addr;
    mmio_access_ = std::move(access);
    trap(ExitReason::mmio_user);
}

void Vcpu::trap_wfi() { trap(ExitReason::wfi); }
void Vcpu::trap_hypercall() { trap(ExitReason::hypercall); }

} // namespace fwdsim::kvm
