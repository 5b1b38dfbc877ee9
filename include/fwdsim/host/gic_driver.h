// GicDriver: the host's driver for the physical GICv2 (the role of
// drivers/irqchip/irq-gic.c), implementing Irqchip on gic::Gic.
//
// It reaches the GIC only through register accesses -- GICD_CTLR,
// I[SC]ENABLER, I[SC]PENDR, I[SC]ACTIVER, IPRIORITYR, ITARGETSR, ICFGR;
// GICC_CTLR, PMR, IAR, EOIR, DIR -- and charges each access's cost
// (Gic::access_cost) to ThisCpu.  With `split_eoi` (KVM present: Linux at
// EL2) it sets GICC_CTLR.EOImode (bit 9) so EOIR only drops priority and
// GICC_DIR deactivates.  init() programs the distributor and every CPU
// interface as gic_dist_init/gic_cpu_init do: SPIs level, priority 0xa0,
// targeted at CPU 0, disabled; PMR 0xf0; both enabled.  wire_cpus() connects
// each CPU's nIRQ output to its host::Cpu.
#pragma once

#include <fwdsim/gic/gic.h>
#include <fwdsim/host/irqchip.h>
#include <fwdsim/host/this_cpu.h>

#include <vector>

namespace fwdsim::host {

class Cpu;

struct GicDriverParams {
    bool split_eoi = true;              ///< GICC_CTLR.EOImode = 1 (KVM present)
    std::uint8_t default_priority = 0xa0; ///< GICD_INT_DEF_PRI
    std::uint8_t priority_mask = 0xf0;  ///< GICC_PMR (GICC_INT_PRI_THRESHOLD)
};

class GicDriver final : public Irqchip {
public:
    GicDriver(gic::Gic& gic, ThisCpu& this_cpu, GicDriverParams params = {});

    /// Programs distributor and CPU interfaces (gic_dist_init, gic_cpu_init).
    void init();
    /// Connects nIRQ of CPU i to cpus[i] (cpus.size() <= number of CPU interfaces).
    void wire_cpus(const std::vector<Cpu*>& cpus);

    gic::Gic& gic() { return gic_; }

    unsigned nr_irqs() const override;
    bool split_eoi() const override { return params_.split_eoi; }
    void irq_mask(unsigned irq) override;
    void irq_unmask(unsigned irq) override;
    void irq_unmask_on(unsigned irq, unsigned cpu) override;
    int send_ipi(unsigned cpu, unsigned sgi) override;
    int irq_set_type(unsigned irq, IrqTrigger type) override;
    int irq_set_affinity(unsigned irq, unsigned cpu) override;
    int irq_set_irqchip_state(unsigned irq, IrqchipState which, bool value) override;
    int irq_get_irqchip_state(unsigned irq, IrqchipState which, bool& value) override;
    /// nIRQ as the GIC drives it now: the CPUs are told of its rises only.
    bool irq_line(unsigned cpu) const override;
    int acknowledge(unsigned cpu) override;
    void priority_drop(unsigned cpu, unsigned irq) override;
    void deactivate(unsigned cpu, unsigned irq) override;

private:
    std::uint32_t read(gic::Block b, unsigned cpu, std::uint32_t off, unsigned size = 4);
    void write(gic::Block b, unsigned cpu, std::uint32_t off, std::uint32_t v, unsigned size = 4);
    /// The CPU making distributor accesses: the current one, else CPU 0.
    unsigned accessing_cpu() const;
    /// What EOIR/DIR must be written with: the IAR value (SGIs carry their
    /// source CPU in bits 12:10).
    std::uint32_t eoi_value(unsigned cpu, unsigned irq) const;

    gic::Gic& gic_;
    ThisCpu& this_cpu_;
    GicDriverParams params_;
    std::vector<Cpu*> cpus_;
    std::vector<std::uint32_t> last_iar_; ///< per CPU interface
};

} // namespace fwdsim::host
