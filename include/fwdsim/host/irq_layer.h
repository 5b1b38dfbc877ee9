// IrqLayer: the host kernel's generic IRQ layer (kernel/irq/): one
// descriptor per host IRQ, request_irq/free_irq, disable/enable with depth
// counting, irqchip state, vCPU affinity, and the flow handler that a
// host::Cpu runs when it takes an interrupt.
//
// Host IRQ n is the interrupt controller's INTID n (see irqchip.h).  The
// layer drives the controller only through Irqchip.  It owns no time: a
// host::Cpu calls the flow steps (flow_acknowledge, flow_priority_drop,
// flow_handle, flow_finish) at the simulated times they happen and charges
// what they cost.  Errors are 0 or -errno as in Linux.
//
// Modelled behaviour, with the Linux function it follows:
// * request_irq (__setup_irq): -EINVAL for an IRQ that does not exist or a
//   null handler, -EBUSY when it already has a handler (no IRQF_SHARED).
//   The IRQ starts enabled (depth 0, unmasked) unless `no_autoenable`
//   (IRQ_NOAUTOEN: depth 1, masked).  A pending replay (below) is resent.
// * free_irq (__free_irq): -EINVAL (and a warning counter) when dev_id does
//   not own it.  It leaves the IRQ as Linux's shutdown does: no handler,
//   masked, no vCPU affinity, depth back to the free state; if the IRQ is
//   active in the controller and no flow is in progress on it, it is
//   deactivated, so the next owner can take interrupts at once.  A flow in
//   progress finishes normally (synchronize_irq's guarantee) and finds no
//   handler.
// * disable_irq_nosync / disable_irq: depth++ and, from 0, mask at the chip
//   at once (we model the unlazy disable; Linux's lazy disable masks on the
//   next interrupt, which changes no outcome here).  disable_irq also waits
//   for handlers in progress: a handler here runs in one instant, so there is
//   never one to wait for at the instant of the call.
// * enable_irq: depth--, unmask at 0.  An enable at depth 0 is Linux's
//   "Unbalanced enable for IRQ" WARN: it returns -EINVAL, changes nothing and
//   counts in unbalanced_enables() -- never absorbed silently.
// * The flow (handle_fasteoi_irq + gic_handle_irq): acknowledge (IAR), with
//   split EOI a priority drop at once (EOIR), then the handler; if there is no
//   handler or the IRQ is disabled, it is masked and marked for replay
//   (IRQS_PENDING); finally deactivation (DIR) -- skipped when the IRQ has a
//   vCPU affinity, because then the guest's EOI through a HW list register
//   deactivates it (gic_eoimode1_eoi_irq, irqd_is_forwarded_to_vcpu).  The
//   affinity is read once, in the same instant as the handler runs, so the
//   handler's decision (inject as a mapped IRQ or not) and the EOI decision
//   always agree even when forwarding changes while the IRQ is in flight.
// * Replay (check_irq_resend): an edge IRQ that arrived while it had no
//   handler or was disabled is re-raised (irqchip state pending) when it is
//   next enabled or requested; a level IRQ is not (its line re-asserts).
#pragma once

#include <fwdsim/host/irqchip.h>
#include <fwdsim/host/this_cpu.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fwdsim::host {

/// What a handler did (irqreturn_t).
enum class IrqReturn { none, handled };

/// A handler: runs in hard-IRQ context on the CPU that took the interrupt,
/// in one instant; it charges its own work to ThisCpu.
using IrqHandler = std::function<IrqReturn(unsigned irq, void* dev_id)>;

/// The cookie irq_set_vcpu_affinity stores (Linux passes a void*; KVM's
/// arch passes its vCPU or IRQ).  Null means "no vCPU affinity".
using VcpuAffinity = const void*;

struct IrqDescInfo {
    bool exists = false;
    bool has_handler = false;
    void* dev_id = nullptr;
    std::string name;
    unsigned depth = 0;             ///< disable depth (0 = enabled) while requested
    VcpuAffinity vcpu_affinity = nullptr;
    bool replay_pending = false;    ///< IRQS_PENDING: to be resent on enable
    unsigned flows_in_progress = 0; ///< acknowledged, not yet finished
    std::uint64_t handled = 0;      ///< handler returned handled
    std::uint64_t unhandled = 0;    ///< no handler, disabled, or IrqReturn::none
};

class IrqLayer {
public:
    IrqLayer(Irqchip& chip, ThisCpu& this_cpu);
    IrqLayer(const IrqLayer&) = delete;
    IrqLayer& operator=(const IrqLayer&) = delete;

    Irqchip& chip() { return chip_; }
    unsigned nr_irqs() const { return chip_.nr_irqs(); }

    int request_irq(unsigned irq, IrqHandler handler, void* dev_id, std::string name = {},
                    bool no_autoenable = false);
    int free_irq(unsigned irq, void* dev_id);

    int disable_irq_nosync(unsigned irq);
    int disable_irq(unsigned irq);
    int enable_irq(unsigned irq);

    /// enable_percpu_irq: unmasks a requested banked IRQ (a PPI) at `cpu`.
    /// -EINVAL for a bad or unrequested IRQ.
    int enable_percpu_irq(unsigned irq, unsigned cpu);
    /// An IPI: SGI `sgi` to CPU `cpu` (smp_cross_call); the chip's errno.
    int send_ipi(unsigned cpu, unsigned sgi) { return chip_.send_ipi(cpu, sgi); }

    int irq_set_irq_type(unsigned irq, IrqTrigger type);
    int irq_set_affinity(unsigned irq, unsigned cpu);
    /// -EINVAL for a bad IRQ; -ENOSYS when the chip has no split EOI
    /// (Linux: the chip has no irq_set_vcpu_affinity).  Null clears it.
    int irq_set_vcpu_affinity(unsigned irq, VcpuAffinity affinity);
    int irq_set_irqchip_state(unsigned irq, IrqchipState which, bool value);
    int irq_get_irqchip_state(unsigned irq, IrqchipState which, bool& value);

    // --- inspection (no side effects, no cost) ------------------------------
    IrqDescInfo info(unsigned irq) const;
    /// Whether `irq` is acknowledged by a CPU with its flow not finished, or
    /// marked for replay (IRQS_PENDING): info() without copying the name.
    bool in_flight(unsigned irq) const;
    bool has_handler(unsigned irq) const;
    unsigned depth(unsigned irq) const;
    VcpuAffinity vcpu_affinity(unsigned irq) const;
    /// Unbalanced enable_irq calls (Linux's WARN), over all IRQs.
    std::uint64_t unbalanced_enables() const { return unbalanced_enables_; }
    /// free_irq calls with a dev_id that did not own the IRQ.
    std::uint64_t bad_frees() const { return bad_frees_; }
    /// Everything that is not as free_irq leaves an IRQ whose owner is gone
    /// (design.md §5): a handler, a non-free depth, a vCPU affinity, active
    /// in the controller.  Empty when the IRQ is cleanly released.
    std::vector<std::string> released_state_violations(unsigned irq);

    /// Observe every acknowledge (IAR) and deactivation the host's flow
    /// makes (measurement only).
    void set_acknowledge_hook(std::function<void(unsigned irq)> hook) { acknowledge_hook_ = std::move(hook); }
    void set_deactivate_hook(std::function<void(unsigned irq)> hook) { deactivate_hook_ = std::move(hook); }

    // --- the flow, driven by host::Cpu ---------------------------------------
    /// IAR: the IRQ acknowledged by `cpu`, or -1 when spurious.
    int flow_acknowledge(unsigned cpu);
    /// Priority drop right after the acknowledge (split EOI only).
    void flow_priority_drop(unsigned cpu, unsigned irq);
    /// Runs the handler (or masks and marks replay when there is none).
    void flow_handle(unsigned cpu, unsigned irq);
    /// DIR (split EOI, unless forwarded to a vCPU) or EOIR (otherwise).
    void flow_finish(unsigned cpu, unsigned irq);

private:
    struct Desc {
        IrqHandler handler;
        void* dev_id = nullptr;
        std::string name;
        bool requested = false;
        unsigned depth = 0;
        VcpuAffinity vcpu_affinity = nullptr;
        bool replay_pending = false;
        IrqTrigger trigger = IrqTrigger::level;
        unsigned flows_in_progress = 0;
        std::uint64_t handled = 0;
        std::uint64_t unhandled = 0;
    };
    /// Per CPU, the vCPU-affinity decision taken when the handler ran, read at
    /// flow_finish (indexed by cpu; a CPU handles one flow at a time).
    struct FlowState {
        unsigned irq = 0;
        bool skip_deactivate = false;
    };

    bool valid(unsigned irq) const { return irq < descs_.size(); }
    void resend_if_pending(unsigned irq, Desc& d);

    Irqchip& chip_;
    [[maybe_unused]] ThisCpu& this_cpu_; // the CPU running the flow; not read by the layer itself yet
    std::vector<Desc> descs_;
    std::vector<FlowState> flows_;
    std::function<void(unsigned)> acknowledge_hook_;
    std::function<void(unsigned)> deactivate_hook_;
    std::uint64_t unbalanced_enables_ = 0;
    std::uint64_t bad_frees_ = 0;
};

} // namespace fwdsim::host
