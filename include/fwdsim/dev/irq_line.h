// IrqLine: the wire from a device's interrupt output to whatever receives it.
//
// A device model drives its output through this interface and never knows
// what is on the other end: a physical GIC SPI or PPI input (the machine
// layer's GicSpiLine, GicPpiLine), or a recorder in a test.  Level devices
// hold the line high until serviced; edge devices and MSI writes pulse it.
#pragma once

namespace fwdsim::dev {

class IrqLine {
public:
    virtual ~IrqLine() = default;
    virtual void set_level(bool level) = 0;
};

} // namespace fwdsim::dev
