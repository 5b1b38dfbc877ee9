// Cpu: serial host work, the IRQ flow (arch/arm64 el1_irq -> gic_handle_irq
// -> handle_fasteoi_irq), and guest mode for KVM.  Past 600 lines: one CPU's
// run loop -- its work queue, the IRQ flow's steps, guest segments and the
// acts charged before they happen -- shares the loop's state and its
// continuation rules (EventQueue::continue_at), which split apart would have
// to be exposed.
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/irq_layer.h>

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <iterator>
#include <memory>

namespace fwdsim::host {

Work::~Work()
{
    if (cpu_) cpu_->cancel(*this);
    if (cpu_ && cpu_->running_ == this) cpu_->running_ = nullptr;
}

void Work::cancel()
{
    if (cpu_) cpu_->cancel(*this);
}

// Inline: every step of the IRQ flow and every work item ends here.
[[gnu::always_inline]] inline void Cpu::schedule_step(sim::Cycles duration)
{
    step_start_ = events_.now();
    busy_ += duration;
    if (chaining_ && events_.may_defer(events_.now() + duration)) {
        // The last thing on_step's step() does: on_step schedules it, or
        // runs it at once when it is the next event anyway.
        chaining_ = false;
        chained_ = true;
        chain_at_ = events_.now() + duration;
        return;
    }
    events_.schedule(step_event_, events_.now() + duration);
}

// Inline: the IRQ flow asks at each of its ends, ~7 times an interrupt.
[[gnu::always_inline]] inline bool Cpu::irq_asserted()
{
    // A controller may report only rises and let falls be read back (see
    // Irqchip::irq_line): a line told high is checked before it is trusted.
    if (irq_line_ && irqs_ != nullptr && !irqs_->chip().irq_line(id_)) irq_line_ = false;
    return irq_line_;
}

[[gnu::always_inline]] inline void Cpu::dispatch_inline()
{
    if (guest_) return;
    if (irqs_ && irq_asserted()) {
        begin_irq();
    } else if ((running_ && work_paused_) || !work_.empty()) {
        dispatch_work();
    }
}

void Cpu::dispatch()
{
    dispatch_inline();
}

Cpu::Cpu(sim::EventQueue& queue, ThisCpu& this_cpu, const HostCosts& costs, unsigned id,
         sim::Tracer* tracer)
    : events_(queue), this_cpu_(this_cpu), costs_(costs), id_(id), tracer_(tracer),
      track_("host/cpu" + std::to_string(id)), step_event_(this, "cpu.step"),
      act_event_(this, "cpu.act"), guest_event_(this, "cpu.guest_callback"), slice_event_(this, "cpu.slice_end")
{
}

Cpu::~Cpu()
{
    while (!work_.empty()) {
        Work& w = work_.front();
        work_.pop_front();
        w.cpu_ = nullptr;
    }
    if (running_) running_->cpu_ = nullptr;
    for (auto& [w, cost] : wake_list_) w->cpu_ = nullptr;
    for (Act& a : acts_) drop(a);
}

bool Cpu::submit(Work& work, sim::Cycles cost)
{
    if (work.cpu_) return false;
    work.cpu_ = this;
    work.cost_ = cost;
    work_.push_back(work);
    if (guest_) {
        if (!work_notify_) {
            if (may_run(work)) notify_work();
            else arm_slice(); // another vCPU thread waits for the running one's slice
        }
        return true;
    }
    if (may_dispatch()) dispatch();
    return true;
}

bool Cpu::cancel(Work& work)
{
    if (work.cpu_ != this || running_ == &work) return false;
    for (auto it = wake_list_.begin(); it != wake_list_.end(); ++it) {
        if (it->first == &work) {
            wake_list_.erase(it);
            work.cpu_ = nullptr;
            return true;
        }
    }
    work_.erase(work_.iterator_to(work));
    work.cpu_ = nullptr;
    return true;
}

bool Cpu::idle() const
{
    return !guest_ && phase_ == Phase::none && !running_ && work_.empty() && !step_event_.scheduled() &&
           !(tail_ && events_.now() < tail_end_);
}

bool Cpu::stepping()
{
    if (tail_ && !step_event_.scheduled()) {
        if (events_.now() < tail_end_) {
            events_.schedule(step_event_, tail_end_); // something waits for the tail's end
        } else {
            tail_ = false; // it ended with nothing waiting
        }
    }
    return step_event_.scheduled();
}

bool Cpu::irq_line() const
{
    return irq_line_ && (irqs_ == nullptr || irqs_->chip().irq_line(id_));
}

void Cpu::set_irq_line(bool level)
{
    irq_line_ = level;
    if (!level || !irqs_) return;
    if (guest_) {
        if (!irq_notify_) {
            irq_notify_ = true;
            if (!guest_event_.scheduled()) events_.schedule(guest_event_, events_.now());
        }
        return;
    }
    if (phase_ != Phase::none || in_step_) return; // taken at the end of the flow / step
    if (running_ && step_event_.scheduled()) {
        // Preempt the work: it resumes where it stopped after the IRQ.
        if (tracing()) [[unlikely]] trace_close(events_.now());
        running_left_ = step_event_.when() - events_.now();
        events_.deschedule(step_event_);
        work_paused_ = true;
        begin_irq();
    } else if (!stepping()) {
        begin_irq();
    }
}

void Cpu::enter_guest(GuestContext& ctx)
{
    assert(!guest_ && phase_ == Phase::none);
    guest_ = &ctx;
    if (tracing()) [[unlikely]] trace_guest(true);
    irq_notify_ = irqs_ && irq_asserted();
    work_notify_ = false;
    for (const Work& w : work_) {
        if (may_run(w)) {
            work_notify_ = true;
            break;
        }
    }
    if (!work_notify_ && !work_.empty()) arm_slice();
    if ((irq_notify_ || work_notify_) && !guest_event_.scheduled())
        events_.schedule(guest_event_, events_.now());
}

void Cpu::exit_guest()
{
    assert(guest_);
    if (tracing()) [[unlikely]] trace_guest(false);
    guest_ = nullptr;
    irq_notify_ = work_notify_ = false;
    events_.deschedule(guest_event_);
    if (!stepping() && phase_ == Phase::none && !in_step_) dispatch();
}

// --- charge, then act ---------------------------------------------------------------

void Cpu::after_charged(const void* owner, std::function<void()> fn)
{
    const sim::Cycles delay = charged_here();
    if (delay == sim::Cycles{}) {
        fn(); // nothing charged before it: the effect is now, inside the caller's step
        return;
    }
    // Rare (the VMM's acts): the std::function waits on the heap, so the
    // act itself stays plain bytes.
    auto owned = std::make_unique<std::function<void()>>(std::move(fn));
    Act& a = queue_act(owner, delay);
    std::function<void()>* const heap = owned.release();
    std::memcpy(a.bytes, &heap, sizeof heap);
    a.run = &Cpu::run_slow;
}

void Cpu::run_slow(const Act& act)
{
    std::function<void()>* heap = nullptr;
    std::memcpy(&heap, act.bytes, sizeof heap);
    const std::unique_ptr<std::function<void()>> owned(heap);
    (*owned)();
}

void Cpu::drop(Act& act)
{
    if (act.run != &Cpu::run_slow) return;
    std::function<void()>* heap = nullptr;
    std::memcpy(&heap, act.bytes, sizeof heap);
    delete heap;
}

Cpu::Act& Cpu::queue_act(const void* owner, sim::Cycles delay)
{
    const sim::Cycles at = events_.now() + delay;
    Act* act = nullptr;
    if (acts_.empty() || acts_.back().at <= at) {
        // The usual case, last in time: built in place, no temporary to copy in.
        act = &acts_.emplace_back();
    } else {
        auto pos = acts_.end();
        while (pos != acts_.begin() && std::prev(pos)->at > at) --pos;
        act = &*acts_.insert(pos, Act{});
    }
    act->at = at;
    act->owner = owner;
    act->seq = ++act_seq_;
    if (!act_event_.scheduled()) {
        events_.schedule(act_event_, at);
    } else if (act_event_.when() > at) {
        events_.reschedule(act_event_, at);
    }
    return *act;
}

bool Cpu::has_acts(const void* owner) const
{
    for (const Act& a : acts_) {
        if (a.owner == owner) return true;
    }
    return false;
}

void Cpu::cancel_acts(const void* owner)
{
    for (auto it = acts_.begin(); it != acts_.end();) {
        if (it->owner != owner) {
            ++it;
            continue;
        }
        drop(*it);
        it = acts_.erase(it);
    }
    if (acts_.empty()) events_.deschedule(act_event_);
}

void Cpu::on_act()
{
    while (!acts_.empty() && acts_.front().at <= events_.now()) {
        const Act a = acts_.front();
        acts_.erase(acts_.begin());
        const std::uint64_t last_before = act_seq_;
        const std::size_t queued_before = acts_.size();
        const sim::Cycles c = execute([&a] { a.run(a); });
        if (c == sim::Cycles{}) continue;
        // The act's own work comes before whatever the step does after it:
        // the acts queued before it move on by c; those it queued itself
        // were placed by what it had charged when it queued them.
        if (queued_before != 0) {
            for (Act& later : acts_) {
                if (later.seq <= last_before) later.at += c;
            }
            for (std::size_t k = 1; k < acts_.size(); ++k) { // insertion sort: a handful at most, stable
                for (std::size_t j = k; j > 0 && acts_[j - 1].at > acts_[j].at; --j) std::swap(acts_[j - 1], acts_[j]);
            }
        }
        extend(c);
    }
    if (!acts_.empty() && !act_event_.scheduled()) events_.schedule(act_event_, acts_.front().at);
}

void Cpu::extend(sim::Cycles c)
{
    busy_ += c;
    if (step_event_.scheduled()) {
        const sim::Cycles end = step_event_.when() + c;
        events_.deschedule(step_event_);
        events_.schedule(step_event_, end);
        if (tail_) tail_end_ = end;
    } else if (tail_ && tail_end_ > events_.now()) {
        tail_end_ += c;
    } else if (!guest_) {
        // The step it belonged to has just ended: its work runs on, as a tail.
        if (tracing()) [[unlikely]] {
            trace_settle();
            if (trace_.open == nullptr) trace_open("kernel: deferred effect", sim::Cycles{});
        }
        tail_ = true;
        tail_end_ = events_.now() + c;
        step_start_ = events_.now();
        if ((irqs_ != nullptr && irq_asserted()) || !work_.empty()) (void)stepping();
    }
}

// --- the idle task and the scheduler IPI ---------------------------------------------

bool Cpu::in_idle_task() const
{
    return current_ != nullptr && current_asleep_ && idle();
}

void Cpu::wake_up(Work& work, sim::Cycles cost)
{
    Cpu* waker = this_cpu_.current();
    if (waker == nullptr || waker == this || irqs_ == nullptr) {
        (void)submit(work, cost);
        return;
    }
    this_cpu_.charge(costs_.ttwu_remote);
    queue_wake(work, cost);
    waker->after_charged(this, [this] { (void)irqs_->send_ipi(id_, kReschedSgi); });
}

void Cpu::queue_wake(Work& work, sim::Cycles cost)
{
    if (work.cpu_) return; // already queued or woken
    work.cpu_ = this;
    work.cost_ = cost;
    wake_list_.emplace_back(&work, cost);
}

bool Cpu::sched_ipi()
{
    if (wake_list_.empty()) return false;
    this_cpu_.charge(costs_.sched_ipi);
    // submit() cannot queue a wake-up, so the list is not touched meanwhile.
    for (auto& [w, cost] : wake_list_) {
        w->cpu_ = nullptr;
        (void)submit(*w, cost);
    }
    wake_list_.clear();
    return true;
}

// --- the scheduler: vCPU threads and the time slice ------------------------------

bool Cpu::slice_over() const
{
    return events_.now() - slice_start_ >= costs_.sched_slice;
}

bool Cpu::may_run(const Work& w) const
{
    return w.owner_ == nullptr || w.owner_ == current_ || current_ == nullptr || current_asleep_ || slice_over();
}

void Cpu::arm_slice()
{
    if (slice_over()) return;
    const sim::Cycles end = slice_start_ + costs_.sched_slice;
    if (slice_event_.scheduled()) {
        if (slice_event_.when() == end) return;
        events_.deschedule(slice_event_);
    }
    events_.schedule(slice_event_, end);
}

void Cpu::notify_work()
{
    work_notify_ = true;
    if (!guest_event_.scheduled()) events_.schedule(guest_event_, events_.now());
}

void Cpu::on_slice_end()
{
    // The tick finds the current thread past its slice with another waiting.
    if (guest_) {
        if (!work_notify_ && !work_.empty()) notify_work();
        return;
    }
    if (may_dispatch()) dispatch();
}

Work* Cpu::next_work()
{
    if (work_.empty()) return nullptr;
    if (may_run(work_.front())) return &work_.front();
    for (Work& w : work_) {
        if (may_run(w)) return &w;
    }
    arm_slice(); // only other threads' work: the CPU waits for the slice's end
    return nullptr;
}

sim::Cycles Cpu::switch_to(GuestContext* task)
{
    sim::Cycles cost{};
    if (task != current_) {
        // The first thread a CPU runs is already loaded (KVM_RUN did it).
        if (current_ != nullptr) {
            GuestContext* prev = current_;
            switches_.add();
            cost += execute([&] { prev->sched_out(*this); });
            cost += costs_.context_switch;
            cost += execute([&] { task->sched_in(*this); });
        }
        current_ = task;
    } else if (!current_asleep_) {
        return cost; // the same thread goes on in its slice
    }
    current_asleep_ = false;
    slice_start_ = events_.now();
    return cost;
}

void Cpu::task_sleep(GuestContext& task)
{
    if (current_ != &task) return;
    current_asleep_ = true;
    if (!work_.empty() && !guest_ && may_dispatch()) dispatch();
}

void Cpu::task_exit(GuestContext& task)
{
    if (current_ != &task) return;
    current_ = nullptr;
    current_asleep_ = false;
    if (!work_.empty() && !guest_ && may_dispatch()) dispatch();
}

void Cpu::on_guest_callback()
{
    if (!guest_) return;
    GuestContext* g = guest_;
    if (irq_notify_) {
        if (irq_asserted()) {
            g->host_irq(*this); // stays notified until the next entry
            if (guest_ != g) return;
        } else {
            irq_notify_ = false; // the line fell before we could tell KVM
        }
    }
    if (work_notify_) g->host_work(*this);
}

void Cpu::dispatch_work()
{
    if (running_ && work_paused_) {
        work_paused_ = false;
        schedule_step(running_left_);
        if (tracing()) [[unlikely]] trace_open(running_->name(), sim::Cycles{});
    } else if (Work* w = next_work()) {
        running_ = w;
        work_.erase(work_.iterator_to(*w));
        const sim::Cycles sw = w->owner_ != nullptr ? switch_to(w->owner_) : sim::Cycles{};
        schedule_step(w->cost_ + sw);
        if (tracing()) [[unlikely]] trace_open(w->name(), sw);
    }
}

void Cpu::begin_irq()
{
    if (tracing()) [[unlikely]] {
        trace_settle();
        trace_.irq_start = events_.now();
    }
    idle_exit_due_ = in_idle_task();
    if (idle_exit_due_) idle_exits_.add();
    run_phase(Phase::entry);
}

void Cpu::run_phase(Phase p)
{
    for (;;) {
        phase_ = p;
        sim::Cycles fixed{};
        auto saved = this_cpu_.enter(this);
        in_step_ = true;
        switch (p) {
        case Phase::entry:
            // Leaving WFI and cpuidle comes before the exception entry.
            fixed = costs_.irq_entry + (idle_exit_due_ ? costs_.idle_exit : sim::Cycles{});
            idle_exit_due_ = false;
            break;
        case Phase::acknowledge: irq_ = irqs_->flow_acknowledge(id_); break;
        case Phase::drop: irqs_->flow_priority_drop(id_, static_cast<unsigned>(irq_)); break;
        case Phase::handle:
            // handle_fasteoi_irq's descriptor work comes before the handler
            // it calls: charged first, so what the handler does follows it.
            this_cpu_.charge(costs_.irq_dispatch);
            irqs_taken_.add();
            irqs_->flow_handle(id_, static_cast<unsigned>(irq_));
            break;
        case Phase::finish: irqs_->flow_finish(id_, static_cast<unsigned>(irq_)); break;
        case Phase::exit: fixed = costs_.irq_exit; break;
        case Phase::none: break;
        }
        in_step_ = false;
        const sim::Cycles took = fixed + this_cpu_.leave(saved);
        // A step that took no time (a forwarded IRQ's finish: no DIR) ends
        // where it began; the next starts at once instead of an event later.
        if (took != sim::Cycles{} || p == Phase::exit) {
            schedule_step(took);
            return;
        }
        step_start_ = events_.now();
        p = next_phase();
    }
}

const char* Cpu::phase_name(Phase p)
{
    switch (p) {
    case Phase::entry: return "irq entry";
    case Phase::acknowledge: return "GICC_IAR";
    case Phase::drop: return "GICC_EOIR";
    case Phase::handle: return "irq handler";
    case Phase::finish: return "GICC_DIR";
    case Phase::exit: return "irq exit";
    case Phase::none: break;
    }
    return "work";
}

inline Cpu::Phase Cpu::next_phase()
{
    switch (phase_) {
    case Phase::entry: return Phase::acknowledge;
    case Phase::acknowledge:
        if (irq_ < 0) {
            if (!acked_any_) spurious_.add();
            acked_any_ = false;
            return Phase::exit;
        }
        acked_any_ = true;
        return Phase::drop;
    case Phase::drop: return Phase::handle;
    case Phase::handle: return Phase::finish;
    case Phase::finish:
        // gic_handle_irq loops while something is pending for this CPU.
        if (irq_asserted()) return Phase::acknowledge;
        acked_any_ = false;
        return Phase::exit;
    case Phase::exit:
    case Phase::none: break;
    }
    return Phase::none;
}

void Cpu::on_step()
{
    for (;;) {
        chaining_ = true;
        step();
        chaining_ = false;
        if (!chained_) return;
        chained_ = false;
        // Nothing may come between a step and the next when nothing else is
        // due before the next one ends: no event to schedule and take back.
        if (!events_.continue_at(chain_at_)) {
            events_.schedule_deferred(step_event_, chain_at_);
            return;
        }
    }
}

void Cpu::step()
{
    if (phase_ != Phase::none) {
        if (tracing()) [[unlikely]] trace_phase_end();
        if (phase_ == Phase::exit) {
            phase_ = Phase::none;
            irq_ = -1;
            dispatch_inline();
        } else {
            run_phase(next_phase());
        }
        return;
    }

    if (tail_) {
        tail_ = false;
        if (tracing()) [[unlikely]] trace_close(events_.now());
        dispatch_inline();
        return;
    }
    if (running_) {
        Work* w = running_;
        running_ = nullptr;
        w->cpu_ = nullptr;
        work_done_.add();
        auto saved = this_cpu_.enter(this);
        in_step_ = true;
        w->done_();
        in_step_ = false;
        sim::Cycles charged = this_cpu_.leave(saved);
        if (charged > sim::Cycles{}) {
            // What the completion charged keeps this CPU busy before anything
            // else -- but only something that arrives meanwhile needs an
            // event at its end (stepping()); usually nothing does.
            tail_ = true;
            tail_end_ = events_.now() + charged;
            step_start_ = events_.now();
            busy_ += charged;
            // The slice runs on to the tail's end (trace_settle).
            // Something that arrived during the completion itself waits too.
            if ((irqs_ != nullptr && irq_asserted()) || !work_.empty() || work_paused_) (void)stepping();
            return;
        }
        if (tracing()) [[unlikely]] trace_close(events_.now());
    }
    dispatch_inline();
}

// --- tracing ---------------------------------------------------------------------------

void Cpu::trace_phase_end()
{
    // The step ends now, however long acts made it.
    const sim::Cycles start = step_start_, now = events_.now();
    if (phase_ == Phase::handle) tracer_->span(track_, fmt::format("handler: IRQ {}", irq_), start, now - start);
    else tracer_->span(track_, phase_name(phase_), start, now - start);
    if (phase_ == Phase::exit) tracer_->span(track_, "irq", trace_.irq_start, now - trace_.irq_start);
}

void Cpu::trace_guest(bool enter)
{
    if (enter) {
        trace_close(events_.now()); // a completion's tail does not run on into the guest
        trace_.guest_start = events_.now();
    } else {
        tracer_->span(track_, guest_->trace_name(), trace_.guest_start, events_.now() - trace_.guest_start);
    }
}

void Cpu::trace_open(const char* name, sim::Cycles switch_cost)
{
    trace_settle();
    trace_close(events_.now());
    trace_.open = name;
    trace_.start = events_.now();
    trace_.switch_end = events_.now() + switch_cost;
}

void Cpu::trace_close(sim::Cycles end)
{
    if (trace_.open == nullptr) return;
    tracer_->span(track_, trace_.open, trace_.start, end - trace_.start);
    // kvm_arch_vcpu_put, the switch and kvm_arch_vcpu_load open the
    // slice; an IRQ may cut them short.
    if (trace_.switch_end > trace_.start) {
        tracer_->span(track_, "context switch", trace_.start, std::min(trace_.switch_end, end) - trace_.start);
    }
    trace_.open = nullptr;
}

void Cpu::trace_settle()
{
    // Open with no work running: a completion's tail, over by tail_end_.
    if (trace_.open != nullptr && running_ == nullptr && !step_event_.scheduled() && tail_end_ <= events_.now())
        trace_close(tail_end_);
}

} // namespace fwdsim::host
