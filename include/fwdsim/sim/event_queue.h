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
// A slot's FIFO is a singly linked intrusive list (Event::next_) with a
// pointer to the last link: appending writes the new event and the old
// last link, nothing else.  The run loop takes a whole slot at once (the
// "batch") and walks it holding the next event in a register, so events
// scheduled for the current cycle while the batch runs go into the emptied
// slot and run after it -- FIFO order holds.  Cancelling an event in the
// wheel walks its own cycle's FIFO -- O(events due in that same cycle); in
// the far set it is O(log n) (O(8) among its earliest events, which a short
// sorted array holds in front of the tree).  docs/performance.md has the
// measurements.
#pragma once

#include <fwdsim/sim/cycles.h>
#include <fwdsim/sim/event.h>

#include <boost/intrusive/set.hpp>

#include <array>
#include <cassert>
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
    void schedule_after(Event& ev, Cycles delay);
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
    /// Runs at most `max_events` events, fewer if the queue empties or
    /// stop() is called; returns the number run.  now() stays at the last
    /// event's time.  (A run of a fixed length in events, not in time: what
    /// a benchmark or a fuzzer wants.)
    std::uint64_t run_events(std::uint64_t max_events);
    /// Runs exactly one event if any is scheduled; returns whether it did.
    bool step() { return run_events(1) == 1; }
    /// Makes the current run_* call return after the event now running.
    void stop()
    {
        flags_ |= kStopRequested;
        continue_end_ = 0; // no continuation after it
    }

    bool empty() const;
    /// The number of scheduled events.  It counts them, O(scheduled events):
    /// keeping a count would cost every schedule a read-modify-write.
    std::size_t size() const;
    /// Time of the earliest scheduled event; Cycles::max() when empty.
    Cycles next_time() const;
    /// Whether an event is scheduled for exactly `t` (and not yet run).  An
    /// event scheduled for `t` from now on runs after all of those: a model
    /// that finds none may treat a change due at `t` as taking effect before
    /// anything else at `t`, without an event (O(1) within the wheel).
    bool has_events_at(Cycles t) const;
    /// For a handler at its very end, about to schedule its own next event
    /// for `t`: when that event would be the next to run -- nothing is due
    /// at or before `t`, and the running run_until/run_until_idle reaches
    /// `t` -- time moves to `t`, the event counts as run, and the caller
    /// goes on as its handler at once instead of scheduling it.  Returns
    /// false and changes nothing otherwise, and always within run_events()
    /// (whose callers count events one by one), a nested run, or after
    /// stop().  Nothing the handler does after a true answer may depend on
    /// the time it was called at: the order of events is the same as if it
    /// had scheduled the event, only cheaper.
    /// Inline (forced): each model that goes on this way runs it once per
    /// step, and out of line its call and frame cost a third of it.
    [[gnu::always_inline]] bool continue_at(Cycles t);
    /// Whether a handler may put off scheduling an event for `t` to its
    /// end (to go on with continue_at there, or schedule_deferred): `t`
    /// lies within the wheel and nothing is due at `t` yet, so whatever is
    /// scheduled for `t` meanwhile comes after it.
    bool may_defer(Cycles t) const
    {
        const std::uint64_t ahead = t.count() - now_.count();
        return ahead < kWheelSlots && heads_[t.count() & kMask] == nullptr && (ahead != 0 || batch_ == nullptr);
    }
    /// Schedules `ev` for `t` where it would be had it been scheduled when
    /// may_defer(t) allowed putting it off: ahead of what was scheduled for
    /// `t` since.
    void schedule_deferred(Event& ev, Cycles t);
    std::uint64_t events_processed() const { return processed_; }

private:
    friend class Event;

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

    // flags_ bits: a handler asked to stop; or the running batch changed
    // under the run loop (an event in it was descheduled, or a handler ran
    // the queue itself), so the loop must reload it.
    static constexpr std::uint8_t kStopRequested = 1;
    static constexpr std::uint8_t kReloadBatch = 2;

    void schedule_slow(Event& ev, Cycles when);
    void insert(Event& ev, Cycles when);
    void push_wheel(Event& ev, Cycles when, std::uint64_t ahead);
    void insert_far(Event& ev, Cycles when);
    /// Removes soon_[i], keeping the rest in order.
    void remove_soon(std::size_t i);
    [[noreturn]] static void refuse(const char* why);
    void unlink(Event& ev);
    static bool remove_from(Event*& head, Event**& tail, Event& ev);
    /// Returns the unrun rest of the batch to the front of its slot.
    void put_back_batch();
    /// Inline in the run loop and in continue_at, which advance time once
    /// per event on the sparse path: a call there would cost one per event.
    [[gnu::always_inline]] void advance_to(Cycles t)
    {
        now_ = t;
        if (far_next_.count() - t.count() < kWheelSlots) [[unlikely]] {
            pull_far_into_wheel();
        }
    }
    /// Sets marked_next_ from the occupancy bitmap (it was unknown).
    void find_marked_next();
    void pull_far_into_wheel();
    /// The tree's part of it, once soon_ is empty: out of line, so that
    /// the usual pull of one or two events from soon_ saves few registers.
    [[gnu::noinline]] void pull_tree_into_wheel();
    /// Sets `t` to the time of the earliest event in the wheel's slots (not
    /// the batch); false when they are empty.
    bool next_wheel_time(Cycles& t) const;
    void clear_occupied(std::size_t slot);
    /// Makes slot `slot` empty (head null, tail at the head).
    void reset_slot(std::size_t slot)
    {
        heads_[slot] = nullptr;
        tails_[slot] = &heads_[slot];
    }
    /// kCounted: stop after max_events (run_events()); run_until* skip the check.
    template <bool kCounted>
    std::uint64_t run(Cycles limit, std::uint64_t max_events);

    Cycles now_{};
    std::uint64_t seq_ = 0;
    // The run loop keeps this count in a register and only stores it, so
    // nothing is read back after every handler returns.
    std::uint64_t processed_ = 0;
    // The slot being run, taken out of the wheel: the next event to run and
    // the last event's link (as tails_ holds it).  All of it is due at
    // now_; it is empty outside run().
    Event* batch_ = nullptr;
    Event** batch_tail_ = &batch_;
    unsigned depth_ = 0; // nesting of run_* calls (a handler may run the queue)
    std::uint8_t flags_ = 0;
    // continue_at reaches times before this: the outermost run_until's or
    // run_until_idle's limit + 1 (saturated) until stop(), 0 otherwise --
    // whether continuing is allowed at all and how far, in one compare.
    std::uint64_t continue_end_ = 0;
    std::uint64_t run_continue_end_ = 0; ///< the same for the running run_*, stop or not
    // One FIFO per cycle of the window: the first event, and the link the
    // next append writes (&heads_[slot] while empty, else the last event's
    // next_).  Two arrays of pointers, not one of pairs: an 8-byte stride is
    // a scaled address, so the inline schedule path indexes a slot in one
    // instruction instead of three.
    std::array<Event*, kWheelSlots> heads_{};
    std::array<Event**, kWheelSlots> tails_;
    // Occupancy bit per slot.  A bit is set for every non-empty slot except
    // possibly now_'s and the next one: those are always looked at directly.
    std::array<std::uint64_t, kWords> occupied_{};
    /// Bit w: occupied_[w] is not zero -- so finding the next occupied slot
    /// of a sparse wheel costs two bit scans, not a walk over every word.
    std::uint64_t summary_ = 0;
    static_assert(kWords == 64, "the summary word has one bit per occupancy word");
    /// The time of the earliest slot whose occupancy bit is set, when it is
    /// known: Cycles::max() when no bit is set, kMarkedUnknown when a scan
    /// must find it.  On the sparse path (one event a batch) the queue
    /// mostly holds one marked slot at a time, so this spares the run loop
    /// the bitmap scan; scheduling keeps it with a minimum, only where it
    /// sets a bit, which a delay of 0 or 1 never reaches.  (Time 0 as a
    /// real value -- a batch put back at time 0 -- only reads as unknown.)
    Cycles marked_next_ = Cycles::max();
    static constexpr Cycles kMarkedUnknown{0};
    /// The earliest far events, sorted by (time, sequence) from the latest
    /// down (the next to enter the wheel is the last: taking it moves
    /// nothing), all of them before everything in far_.  Most runs keep
    /// only two or three events beyond the wheel, and a short sorted array
    /// takes and gives them for a fraction of the tree's insert and
    /// rebalancing erase.  The tree takes what is later than its own first
    /// event, and what does not fit.
    static constexpr std::size_t kSoonSlots = 8;
    std::array<Event*, kSoonSlots> soon_{};
    std::size_t soon_count_ = 0;
    FarSet far_;
    bool far_empty() const { return soon_count_ == 0 && far_.empty(); }
    /// soon_'s earliest (its last), else the tree's first, else Cycles::max().
    Cycles first_far_time() const
    {
        if (soon_count_ != 0) return soon_[soon_count_ - 1]->when_;
        return far_.empty() ? Cycles::max() : far_.begin()->when_;
    }
    /// The time of the first far event (Cycles::max() when there is none), so
    /// that each advance of time tests one cached value instead of walking
    /// into the tree to decide whether far events enter the window.
    Cycles far_next_ = Cycles::max();
};

// The scheduling fast path is inline: models schedule from their event
// handlers, and a call into another translation unit per event is a
// measurable share of the ring benchmark.  Forced: with LTO, GCC otherwise
// makes it an out-of-line function again (~8% of a whole-system run).
[[gnu::always_inline]] inline void EventQueue::schedule(Event& ev, Cycles when)
{
    // One test covers the usual case, an idle event due within the wheel: a
    // time in the past wraps `ahead` beyond the wheel, so schedule_slow()
    // (a tail call, no stack frame here) sorts out errors and the far future.
    const std::uint64_t ahead = when.count() - now_.count();
    if (ev.queue_ != nullptr || ahead >= kWheelSlots) [[unlikely]] {
        schedule_slow(ev, when);
        return;
    }
    push_wheel(ev, when, ahead);
}

[[gnu::always_inline]] inline bool EventQueue::continue_at(Cycles t)
{
    // The batch holds events due now, which run first; continue_end_ is 0
    // where continuing is not allowed (a counted or nested run, a stop).
    if (t.count() >= continue_end_ || batch_ != nullptr || t < now_) {
        return false;
    }
    // Nothing due at or before t: now's slot and the next (which may lack
    // their bits), the earliest marked slot, the far set.
    const std::uint64_t ahead = t.count() - now_.count();
    const std::size_t here = now_.count() & kMask;
    if (heads_[here] != nullptr || (ahead != 0 && heads_[(here + 1) & kMask] != nullptr)) {
        return false;
    }
    if (marked_next_ == kMarkedUnknown) [[unlikely]] {
        find_marked_next();
    }
    if (marked_next_ <= t || far_next_ <= t) {
        return false;
    }
    if (ahead != 0) {
        advance_to(t);
    }
    // The event the caller did not schedule counts as run; the run loop
    // keeps its count in a register, so it must read it back.
    ++processed_;
    flags_ |= kReloadBatch;
    return true;
}

[[gnu::always_inline]] inline void EventQueue::schedule_after(Event& ev, Cycles delay)
{
    schedule(ev, now_ + delay);
}

inline void EventQueue::insert(Event& ev, Cycles when)
{
    const std::uint64_t ahead = when.count() - now_.count();
    if (ahead < kWheelSlots) [[likely]] {
        push_wheel(ev, when, ahead);
    } else {
        insert_far(ev, when);
    }
}

[[gnu::always_inline]] inline void EventQueue::push_wheel(Event& ev, Cycles when, std::uint64_t ahead)
{
    // ev is idle, or on its way from the far set, whose caller nulled the
    // link: next_ is already null, which saves a store per schedule.
    assert(ev.next_ == nullptr);
    ev.when_ = when;
    ev.queue_ = this;
    const std::size_t slot = when.count() & kMask;
    Event** const tail = tails_[slot];
    // The run loop looks at this cycle's and the next cycle's slot directly;
    // only slots further ahead need their occupancy bit.  With a constant
    // delay of 0 or 1 this test folds away.
    if (ahead > 1 && tail == &heads_[slot]) {
        occupied_[slot >> 6] |= std::uint64_t{1} << (slot & 63);
        summary_ |= std::uint64_t{1} << (slot >> 6);
        // Unknown (zero) stays unknown; a known earliest stays exact.
        if (when < marked_next_) marked_next_ = when;
    }
    *tail = &ev;
    tails_[slot] = &ev.next_;
}

} // namespace fwdsim::sim
