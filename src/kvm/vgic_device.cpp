// The vgic-v2 kvm device (arch/arm64/kvm/vgic/vgic-kvm-device.c, Linux
// 6.18).  See include/fwdsim/kvm/vgic_device.h.
#include <fwdsim/gic/gicd_map.h>
#include <fwdsim/kvm/vgic_device.h>
#include <fwdsim/kvm/vm.h>

#include <cerrno>

namespace fwdsim::kvm {
namespace {

/// KVM_DEV_ARM_VGIC_CPUID_MASK and _OFFSET_MASK: the vCPU id is 8 bits.
constexpr unsigned kCpuidShift = 32;
constexpr std::uint64_t kCpuidMask = 0xFF, kOffsetMask = 0xFFFFFFFF;

class VgicDevice final : public KvmDevice {
public:
    explicit VgicDevice(Vm& vm) : vm_(vm) {}
    std::string_view name() const override { return "vgic-v2"; }

    // vgic_v2_has_attr.
    int has_attr(const DeviceAttr& a) override
    {
        switch (a.group) {
        case kVgicGrpAddr: return a.attr <= kVgicV2AddrTypeCpu ? 0 : -ENXIO;
        case kVgicGrpDistRegs:
        case kVgicGrpCpuRegs: return has_regs(a);
        case kVgicGrpNrIrqs: return 0;
        case kVgicGrpCtrl: return a.attr == kVgicCtrlInit ? 0 : -ENXIO;
        default: return -ENXIO;
        }
    }

    // vgic_v2_set_attr -> vgic_v2_attr_regs_access / vgic_set_common_attr.
    int set_attr(host::Process&, const DeviceAttr& a) override
    {
        switch (a.group) {
        case kVgicGrpAddr: {
            // The argument is read before the attribute is decoded;
            // kvm_vgic_addr's ENODEV for an unknown type is ENXIO here.
            std::uint64_t addr = 0;
            if (!a.read(addr)) return -EFAULT;
            if (a.attr > kVgicV2AddrTypeCpu) return -ENXIO;
            return vm_.set_vgic_base(static_cast<unsigned>(a.attr), addr);
        }
        case kVgicGrpDistRegs:
        case kVgicGrpCpuRegs: {
            std::uint32_t value = 0;
            return regs_access(a, &value, true);
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

    // vgic_v2_get_attr -> vgic_v2_attr_regs_access / vgic_get_common_attr.
    int get_attr(host::Process&, const DeviceAttr& a) override
    {
        switch (a.group) {
        case kVgicGrpAddr: {
            if (a.attr > kVgicV2AddrTypeCpu) return -ENXIO;
            const std::uint64_t addr = vm_.vgic_base(static_cast<unsigned>(a.attr)); // VGIC_ADDR_UNDEF when unset
            return a.write(addr) ? 0 : -EFAULT;
        }
        case kVgicGrpDistRegs:
        case kVgicGrpCpuRegs: {
            std::uint32_t value = 0;
            return regs_access(a, &value, false);
        }
        case kVgicGrpNrIrqs: {
            const std::uint32_t n = vm_.arch().configured_nr_irqs();
            return a.write(n) ? 0 : -EFAULT;
        }
        default: return -ENXIO;
        }
    }

private:
    /// vgic_v2_parse_attr: the vCPU by its 8-bit id, or null.
    Vcpu* attr_vcpu(const DeviceAttr& a) const
    {
        return vm_.vcpu(static_cast<unsigned>((a.attr >> kCpuidShift) & kCpuidMask));
    }

    /// The interrupt IDs the distributor's per-IRQ registers cover now.
    unsigned nr_irqs() const { return vm_.arch().configured_nr_irqs(); }

    /// vgic_v2_has_attr_regs: the vCPU, the alignment, then a register at
    /// the offset (a per-IRQ register beyond the vgic's IRQs is none).
    int has_regs(const DeviceAttr& a) const
    {
        if (attr_vcpu(a) == nullptr) return -EINVAL;
        const auto off = static_cast<std::uint32_t>(a.attr & kOffsetMask);
        if (off & 3) return -ENXIO;
        if (a.group == kVgicGrpCpuRegs) return arch::Vgic::cpuif_has(off) ? 0 : -ENXIO;
        const gic::GicdRange* r = gic::gicd_decode(off);
        if (r == nullptr) return -ENXIO;
        if (r->bits_per_irq != 0 && r->intid_at(off) >= nr_irqs()) return -ENXIO;
        return 0;
    }

    /// vgic_v2_attr_regs_access: the vCPU (EINVAL), the value (EFAULT), no
    /// vCPU in KVM_RUN (EBUSY: kvm_trylock_all_vcpus), vgic_init, then the
    /// access -- an offset with no register reads 0 and ignores a write
    /// (vgic_uaccess) -- and the value back (EFAULT).
    int regs_access(const DeviceAttr& a, std::uint32_t* value, bool write)
    {
        Vcpu* vcpu = attr_vcpu(a);
        if (vcpu == nullptr) return -EINVAL;
        if (write && !a.read(*value)) return -EFAULT;
        if (vm_.any_vcpu_in_run()) return -EBUSY;
        if (const int err = vm_.ensure_vgic(); err < 0) return err;
        const auto off = static_cast<std::uint32_t>(a.attr & kOffsetMask);
        arch::Vgic& vgic = *vm_.arch().vgic();
        if (a.group == kVgicGrpCpuRegs) {
            if (write) vgic.cpuif_write(vcpu->id(), off, *value);
            else *value = vgic.cpuif_read(vcpu->id(), off);
        } else {
            sim::Cycles ignored{}; // a VMM's save/restore, not a guest trap
            const bool known = (off & 3) == 0 && gic::gicd_decode(off) != nullptr;
            if (write && known) vgic.dist_write(vcpu->id(), off, *value, ignored);
            else if (!write) *value = known ? vgic.dist_read(vcpu->id(), off, ignored) : 0;
        }
        if (!write && !a.write(*value)) return -EFAULT;
        return 0;
    }

    Vm& vm_;
};

} // namespace

int create_vgic_device(Vm& vm, std::unique_ptr<KvmDevice>& out)
{
    // kvm_vgic_create: every vCPU's mutex (EBUSY while one is in KVM_RUN),
    // then EEXIST, then EBUSY once a vCPU has run; at most 8 vCPUs (E2BIG)
    // cannot be exceeded here, as no VM has more.
    if (vm.any_vcpu_in_run()) return -EBUSY;
    if (vm.arch().has_irqchip()) return -EEXIST;
    if (vm.any_vcpu_has_run()) return -EBUSY;
    if (const int err = vm.arch().create_irqchip(); err < 0) return err;
    out = std::make_unique<VgicDevice>(vm);
    return 0;
}

} // namespace fwdsim::kvm
