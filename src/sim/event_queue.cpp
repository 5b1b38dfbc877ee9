#include <fwdsim/sim/event_queue.h>

#include <bit>
#include <cassert>
#include <stdexcept>

namespace fwdsim::sim {

Event::~Event()
{
    if (queue_ != nullptr) {
        queue_->deschedule(*this);
    }
}

EventQueue::EventQueue()
{
    for (std::size_t slot = 0; slot < kWheelSlots; ++slot) {
        tails_[slot] = &heads_[slot];
    }
}

EventQueue::~EventQueue()
{
    // Detach whatever is still scheduled so that events outliving the queue
    // do not try to unlink themselves from it later.
    for (Event* head : heads_) {
        for (Event* ev = head; ev != nullptr;) {
            Event* const next = ev->next_;
            ev->next_ = nullptr;
            ev->queue_ = nullptr;
            ev = next;
        }
    }
    for (std::size_t i = 0; i < soon_count_; ++i) {
        soon_[i]->next_ = nullptr;
        soon_[i]->queue_ = nullptr;
    }
    far_.clear_and_dispose([](Event* ev) {
        ev->next_ = nullptr;
        ev->queue_ = nullptr;
    });
}

void EventQueue::refuse(const char* why)
{
    throw std::logic_error(why);
}

void EventQueue::reschedule(Event& ev, Cycles when)
{
    if (when < now_) {
        refuse("EventQueue::reschedule: time is in the past");
    }
    if (ev.queue_ == this) {
        unlink(ev);
    } else if (ev.queue_ != nullptr) {
        ev.queue_->deschedule(ev);
    }
    insert(ev, when);
}

void EventQueue::deschedule(Event& ev)
{
    if (ev.queue_ == this) {
        unlink(ev);
    }
}

void EventQueue::schedule_slow(Event& ev, Cycles when)
{
    if (ev.queue_ != nullptr) {
        refuse("EventQueue::schedule: event already scheduled");
    }
    if (when < now_) {
        refuse("EventQueue::schedule: time is in the past");
    }
    insert(ev, when);
}

void EventQueue::insert_far(Event& ev, Cycles when)
{
    ev.when_ = when;
    ev.queue_ = this;
    // Only the far set needs a sequence number: the wheel's FIFOs keep
    // scheduling order by themselves.
    ev.seq_ = seq_++;
    if (when < far_next_) {
        far_next_ = when;
    }
    // Its sequence number is the largest: it goes after every far event due
    // at the same time or earlier.
    if (!far_.empty() && when >= far_.begin()->when_) {
        far_.insert(ev);
        return;
    }
    if (soon_count_ == kSoonSlots) {
        Event* const latest = soon_[0];
        if (when >= latest->when_) {
            far_.insert(ev); // after all of soon_, before the tree's first
            return;
        }
        far_.insert(*latest); // it precedes everything in the tree
        remove_soon(0);
    }
    // Latest first: what is due at or before `when` moves up one place, to
    // leave the array before it.
    std::size_t i = soon_count_++;
    for (; i > 0 && soon_[i - 1]->when_ <= when; --i) {
        soon_[i] = soon_[i - 1];
    }
    soon_[i] = &ev;
}

void EventQueue::remove_soon(std::size_t i)
{
    for (--soon_count_; i < soon_count_; ++i) {
        soon_[i] = soon_[i + 1];
    }
}

bool EventQueue::remove_from(Event*& head, Event**& tail, Event& ev)
{
    for (Event** link = &head; *link != nullptr; link = &(*link)->next_) {
        if (*link == &ev) {
            *link = ev.next_;
            if (tail == &ev.next_) {
                tail = link;
            }
            return true;
        }
    }
    return false;
}

void EventQueue::unlink(Event& ev)
{
    // The far hook is a safe-mode hook: it knows whether it is linked.
    if (ev.far_hook_.is_linked()) {
        far_.erase(far_.iterator_to(ev));
        far_next_ = first_far_time();
    } else if (ev.when_.count() - now_.count() >= kWheelSlots) {
        // Beyond the window and not in the tree: in soon_ (far events enter
        // the wheel as soon as the window reaches them).
        std::size_t i = 0;
        while (soon_[i] != &ev) ++i;
        assert(i < soon_count_);
        remove_soon(i);
        far_next_ = first_far_time();
    } else {
        // An event due now may be in the running batch rather than its slot.
        if (ev.when_ == now_ && batch_ != nullptr && remove_from(batch_, batch_tail_, ev)) {
            flags_ |= kReloadBatch;
        } else {
            const std::size_t slot = ev.when_.count() & kMask;
            [[maybe_unused]] const bool found = remove_from(heads_[slot], tails_[slot], ev);
            assert(found);
            if (heads_[slot] == nullptr) {
                clear_occupied(slot);
                // Its slot may have been the earliest marked one.
                if (summary_ == 0) marked_next_ = Cycles::max();
                else if (ev.when_ == marked_next_) marked_next_ = kMarkedUnknown;
            }
        }
    }
    // Idle: null link (schedule() relies on it) and no queue.
    ev.next_ = nullptr;
    ev.queue_ = nullptr;
}

void EventQueue::put_back_batch()
{
    if (batch_ == nullptr) {
        return;
    }
    const std::size_t slot = now_.count() & kMask;
    *batch_tail_ = heads_[slot];
    if (heads_[slot] == nullptr) {
        tails_[slot] = batch_tail_;
    }
    heads_[slot] = batch_;
    occupied_[slot >> 6] |= std::uint64_t{1} << (slot & 63);
    summary_ |= std::uint64_t{1} << (slot >> 6);
    // Nothing is due before now: now's slot is the earliest marked one.
    if (marked_next_ != kMarkedUnknown) marked_next_ = now_;
    batch_ = nullptr;
    batch_tail_ = &batch_;
}

void EventQueue::clear_occupied(std::size_t slot)
{
    std::uint64_t& w = occupied_[slot >> 6];
    w &= ~(std::uint64_t{1} << (slot & 63));
    if (w == 0) summary_ &= ~(std::uint64_t{1} << (slot >> 6));
}

namespace {

/// The first set bit of a 4096-bit occupancy bitmap (64 words, `summary`
/// with bit w set iff words[w] is not zero) at or circularly after bit
/// `start`; kNone when none is set.  Inline in the run loop: the sparse
/// path calls it once per event.
constexpr std::size_t kNone = ~std::size_t{0};

[[gnu::always_inline]] inline std::size_t first_occupied(const std::uint64_t* words, std::uint64_t summary,
                                                         std::size_t start)
{
    // Circular order: the rest of start's word, the words after it, the
    // words before it, then start's word below start.
    const std::size_t word = start >> 6;
    if (const std::uint64_t bits = words[word] & (~std::uint64_t{0} << (start & 63)); bits != 0) {
        return (word << 6) | static_cast<std::size_t>(std::countr_zero(bits));
    }
    // Bit 63 of the summary shifted by word + 1 = 64 would be undefined:
    // two shifts of at most 63 give the words strictly after `word`.
    std::uint64_t others = summary & ((~std::uint64_t{0} << word) << 1);
    if (others == 0) {
        others = summary & ((std::uint64_t{1} << word) - 1);
    }
    if (others != 0) {
        const auto w = static_cast<std::size_t>(std::countr_zero(others));
        return (w << 6) | static_cast<std::size_t>(std::countr_zero(words[w]));
    }
    if (const std::uint64_t low = words[word]; low != 0) {
        return (word << 6) | static_cast<std::size_t>(std::countr_zero(low));
    }
    return kNone;
}

} // namespace

bool EventQueue::next_wheel_time(Cycles& t) const
{
    // This cycle's and the next cycle's slots may lack their bit (insert()).
    const std::size_t start = now_.count() & kMask;
    if (heads_[start] != nullptr) {
        t = now_;
        return true;
    }
    if (heads_[(start + 1) & kMask] != nullptr) {
        t = now_ + Cycles{1};
        return true;
    }
    // Every event in the wheel lies in [now, now + kWheelSlots), so the
    // first occupied slot circularly from now's is the earliest time.
    const std::size_t slot = first_occupied(occupied_.data(), summary_, start);
    if (slot == kNone) {
        return false;
    }
    t = now_ + Cycles{(slot - start) & kMask};
    return true;
}

bool EventQueue::empty() const
{
    Cycles t;
    return batch_ == nullptr && far_empty() && !next_wheel_time(t);
}

std::size_t EventQueue::size() const
{
    auto count = [](const Event* ev) {
        std::size_t n = 0;
        for (; ev != nullptr; ev = ev->next_) {
            ++n;
        }
        return n;
    };
    // Now's slot and the next may be occupied without their bit: count
    // them directly and skip their bits.
    const std::size_t here = now_.count() & kMask;
    const std::size_t next = (here + 1) & kMask;
    std::size_t n = soon_count_ + far_.size() + count(batch_) + count(heads_[here]) + count(heads_[next]);
    for (std::size_t word = 0; word < kWords; ++word) {
        for (std::uint64_t bits = occupied_[word]; bits != 0; bits &= bits - 1) {
            const std::size_t slot = (word << 6) | static_cast<std::size_t>(std::countr_zero(bits));
            if (slot != here && slot != next) {
                n += count(heads_[slot]);
            }
        }
    }
    return n;
}

bool EventQueue::has_events_at(Cycles t) const
{
    if (t < now_) return false;
    if (t == now_ && batch_ != nullptr) return true;
    if (t.count() - now_.count() < kWheelSlots) {
        return heads_[t.count() & kMask] != nullptr; // the window's slot holds only time t
    }
    for (std::size_t i = 0; i < soon_count_; ++i) {
        if (soon_[i]->when_ == t) return true;
    }
    for (const Event& ev : far_) {
        if (ev.when_ >= t) return ev.when_ == t;
    }
    return false;
}

Cycles EventQueue::next_time() const
{
    if (batch_ != nullptr) {
        return now_;
    }
    // Far events are all later than wheel events.
    Cycles t;
    if (next_wheel_time(t)) {
        return t;
    }
    // far_next_ is Cycles::max() when the far set is empty.
    return far_next_;
}

void EventQueue::pull_far_into_wheel()
{
    // In (time, sequence) order, so that same-time far events keep their
    // scheduling order in the slot, ahead of anything scheduled there later:
    // soon_ from its end (its earliest), then the tree.
    while (soon_count_ != 0) {
        Event& ev = *soon_[soon_count_ - 1];
        const std::uint64_t ahead = ev.when_.count() - now_.count();
        if (ahead >= kWheelSlots) {
            far_next_ = ev.when_;
            return;
        }
        --soon_count_;
        ev.next_ = nullptr; // was its sequence number
        push_wheel(ev, ev.when_, ahead);
    }
    // Mostly the tree is empty: no call for it then.
    if (far_.empty()) {
        far_next_ = Cycles::max();
        return;
    }
    pull_tree_into_wheel();
}

void EventQueue::pull_tree_into_wheel()
{
    while (!far_.empty()) {
        Event& ev = *far_.begin();
        const std::uint64_t ahead = ev.when_.count() - now_.count();
        if (ahead >= kWheelSlots) {
            far_next_ = ev.when_;
            return;
        }
        far_.erase(far_.begin());
        ev.next_ = nullptr; // was its sequence number
        push_wheel(ev, ev.when_, ahead);
    }
    far_next_ = Cycles::max();
}

void EventQueue::find_marked_next()
{
    const std::size_t here = now_.count() & kMask;
    const std::size_t slot = first_occupied(occupied_.data(), summary_, here);
    marked_next_ = slot == kNone ? Cycles::max() : now_ + Cycles{(slot - here) & kMask};
}

void EventQueue::schedule_deferred(Event& ev, Cycles t)
{
    const std::size_t slot = t.count() & kMask;
    Event* const head = heads_[slot];
    if (head == nullptr || ev.queue_ != nullptr || t.count() - now_.count() >= kWheelSlots) {
        schedule(ev, t);
        return;
    }
    // Everything in the slot was scheduled after may_defer(t) said it was
    // empty.  A non-empty slot already has its occupancy bit if it needs one.
    ev.when_ = t;
    ev.queue_ = this;
    ev.next_ = head;
    heads_[slot] = &ev;
}

template <bool kCounted>
#if defined(__GNUC__) && !defined(__clang__)
// GCC would otherwise guess that every event is a FunctionEvent and test for
// it before each call: a compare and a register for nothing in most models.
__attribute__((optimize("no-devirtualize-speculatively")))
#endif
std::uint64_t EventQueue::run(Cycles limit, std::uint64_t max_events)
{
    // On any way out -- done, stopped, out of events, or a handler's
    // exception -- the unrun rest of the batch goes back to its slot; a run
    // nested in a handler tells the outer run loop to reload its state.
    struct Exit {
        EventQueue& q;
        bool nested;
        std::uint64_t continue_end;
        ~Exit()
        {
            q.put_back_batch();
            --q.depth_;
            // A stop in a nested run ends the outer run too: no continuing there.
            q.run_continue_end_ = continue_end;
            q.continue_end_ = (q.flags_ & kStopRequested) != 0 ? 0 : continue_end;
            if (nested) {
                q.flags_ |= kReloadBatch;
            }
        }
    } guard{*this, depth_ != 0, run_continue_end_};
    // (Saturated: a continuation to Cycles::max() itself is refused.)
    run_continue_end_ = kCounted || depth_ != 0 ? 0 : limit.count() + (limit.count() != ~std::uint64_t{0});
    continue_end_ = run_continue_end_;
    ++depth_;
    flags_ = 0;
    const std::uint64_t first = processed_;
    const std::uint64_t last = max_events > ~first ? ~std::uint64_t{0} : first + max_events;
    // The count of events run lives in a register; processed_ is only
    // stored from it (events_processed() stays exact in handlers).
    std::uint64_t n = first;
    while (!kCounted || n != last) {
        if (batch_ == nullptr) {
        // A batch that runs out comes straight here: batch_ is known to be
        // empty, no need to read it back after the handler.
        find_batch:
            Cycles t = now_;
            const std::size_t here = t.count() & kMask;
            // Most models schedule close ahead: look at this cycle and the
            // next directly, then at the occupancy bitmap, then at the far
            // set's cached first time.
            if (heads_[here] == nullptr) {
                if (heads_[(here + 1) & kMask] != nullptr) {
                    t = t + Cycles{1};
                } else if (marked_next_ != kMarkedUnknown) {
                    if (marked_next_ != Cycles::max()) {
                        t = marked_next_;
                    } else if (!far_empty()) {
                        t = far_next_;
                    } else {
                        break;
                    }
                } else if (const std::size_t slot = first_occupied(occupied_.data(), summary_, here);
                           slot != kNone) {
                    t = t + Cycles{(slot - here) & kMask};
                } else if (!far_empty()) {
                    t = far_next_;
                } else {
                    break;
                }
            }
            if (t > limit) {
                break;
            }
            if (t != now_) {
                advance_to(t);
            }
            // Take the whole slot; what handlers schedule for this cycle
            // meanwhile lands in the emptied slot, behind the batch.
            const std::size_t slot = t.count() & kMask;
            batch_ = heads_[slot];
            batch_tail_ = tails_[slot];
            reset_slot(slot);
            // Inline, not a call: the loop keeps its state in registers.  A
            // slot taken this or next cycle usually has no bit to clear.
            if (std::uint64_t& w = occupied_[slot >> 6]; (w >> (slot & 63)) & 1u) {
                // A marked slot taken is the earliest marked one (nothing
                // is due before it): what comes next is known only if it
                // was the last.
                w &= ~(std::uint64_t{1} << (slot & 63));
                if (w == 0) {
                    summary_ &= ~(std::uint64_t{1} << (slot >> 6));
                    marked_next_ = summary_ == 0 ? Cycles::max() : kMarkedUnknown;
                } else {
                    marked_next_ = kMarkedUnknown;
                }
            }
        } else if (now_ > limit) {
            break;
        }
        Event* ev = batch_;
        for (;;) {
            // Read the link before the handler runs: it may reschedule ev.
            Event* const next = ev->next_;
            batch_ = next;
            // Idle: one 16-byte store (the two fields are adjacent).
            ev->next_ = nullptr;
            ev->queue_ = nullptr;
            processed_ = ++n;
            ev->process();
            if (flags_ != 0) [[unlikely]] {
                if ((flags_ & kStopRequested) != 0) {
                    return n - first;
                }
                flags_ = 0;
                n = processed_;
                break;
            }
            if (kCounted && n == last) {
                break;
            }
            if (next == nullptr) {
                goto find_batch;
            }
            ev = next;
        }
    }
    return n - first;
}

std::uint64_t EventQueue::run_until(Cycles t)
{
    const std::uint64_t ran = run<false>(t, 0);
    if ((flags_ & kStopRequested) == 0 && t > now_) {
        advance_to(t);
    }
    return ran;
}

std::uint64_t EventQueue::run_until_idle()
{
    return run<false>(Cycles::max(), 0);
}

std::uint64_t EventQueue::run_events(std::uint64_t max_events)
{
    return run<true>(Cycles::max(), max_events);
}

} // namespace fwdsim::sim
