// Cpu: one physical CPU of the host.  It executes host work serially, takes
// its interrupt controller's nIRQ, and can run a guest for KVM.
//
// Host work is a queue of Work items, each with a cost in cycles and a
// completion that runs when the cost has elapsed; a busy CPU delays later
// work (one item at a time, FIFO).  An interrupt preempts work: when nIRQ is
// high in host mode the CPU runs the IRQ flow -- entry (host.irq_entry),
// acknowledge (IAR), priority drop (EOIR, split EOI), handler
// (host.irq_dispatch + what the handler charges), deactivate (DIR) -- each
// step taking effect at the simulated time it starts and lasting what it
// charged; it acknowledges again while nIRQ stays high (gic_handle_irq's
// loop), then exits (host.irq_exit) and resumes the preempted work where it
// stopped.  Everything executed inside a step is current on ThisCpu, so the
// costs it charges lengthen the step.
//
// Guest mode, for KVM.  Contract:
// * enter_guest(ctx) is legal only in host mode outside the IRQ flow (e.g.
//   from a Work completion); from then on the CPU runs no host work.
// * While in guest mode, when nIRQ rises (or is already high at entry), the
//   CPU calls ctx.host_irq(cpu) once per entry.  KVM models the exit (it may
//   spend time on its own events) and must then call exit_guest().
// * Host work submitted while in guest mode waits; the CPU calls
//   ctx.host_work(cpu) once per entry (the reschedule IPI).  KVM decides when
//   to exit.
// * exit_guest() returns the CPU to host mode.  At that point the pending
//   IRQ (if nIRQ is high) is taken first, then queued work runs in order.  To
//   re-enter, KVM submits a Work whose completion calls enter_guest(): it
//   runs after the IRQ and after anything queued before it.
// * The callbacks are made from the CPU's own scheduled events, never from
//   inside enter_guest()/exit_guest().
//
// The scheduler, minimally: vCPU threads and their time slice.  Work may
// belong to a thread (Work::set_owner: a vCPU's run-loop pass belongs to
// its GuestContext); the CPU's current thread is the owner of the last
// owned work it ran.  Owned work of another thread does not run, and does
// not make the guest exit, until the current thread has had the CPU for
// host.sched_slice cycles (CFS's minimum granularity) or sleeps
// (task_sleep(), a vCPU blocked in WFI) or exits (task_exit()); until then
// later work runs ahead of it.  At the slice's end the CPU tells a guest
// running for the current thread host_work() (the tick's reschedule).
// Switching threads charges the step of the incoming thread's work with
// ctx.sched_out() of the old one (kvm_arch_vcpu_put), host.context_switch
// and ctx.sched_in() of the new one (kvm_arch_vcpu_load).  Work without an
// owner (IRQ bottom halves, eventfd threads, kernel work) is unchanged: it
// runs in FIFO order and makes a guest exit at once.  A CPU that only ever
// runs one thread's owned work behaves exactly as without the scheduler.
//
// Charge, then act.  Kernel code runs at the start of its step and charges
// as it goes; an effect others can see (an injection, a kick, a wake-up of
// a thread elsewhere, an unmask) must not run ahead of the work charged
// before it.  Such code hands the effect to after_charged(): it runs, as
// kernel code on this CPU, once what the step has charged so far has
// elapsed, and what it charges itself lengthens the CPU's busy period (and
// delays the acts queued after it).  With nothing charged it runs at once.
//
// The idle task and the scheduler IPI.  A CPU whose current thread blocked
// (task_sleep) and that has nothing else to run is idle in WFI; the first
// IRQ it takes leaves idle first (host.idle_exit, charged to the IRQ's
// entry).  A thread on another CPU is woken as try_to_wake_up does it with
// a remote wake list: the waker queues the thread's work on the target
// (queue_wake, after charging host.ttwu_remote) and sends the reschedule
// IPI; the IPI's handler on the target (sched_ipi: host.sched_ipi) moves
// the queued work to the run queue.
#pragma once

#include <fwdsim/host/host_costs.h>
#include <fwdsim/host/this_cpu.h>
#include <fwdsim/sim/event.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/stats.h>
#include <fwdsim/sim/trace.h>

#include <boost/intrusive/list.hpp>

#include <cstdint>
#include <functional>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace fwdsim::host {

class Cpu;
class GuestContext;
class IrqLayer;

/// The SGI Linux sends to make another CPU reschedule (IPI_RESCHEDULE).
constexpr unsigned kReschedSgi = 0;

/// A unit of host work owned by its submitter (like a work_struct): it is
/// queued at most once at a time and never allocated by the CPU.
class Work : public boost::intrusive::list_base_hook<> {
public:
    Work(const char* name, std::function<void()> done) : name_(name), done_(std::move(done)) {}
    Work(const Work&) = delete;
    Work& operator=(const Work&) = delete;
    ~Work();

    /// Queued or running on a CPU.
    bool queued() const { return cpu_ != nullptr; }
    const char* name() const { return name_; }
    /// Removes it from its CPU's queue if it has not started (cancel_work).
    void cancel();
    /// The thread this work runs in (a vCPU's run loop), for the scheduler.
    void set_owner(GuestContext* owner) { owner_ = owner; }
    GuestContext* owner() const { return owner_; }

private:
    friend class Cpu;
    const char* name_;
    std::function<void()> done_;
    sim::Cycles cost_{};
    Cpu* cpu_ = nullptr;
    GuestContext* owner_ = nullptr;
};

/// What KVM implements so a vCPU can run on a Cpu (see the contract above).
class GuestContext {
public:
    virtual ~GuestContext() = default;
    /// nIRQ is high while the guest runs: exit, then call cpu.exit_guest().
    virtual void host_irq(Cpu& cpu) = 0;
    /// Host work is waiting for this CPU: exit when convenient.
    virtual void host_work(Cpu& cpu) = 0;
    /// The scheduler switches this thread out / in; runs as kernel code on
    /// `cpu` (charges through ThisCpu lengthen the switch).
    virtual void sched_out(Cpu& cpu) { (void)cpu; }
    virtual void sched_in(Cpu& cpu) { (void)cpu; }
    /// The track of this thread's guest in a trace ("vm0/vcpu0").
    virtual std::string_view trace_name() const { return "guest"; }
};

class Cpu {
public:
    enum class Mode { host, guest };

    Cpu(sim::EventQueue& queue, ThisCpu& this_cpu, const HostCosts& costs, unsigned id,
        sim::Tracer* tracer = nullptr);
    ~Cpu();
    Cpu(const Cpu&) = delete;
    Cpu& operator=(const Cpu&) = delete;

    unsigned id() const { return id_; }
    /// Its track in a trace ("host/cpu1").
    const std::string& track() const { return track_; }
    /// Where the code running on the host charges its cycles.
    ThisCpu& this_cpu() const { return this_cpu_; }
    /// The IRQ layer whose flow this CPU runs; without one, nIRQ is ignored.
    void attach_irq_layer(IrqLayer& irqs) { irqs_ = &irqs; }

    /// Queues `work` to run for `cost` cycles.  Returns false (and changes
    /// nothing) when it is already queued, like queue_work().
    bool submit(Work& work, sim::Cycles cost);
    /// Removes queued work that has not started; returns whether it did.
    bool cancel(Work& work);

    /// The controller's nIRQ output for this CPU (wired by GicDriver).
    void set_irq_line(bool level);
    bool irq_line() const;

    /// Runs `fn` as kernel code executing on this CPU now (ThisCpu is this
    /// CPU while it runs) and returns the cycles it charged, for the caller
    /// to spend: KVM's world-switch code runs on the CPU outside Work and
    /// the IRQ flow (e.g. the vgic fold right after a guest exit).
    template <class F>
    sim::Cycles execute(F&& fn)
    {
        auto saved = this_cpu_.enter(this);
        fn();
        return this_cpu_.leave(saved);
    }

    void enter_guest(GuestContext& ctx);
    void exit_guest();

    /// Charge, then act (see above): runs `fn` on this CPU once the cycles
    /// the code executing now has charged have elapsed; at once when it has
    /// charged nothing.  `owner` names who may cancel it (cancel_acts).
    /// Call it from code executing on this CPU.
    void after_charged(const void* owner, std::function<void()> fn);
    /// The same for a small callable that copies as plain bytes (a lambda
    /// capturing a pointer and a few numbers, as KVM's and the scheduler's
    /// acts do): kept in the act itself, so queuing, moving and running it
    /// build, move and destroy no std::function.
    template <class F>
        requires(std::is_trivially_copyable_v<F> && sizeof(F) <= 24 && alignof(F) <= alignof(void*) &&
                 std::is_invocable_v<const F&>)
    void after_charged(const void* owner, F fn)
    {
        const sim::Cycles delay = charged_here();
        if (delay == sim::Cycles{}) {
            fn(); // nothing charged before it: the effect is now, inside the caller's step
            return;
        }
        Act& a = queue_act(owner, delay);
        ::new (static_cast<void*>(a.bytes)) F(fn);
        a.run = [](const Act& act) { (*std::launder(reinterpret_cast<const F*>(act.bytes)))(); };
    }
    /// Drops the acts `owner` queued that have not run (its owner is going).
    void cancel_acts(const void* owner);
    std::size_t pending_acts() const { return acts_.size(); }
    /// Whether `owner` has acts queued that have not run (an effect in flight).
    bool has_acts(const void* owner) const;

    /// try_to_wake_up of a thread whose next work is `work` (cost `cost`):
    /// from code on another CPU, host.ttwu_remote there, the thread on this
    /// CPU's wake list and the reschedule IPI sent (charge, then act); from
    /// this CPU or outside any CPU, `work` is simply submitted.
    void wake_up(Work& work, sim::Cycles cost);
    /// try_to_wake_up's remote half: queues `work` (cost `cost`) on this
    /// CPU's wake list; the scheduler IPI moves it to the run queue.
    void queue_wake(Work& work, sim::Cycles cost);
    /// The scheduler IPI's handler on this CPU (sched_ttwu_pending):
    /// charges host.sched_ipi and submits the woken work.  Returns whether
    /// anything was queued.
    bool sched_ipi();
    /// In the idle task: its thread blocked and nothing else is under way.
    bool in_idle_task() const;
    std::uint64_t idle_exits() const { return idle_exits_.value(); }

    /// The current thread sleeps (blocks): other threads' work may run
    /// without waiting for its slice.  Its next owned work wakes it.
    void task_sleep(GuestContext& task);
    /// The thread is gone: forget it, nothing is switched out.
    void task_exit(GuestContext& task);
    GuestContext* current_task() const { return current_; }
    std::uint64_t context_switches() const { return switches_.value(); }
    Mode mode() const { return guest_ ? Mode::guest : Mode::host; }
    GuestContext* guest() const { return guest_; }

    // --- inspection -----------------------------------------------------------
    /// No work running or queued, not in the IRQ flow, in host mode.
    bool idle() const;
    bool in_irq() const { return phase_ != Phase::none; }
    std::size_t queued_work() const { return work_.size(); }
    sim::Cycles busy_cycles() const { return busy_; }
    std::uint64_t irqs_taken() const { return irqs_taken_.value(); }
    std::uint64_t spurious_irqs() const { return spurious_.value(); }
    std::uint64_t work_done() const { return work_done_.value(); }

private:
    friend class Work;
    enum class Phase { none, entry, acknowledge, drop, handle, finish, exit };

    /// The step event: runs the step's end, and while the next step is the
    /// next thing due anywhere, that one too (EventQueue::continue_at).
    void on_step();
    void step();
    /// nIRQ now: as last told, unless the controller has let it fall since.
    bool irq_asserted();
    void on_guest_callback();
    void on_slice_end();
    void dispatch();
    /// The same, inline: for the end of a step (step()), where most calls
    /// are; elsewhere a call keeps the callers' own paths lean.
    [[gnu::always_inline]] inline void dispatch_inline();
    /// dispatch() with work to resume or queued: the preempted work, else
    /// the next.  Out of line: about half of dispatch()'s calls find nothing
    /// queued, and need not save the registers starting work does.
    [[gnu::noinline]] void dispatch_work();
    bool may_run(const Work& w) const;
    /// Between steps: no step under way or due, not in the IRQ flow, no
    /// work started; dispatch() may pick what comes next.
    bool may_dispatch() { return phase_ == Phase::none && !running_ && !in_step_ && !stepping(); }
    /// A step is under way: its event is due, or a completion's tail has
    /// not ended (which schedules the event then, for whoever asks).
    bool stepping();
    bool slice_over() const;
    void arm_slice();
    void notify_work();
    Work* next_work();
    sim::Cycles switch_to(GuestContext* task);
    void begin_irq();
    /// Runs phase `p` and, while a phase takes no time, the ones after it.
    /// Forced inline into its two callers (cpu.cpp): a call saved and
    /// restored six registers around each of the ~9 steps an interrupt takes.
    [[gnu::always_inline]] inline void run_phase(Phase p);
    /// The phase after phase_ when it ends (none: the flow is over).
    [[gnu::always_inline]] inline Phase next_phase();
    void schedule_step(sim::Cycles duration);
    static const char* phase_name(Phase p);
    void on_act();
    /// An act charged `c`: the CPU's current busy period grows by it.
    void extend(sim::Cycles c);

    // Tracing (cpu.cpp; only while a tracer is enabled).  A work item's
    // slice runs from its start to its end, or to its completion's tail's
    // end; an IRQ preempting it ends the slice and the rest is a slice of
    // its own.  The IRQ flow is one slice with a child per step.
    // Out of line and cold: the untraced run pays one test at each site.
    bool tracing() const { return tracer_ != nullptr && tracer_->enabled(); }
    [[gnu::cold, gnu::noinline]] void trace_open(const char* name, sim::Cycles switch_cost);
    [[gnu::cold, gnu::noinline]] void trace_close(sim::Cycles end);
    /// Closes a slice whose completion's tail has ended by now.
    [[gnu::cold, gnu::noinline]] void trace_settle();
    /// The IRQ flow's step under way ends now (and the flow, after its exit).
    [[gnu::cold, gnu::noinline]] void trace_phase_end();
    [[gnu::cold, gnu::noinline]] void trace_guest(bool enter);

    sim::EventQueue& events_;
    ThisCpu& this_cpu_;
    HostCosts costs_;
    unsigned id_;
    sim::Tracer* tracer_;
    std::string track_;
    struct TraceState {
        const char* open = nullptr; ///< the work slice under way, if any
        sim::Cycles start{}, switch_end{}, irq_start{}, guest_start{};
    } trace_;
    IrqLayer* irqs_ = nullptr;

    boost::intrusive::list<Work> work_;
    Work* running_ = nullptr;          ///< work in progress (maybe preempted)
    sim::Cycles running_left_{};       ///< its remaining cycles while preempted
    bool work_paused_ = false;         ///< running_ is preempted by the IRQ flow
    bool tail_ = false;                ///< busy with what a completion charged, until tail_end_
    sim::Cycles tail_end_{};
    bool in_step_ = false;             ///< executing a step's action now
    // In on_step, the step's own next end is left to on_step, which goes on
    // at once when nothing else is due before it (schedule_step).
    bool chaining_ = false;            ///< on_step is running step(): schedule_step defers
    bool chained_ = false;             ///< schedule_step deferred the step event to chain_at_
    sim::Cycles chain_at_{};
    bool acked_any_ = false;           ///< this IRQ entry acknowledged something
    sim::Cycles step_start_{};
    Phase phase_ = Phase::none;
    int irq_ = -1;                     ///< IRQ being handled in the flow
    bool irq_line_ = false;

    GuestContext* guest_ = nullptr;
    bool irq_notify_ = false;   ///< host_irq() owed to the guest context
    bool work_notify_ = false;  ///< host_work() owed to the guest context

    GuestContext* current_ = nullptr; ///< the thread holding the CPU (owner of the last owned work run)
    bool current_asleep_ = false;     ///< it blocked: others need not wait for its slice
    sim::Cycles slice_start_{};       ///< when it got the CPU

    /// Plain bytes, so the vector moves acts without calling anything.
    struct Act {
        sim::Cycles at;
        const void* owner;
        std::uint64_t seq;
        /// Runs the callable in `bytes`: after_charged's template's lambda,
        /// or (run_slow) a heap std::function it owns until it runs.
        void (*run)(const Act&);
        alignas(void*) unsigned char bytes[24];
    };
    static void run_slow(const Act& act);
    /// Frees what an act that will not run owns.
    static void drop(Act& act);
    /// What the code executing on this CPU now has charged (zero elsewhere).
    sim::Cycles charged_here() const
    {
        return this_cpu_.current() == this ? this_cpu_.charged() : sim::Cycles{};
    }
    /// Queues an act due `delay` from now, in order, and returns it to be filled.
    Act& queue_act(const void* owner, sim::Cycles delay);
    /// By time, then by order queued.  A vector, not a deque: it holds one or
    /// two acts at a time, and a deque freed and allocated a block per act.
    std::vector<Act> acts_;
    std::uint64_t act_seq_ = 0;
    std::vector<std::pair<Work*, sim::Cycles>> wake_list_;
    bool idle_exit_due_ = false; ///< the IRQ flow under way began in the idle task

    sim::MemberEvent<Cpu, &Cpu::on_step> step_event_;
    sim::MemberEvent<Cpu, &Cpu::on_act> act_event_;
    sim::MemberEvent<Cpu, &Cpu::on_guest_callback> guest_event_;
    sim::MemberEvent<Cpu, &Cpu::on_slice_end> slice_event_;

    sim::Cycles busy_{};
    sim::Counter irqs_taken_;
    sim::Counter spurious_;
    sim::Counter work_done_;
    sim::Counter switches_;
    sim::Counter idle_exits_;
};

} // namespace fwdsim::host
