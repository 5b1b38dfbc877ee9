// UserThread: a user-space thread (a VMM's I/O thread) that sleeps in
// read() on an eventfd and runs a callback with what it read.
//
// When the eventfd is signalled, the thread is woken on its CPU: a Work item
// costing host.sched_wakeup + host.return_to_user (out of its poll) +
// host.syscall (the read(2) of the counter) is queued (so a busy CPU delays
// it); its completion -- the read's result -- clears the counter and, if it
// was non-zero, calls the callback with the value, then sleeps again.  A
// signal from code on another CPU wakes it once what that code charged has
// elapsed (host::Cpu::after_charged).  Signals that arrive before it runs
// are coalesced, as an eventfd coalesces them.
// POLLHUP (the file's release) stops it.  It holds a ctx reference while
// waiting.  It touches the eventfd and its Cpu only.
#pragma once

#include <fwdsim/host/cpu.h>
#include <fwdsim/host/eventfd.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace fwdsim::host {

class UserThread {
public:
    using ReadFn = std::function<void(std::uint64_t value)>;

    UserThread(Cpu& cpu, const HostCosts& costs, const char* name = "user-thread");
    ~UserThread();
    UserThread(const UserThread&) = delete;
    UserThread& operator=(const UserThread&) = delete;

    /// Starts waiting on `ctx`; replaces any previous wait.
    void wait(EventfdCtxRef ctx, ReadFn on_read);
    void stop();
    bool waiting() const { return static_cast<bool>(ctx_); }
    std::uint64_t wakeups() const { return wakeups_; }

private:
    void woken(EventfdCtx& ctx, unsigned events);
    void wake();
    void run();

    Cpu& cpu_;
    HostCosts costs_;
    EventfdCtxRef ctx_;
    ReadFn on_read_;
    WaitQueueEntry entry_;
    Work work_;
    std::vector<Cpu*> signallers_; ///< CPUs holding a wake-up of ours not yet due
    std::uint64_t wakeups_ = 0;
};

} // namespace fwdsim::host
