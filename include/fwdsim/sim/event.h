// Event: one thing that will happen at a simulated time.
//
// Events are owned by the component that schedules them (gem5's model): a
// component holds its Event members and hands them to the EventQueue, which
// links them intrusively and never allocates.  Scheduling an event is
// therefore a few pointer writes.  An event is in the queue at most once;
// destroying a scheduled event removes it from its queue first, so a
// component torn down mid-run cannot leave a dangling entry behind.
#pragma once

#include <fwdsim/sim/cycles.h>

#include <boost/intrusive/set_hook.hpp>

#include <cstdint>
#include <functional>
#include <utility>

namespace fwdsim::sim {

class EventQueue;

class Event {
public:
    explicit Event(const char* name = "event") : name_(name) {}
    virtual ~Event();

    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    bool scheduled() const { return queue_ != nullptr; }
    /// The time it is scheduled for; meaningful only while scheduled().
    Cycles when() const { return when_; }
    const char* name() const { return name_; }

protected:
    virtual void process() = 0;

private:
    friend class EventQueue;

    // An event sits either in a near-future slot of the wheel (a singly
    // linked FIFO through next_) or in the far-future set (far_hook_, ordered
    // by when_ then seq_), never both -- so next_ and seq_ share storage
    // (72 bytes instead of 88).  The fields the scheduling fast path touches
    // come first, next to the vtable pointer.  An idle event's next_ is null
    // (the queue nulls it when the event leaves), so scheduling one need not
    // write it; next_ and queue_ are adjacent so that the run loop idles an
    // event with one 16-byte store.
    Cycles when_{};
    union {
        Event* next_ = nullptr;
        std::uint64_t seq_;
    };
    EventQueue* queue_ = nullptr;
    boost::intrusive::set_member_hook<> far_hook_;
    const char* name_;
};

/// An event that calls a member function of its owner: the usual way a
/// component declares the events it schedules.
template <class Owner, void (Owner::*Handler)()>
class MemberEvent final : public Event {
public:
    explicit MemberEvent(Owner* owner, const char* name = "event") : Event(name), owner_(owner) {}

private:
    void process() override { (owner_->*Handler)(); }
    Owner* owner_;
};

/// An event that runs a callable fixed at construction.  The callable is
/// stored once; scheduling it again allocates nothing.
class FunctionEvent final : public Event {
public:
    explicit FunctionEvent(std::function<void()> fn, const char* name = "event")
        : Event(name), fn_(std::move(fn)) {}

private:
    void process() override { fn_(); }
    std::function<void()> fn_;
};

} // namespace fwdsim::sim
