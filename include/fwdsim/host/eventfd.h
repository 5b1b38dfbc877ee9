// Eventfd: the host's eventfd (fs/eventfd.c) -- a 64-bit counter with a
// wait queue, and the file that exposes it to a process.
//
// EventfdCtx is the counter (struct eventfd_ctx).  signal(n) adds to it and
// wakes every wait-queue entry with POLLIN, synchronously, in the signaller's
// context (that is where irqfd's and virqfd's wake functions run).  read()
// returns the counter and clears it, or -EAGAIN when it is 0 (a non-blocking
// read; blocking readers are modelled by UserThread).  Kernel users hold the
// ctx by reference (eventfd_ctx_fdget / eventfd_ctx_put), independent of the
// file: VFIO's trigger keeps working after the process closed the fd.
// EventfdFile is the file; its release (last close) wakes every entry with
// POLLHUP -- irqfd relies on it to shut itself down -- then drops its ctx
// reference.  Wait-queue entries are intrusive (a list_head in Linux); an
// entry may remove itself from inside its own wake callback.
#pragma once

#include <fwdsim/host/file.h>
#include <fwdsim/host/ref.h>

#include <boost/intrusive/list.hpp>

#include <cassert>
#include <cstdint>
#include <functional>

namespace fwdsim::host {

class Process;

/// Poll event bits, with Linux's values (EPOLLIN, EPOLLHUP).
enum PollEvents : unsigned { pollin = 0x1, pollhup = 0x10 };

class EventfdCtx;

/// A wait-queue entry (wait_queue_entry_t) with its wake function.
class WaitQueueEntry
    : public boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
public:
    using WakeFn = std::function<void(EventfdCtx&, unsigned events)>;
    explicit WaitQueueEntry(WakeFn fn) : fn_(std::move(fn)) {}
    WaitQueueEntry(const WaitQueueEntry&) = delete;
    WaitQueueEntry& operator=(const WaitQueueEntry&) = delete;
    bool queued() const { return is_linked(); }

private:
    friend class EventfdCtx;
    WakeFn fn_;
    bool priority_exclusive_ = false;
};

class EventfdCtx {
public:
    static constexpr std::uint64_t kMax = 0xffff'ffff'ffff'fffeULL; ///< ULLONG_MAX - 1

    EventfdCtx() = default;
    EventfdCtx(const EventfdCtx&) = delete;
    EventfdCtx& operator=(const EventfdCtx&) = delete;

    void get() { ++refcount_; }
    void put()
    {
        assert(refcount_ > 0);
        if (--refcount_ == 0) delete this;
    }
    unsigned refcount() const { return refcount_; }

    /// eventfd_signal: adds n (saturating at kMax) and wakes with POLLIN.
    void signal(std::uint64_t n = 1);
    /// write(2): -EINVAL for ULLONG_MAX; -EAGAIN when it would overflow.
    int write(std::uint64_t n);
    /// Non-blocking read(2): the counter, cleared; -EAGAIN when 0.
    int read(std::uint64_t& value);
    std::uint64_t count() const { return count_; }
    std::uint64_t signals() const { return signals_; }

    /// add_wait_queue + vfs_poll: returns the events already true (POLLIN
    /// when the counter is non-zero, POLLHUP after release).
    unsigned add_wait(WaitQueueEntry& entry);
    /// eventfd_ctx_remove_wait_queue: unlinks and, if `count` is given,
    /// reads-and-clears the counter into it.
    void remove_wait(WaitQueueEntry& entry, std::uint64_t* count = nullptr);
    /// add_wait_queue_priority_exclusive + vfs_poll (Linux 6.16+, what
    /// KVM's irqfd registers as): -EBUSY when such a waiter is queued
    /// already (one irqfd per eventfd, whatever its VM), else 0 with the
    /// events already true in `events`.  The entry is woken in queue order
    /// like any other (Linux puts it first and stops there: not modelled,
    /// nothing else here waits on an irqfd's eventfd).
    int add_wait_priority_exclusive(WaitQueueEntry& entry, unsigned& events);
    std::size_t waiters() const { return waiters_.size(); }
    bool hung_up() const { return hung_up_; }

private:
    friend class EventfdFile;
    ~EventfdCtx();
    void wake(unsigned events);

    using List = boost::intrusive::list<WaitQueueEntry, boost::intrusive::constant_time_size<false>>;
    unsigned refcount_ = 1;
    std::uint64_t count_ = 0;
    std::uint64_t signals_ = 0;
    bool hung_up_ = false;
    List waiters_;
};

using EventfdCtxRef = Ref<EventfdCtx>;

class EventfdFile final : public File {
public:
    /// eventfd(2): a fresh counter with an initial value.
    explicit EventfdFile(std::uint64_t initval = 0);
    std::string_view kind() const override { return "eventfd"; }
    EventfdCtx& ctx() { return *ctx_; }

protected:
    void release() override;

private:
    EventfdCtxRef ctx_;
};

/// eventfd(2) in `proc`: installs a new eventfd; returns the fd or -errno.
int eventfd_create(Process& proc, std::uint64_t initval = 0);
/// eventfd_ctx_fdget: -EBADF for an fd not open, -EINVAL for a file that is
/// not an eventfd; on success `out` holds a new ctx reference.
int eventfd_ctx_fdget(Process& proc, int fd, EventfdCtxRef& out);

} // namespace fwdsim::host
