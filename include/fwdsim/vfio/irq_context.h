// IrqContext: the state VFIO keeps for one device interrupt that is backed by
// one host IRQ (vfio_platform_irq; vfio_pci_irq_ctx), and its bi-modal
// handler.  Bus drivers own one per (index, subindex) that has a host IRQ
// and map indexes to them; nothing here knows index encodings.
//
// VFIO signalling mode (drivers/vfio/platform/vfio_platform_irq.c):
// * set_trigger(ctx) requests the host IRQ with the handler (IRQ_NOAUTOEN
//   when masked, as vfio_set_trigger does); a null ctx frees it.
// * the handler, automasked (level): if not masked, disable_irq_nosync and
//   mark masked, then signal the trigger; edge: signal the trigger.
// * mask(): if not masked, disable_irq_nosync and mark masked; unmask(): if
//   masked, enable_irq and clear.  A mask or unmask eventfd (virqfd) calls
//   mask()/unmask() from a work item queued on the CPU that signalled it
//   (host.workqueue_dispatch), as vfio_virqfd's workqueue does; signalled
//   outside any CPU, it acts at once.  KVM's resamplefd is the unmask eventfd.
// * fire(): the handler as if the interrupt arrived (SET_IRQS TRIGGER with
//   DATA_NONE / DATA_BOOL true -- the loopback test).
//
// Forwarded mode (the seed series, with the review's semantics):
// * set_forwarded(consumer): -EBUSY when a trigger eventfd is set (VFIO
//   signalling is set up), -EINVAL when already forwarded, or the request_irq
//   errno.  The handler then neither masks nor signals: it calls
//   consumer.inject(host_irq).  The handler's automask is lifted; a MASK the
//   user set is kept until the user's UNMASK (which works in both modes).
//   Under ForwardingPolicy::bimodal (the review's bi-modal handler) a
//   trigger eventfd may stay set: forwarding is then one published pointer,
//   the host IRQ stays requested, a trigger may be set or changed while
//   forwarded, and unforwarding hands the next interrupt to the trigger.
// * clear_forwarded(): cannot fail, safe with the interrupt in flight; it
//   frees the host IRQ only when no trigger is set.
// * The mode is read once per interrupt, without a lock, and a switch is
//   RCU-style: publish, wait a grace period (every handler that could have
//   read the old mode has finished), reclaim.  The argument is in
//   docs/irq-forwarding-mode.md.
//
// release() is what closing the device file does (vfio_platform_irq_cleanup):
// the trigger and the unmask eventfd go, the masked flag is cleared;
// forwarding stays until its owner, holding a device reference, clears it.
#pragma once

#include <fwdsim/host/cpu.h>
#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/host_costs.h>
#include <fwdsim/host/irq_layer.h>
#include <fwdsim/vfio/forwarded_irq_consumer.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fwdsim::vfio {

/// How forwarding shares the IRQ with VFIO signalling (a policy of the
/// kvm-vfio device, docs/irq-forwarding-mode.md).
enum class ForwardingPolicy {
    exclusive, ///< the modes exclude each other: EBUSY while the other is set up
    bimodal,   ///< the trigger stays set; a switch publishes the mode and frees nothing
};

struct IrqContextEnv {
    host::IrqLayer& irqs;
    host::ThisCpu& this_cpu;
    host::HostCosts costs;
};

class IrqContext {
public:
    IrqContext(const IrqContextEnv& env, unsigned host_irq, bool automasked, std::string name);
    ~IrqContext();
    IrqContext(const IrqContext&) = delete;
    IrqContext& operator=(const IrqContext&) = delete;

    unsigned host_irq() const { return host_irq_; }
    bool automasked() const { return automasked_; }
    const std::string& name() const { return name_; }

    // --- VFIO signalling -------------------------------------------------------
    /// Checks whether set_trigger(non-null) would succeed: -EBUSY when
    /// forwarded or when the host IRQ is owned by someone else.
    int can_set_trigger() const;
    int set_trigger(host::EventfdCtxRef trigger);
    bool has_trigger() const { return static_cast<bool>(trigger_); }
    host::EventfdCtx* trigger() const { return trigger_.get(); }
    void set_unmask_eventfd(host::EventfdCtxRef ctx) { unmask_fd_.set(std::move(ctx)); }
    void set_mask_eventfd(host::EventfdCtxRef ctx) { mask_fd_.set(std::move(ctx)); }
    bool has_unmask_eventfd() const { return unmask_fd_.armed(); }
    bool has_mask_eventfd() const { return mask_fd_.armed(); }
    void mask();
    void unmask();
    void fire();
    bool masked() const { return masked_; }
    bool user_masked() const { return user_masked_; }

    // --- forwarding -------------------------------------------------------------
    int set_forwarded(ForwardedIrqConsumer& consumer, ForwardingPolicy policy = ForwardingPolicy::exclusive);
    void clear_forwarded();
    bool forwarded() const { return consumer_ != nullptr; }

    /// Device close: drop trigger and unmask eventfd, clear masked.
    void release();

    /// What is not as it must be once the device's owner is gone: VFIO
    /// signalling or forwarding still set up, a mask, or the host IRQ not
    /// released (IrqLayer::released_state_violations).  Empty when clean.
    std::vector<std::string> released_state_violations();

    /// Whether this context holds the host IRQ (request_irq'd).
    bool requested() const { return requested_; }
    std::uint64_t signals() const { return signals_; }
    std::uint64_t injections() const { return injections_; }
    /// VFIO masks (the automask in the handler and MASK) and unmasks done.
    std::uint64_t masks() const { return masks_; }
    std::uint64_t unmasks() const { return unmasks_; }

private:
    /// vfio_virqfd: an eventfd whose signal runs mask() or unmask() from a
    /// work item; POLLHUP (the eventfd's release) disarms it.
    class Virqfd {
    public:
        Virqfd(IrqContext& owner, bool unmask);
        ~Virqfd() { set({}); }
        void set(host::EventfdCtxRef ctx);
        bool armed() const { return static_cast<bool>(ctx_); }

    private:
        void woken(host::EventfdCtx& ctx, unsigned events);
        void run();
        IrqContext& owner_;
        bool unmask_;
        host::EventfdCtxRef ctx_;
        host::WaitQueueEntry wait_;
        host::Work work_;
    };

    host::IrqReturn handle();
    int request();
    void release_irq();

    host::IrqLayer& irqs_;
    host::ThisCpu& this_cpu_;
    host::HostCosts costs_;
    unsigned host_irq_;
    bool automasked_;
    std::string name_;

    bool requested_ = false;
    bool masked_ = false;      ///< the host IRQ is disabled by VFIO (automask or the user's MASK)
    bool user_masked_ = false; ///< ... and the user's MASK is among the reasons
    host::EventfdCtxRef trigger_;
    Virqfd unmask_fd_;
    Virqfd mask_fd_;
    /// The published mode: null = VFIO signalling, else forwarded to it.
    ForwardedIrqConsumer* consumer_ = nullptr;
    ForwardingPolicy policy_ = ForwardingPolicy::exclusive; ///< of the current forwarding

    std::uint64_t signals_ = 0;
    std::uint64_t injections_ = 0;
    std::uint64_t masks_ = 0;
    std::uint64_t unmasks_ = 0;
};

} // namespace fwdsim::vfio
