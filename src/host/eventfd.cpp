// Eventfd: fs/eventfd.c's counter, wait queue, and release, in our words.
#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/process.h>

#include <cerrno>

namespace fwdsim::host {

EventfdCtx::~EventfdCtx()
{
    // Entries still queued are unlinked, not woken: their owners hold no
    // reference, so they must have removed themselves on POLLHUP.
    waiters_.clear();
}

void EventfdCtx::signal(std::uint64_t n)
{
    // eventfd_signal saturates rather than overflowing.
    count_ = (kMax - count_ < n) ? kMax : count_ + n;
    ++signals_;
    wake(pollin);
}

int EventfdCtx::write(std::uint64_t n)
{
    if (n == ~std::uint64_t{0}) return -EINVAL;
    if (kMax - count_ < n) return -EAGAIN; // non-blocking write would block
    count_ += n;
    ++signals_;
    if (n) wake(pollin);
    return 0;
}

int EventfdCtx::read(std::uint64_t& value)
{
    if (count_ == 0) return -EAGAIN;
    value = count_;
    count_ = 0;
    return 0;
}

unsigned EventfdCtx::add_wait(WaitQueueEntry& entry)
{
    if (!entry.is_linked()) waiters_.push_back(entry);
    unsigned events = 0;
    if (count_) events |= pollin;
    if (hung_up_) events |= pollhup;
    return events;
}

int EventfdCtx::add_wait_priority_exclusive(WaitQueueEntry& entry, unsigned& events)
{
    for (const WaitQueueEntry& w : waiters_) {
        if (w.priority_exclusive_ && &w != &entry) return -EBUSY;
    }
    entry.priority_exclusive_ = true;
    events = add_wait(entry);
    return 0;
}

void EventfdCtx::remove_wait(WaitQueueEntry& entry, std::uint64_t* count)
{
    if (entry.is_linked()) waiters_.erase(waiters_.iterator_to(entry));
    entry.priority_exclusive_ = false;
    if (count) {
        *count = count_;
        count_ = 0;
    }
}

void EventfdCtx::wake(unsigned events)
{
    // An entry may unlink itself from its own callback (irqfd on POLLHUP):
    // step past it before calling.
    for (auto it = waiters_.begin(); it != waiters_.end();) {
        WaitQueueEntry& e = *it++;
        e.fn_(*this, events);
    }
}

EventfdFile::EventfdFile(std::uint64_t initval) : ctx_(EventfdCtxRef::adopt(new EventfdCtx))
{
    ctx_->count_ = initval;
}

void EventfdFile::release()
{
    // eventfd_release: wake_up_poll(EPOLLHUP), then drop the file's ctx ref.
    ctx_->hung_up_ = true;
    ctx_->wake(pollhup);
    ctx_.reset();
}

int eventfd_create(Process& proc, std::uint64_t initval)
{
    return proc.install(make_file<EventfdFile>(initval));
}

int eventfd_ctx_fdget(Process& proc, int fd, EventfdCtxRef& out)
{
    FileRef f;
    if (int err = proc.fget(fd, f)) return err;
    auto* efd = file_cast<EventfdFile>(f.get());
    if (!efd) return -EINVAL;
    out = EventfdCtxRef::acquire(&efd->ctx());
    return 0;
}

} // namespace fwdsim::host
