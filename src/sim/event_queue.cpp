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
        slot.clear_and_dispose([](Event* ev) { ev->queue_ = nullptr; });
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

void EventQueue::insert_far(Event& ev)
{
    // Only the far set needs a sequence number: the wheel's FIFOs keep
    // scheduling order by themselves.
    ev.seq_ = seq_++;
    far_.insert(ev);
    ev.in_far_ = true;
}

void EventQueue::unlink(Event& ev)
{
    if (ev.in_far_) {
        far_.erase(far_.iterator_to(ev));
    } else {
        const std::size_t slot = ev.when_.count() & kMask;
        Slot& s = wheel_[slot];
        s.erase(s.iterator_to(ev));
        if (s.empty()) {
            occupied_[slot >> 6] &= ~(std::uint64_t{1} << (slot & 63));
        }
        --wheel_size_;
    }
    ev.queue_ = nullptr;
}

Cycles EventQueue::next_wheel_time() const
{
    // Scan the occupancy bitmap circularly from now's slot; every event in
    // the wheel lies in [now, now + kWheelSlots), so the first occupied slot
    // found is the earliest time.
    const std::size_t start = now_.count() & kMask;
    std::size_t word = start >> 6;
    std::uint64_t bits = occupied_[word] & (~std::uint64_t{0} << (start & 63));
    for (std::size_t scanned = 0; scanned <= kWords; ++scanned) {
        if (bits != 0) {
            const std::size_t slot = (word << 6) | static_cast<std::size_t>(std::countr_zero(bits));
            const std::size_t distance = (slot - start) & kMask;
            return now_ + Cycles{distance};
        }
        word = (word + 1) % kWords;
        bits = occupied_[word];
    }
    assert(false && "wheel_size_ > 0 but no occupied slot");
    return Cycles::max();
}

Cycles EventQueue::next_time() const
{
    if (wheel_size_ > 0) {
        return next_wheel_time();
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

std::uint64_t EventQueue::run(Cycles limit, std::uint64_t max_events)
{
    stop_requested_ = false;
    const std::uint64_t first = processed_;
    const std::uint64_t last = max_events > ~first ? ~std::uint64_t{0} : first + max_events;
    while (processed_ != last && !stop_requested_) {
        Cycles t;
        if (wheel_size_ > 0) {
            // Most models schedule close ahead: look at this cycle and the
            // next before scanning the bitmap.
            const std::size_t here = now_.count() & kMask;
            if (!wheel_[here].empty()) {
                t = now_;
            } else if (!wheel_[(here + 1) & kMask].empty()) {
                t = now_ + Cycles{1};
            } else {
                t = next_wheel_time();
            }
        } else if (!far_.empty()) {
            t = far_.begin()->when_;
        } else {
            break;
        }
        if (t > limit) {
            break;
        }
        advance_to(t);
        const std::size_t slot = t.count() & kMask;
        Slot& s = wheel_[slot];
        // Drain this cycle's FIFO; events it schedules for the same cycle
        // join the tail and run in this same loop.
        while (!s.empty()) {
            Event& ev = s.front();
            s.pop_front();
            --wheel_size_;
            ev.queue_ = nullptr;
            ++processed_;
            ev.process();
            if (processed_ == last || stop_requested_) [[unlikely]] {
                break;
            }
        }
        if (s.empty()) {
            occupied_[slot >> 6] &= ~(std::uint64_t{1} << (slot & 63));
        }
    }
    return processed_ - first;
}

std::uint64_t EventQueue::run_until(Cycles t)
{
    const std::uint64_t ran = run(t, ~std::uint64_t{0});
    if (!stop_requested_ && t > now_) {
        advance_to(t);
    }
    return ran;
}

std::uint64_t EventQueue::run_until_idle()
{
    return run(Cycles::max(), ~std::uint64_t{0});
}

bool EventQueue::step()
{
    return run(Cycles::max(), 1) == 1;
}

} // namespace fwdsim::sim
