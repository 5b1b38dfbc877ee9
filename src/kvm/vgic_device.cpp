// The vgic-v2 kvm device.  See include/fwdsim/kvm/vgic_device.h.
#include <fwdsim/kvm/vgic_device.h>
#include <fwdsim/kvm/vm.h>

#include <array>
#include <cerrno>
#include <optional>

namespace fwdsim::kvm {
namespace {

class VgicDevice final : public KvmDevice {
public:
    explicit VgicDevice(Vm& vm) : vm_(vm) {}
    std::string_view name() const override { return "vgic-v2"; }

    int has_attr(const DeviceAttr& a) override
    {
        switch (a.group) {
        case kVgicGrpAddr: return a.attr <= kVgicV2AddrTypeCpu ? 0 : -ENXIO;
        case kVgicGrpDistRegs: return (a.attr & 0xFFFFFFFFu) < 0x1000 ? 0 : -ENXIO;
        case kVgicGrpNrIrqs: return 0;
        case kVgicGrpCtrl: return a.attr == kVgicCtrlInit ? 0 : -ENXIO;
        default: return -ENXIO;
        }
    }

    int set_attr(host::Process&, const DeviceAttr& a) override
    {
        switch (a.group) {
        case kVgicGrpAddr: {
            if (a.attr > kVgicV2AddrTypeCpu) return -ENXIO;
            std::uint64_t addr = 0;
            if (!a.read(addr)) return -EFAULT;
            if (addr & 0xFFF) return -EINVAL;
            auto& slot = base_[a.attr];
            if (slot) return -EEXIST;
            slot = addr;
            return 0;
        }
        case kVgicGrpDistRegs: {
            std::uint32_t value = 0;
            if (!a.read(value)) return -EFAULT;
            return dist_access(a.attr, &value, true);
        }
        case kVgicGrpNrIrqs: {
            std::uint32_t n = 0;
            if (!a.read(n)) return -EFAULT;
            return vm_.arch().set_nr_irqs(n);
        }
        case kVgicGrpCtrl:
            if (a.attr != kVgicCtrlInit) return -ENXIO;
            return vm_.ensure_vgic();
        default: return -ENXIO;
        }
    }

    int get_attr(host::Process&, const DeviceAttr& a) override
    {
        switch (a.group) {
        case kVgicGrpAddr: {
            if (a.attr > kVgicV2AddrTypeCpu) return -ENXIO;
            const std::uint64_t addr = base_[a.attr].value_or(~0ull); // VGIC_ADDR_UNDEF
            return a.write(addr) ? 0 : -EFAULT;
        }
        case kVgicGrpDistRegs: {
            std::uint32_t value = 0;
            if (const int err = dist_access(a.attr, &value, false); err < 0) return err;
            return a.write(value) ? 0 : -EFAULT;
        }
        case kVgicGrpNrIrqs: {
            const std::uint32_t n = vm_.arch().nr_irqs();
            return a.write(n) ? 0 : -EFAULT;
        }
        default: return -ENXIO;
        }
    }

private:
    int dist_access(std::uint64_t attr, std::uint32_t* value, bool write)
    {
        const auto vcpu = static_cast<unsigned>(attr >> 32);
        const auto offset = static_cast<std::uint32_t>(attr & 0xFFFFFFFFu);
        if (offset >= 0x1000 || (offset & 3)) return -ENXIO;
        if (vm_.vcpu(vcpu) == nullptr) return -EINVAL;
        if (const int err = vm_.ensure_vgic(); err < 0) return err;
        sim::Cycles ignored{}; // a VMM's save/restore, not a guest trap
        arch::Vgic& vgic = *vm_.arch().vgic();
        if (write) vgic.dist_write(vcpu, offset, *value, ignored);
        else *value = vgic.dist_read(vcpu, offset, ignored);
        return 0;
    }

    Vm& vm_;
    std::array<std::optional<std::uint64_t>, 2> base_{};
};

} // namespace

int create_vgic_device(Vm& vm, std::unique_ptr<KvmDevice>& out)
{
    if (const int err = vm.arch().create_irqchip(); err < 0) return err;
    out = std::make_unique<VgicDevice>(vm);
    return 0;
}

} // namespace fwdsim::kvm
