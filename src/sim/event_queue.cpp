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
    for (auto& bucket : wheel_) {
        bucket.clear_and_dispose([](Event* ev) { ev->queue_ = nullptr; });
    }
    far_.clear_and_dispose([](Event* ev) { ev->queue_ = nullptr; });
}

void EventQueue::schedule(Event& ev, Cycles when)
{
    if (ev.queue_ != nullptr) {
        throw std::logic_error("EventQueue::schedule: event already scheduled");
    }
    if (when < now_) {
        throw std::logic_error("EventQueue::schedule: time is in the past");
    }
    insert(ev, when);
}

void EventQueue::reschedule(Event& ev, Cycles when)
{
    if (when < now_) {
        throw std::logic_error("EventQueue::reschedule: time is in the past");
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

void EventQueue::insert(Event& ev, Cycles when)
{
    ev.when_ = when;
    ev.seq_ = seq_++;
    ev.queue_ = this;
    ++size_;
    if (when.count() - now_.count() < kWheelSlots) {
        const std::size_t slot = when.count() & kMask;
        wheel_[slot].push_back(ev);
        occupied_[slot >> 6] |= std::uint64_t{1} << (slot & 63);
        ++wheel_size_;
        ev.in_far_ = false;
    } else {
        far_.insert(ev);
        ev.in_far_ = true;
    }
}

void EventQueue::unlink(Event& ev)
{
    if (ev.in_far_) {
        far_.erase(far_.iterator_to(ev));
    } else {
        const std::size_t slot = ev.when_.count() & kMask;
        Bucket& bucket = wheel_[slot];
        bucket.erase(bucket.iterator_to(ev));
        if (bucket.empty()) {
            occupied_[slot >> 6] &= ~(std::uint64_t{1} << (slot & 63));
        }
        --wheel_size_;
    }
    ev.queue_ = nullptr;
    --size_;
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
        const std::size_t slot = ev.when_.count() & kMask;
        wheel_[slot].push_back(ev);
        occupied_[slot >> 6] |= std::uint64_t{1} << (slot & 63);
        ev.in_far_ = false;
        ++wheel_size_;
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
    std::uint64_t ran = 0;
    while (ran < max_events && !stop_requested_) {
        Cycles t;
        if (wheel_size_ > 0) {
            t = next_wheel_time();
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
        Bucket& bucket = wheel_[slot];
        // Drain this cycle's FIFO; events it schedules for the same cycle
        // join the tail and run in this same loop.
        while (!bucket.empty() && ran < max_events && !stop_requested_) {
            Event& ev = bucket.front();
            bucket.pop_front();
            --wheel_size_;
            --size_;
            ev.queue_ = nullptr;
            ++processed_;
            ++ran;
            ev.process();
        }
        if (bucket.empty()) {
            occupied_[slot >> 6] &= ~(std::uint64_t{1} << (slot & 63));
        }
    }
    return ran;
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
