// PciDevice: the vfio-pci bus driver for one PCI function
// (drivers/vfio/pci/vfio_pci_core.c, vfio_pci_intrs.c).
//
// IRQ indexes as Linux numbers them: INTX 0 (count 1 if the function has an
// interrupt pin, EVENTFD | MASKABLE | AUTOMASKED), MSI 1 and MSI-X 2 (count =
// vectors, EVENTFD | NORESIZE), ERR 3 (count 1 for a PCIe function) and REQ
// 4 (count 1), both EVENTFD.  One host IRQ per INTx line and per MSI/MSI-X
// vector (subindex = vector; on a GICv2 host MSIs arrive as SPIs through a
// GICv2m frame, so each vector is an SPI).  ERR and REQ are signalled by the
// driver itself and have no host IRQ.
//
// Interrupt modes (vfio_pci_set_irqs_ioctl): one of none, INTx, MSI, MSI-X
// at a time.  A TRIGGER eventfd on an index enables its mode if the device
// is in mode none (-EINVAL if another mode is on); MSI/MSI-X enable start +
// count vectors and cannot be resized while on (NORESIZE: a later request
// beyond them -> -EINVAL); TRIGGER with count 0 and DATA_NONE turns the mode
// off.  MASK/UNMASK only on INTx, with start 0 count 1, and only while INTx
// is on; MASK with DATA_EVENTFD -> -EINVAL; UNMASK with DATA_EVENTFD is the
// unmask eventfd (virqfd).  ERR/REQ: TRIGGER only, count <= 1.
#pragma once

#include <fwdsim/vfio/device.h>
#include <fwdsim/vfio/irq_context.h>

#include <memory>
#include <string>
#include <vector>

namespace fwdsim::vfio::pci {

/// An MSI-X table has at most 2048 entries (PCI Local Bus 3.0, 6.8.2.3:
/// Table Size is 11 bits, encoded as N - 1).
inline constexpr unsigned kMaxMsixVectors = 2048;

struct PciConfig {
    bool has_intx = true;
    unsigned intx_irq = 0;
    std::vector<unsigned> msi_irqs;   ///< host IRQ of each MSI vector
    std::vector<unsigned> msix_irqs;  ///< host IRQ of each MSI-X vector
    bool pcie = true;                 ///< reports the ERR index (AER)
    unsigned num_regions = 9;         ///< VFIO_PCI_NUM_REGIONS
};

class PciDevice final : public Device {
public:
    enum class IrqMode { none, intx, msi, msix };

    PciDevice(std::string name, const IrqContextEnv& env, const PciConfig& config);
    ~PciDevice() override;

    IrqMode irq_mode() const { return mode_; }
    /// Vectors enabled in MSI or MSI-X mode.
    unsigned enabled_vectors() const { return enabled_vectors_; }
    /// The device's error/request eventfds (signalled by error recovery and
    /// by a request to release the device).
    host::EventfdCtx* err_trigger() const { return err_trigger_.get(); }
    host::EventfdCtx* req_trigger() const { return req_trigger_.get(); }
    /// Signals the ERR (AER) or REQ eventfd if set; returns whether it did.
    bool signal_error();
    bool signal_request();

    std::vector<IrqContext*> irq_contexts() override;

protected:
    unsigned bus_num_irqs() const override { return VFIO_PCI_NUM_IRQS; }
    IrqIndexInfo bus_irq_info(unsigned index) const override;
    int bus_check_set_irqs(const IrqSetRequest& req) override;
    void bus_apply_set_irqs(IrqSetRequest& req) override;
    IrqContext* bus_irq_context(unsigned index, unsigned subindex) override;
    void bus_close() override;
    unsigned bus_num_regions() const override { return config_.num_regions; }

private:
    std::vector<std::unique_ptr<IrqContext>>* vectors(unsigned index);
    void disable_mode();

    PciConfig config_;
    std::unique_ptr<IrqContext> intx_;
    std::vector<std::unique_ptr<IrqContext>> msi_;
    std::vector<std::unique_ptr<IrqContext>> msix_;
    host::EventfdCtxRef err_trigger_;
    host::EventfdCtxRef req_trigger_;
    IrqMode mode_ = IrqMode::none;
    unsigned enabled_vectors_ = 0;
};

} // namespace fwdsim::vfio::pci
