// GicSpiLine and GicPpiLine: dev::IrqLine ends that drive physical GIC
// inputs.
//
// They are how a device is wired to the GIC model: an SPI input shared by
// every CPU, or a PPI input private to one CPU.  Wiring a device to the GIC
// is assembling a machine, so they live here: a device knows only its
// IrqLine, the GIC only its inputs.
#pragma once

#include <fwdsim/dev/irq_line.h>
#include <fwdsim/gic/gic.h>

namespace fwdsim::machine {

class GicSpiLine final : public dev::IrqLine {
public:
    GicSpiLine(gic::Gic& gic, unsigned intid) : gic_(gic), intid_(intid) {}
    void set_level(bool level) override { gic_.set_spi_level(intid_, level); }
    unsigned intid() const { return intid_; }

private:
    gic::Gic& gic_;
    unsigned intid_;
};

class GicPpiLine final : public dev::IrqLine {
public:
    GicPpiLine(gic::Gic& gic, unsigned cpu, unsigned intid) : gic_(gic), cpu_(cpu), intid_(intid) {}
    void set_level(bool level) override { gic_.set_ppi_level(cpu_, intid_, level); }

private:
    gic::Gic& gic_;
    unsigned cpu_;
    unsigned intid_;
};

} // namespace fwdsim::machine
