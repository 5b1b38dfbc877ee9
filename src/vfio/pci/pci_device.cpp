// PciDevice: vfio_pci_intrs.c's interrupt modes and SET_IRQS handlers
// (vfio_pci_set_intx_mask/unmask/trigger, vfio_pci_set_msi_trigger,
// vfio_pci_set_err/req_trigger) and vfio_pci_core.c's IRQ info.
#include <fwdsim/vfio/pci/pci_device.h>

#include <cerrno>

namespace fwdsim::vfio::pci {

namespace {
std::vector<std::unique_ptr<IrqContext>> make_vectors(const IrqContextEnv& env, const std::vector<unsigned>& irqs,
                                                      const std::string& prefix)
{
    std::vector<std::unique_ptr<IrqContext>> v;
    for (std::size_t i = 0; i < irqs.size(); ++i) {
        v.push_back(std::make_unique<IrqContext>(env, irqs[i], false, prefix + std::to_string(i)));
        env.irqs.irq_set_irq_type(irqs[i], host::IrqTrigger::edge);
    }
    return v;
}
} // namespace

PciDevice::PciDevice(std::string name, const IrqContextEnv& env, const PciConfig& config)
    : Device(name, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET), config_(config)
{
    if (config.has_intx) {
        intx_ = std::make_unique<IrqContext>(env, config.intx_irq, true, "vfio-intx:" + name);
        env.irqs.irq_set_irq_type(config.intx_irq, host::IrqTrigger::level);
    }
    msi_ = make_vectors(env, config.msi_irqs, "vfio-msi:" + name + ":");
    msix_ = make_vectors(env, config.msix_irqs, "vfio-msix:" + name + ":");
}

PciDevice::~PciDevice() = default;

std::vector<IrqContext*> PciDevice::irq_contexts()
{
    std::vector<IrqContext*> v;
    if (intx_) v.push_back(intx_.get());
    for (auto& c : msi_) v.push_back(c.get());
    for (auto& c : msix_) v.push_back(c.get());
    return v;
}

IrqIndexInfo PciDevice::bus_irq_info(unsigned index) const
{
    IrqIndexInfo i;
    i.flags = VFIO_IRQ_INFO_EVENTFD;
    switch (index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        i.count = intx_ ? 1 : 0;
        i.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
        break;
    case VFIO_PCI_MSI_IRQ_INDEX:
        i.count = static_cast<std::uint32_t>(msi_.size());
        i.flags |= VFIO_IRQ_INFO_NORESIZE;
        break;
    case VFIO_PCI_MSIX_IRQ_INDEX:
        i.count = static_cast<std::uint32_t>(msix_.size());
        i.flags |= VFIO_IRQ_INFO_NORESIZE;
        break;
    case VFIO_PCI_ERR_IRQ_INDEX: i.count = config_.pcie ? 1 : 0; break;
    case VFIO_PCI_REQ_IRQ_INDEX: i.count = 1; break;
    default: break;
    }
    return i;
}

std::vector<std::unique_ptr<IrqContext>>* PciDevice::vectors(unsigned index)
{
    if (index == VFIO_PCI_MSI_IRQ_INDEX) return &msi_;
    if (index == VFIO_PCI_MSIX_IRQ_INDEX) return &msix_;
    return nullptr;
}

IrqContext* PciDevice::bus_irq_context(unsigned index, unsigned subindex)
{
    if (index == VFIO_PCI_INTX_IRQ_INDEX) return subindex == 0 ? intx_.get() : nullptr;
    auto* v = vectors(index);
    if (!v || subindex >= v->size()) return nullptr;
    return (*v)[subindex].get();
}

namespace {
PciDevice::IrqMode mode_of(unsigned index)
{
    switch (index) {
    case VFIO_PCI_INTX_IRQ_INDEX: return PciDevice::IrqMode::intx;
    case VFIO_PCI_MSI_IRQ_INDEX: return PciDevice::IrqMode::msi;
    case VFIO_PCI_MSIX_IRQ_INDEX: return PciDevice::IrqMode::msix;
    default: return PciDevice::IrqMode::none;
    }
}
} // namespace

int PciDevice::bus_check_set_irqs(const IrqSetRequest& req)
{
    const bool none = req.data_type == VFIO_IRQ_SET_DATA_NONE;
    const bool eventfd = req.data_type == VFIO_IRQ_SET_DATA_EVENTFD;
    // vfio_pci_set_irqs_ioctl: a handler per index and single action, else ENOTTY.
    if (req.action != VFIO_IRQ_SET_ACTION_MASK && req.action != VFIO_IRQ_SET_ACTION_UNMASK &&
        req.action != VFIO_IRQ_SET_ACTION_TRIGGER)
        return -ENOTTY;
    switch (req.index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        if (req.action == VFIO_IRQ_SET_ACTION_MASK || req.action == VFIO_IRQ_SET_ACTION_UNMASK) {
            if (mode_ != IrqMode::intx || req.start != 0 || req.count != 1) return -EINVAL;
            if (req.action == VFIO_IRQ_SET_ACTION_MASK && eventfd) return -ENOTTY; // "XXX implement me"
            return 0;
        }
        // TRIGGER
        if (mode_ == IrqMode::intx && req.count == 0 && none) return 0; // disable
        if (mode_ != IrqMode::intx && mode_ != IrqMode::none) return -EINVAL;
        if (eventfd) return req.fds[0] >= 0 ? intx_->can_set_trigger() : 0;
        if (mode_ != IrqMode::intx) return -EINVAL;
        return intx_->forwarded() ? -EBUSY : 0;
    case VFIO_PCI_MSI_IRQ_INDEX:
    case VFIO_PCI_MSIX_IRQ_INDEX: {
        if (req.action != VFIO_IRQ_SET_ACTION_TRIGGER) return -ENOTTY; // no masking exported
        const IrqMode m = mode_of(req.index);
        if (mode_ == m && req.count == 0 && none) return 0; // disable
        if (mode_ != m && mode_ != IrqMode::none) return -EINVAL;
        auto& vec = *vectors(req.index);
        if (eventfd) {
            // NORESIZE: once on, the enabled block cannot grow.
            if (mode_ == m && req.start + req.count > enabled_vectors_) return -EINVAL;
            for (std::uint32_t i = 0; i < req.count; ++i)
                if (req.fds[i] >= 0)
                    if (int err = vec[req.start + i]->can_set_trigger()) return err;
            return 0;
        }
        if (mode_ != m) return -EINVAL;
        for (std::uint32_t i = 0; i < req.count; ++i)
            if (vec[req.start + i]->forwarded()) return -EBUSY;
        return 0;
    }
    case VFIO_PCI_ERR_IRQ_INDEX:
    case VFIO_PCI_REQ_IRQ_INDEX: {
        if (req.action != VFIO_IRQ_SET_ACTION_TRIGGER) return -ENOTTY;
        if (req.index == VFIO_PCI_ERR_IRQ_INDEX && !config_.pcie) return -ENOTTY;
        // vfio_pci_set_ctx_trigger_single: a NONE loopback needs a trigger.
        const host::EventfdCtxRef& t = req.index == VFIO_PCI_ERR_IRQ_INDEX ? err_trigger_ : req_trigger_;
        if (none && req.count == 1 && !t) return -EINVAL;
        return 0;
    }
    default: return -EINVAL;
    }
}

void PciDevice::disable_mode()
{
    // vfio_intx_disable / vfio_msi_disable: every context of the mode loses
    // its trigger and virqfds; forwarding stays with its owner.
    switch (mode_) {
    case IrqMode::intx: intx_->release(); break;
    case IrqMode::msi:
        for (auto& c : msi_) c->release();
        break;
    case IrqMode::msix:
        for (auto& c : msix_) c->release();
        break;
    case IrqMode::none: break;
    }
    mode_ = IrqMode::none;
    enabled_vectors_ = 0;
}

void PciDevice::bus_apply_set_irqs(IrqSetRequest& req)
{
    const bool none = req.data_type == VFIO_IRQ_SET_DATA_NONE;
    const bool eventfd = req.data_type == VFIO_IRQ_SET_DATA_EVENTFD;
    auto flag = [&](std::uint32_t i) { return none || (req.data_type == VFIO_IRQ_SET_DATA_BOOL && req.bools[i]); };
    switch (req.index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        if (req.action == VFIO_IRQ_SET_ACTION_MASK) {
            if (flag(0)) intx_->mask();
        } else if (req.action == VFIO_IRQ_SET_ACTION_UNMASK) {
            if (eventfd) intx_->set_unmask_eventfd(std::move(req.eventfds[0]));
            else if (flag(0)) intx_->unmask();
        } else if (req.count == 0) {
            disable_mode();
        } else if (eventfd) {
            mode_ = IrqMode::intx; // vfio_intx_enable, then the signal (maybe none)
            intx_->set_trigger(std::move(req.eventfds[0]));
        } else if (flag(0)) {
            intx_->fire();
        }
        return;
    case VFIO_PCI_MSI_IRQ_INDEX:
    case VFIO_PCI_MSIX_IRQ_INDEX: {
        const IrqMode m = mode_of(req.index);
        if (req.count == 0) {
            disable_mode();
            return;
        }
        auto& vec = *vectors(req.index);
        if (eventfd) {
            if (mode_ == IrqMode::none) {
                mode_ = m; // vfio_msi_enable with start + count vectors
                enabled_vectors_ = req.start + req.count;
            }
            for (std::uint32_t i = 0; i < req.count; ++i)
                vec[req.start + i]->set_trigger(std::move(req.eventfds[i]));
            return;
        }
        for (std::uint32_t i = 0; i < req.count; ++i) {
            const std::uint32_t v = req.start + i;
            if (v < enabled_vectors_ && flag(i) && vec[v]->has_trigger()) vec[v]->fire();
        }
        return;
    }
    case VFIO_PCI_ERR_IRQ_INDEX:
    case VFIO_PCI_REQ_IRQ_INDEX: {
        // vfio_pci_set_ctx_trigger_single: DATA_NONE/BOOL are loopback tests.
        host::EventfdCtxRef& t = req.index == VFIO_PCI_ERR_IRQ_INDEX ? err_trigger_ : req_trigger_;
        // An fd below -1 leaves the trigger as it is.
        if (eventfd) {
            if (req.fds[0] >= -1) t = std::move(req.eventfds[0]);
        } else if (req.count == 0) {
            t.reset();
        }
        else if (flag(0) && t) t->signal();
        return;
    }
    default: return;
    }
}

bool PciDevice::signal_error()
{
    if (!err_trigger_) return false;
    err_trigger_->signal();
    return true;
}

bool PciDevice::signal_request()
{
    if (!req_trigger_) return false;
    req_trigger_->signal();
    return true;
}

void PciDevice::bus_close()
{
    disable_mode();
    err_trigger_.reset();
    req_trigger_.reset();
}

} // namespace fwdsim::vfio::pci
