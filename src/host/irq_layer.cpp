// IrqLayer: kernel/irq/manage.c (request/free/enable/disable), chip.c
// (handle_fasteoi_irq), resend.c (check_irq_resend), in our own words.
#include <fwdsim/host/irq_layer.h>

#include <cerrno>
#include <string>

namespace fwdsim::host {

IrqLayer::IrqLayer(Irqchip& chip, ThisCpu& this_cpu)
    : chip_(chip), this_cpu_(this_cpu), descs_(chip.nr_irqs())
{
}

int IrqLayer::request_irq(unsigned irq, IrqHandler handler, void* dev_id, std::string name,
                          bool no_autoenable)
{
    if (!valid(irq) || !handler) return -EINVAL;
    Desc& d = descs_[irq];
    if (d.requested) return -EBUSY; // no IRQF_SHARED in this model
    d.handler = std::move(handler);
    d.dev_id = dev_id;
    d.name = std::move(name);
    d.requested = true;
    if (no_autoenable) {
        d.depth = 1; // IRQ_NOAUTOEN: the owner enables it later
        chip_.irq_mask(irq);
    } else {
        d.depth = 0; // irq_startup
        chip_.irq_unmask(irq);
        resend_if_pending(irq, d);
    }
    return 0;
}

int IrqLayer::free_irq(unsigned irq, void* dev_id)
{
    if (!valid(irq)) return -EINVAL;
    Desc& d = descs_[irq];
    if (!d.requested || d.dev_id != dev_id) {
        ++bad_frees_; // "Trying to free already-free IRQ"
        return -EINVAL;
    }
    d.handler = nullptr;
    d.dev_id = nullptr;
    d.name.clear();
    d.requested = false;
    d.depth = 0;
    d.vcpu_affinity = nullptr;
    chip_.irq_mask(irq); // irq_shutdown
    // A flow in progress will deactivate it itself; otherwise do not leave
    // the next owner an IRQ stuck active (design.md §5).
    if (d.flows_in_progress == 0) {
        bool active = false;
        if (chip_.irq_get_irqchip_state(irq, IrqchipState::active, active) == 0 && active)
            chip_.irq_set_irqchip_state(irq, IrqchipState::active, false);
    }
    return 0;
}

int IrqLayer::disable_irq_nosync(unsigned irq)
{
    if (!valid(irq)) return -EINVAL;
    Desc& d = descs_[irq];
    if (d.depth++ == 0) chip_.irq_mask(irq);
    return 0;
}

int IrqLayer::disable_irq(unsigned irq)
{
    // synchronize_irq: handlers run in one instant, none is mid-way now.
    return disable_irq_nosync(irq);
}

int IrqLayer::enable_irq(unsigned irq)
{
    if (!valid(irq)) return -EINVAL;
    Desc& d = descs_[irq];
    if (d.depth == 0) {
        ++unbalanced_enables_; // WARN "Unbalanced enable for IRQ %d"
        return -EINVAL;
    }
    if (--d.depth == 0) {
        chip_.irq_unmask(irq);
        resend_if_pending(irq, d);
    }
    return 0;
}

void IrqLayer::resend_if_pending(unsigned irq, Desc& d)
{
    if (!d.replay_pending) return;
    d.replay_pending = false;
    // check_irq_resend: a level IRQ re-asserts by itself; an edge would be lost.
    if (d.trigger == IrqTrigger::edge) chip_.irq_set_irqchip_state(irq, IrqchipState::pending, true);
}

int IrqLayer::irq_set_irq_type(unsigned irq, IrqTrigger type)
{
    if (!valid(irq)) return -EINVAL;
    if (int err = chip_.irq_set_type(irq, type)) return err;
    descs_[irq].trigger = type;
    return 0;
}

int IrqLayer::irq_set_affinity(unsigned irq, unsigned cpu)
{
    if (!valid(irq)) return -EINVAL;
    return chip_.irq_set_affinity(irq, cpu);
}

int IrqLayer::irq_set_vcpu_affinity(unsigned irq, VcpuAffinity affinity)
{
    if (!valid(irq)) return -EINVAL;
    if (!chip_.split_eoi()) return -ENOSYS;
    descs_[irq].vcpu_affinity = affinity;
    return 0;
}

int IrqLayer::enable_percpu_irq(unsigned irq, unsigned cpu)
{
    if (!valid(irq) || !descs_[irq].requested) return -EINVAL;
    chip_.irq_unmask_on(irq, cpu);
    return 0;
}

int IrqLayer::irq_set_irqchip_state(unsigned irq, IrqchipState which, bool value)
{
    if (!valid(irq)) return -EINVAL;
    return chip_.irq_set_irqchip_state(irq, which, value);
}

int IrqLayer::irq_get_irqchip_state(unsigned irq, IrqchipState which, bool& value)
{
    if (!valid(irq)) return -EINVAL;
    return chip_.irq_get_irqchip_state(irq, which, value);
}

bool IrqLayer::in_flight(unsigned irq) const
{
    if (!valid(irq)) return false;
    const Desc& d = descs_[irq];
    return d.flows_in_progress > 0 || d.replay_pending;
}

IrqDescInfo IrqLayer::info(unsigned irq) const
{
    IrqDescInfo i;
    if (!valid(irq)) return i;
    const Desc& d = descs_[irq];
    i.exists = true;
    i.has_handler = d.requested;
    i.dev_id = d.dev_id;
    i.name = d.name;
    i.depth = d.depth;
    i.vcpu_affinity = d.vcpu_affinity;
    i.replay_pending = d.replay_pending;
    i.flows_in_progress = d.flows_in_progress;
    i.handled = d.handled;
    i.unhandled = d.unhandled;
    return i;
}

bool IrqLayer::has_handler(unsigned irq) const { return valid(irq) && descs_[irq].requested; }
unsigned IrqLayer::depth(unsigned irq) const { return valid(irq) ? descs_[irq].depth : 0; }
VcpuAffinity IrqLayer::vcpu_affinity(unsigned irq) const
{
    return valid(irq) ? descs_[irq].vcpu_affinity : nullptr;
}

std::vector<std::string> IrqLayer::released_state_violations(unsigned irq)
{
    std::vector<std::string> v;
    if (!valid(irq)) return v;
    const Desc& d = descs_[irq];
    const std::string who = "host IRQ " + std::to_string(irq);
    if (d.requested) v.push_back(who + " still has a handler (" + d.name + ")");
    if (d.depth != 0) v.push_back(who + " has disable depth " + std::to_string(d.depth));
    if (d.vcpu_affinity) v.push_back(who + " still has a vCPU affinity");
    bool active = false;
    if (chip_.irq_get_irqchip_state(irq, IrqchipState::active, active) == 0 && active)
        v.push_back(who + " is active in the interrupt controller");
    return v;
}

// --- the flow ------------------------------------------------------------------

int IrqLayer::flow_acknowledge(unsigned cpu)
{
    int irq = chip_.acknowledge(cpu);
    if (irq < 0 || !valid(static_cast<unsigned>(irq))) return -1;
    if (flows_.size() <= cpu) flows_.resize(cpu + 1);
    flows_[cpu] = FlowState{static_cast<unsigned>(irq), false};
    ++descs_[irq].flows_in_progress;
    if (acknowledge_hook_) acknowledge_hook_(static_cast<unsigned>(irq));
    return irq;
}

void IrqLayer::flow_priority_drop(unsigned cpu, unsigned irq)
{
    if (chip_.split_eoi()) chip_.priority_drop(cpu, irq);
}

void IrqLayer::flow_handle(unsigned cpu, unsigned irq)
{
    Desc& d = descs_[irq];
    if (!d.requested || d.depth > 0) {
        // handle_fasteoi_irq: no action or disabled -> IRQS_PENDING, mask.
        d.replay_pending = true;
        chip_.irq_mask(irq);
        ++d.unhandled;
    } else {
        IrqReturn r = d.handler(irq, d.dev_id);
        if (r == IrqReturn::handled) ++d.handled;
        else ++d.unhandled;
    }
    // Read once, in the handler's instant: the EOI decision matches what the
    // handler saw (see the header).
    flows_[cpu].skip_deactivate = d.vcpu_affinity != nullptr;
}

void IrqLayer::flow_finish(unsigned cpu, unsigned irq)
{
    Desc& d = descs_[irq];
    if (d.flows_in_progress > 0) --d.flows_in_progress;
    if (!chip_.split_eoi()) {
        chip_.priority_drop(cpu, irq); // EOImode 0: EOIR drops and deactivates
        if (deactivate_hook_) deactivate_hook_(irq);
        return;
    }
    // Freed while in flight: nobody is left to own the active state, and
    // free_irq promised to leave the IRQ inactive.
    if (!flows_[cpu].skip_deactivate || !d.requested) {
        chip_.deactivate(cpu, irq);
        if (deactivate_hook_) deactivate_hook_(irq);
    }
}

} // namespace fwdsim::host
