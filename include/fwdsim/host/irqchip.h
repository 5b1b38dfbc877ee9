// Irqchip: what the host's generic IRQ layer asks of an interrupt
// controller driver (Linux's struct irq_chip plus the root handler's
// acknowledge/EOI steps of drivers/irqchip/irq-gic.c).
//
// Host IRQ numbers are the controller's interrupt IDs: host IRQ n is GIC
// INTID n.  (Linux maps hwirqs through an irq_domain to virtual IRQ
// numbers; one GIC and no other controller make the identity map exact, and
// it keeps traces readable.)  GicDriver implements this interface on the
// physical GIC model; tests implement it with a small fake so the IRQ layer
// and VFIO can be tested without the GIC.  Implementations charge the cost
// of the register accesses they make to ThisCpu.
#pragma once

#include <cerrno>

#include <cstdint>

namespace fwdsim::host {

/// Linux's enum irqchip_irq_state (include/linux/interrupt.h).
enum class IrqchipState { pending, active, masked, line_level };

/// Trigger type (IRQ_TYPE_LEVEL_HIGH / IRQ_TYPE_EDGE_RISING).
enum class IrqTrigger { level, edge };

class Irqchip {
public:
    virtual ~Irqchip() = default;

    /// Number of interrupt IDs (host IRQs 0..nr_irqs()-1 exist).
    virtual unsigned nr_irqs() const = 0;
    /// Whether EOI is split (GICC_CTLR.EOImode = 1: EOIR drops priority,
    /// DIR deactivates).  Linux sets it when it runs at EL2 for KVM.
    virtual bool split_eoi() const = 0;

    // --- struct irq_chip -----------------------------------------------------
    virtual void irq_mask(unsigned irq) = 0;    ///< GICD_ICENABLER
    virtual void irq_unmask(unsigned irq) = 0;  ///< GICD_ISENABLER
    /// GICD_ICFGR; -EINVAL for a type the interrupt cannot have (SGIs).
    virtual int irq_set_type(unsigned irq, IrqTrigger type) = 0;
    /// GICD_ITARGETSR; -EINVAL for a CPU that does not exist or a banked IRQ.
    virtual int irq_set_affinity(unsigned irq, unsigned cpu) = 0;
    /// GICD_I[SC]ACTIVER / I[SC]PENDR; -EINVAL for a state it cannot set.
    virtual int irq_set_irqchip_state(unsigned irq, IrqchipState which, bool value) = 0;
    virtual int irq_get_irqchip_state(unsigned irq, IrqchipState which, bool& value) = 0;

    /// Unmasks a banked interrupt (a PPI) at one CPU, as enable_percpu_irq
    /// does on each CPU; for a shared interrupt it is irq_unmask.
    virtual void irq_unmask_on(unsigned irq, unsigned cpu)
    {
        (void)cpu;
        irq_unmask(irq);
    }
    /// Sends software-generated interrupt `sgi` to CPU `cpu` (an IPI, GICD_SGIR).
    /// -EINVAL for a bad CPU or SGI; -ENOSYS when the chip cannot.
    virtual int send_ipi(unsigned cpu, unsigned sgi)
    {
        (void)cpu;
        (void)sgi;
        return -ENOSYS;
    }

    /// Whether the controller asserts CPU `cpu`'s IRQ line now.  The CPU is
    /// told of every rise (Cpu::set_irq_line); a controller that does not
    /// also tell it of every fall answers here, and the CPU asks before it
    /// acts on a line it was told is high.  The default is for one that
    /// tells both edges: the line is as last told.
    virtual bool irq_line(unsigned cpu) const
    {
        (void)cpu;
        return true;
    }

    // --- the root handler's steps, on the CPU taking the interrupt ------------
    /// GICC_IAR: returns the acknowledged IRQ, or -1 when spurious (1023).
    virtual int acknowledge(unsigned cpu) = 0;
    /// GICC_EOIR: priority drop (and, when !split_eoi(), deactivation too).
    virtual void priority_drop(unsigned cpu, unsigned irq) = 0;
    /// GICC_DIR: deactivation; only meaningful when split_eoi().
    virtual void deactivate(unsigned cpu, unsigned irq) = 0;
};

} // namespace fwdsim::host
