// UserThread: a VMM thread blocked in read() on an eventfd: woken by the
// scheduler (try_to_wake_up), returns to user space, reads, handles.
#include <fwdsim/host/user_thread.h>

#include <algorithm>

namespace fwdsim::host {

UserThread::UserThread(Cpu& cpu, const HostCosts& costs, const char* name)
    : cpu_(cpu), costs_(costs),
      entry_([this](EventfdCtx& ctx, unsigned events) { woken(ctx, events); }),
      work_(name, [this] { run(); })
{
}

UserThread::~UserThread() { stop(); }

void UserThread::wait(EventfdCtxRef ctx, ReadFn on_read)
{
    stop();
    ctx_ = std::move(ctx);
    on_read_ = std::move(on_read);
    unsigned ready = ctx_->add_wait(entry_);
    if (ready & pollin) woken(*ctx_, ready);
}

void UserThread::stop()
{
    for (Cpu* c : signallers_) c->cancel_acts(this);
    signallers_.clear();
    cpu_.cancel(work_);
    if (ctx_) ctx_->remove_wait(entry_);
    ctx_.reset();
}

void UserThread::woken(EventfdCtx&, unsigned events)
{
    if (events & pollhup) {
        // The file is gone: read() would return; the thread stops waiting.
        cpu_.cancel(work_);
        ctx_->remove_wait(entry_);
        ctx_.reset();
        return;
    }
    Cpu* signaller = cpu_.this_cpu().current();
    if (signaller != nullptr && signaller != &cpu_ && signaller->this_cpu().charged() > sim::Cycles{}) {
        // The wake-up leaves the signalling CPU after the work charged there.
        if (std::find(signallers_.begin(), signallers_.end(), signaller) == signallers_.end())
            signallers_.push_back(signaller);
        signaller->after_charged(this, [this] { wake(); });
        return;
    }
    wake();
}

void UserThread::wake()
{
    // Already runnable: the wake-up is absorbed, the counter coalesces.
    if (cpu_.submit(work_, costs_.sched_wakeup + costs_.return_to_user + costs_.syscall)) ++wakeups_;
}

void UserThread::run()
{
    if (!ctx_) return;
    std::uint64_t v = 0;
    if (ctx_->read(v) == 0 && on_read_) on_read_(v);
}

} // namespace fwdsim::host
