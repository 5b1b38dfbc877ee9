// HostCosts: the host kernel's primitive costs, read once from a cost
// profile (keys "host.*" in profiles/default.profile).
//
// Every host path (taking an IRQ, signalling an eventfd, waking a VMM
// thread) is composed from these; nothing here is an end-to-end figure.
#pragma once

#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/cycles.h>

namespace fwdsim::host {

struct HostCosts {
    sim::Cycles irq_entry{};        ///< exception entry: vector, save context (el1_irq / el2 irq)
    sim::Cycles irq_dispatch{};     ///< generic IRQ layer: desc lookup, flow handler (handle_fasteoi_irq)
    sim::Cycles irq_exit{};         ///< irq_exit + restore context, eret
    sim::Cycles eventfd_signal{};   ///< eventfd_signal: counter update and wake_up of the wait queue
    sim::Cycles sched_wakeup{};     ///< try_to_wake_up of a sleeping user thread + context switch to it
    sim::Cycles return_to_user{};   ///< kernel exit to user space (ret_to_user)
    sim::Cycles syscall{};          ///< entering and leaving the kernel for one syscall/ioctl
    sim::Cycles workqueue_dispatch{}; ///< queueing and running a work item (virqfd's unmask work)
    sim::Cycles request_irq{};      ///< request_irq's own work (VFIO setting a handler up)
    sim::Cycles free_irq{};         ///< free_irq's own work (VFIO releasing its handler)
    sim::Cycles context_switch{};   ///< the scheduler switching between two threads (vCPU threads of two VMs)
    sim::Cycles ttwu_remote{};      ///< try_to_wake_up on the waker's CPU for a thread on another CPU (wake list, before the IPI)
    sim::Cycles sched_ipi{};        ///< the scheduler IPI's handler on the target: sched_ttwu_pending, enqueue, need_resched
    sim::Cycles idle_exit{};        ///< a CPU in the idle task leaving WFI and cpuidle before it takes an IRQ
    sim::Cycles idle_to_task{};     ///< __schedule from the idle task into the woken thread (no mm switch)
    sim::Cycles user_mmio_dispatch{}; ///< the VMM (a user process of the host) handling KVM_EXIT_MMIO: key vmm.mmio_dispatch
    sim::Cycles sched_slice{};      ///< a duration, not a cost: how long a thread keeps the CPU against another runnable one

    static HostCosts from_profile(const sim::CostProfile& profile);
};

} // namespace fwdsim::host
