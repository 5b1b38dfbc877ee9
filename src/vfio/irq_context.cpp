// IrqContext: vfio_platform_irq.c's masking, triggers and handlers
// (vfio_automasked_irq_handler, vfio_irq_handler, vfio_set_trigger) and
// vfio_virqfd, with the seed's bi-modal handler for forwarding.
#include <fwdsim/vfio/irq_context.h>

#include <cerrno>

namespace fwdsim::vfio {

IrqContext::IrqContext(const IrqContextEnv& env, unsigned host_irq, bool automasked, std::string name)
    : irqs_(env.irqs), this_cpu_(env.this_cpu), costs_(env.costs), host_irq_(host_irq),
      automasked_(automasked), name_(std::move(name)), unmask_fd_(*this, true), mask_fd_(*this, false)
{
}

IrqContext::~IrqContext()
{
    consumer_ = nullptr;
    release();
    if (requested_) release_irq();
}

// --- the handler -------------------------------------------------------------

host::IrqReturn IrqContext::handle()
{
    // The one read of the mode for this interrupt (rcu_dereference).  Every
    // decision below follows from this value, so a concurrent switch either
    // happened before it (new mode) or after it (old mode), never in between.
    ForwardedIrqConsumer* consumer = consumer_;
    if (consumer) {
        ++injections_;
        consumer->inject(host_irq_);
        return host::IrqReturn::handled;
    }
    if (automasked_) {
        if (masked_) return host::IrqReturn::none; // already masked: nothing new to say
        if (requested_) irqs_.disable_irq_nosync(host_irq_);
        masked_ = true;
        ++masks_;
    }
    if (trigger_) {
        this_cpu_.charge(costs_.eventfd_signal);
        trigger_->signal();
        ++signals_;
    }
    return host::IrqReturn::handled;
}

// --- request / free ------------------------------------------------------------

int IrqContext::request()
{
    // vfio_set_trigger: IRQ_NOAUTOEN, then enable unless the user masked it.
    this_cpu_.charge(costs_.request_irq);
    int err = irqs_.request_irq(host_irq_, [this](unsigned, void*) { return handle(); }, this, name_, masked_);
    if (err == 0) requested_ = true;
    return err;
}

void IrqContext::release_irq()
{
    this_cpu_.charge(costs_.free_irq);
    irqs_.free_irq(host_irq_, this);
    requested_ = false;
}

int IrqContext::can_set_trigger() const
{
    if (consumer_ && policy_ == ForwardingPolicy::exclusive) return -EBUSY; // forwarded: VFIO signalling is off
    if (!requested_ && irqs_.has_handler(host_irq_)) return -EBUSY; // request_irq would say so
    return 0;
}

int IrqContext::set_trigger(host::EventfdCtxRef trigger)
{
    if (!trigger) {
        trigger_.reset();
        if (requested_ && !consumer_) release_irq();
        return 0;
    }
    if (int err = can_set_trigger()) return err;
    if (!requested_) {
        if (int err = request()) return err;
    }
    trigger_ = std::move(trigger);
    return 0;
}

void IrqContext::mask()
{
    user_masked_ = true; // the user's MASK (SET_IRQS or its mask eventfd)
    if (masked_) return;
    if (requested_) irqs_.disable_irq_nosync(host_irq_);
    masked_ = true;
    ++masks_;
}

void IrqContext::unmask()
{
    user_masked_ = false;
    if (!masked_) return;
    if (requested_) irqs_.enable_irq(host_irq_);
    masked_ = false;
    ++unmasks_;
}

void IrqContext::fire() { handle(); }

// --- forwarding ---------------------------------------------------------------------

int IrqContext::set_forwarded(ForwardedIrqConsumer& consumer, ForwardingPolicy policy)
{
    if (consumer_) return -EINVAL;
    if (trigger_ && policy == ForwardingPolicy::exclusive) return -EBUSY;
    if (!requested_ && irqs_.has_handler(host_irq_)) return -EBUSY;
    // The handler's automask has no one left to lift it: forwarding starts
    // without it (the guest's EOI is what re-arms the IRQ from now on).  A
    // mask the user set stays until the user's UNMASK, which works in either
    // mode -- forwarding never lifts it behind the user's back.
    if (masked_ && !user_masked_) {
        if (requested_) irqs_.enable_irq(host_irq_);
        masked_ = false;
    }
    policy_ = policy;
    consumer_ = &consumer; // publish (rcu_assign_pointer)
    if (!requested_) {
        if (int err = request()) {
            consumer_ = nullptr;
            return err;
        }
    }
    return 0;
}

void IrqContext::clear_forwarded()
{
    if (!consumer_) return;
    consumer_ = nullptr; // publish
    // Grace period: a handler reads the mode and acts on it in one instant
    // on its CPU, so every handler that saw the old mode has finished by the
    // time this runs (synchronize_rcu would return at once).  Reclaim: with
    // no VFIO signalling set up, VFIO no longer needs the host IRQ; free_irq
    // lets a flow still in progress on another CPU finish first.
    if (!trigger_ && requested_) release_irq();
}

void IrqContext::release()
{
    unmask_fd_.set({});
    mask_fd_.set({});
    trigger_.reset();
    if (requested_ && !consumer_) {
        release_irq(); // free_irq resets the disable depth with the handler
    } else if (masked_ && requested_) {
        irqs_.enable_irq(host_irq_); // still forwarded: keep it live
    }
    masked_ = false;
    user_masked_ = false;
}

std::vector<std::string> IrqContext::released_state_violations()
{
    std::vector<std::string> v;
    if (trigger_) v.push_back(name_ + ": trigger eventfd still set");
    if (unmask_fd_.armed() || mask_fd_.armed()) v.push_back(name_ + ": virqfd still armed");
    if (consumer_) v.push_back(name_ + ": still forwarded");
    if (masked_) v.push_back(name_ + ": still masked");
    if (requested_) v.push_back(name_ + ": host IRQ still requested");
    for (auto& s : irqs_.released_state_violations(host_irq_)) v.push_back(name_ + ": " + s);
    return v;
}

// --- virqfd ----------------------------------------------------------------------

IrqContext::Virqfd::Virqfd(IrqContext& owner, bool unmask)
    : owner_(owner), unmask_(unmask),
      wait_([this](host::EventfdCtx& c, unsigned e) { woken(c, e); }),
      work_(unmask ? "virqfd unmask" : "virqfd mask", [this] { run(); })
{
}

void IrqContext::Virqfd::set(host::EventfdCtxRef ctx)
{
    if (ctx_) {
        work_.cancel();
        ctx_->remove_wait(wait_);
        ctx_.reset();
    }
    if (!ctx) return;
    ctx_ = std::move(ctx);
    unsigned ready = ctx_->add_wait(wait_);
    if (ready & host::pollin) woken(*ctx_, host::pollin);
}

void IrqContext::Virqfd::woken(host::EventfdCtx& ctx, unsigned events)
{
    if (events & host::pollhup) {
        // virqfd_deactivate: the eventfd is going away.
        work_.cancel();
        ctx.remove_wait(wait_);
        ctx_.reset();
        return;
    }
    std::uint64_t cnt = 0;
    ctx.read(cnt); // virqfd_wakeup consumes the count
    if (host::Cpu* cpu = owner_.this_cpu_.current()) {
        cpu->submit(work_, owner_.costs_.workqueue_dispatch);
    } else {
        run();
    }
}

void IrqContext::Virqfd::run()
{
    if (unmask_) owner_.unmask();
    else owner_.mask();
}

} // namespace fwdsim::vfio
