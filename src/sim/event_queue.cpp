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

EventQueue::EventQueue() = default;

EventQueue::~EventQueue()
{
    // Detach whatever is still scheduled so that events outliving the queue
    // do not try to unlink themselves from it later.
    for (auto& slot : wheel_) {
        for (Event* ev = slot.head; ev != nullptr; ev = ev->next_) {
            ev->queue_ = nullptr;
        }
    }
    far_.clear_and_dispose([](Event* ev) { ev->queue_ = nullptr; });
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
    far_.insert(ev);
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
    } else {
        // An event due now may be in the running batch rather than its slot.
        if (ev.when_ == now_ && batch_ != nullptr && remove_from(batch_, batch_tail_, ev)) {
            flags_ |= kReloadBatch;
        } else {
            const std::size_t slot = ev.when_.count() & kMask;
            Slot& s = wheel_[slot];
            [[maybe_unused]] const bool found = remove_from(s.head, s.tail, ev);
            assert(found);
            if (s.empty()) clear_occupied(slot);
        }
    }
    ev.queue_ = nullptr;
}

void EventQueue::put_back_batch()
{
    if (batch_ == nullptr) {
        return;
    }
    const std::size_t slot = now_.count() & kMask;
    Slot& s = wheel_[slot];
    *batch_tail_ = s.head;
    if (s.head == nullptr) {
        s.tail = batch_tail_;
    }
    s.head = batch_;
    occupied_[slot >> 6] |= std::uint64_t{1} << (slot & 63);
    summary_ |= std::uint64_t{1} << (slot >> 6);
    batch_ = nullptr;
    batch_tail_ = &batch_;
}

void EventQueue::clear_occupied(std::size_t slot)
{
    std::uint64_t& w = occupied_[slot >> 6];
    w &= ~(std::uint64_t{1} << (slot & 63));
    if (w == 0) summary_ &= ~(std::uint64_t{1} << (slot >> 6));
}

bool EventQueue::next_wheel_time(Cycles& t) const
{
    // This cycle's and the next cycle's slots may lack their bit (insert()).
    const std::size_t start = now_.count() & kMask;
    if (!wheel_[start].empty()) {
        t = now_;
        return true;
    }
    if (!wheel_[(start + 1) & kMask].empty()) {
        t = now_ + Cycles{1};
        return true;
    }
    // Scan the occupancy bitmap circularly from now's slot; every event in
    // the wheel lies in [now, now + kWheelSlots), so the first occupied slot
    // found is the earliest time.  Circular order: the rest of now's word,
    // the words after it, the words before it, then now's word below now.
    const std::size_t word = start >> 6;
    std::size_t slot = kWheelSlots;
    if (const std::uint64_t bits = occupied_[word] & (~std::uint64_t{0} << (start & 63)); bits != 0) {
        slot = (word << 6) | static_cast<std::size_t>(std::countr_zero(bits));
    } else if (const std::uint64_t after = word == 63 ? 0 : summary_ & (~std::uint64_t{0} << (word + 1)); after != 0) {
        const auto w = static_cast<std::size_t>(std::countr_zero(after));
        slot = (w << 6) | static_cast<std::size_t>(std::countr_zero(occupied_[w]));
    } else if (const std::uint64_t before = summary_ & ((std::uint64_t{1} << word) - 1); before != 0) {
        const auto w = static_cast<std::size_t>(std::countr_zero(before));
        slot = (w << 6) | static_cast<std::size_t>(std::countr_zero(occupied_[w]));
    } else if (const std::uint64_t low = occupied_[word]; low != 0) {
        slot = (word << 6) | static_cast<std::size_t>(std::countr_zero(low));
    } else {
        return false;
    }
    t = now_ + Cycles{(slot - start) & kMask};
    return true;
}

bool EventQueue::empty() const
{
    Cycles t;
    return batch_ == nullptr && far_.empty() && !next_wheel_time(t);
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
    std::size_t n = far_.size() + count(batch_) + count(wheel_[here].head) + count(wheel_[next].head);
    for (std::size_t word = 0; word < kWords; ++word) {
        for (std::uint64_t bits = occupied_[word]; bits != 0; bits &= bits - 1) {
            const std::size_t slot = (word << 6) | static_cast<std::size_t>(std::countr_zero(bits));
            if (slot != here && slot != next) {
                n += count(wheel_[slot].head);
            }
        }
    }
    return n;
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
    if (!far_.empty()) {
        return far_.begin()->when_;
    }
    return Cycles::max();
}

void EventQueue::pull_far_into_wheel()
{
    while (!far_.empty()) {
        Event& ev = *far_.begin();
        if (ev.when_.count() - now_.count() >= kWheelSlots) {
            break;
        }
        far_.erase(far_.begin());
        insert(ev, ev.when_);
    }
}

void EventQueue::advance_to(Cycles t)
{
    if (t != now_) {
        now_ = t;
        if (!far_.empty()) {
            pull_far_into_wheel();
        }
    }
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
        ~Exit()
        {
            q.put_back_batch();
            --q.depth_;
            if (nested) {
                q.flags_ |= kReloadBatch;
            }
        }
    } guard{*this, depth_ != 0};
    ++depth_;
    flags_ = 0;
    const std::uint64_t first = processed_;
    const std::uint64_t last = max_events > ~first ? ~std::uint64_t{0} : first + max_events;
    // The count of events run lives in a register; processed_ is only
    // stored from it (events_processed() stays exact in handlers).
    std::uint64_t n = first;
    while (!kCounted || n != last) {
        if (batch_ == nullptr) {
            Cycles t;
            const std::size_t here = now_.count() & kMask;
            // Most models schedule close ahead: look at this cycle and the
            // next before calling out to scan the bitmap.
            if (!wheel_[here].empty()) {
                t = now_;
            } else if (!wheel_[(here + 1) & kMask].empty()) {
                t = now_ + Cycles{1};
            } else if (!next_wheel_time(t)) {
                if (far_.empty()) {
                    break;
                }
                t = far_.begin()->when_;
            }
            if (t > limit) {
                break;
            }
            if (t != now_) {
                now_ = t;
                if (!far_.empty()) [[unlikely]] {
                    pull_far_into_wheel();
                }
            }
            // Take the whole slot; what handlers schedule for this cycle
            // meanwhile lands in the emptied slot, behind the batch.
            const std::size_t slot = t.count() & kMask;
            Slot& s = wheel_[slot];
            batch_ = s.head;
            batch_tail_ = s.tail;
            s.head = nullptr;
            s.tail = &s.head;
            // Inline, not a call: the loop keeps its state in registers.  A
            // slot taken this or next cycle usually has no bit to clear.
            if (std::uint64_t& w = occupied_[slot >> 6]; (w >> (slot & 63)) & 1u) {
                w &= ~(std::uint64_t{1} << (slot & 63));
                if (w == 0) summary_ &= ~(std::uint64_t{1} << (slot >> 6));
            }
        } else if (now_ > limit) {
            break;
        }
        Event* ev = batch_;
        for (;;) {
            // Read the link before the handler runs: it may reschedule ev.
            Event* const next = ev->next_;
            batch_ = next;
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
            if (next == nullptr || (kCounted && n == last)) {
                break;
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

bool EventQueue::step()
{
    return run<true>(Cycles::max(), 1) == 1;
}

} // namespace fwdsim::sim
