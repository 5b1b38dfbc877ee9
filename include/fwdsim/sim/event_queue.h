// EventQueue: the discrete-event kernel every model runs on.
//
// Order is deterministic: events run by time, and events scheduled for the
// same time run in the order they were scheduled (first scheduled, first
// run).  The near future -- the next `kWheelSlots` cycles -- is a timing
// wheel with one FIFO per cycle and a bitmap of non-empty slots; anything
// further out waits in an intrusive ordered set keyed by (time, scheduling
// sequence) and moves to the wheel as soon as time comes within its window.
// Because that move happens before any later schedule can reach the same
// slot directly, FIFO order within a cycle holds across the two structures.
//
// A slot's FIFO is a singly linked intrusive list with a tail pointer
// (Boost.Intrusive slist with cache_last): appending and popping write only
// the appended or popped event and the tail, which the ring benchmark
// showed is the cheapest of the layouts tried (docs/performance.md).
// Cancelling an event in the wheel walks its own cycle's FIFO -- O(events
// due in that same cycle); in the far set it is O(log n).
#pragma once

#include <fwdsim/sim/cycles.h>
#include <fwdsim/sim/event.h>

#include <boost/intrusive/set.hpp>
#include <boost/intrusive/slist.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace fwdsim::sim {

class EventQueue {
public:
    static constexpr std::size_t kWheelSlots = 4096;

    EventQueue();
    ~EventQueue();
    EventQueue(const EventQueue&) = delete;
    EventQueue& operator=(const EventQueue&) = delete;

    Cycles now() const { return now_; }

    /// Schedules `ev` at absolute time `when` (>= now()).  The event must not
    /// already be scheduled; use reschedule() to move it.
    void schedule(Event& ev, Cycles when);
    void schedule_after(Event& ev, Cycles delay) { schedule(ev, now_ + delay); }
    /// Moves a scheduled event (or schedules an idle one) to `when`.  It then
    /// runs after everything already scheduled for that time.
    void reschedule(Event& ev, Cycles when);
    /// Removes a scheduled event; no-op when it is not scheduled.
    void deschedule(Event& ev);

    /// Runs every event due at or before `t`, then sets now() to `t`.
    /// Returns the number of events run.  Stops early if stop() is called.
    std::uint64_t run_until(Cycles t);
    std::uint64_t run_for(Cycles d) { return run_until(now_ + d); }
    /// Runs until nothing is scheduled (or stop()); now() stays at the last
    /// event's time.
    std::uint64_t run_until_idle();
    /// Runs exactly one event if any is scheduled; returns whether it did.
    bool step();
    /// Makes the current run_* call return after the event now running.
    void stop() { stop_requested_ = true; }

    bool empty() const { return size() == 0; }
    std::size_t size() const { return wheel_size_ + far_.size(); }
    /// Time of the earliest scheduled event; Cycles::max() when empty.
    Cycles next_time() const;
    std::uint64_t events_processed() const { return processed_; }

private:
    friend class Event;

    using SlotHook = boost::intrusive::member_hook<Event, boost::intrusive::slist_member_hook<>, &Event::slot_hook_>;
    /// One cycle's FIFO.
    using Slot = boost::intrusive::slist<Event, SlotHook, boost::intrusive::cache_last<true>,
                                         boost::intrusive::constant_time_size<false>>;

    struct FarOrder {
        bool operator()(const Event& a, const Event& b) const {
            return a.when_ != b.when_ ? a.when_ < b.when_ : a.seq_ < b.seq_;
        }
    };
    using FarHook = boost::intrusive::member_hook<Event, boost::intrusive::set_member_hook<>,
                                                  &Event::far_hook_>;
    using FarSet = boost::intrusive::multiset<Event, FarHook, boost::intrusive::compare<FarOrder>,
                                              boost::intrusive::constant_time_size<true>>;

    static constexpr std::size_t kMask = kWheelSlots - 1;
    static constexpr std::size_t kWords = kWheelSlots / 64;

    void insert(Event& ev, Cycles when);
    void insert_far(Event& ev);
    [[noreturn]] static void refuse(const char* why);
    void unlink(Event& ev);
    void advance_to(Cycles t);
    void pull_far_into_wheel();
    /// Time of the earliest event in the wheel; requires wheel_size_ > 0.
    Cycles next_wheel_time() const;
    std::uint64_t run(Cycles limit, std::uint64_t max_events);

    Cycles now_{};
    std::uint64_t seq_ = 0;
    std::uint64_t processed_ = 0;
    std::size_t wheel_size_ = 0;
    bool stop_requested_ = false;
    std::array<Slot, kWheelSlots> wheel_;
    std::array<std::uint64_t, kWords> occupied_{};
    FarSet far_;
};

// The scheduling fast path is inline: models schedule from their event
// handlers, and a call into another translation unit per event is a
// measurable share of the ring benchmark.
inline void EventQueue::schedule(Event& ev, Cycles when)
{
    if (ev.queue_ != nullptr) [[unlikely]] {
        refuse("EventQueue::schedule: event already scheduled");
    }
    if (when < now_) [[unlikely]] {
        refuse("EventQueue::schedule: time is in the past");
    }
    insert(ev, when);
}

inline void EventQueue::insert(Event& ev, Cycles when)
{
    ev.when_ = when;
    ev.queue_ = this;
    if (when.count() - now_.count() < kWheelSlots) [[likely]] {
        const std::size_t slot = when.count() & kMask;
        wheel_[slot].push_back(ev);
        occupied_[slot >> 6] |= std::uint64_t{1} << (slot & 63);
        ++wheel_size_;
        ev.in_far_ = false;
    } else {
        insert_far(ev);
    }
}

} // namespace fwdsim::sim
