// Vcpu: one virtual CPU (struct kvm_vcpu) and its run loop on a physical
// host::Cpu, with the world switch around the guest.
//
// KVM_RUN (run()) puts the vCPU on its physical CPU: a run-loop pass
// (kvm.run_loop) queued as host work, then entry -- the vgic flushes the
// vCPU's pending and active interrupts into the list registers and the
// world switch (kvm.world_switch_enter) restores the guest.  In the guest,
// the guest model (GuestCode) runs segments of guest time.  It leaves the
// guest when
// * the physical CPU's nIRQ rises (a device, the vgic's maintenance
//   interrupt, a kick IPI): reason maintenance when GICH_MISR says the vgic
//   raised it, else irq;
// * the guest traps: a GICD access (emulated by the vgic), WFI, HVC;
// * host work waits for this CPU (the scheduler's reschedule).
// The entry runs with the host's IRQs masked (kvm_arch_vcpu_ioctl_run's
// local_irq_disable comes before the flush): what arrives during it is
// taken when it is complete -- the guest is entered and exits at once,
// running nothing, with the same exit as from the guest.
// Exit: the vgic folds the list registers back and the world switch
// (kvm.world_switch_exit) restores the host; the physical CPU then takes its
// pending IRQ and queued work, and the vCPU re-enters through another run-
// loop pass (plus kvm.handle_exit and the exit's own work).  WFI with
// nothing pending blocks the vCPU (kvm.vcpu_block, and kvm.vcpu_put as its
// thread schedules out) and its CPU goes idle; a kick wakes it as Linux's
// try_to_wake_up does (host::Cpu::wake_up: host.ttwu_remote on the kicking
// CPU, the reschedule IPI, host.idle_exit and the IPI's flow on the idle
// CPU, then host.idle_to_task + kvm.vcpu_load + kvm.run_loop).  A kick of a
// vCPU in the guest sends an IPI (SGI kKickSgi) to its CPU, which makes it
// exit.  A trapped access is handled after the exit's decode has run
// (kvm.handle_exit, kvm.mmio_abort): its emulation, an ioeventfd's signal
// or the VMM's handling of a KVM_EXIT_MMIO take effect then.
//
// Its run-loop passes and WFI blocking are work of the vCPU's thread
// (host::Work::set_owner), so vCPUs sharing a physical CPU take turns by
// the host's time slice (host/cpu.h): a vCPU in the guest is not made to
// exit by another's entry until its slice is over; then it exits as for a
// reschedule (an irq exit), the CPU switches threads -- kvm.vcpu_put of
// this one (sched_out), host.context_switch, kvm.vcpu_load of the other
// (sched_in) -- and this vCPU's next pass waits for its turn.  Blocking in
// WFI gives the CPU up at once (host::Cpu::task_sleep).
#pragma once

#include <fwdsim/arch/vm_arch.h>
#include <fwdsim/host/cpu.h>
#include <fwdsim/kvm/exit_reason.h>
#include <fwdsim/kvm/guest_code.h>
#include <fwdsim/kvm/kvm_costs.h>
#include <fwdsim/sim/event.h>
#include <fwdsim/sim/stats.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>

namespace fwdsim::kvm {

class Vm;

/// The SGI KVM uses to kick a vCPU out of the guest (Linux's IPI_RESCHEDULE).
constexpr unsigned kKickSgi = 0;

class Vcpu final : public host::GuestContext {
public:
    enum class State { stopped, host, entering, guest, exiting, blocked };

    Vcpu(Vm& vm, unsigned id, host::Cpu& pcpu);
    ~Vcpu() override;
    Vcpu(const Vcpu&) = delete;
    Vcpu& operator=(const Vcpu&) = delete;

    unsigned id() const { return id_; }
    Vm& vm() { return vm_; }
    host::Cpu& pcpu() { return pcpu_; }
    State state() const { return state_; }
    static const char* state_name(State s);

    void set_guest(GuestCode* guest) { guest_ = guest; }
    GuestCode* guest() const { return guest_; }

    /// KVM_RUN from the VMM's vCPU thread: starts the run loop.
    void run();

    // --- KVM_ARM_VCPU_INIT state (arch/arm64/kvm/arm.c) -------------------------
    /// VCPU_INITIALIZED: KVM_ARM_VCPU_INIT succeeded; KVM_RUN needs it.
    bool initialized() const { return initialized_; }
    std::uint32_t features() const { return features_; }
    void set_initialized(std::uint32_t features)
    {
        initialized_ = true;
        features_ = features;
    }
    /// vcpu_has_run_once: a KVM_RUN got past its first-run checks.
    bool has_run_once() const { return has_run_once_; }
    void set_has_run_once() { has_run_once_ = true; }
    /// The vCPU thread is gone (its file closed, the VMM killed): leave the
    /// guest at once and stop.  Cannot fail.
    void stop();
    /// kvm_vcpu_kick: an interrupt was queued for this vCPU.
    void kick();
    /// kvm_arm_halt_guest for this vCPU (KVM_REQ_SLEEP, kicked and waited
    /// for): a vCPU in the guest or entering it leaves at once -- an irq
    /// exit, its list registers folded on its own CPU -- and re-enters
    /// through its run loop; an entry under way is abandoned (the request
    /// check before the guest entry), only its elapsed part counted.
    /// Anywhere else it holds no list register and nothing happens.  The
    /// requester's wait is not charged (a limit,
    /// docs/irq-forwarding-mode.md).
    void halt();

    // --- for the guest model, while in the guest ------------------------------
    // (With GuestCode, all a guest model reaches of KVM: it never sees the Vm.)
    /// The simulated time: what the guest reads from its counter.
    sim::Cycles now() const;
    /// Runs `cycles` of guest time, then calls GuestCode::segment_done.
    /// One segment at a time; it pauses while the vCPU is out of the guest.
    void guest_run(sim::Cycles cycles);
    /// Stops the running segment; returns the cycles it had left.
    sim::Cycles guest_preempt();
    bool guest_running_segment() const;
    /// A GICV register access (no trap); returns the value read.  Its cost
    /// is access_cost(), for the guest to spend.
    std::uint32_t gicv_read(std::uint32_t offset);
    void gicv_write(std::uint32_t offset, std::uint32_t value);
    sim::Cycles gicv_access_cost() const;
    bool virq_line() const;
    /// Trapping instructions: the vCPU exits; GuestCode::trap_done follows
    /// when the guest runs again.  A trapped GICD read's value is
    /// mmio_value() then.
    void trap_gicd_read(std::uint32_t offset);
    void trap_gicd_write(std::uint32_t offset, std::uint32_t value);
    void trap_wfi();
    void trap_hypercall();
    /// A guest write to emulated MMIO outside the vgic (a virtio notify):
    /// the data abort is decoded and dispatched on the VM's io bus, where
    /// an ioeventfd (Vm::ioeventfd) signals its eventfd.
    void trap_mmio_write(std::uint64_t addr, std::uint32_t value);
    /// A guest access to a device region the VMM has not mapped: exits to
    /// user space (KVM_EXIT_MMIO), where the VMM performs `access` on the
    /// device (Vm::handle_user_mmio); trap_done follows on re-entry.
    void trap_mmio_user(std::uint64_t addr, std::function<void()> access);
    /// Whether a guest access to `addr` exits to user space (a device region
    /// the VMM has not mapped: Vm::user_mmio_exits), so that the guest goes
    /// through trap_mmio_user rather than accessing the device at once.
    bool mmio_exits_to_user(std::uint64_t addr) const;
    std::uint32_t mmio_value() const { return mmio_value_; }

    // --- host::GuestContext ------------------------------------------------------
    void host_irq(host::Cpu& cpu) override;
    void host_work(host::Cpu& cpu) override;
    void sched_out(host::Cpu& cpu) override;
    void sched_in(host::Cpu& cpu) override;

    /// Called by KVM when the physical CPU's nVIRQ rises.
    void virq_rose();

    // --- statistics -------------------------------------------------------------------
    std::uint64_t exits(ExitReason r) const { return exits_[static_cast<std::size_t>(r)].value(); }
    std::uint64_t total_exits() const;
    std::uint64_t entries() const { return entries_.value(); }
    std::uint64_t kicks_sent() const { return kicks_.value(); }
    std::uint64_t wakeups() const { return wakeups_.value(); }
    /// Cycles spent in guest mode running guest code.
    sim::Cycles guest_cycles() const { return guest_cycles_; }
    /// Cycles of world switches (entry and exit halves, flush and fold).
    sim::Cycles switch_cycles() const { return switch_cycles_; }
    /// When the guest last started running (the first guest instruction of
    /// the latest entry) and last stopped (its last instruction before the
    /// latest exit): what a guest polling the counter sees on either side
    /// of the gap an exit leaves.
    sim::Cycles guest_entered_at() const { return guest_since_; }
    sim::Cycles guest_left_at() const { return guest_left_at_; }
    /// This vCPU's track in a trace: "<VM's trace name>/vcpu<id>".
    std::string_view trace_name() const override { return track_; }
    /// Its VM's trace name changed.
    void retrack();

private:
    sim::EventQueue& events() const;
    void trace(const char* what, sim::Cycles start, sim::Cycles duration);
    void set_loaded(bool loaded);
    void block_work_done();
    void exit_work_done();
    /// Leaves the guest (or abandons the entry under way, for a halt).
    void begin_exit(ExitReason reason);
    /// The exit's world switch, once the guest's time is accounted.
    void start_exit(ExitReason reason);
    /// The entry under way stops now: only its elapsed part is counted.
    void abandon_entry();
    /// Reads GICH_MISR: maintenance or irq (its access is charged to the exit).
    ExitReason host_irq_reason();
    /// The entry's end: entered(), then what it started next, as on_segment.
    void on_entered();
    void entered();
    void on_exited();
    /// The guest's segment ends: its code runs, and while what it started
    /// next (its next segment, or a trap's exit) is the next thing due
    /// anywhere, that too (EventQueue::continue_at).
    void on_segment();
    /// Schedules `ev` for `at`; from the guest's code in on_segment (or
    /// on_entered), leaves it to that handler's end when the queue allows
    /// (may_defer).
    void schedule_own(sim::Event& ev, sim::Cycles at);
    /// After the guest's code ran in on_segment or on_entered: the event it
    /// left to the handler's end, when that may run now (continue_at); null
    /// when none was left, or when it was due later and went to the queue.
    [[gnu::always_inline]] inline sim::Event* take_chained();
    bool segment_deferred() const { return chained_ == &segment_event_; }
    void entry_work_done();
    void queue_entry(sim::Cycles cost);
    void trap(ExitReason reason);
    void account_guest_time();

    Vm& vm_;
    unsigned id_;
    bool initialized_ = false;
    std::uint32_t features_ = 0;
    bool has_run_once_ = false;
    host::Cpu& pcpu_;
    GuestCode* guest_ = nullptr;
    State state_ = State::stopped;

    ExitReason exit_reason_ = ExitReason::irq;
    bool guest_trapped_ = false;   ///< the current exit was the guest's own trap
    bool kick_pending_ = false;    ///< an IPI is on its way
    /// What arrived while entering (IRQs masked): the exit taken once in the guest.
    enum class ExitOwed : std::uint8_t { none, host_irq, host_work };
    ExitOwed exit_owed_ = ExitOwed::none;
    std::uint32_t mmio_offset_ = 0;
    std::uint64_t mmio_addr_ = 0;
    std::uint32_t mmio_write_value_ = 0;
    bool mmio_is_write_ = false;
    std::uint32_t mmio_value_ = 0;
    sim::Cycles pending_exit_cost_{}; ///< work done at the exit's start (GICH_MISR read, fold)
    sim::Cycles blocked_since_{};
    sim::Cycles entering_since_{};

    sim::Cycles segment_left_{};
    bool segment_paused_ = false;
    bool chaining_ = false;          ///< on_segment or on_entered is running the guest's code
    sim::Event* chained_ = nullptr;  ///< the event schedule_own left to the handler's end
    sim::Cycles chain_at_{};
    sim::Cycles segment_started_{};
    sim::Cycles guest_since_{};
    sim::Cycles guest_left_at_{};

    std::function<void()> mmio_access_; ///< a user-space exit's access, for the VMM
    host::Work entry_work_;
    host::Work block_work_;
    host::Work exit_work_; ///< a trap's handling that has effects (emulation, signal, user exit)
    sim::MemberEvent<Vcpu, &Vcpu::on_entered> entered_event_;
    sim::MemberEvent<Vcpu, &Vcpu::on_exited> exited_event_;
    sim::MemberEvent<Vcpu, &Vcpu::on_segment> segment_event_;
    std::string track_;

    std::array<sim::Counter, kExitReasons> exits_{};
    sim::Counter entries_;
    sim::Counter kicks_;
    sim::Counter wakeups_;
    sim::Cycles guest_cycles_{};
    sim::Cycles switch_cycles_{};
};

} // namespace fwdsim::kvm
