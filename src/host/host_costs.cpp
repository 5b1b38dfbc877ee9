// HostCosts::from_profile: the host.* keys of the cost profile.
#include <fwdsim/host/host_costs.h>

namespace fwdsim::host {

HostCosts HostCosts::from_profile(const sim::CostProfile& p)
{
    HostCosts c;
    c.irq_entry = p.get("host.irq_entry");
    c.irq_dispatch = p.get("host.irq_dispatch");
    c.irq_exit = p.get("host.irq_exit");
    c.eventfd_signal = p.get("host.eventfd_signal");
    c.sched_wakeup = p.get("host.sched_wakeup");
    c.return_to_user = p.get("host.return_to_user");
    c.syscall = p.get("host.syscall");
    c.workqueue_dispatch = p.get("host.workqueue_dispatch");
    c.request_irq = p.get("host.request_irq");
    c.free_irq = p.get("host.free_irq");
    c.context_switch = p.get("host.context_switch");
    c.sched_slice = p.get("host.sched_slice");
    c.ttwu_remote = p.get("host.ttwu_remote");
    c.sched_ipi = p.get("host.sched_ipi");
    c.idle_exit = p.get("host.idle_exit");
    c.idle_to_task = p.get("host.idle_to_task");
    c.user_mmio_dispatch = p.get("vmm.mmio_dispatch");
    return c;
}

} // namespace fwdsim::host
