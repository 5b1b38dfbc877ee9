// FakeVgic: what the forwarding tests need of KVM and the vgic, and no
// more.  It is the ForwardedIrqConsumer for one host IRQ and the irqfd +
// resampler for the same interrupt's VFIO eventfds, and it models one guest
// interrupt: a delivery (from the trigger eventfd or from inject) makes it
// pending unless it is already in service; the guest services the device
// and EOIs `guest_latency` later.  An injected (mapped) interrupt leaves the
// physical IRQ active for the guest: the EOI deactivates it, as a HW list
// register would.  On the VFIO path the EOI signals the resample (unmask)
// eventfd.  forward()/unforward() do the arch's part of a mode switch: the
// vCPU affinity, and handing back an active physical IRQ on unforward.
#pragma once

#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/irq_layer.h>
#include <fwdsim/sim/event.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/vfio/forwarded_irq_consumer.h>

#include <functional>

namespace fwdsim::test {

class FakeVgic final : public vfio::ForwardedIrqConsumer {
public:
    FakeVgic(sim::EventQueue& q, host::IrqLayer& irqs, unsigned host_irq, std::function<void()> service_device,
             sim::Cycles guest_latency = sim::Cycles{2000})
        : q_(q), irqs_(irqs), host_irq_(host_irq), service_(std::move(service_device)), latency_(guest_latency),
          irqfd_([this](host::EventfdCtx& c, unsigned e) {
              if (e & host::pollin) {
                  std::uint64_t n = 0;
                  c.read(n);
                  deliver(false);
              }
          }),
          eoi_([this] { guest_eoi(); }, "guest eoi")
    {
    }
    ~FakeVgic() { if (trigger_) trigger_->remove_wait(irqfd_); }

    /// irqfd on the trigger eventfd; `resample` is VFIO's unmask eventfd.
    void attach_irqfd(host::EventfdCtxRef trigger, host::EventfdCtxRef resample)
    {
        trigger_ = std::move(trigger);
        resample_ = std::move(resample);
        trigger_->add_wait(irqfd_);
    }
    void detach_irqfd()
    {
        if (trigger_) trigger_->remove_wait(irqfd_);
        trigger_.reset();
        resample_.reset();
    }

    void inject(unsigned host_irq) override
    {
        ++injects;
        REQUIRE_HOST_IRQ(host_irq);
        deliver(true);
    }

    void forward() { irqs_.irq_set_vcpu_affinity(host_irq_, this); }
    void unforward()
    {
        if (owns_physical_) {
            // The guest still has it: move the active state to the virtual
            // side only, and let the physical IRQ go.
            irqs_.irq_set_irqchip_state(host_irq_, host::IrqchipState::active, false);
            owns_physical_ = false;
        }
        irqs_.irq_set_vcpu_affinity(host_irq_, nullptr);
    }

    int deliveries = 0;  ///< distinct guest handlings
    int injects = 0;
    int merged = 0;      ///< deliveries that found it already in service
    int wrong_irq = 0;

private:
    void REQUIRE_HOST_IRQ(unsigned irq) { if (irq != host_irq_) ++wrong_irq; }
    void deliver(bool mapped)
    {
        if (mapped) owns_physical_ = true;
        if (in_service_) {
            ++merged;
            return;
        }
        in_service_ = true;
        ++deliveries;
        q_.schedule_after(eoi_, latency_);
    }
    void guest_eoi()
    {
        service_();
        in_service_ = false;
        if (owns_physical_) {
            owns_physical_ = false;
            irqs_.irq_set_irqchip_state(host_irq_, host::IrqchipState::active, false);
        }
        if (resample_) resample_->signal();
    }

    sim::EventQueue& q_;
    host::IrqLayer& irqs_;
    unsigned host_irq_;
    std::function<void()> service_;
    sim::Cycles latency_;
    host::EventfdCtxRef trigger_, resample_;
    host::WaitQueueEntry irqfd_;
    sim::FunctionEvent eoi_;
    bool in_service_ = false;
    bool owns_physical_ = false;
};

} // namespace fwdsim::test
