// Bad input to the KVM uapi: wrong fds, fds of the wrong kind, out-of-range
// numbers, wrong flags and sizes.  Each call gets Linux's errno and leaves
// the full state -- VFIO, the host IRQs, the GIC, the VM's irqfds, vCPUs,
// devices and every virtual interrupt -- exactly as it was.
#include "kvm_vfio_fixture.h"

#include <fwdsim/kvm/vgic_device.h>

#include <cerrno>

using namespace fwdsim;
using namespace fwdsim::test;

namespace {

std::string full_state(KvmVfioWorld& w)
{
    std::string s = w.state();
    kvm::Vm& vm = w.vm();
    s += " irqfds=" + std::to_string(vm.irqfd_count()) + " resamplers=" + std::to_string(vm.resampler_count()) +
         " vcpus=" + std::to_string(vm.vcpu_count()) + " devices=" + std::to_string(vm.devices().size()) +
         " vms=" + std::to_string(w.kvm->vms().size()) + " fds=" + std::to_string(w.vmm.open_count()) +
         " nr_irqs=" + std::to_string(vm.arch().nr_irqs()) + " vgic=" + std::to_string(vm.arch().initialized());
    if (const arch::Vgic* v = vm.arch().vgic()) {
        for (unsigned id = 16; id < v->nr_irqs(); ++id) {
            const arch::VirtualIrq* q = v->irq(0, id);
            if (q->pending() || q->active || q->line_level) s += " v" + std::to_string(id);
        }
    }
    return s;
}

} // namespace

TEST_CASE("bad KVM calls get Linux's errno and change nothing")
{
    KvmVfioWorld w;
    REQUIRE(w.vm().ensure_vgic() == 0);
    const int efd = host::eventfd_create(w.vmm);
    const int rfd = host::eventfd_create(w.vmm);
    REQUIRE(w.kvm->irqfd(w.vmm, w.vm_fd, efd, 16, 0, -1) == 0); // something to keep intact
    const std::string before = full_state(w);
    auto same = [&](int got, int want, const char* what) {
        INFO(what);
        CHECK(got == want);
        CHECK(full_state(w) == before);
    };
    std::uint32_t n = 128;
    std::uint64_t addr = 0x1000;
    auto attr = [](std::uint32_t group, std::uint64_t a, void* p, std::size_t size) {
        return kvm::DeviceAttr{0, group, a, {static_cast<std::uint8_t*>(p), size}};
    };

    // fds that are not open, and fds of the wrong kind, on every VM call.
    same(w.kvm->create_vcpu(w.vmm, 99, 1), -EBADF, "CREATE_VCPU on a closed fd");
    same(w.kvm->create_vcpu(w.vmm, w.pfd, 1), -ENOTTY, "CREATE_VCPU on a VFIO device fd");
    same(w.kvm->create_device(w.vmm, w.vgic_fd, kvm::kDevTypeVfio), -ENOTTY, "CREATE_DEVICE on a device fd");
    same(w.kvm->irqfd(w.vmm, w.kv_fd, efd, 16, 0, -1), -ENOTTY, "IRQFD on a device fd");
    same(w.kvm->irq_line(w.vmm, w.gfd, (kvm::kArmIrqTypeSpi << 24) | 48, 1), -ENOTTY, "IRQ_LINE on a group fd");
    same(w.kvm->run(w.vmm, w.vm_fd), -ENOTTY, "RUN on a VM fd");
    same(w.kvm->set_device_attr(w.vmm, w.vcpu_fd, attr(kvm::kVgicGrpNrIrqs, 0, &n, sizeof n)), -ENOTTY,
         "SET_DEVICE_ATTR on a vCPU fd");
    // Out-of-range numbers.
    same(w.kvm->create_vcpu(w.vmm, w.vm_fd, 8), -EINVAL, "vCPU id beyond KVM_MAX_VCPUS");
    // kvm_arch_vcpu_precreate's EBUSY comes before the duplicate id.
    same(w.kvm->create_vcpu(w.vmm, w.vm_fd, 0), -EBUSY, "vCPU id in use, after the vgic is initialised");
    same(w.kvm->create_vcpu(w.vmm, w.vm_fd, 1), -EBUSY, "vCPU after the vgic is initialised");
    same(w.kvm->create_device(w.vmm, w.vm_fd, 77), -ENODEV, "unknown device type");
    same(w.kvm->create_device(w.vmm, w.vm_fd, kvm::kDevTypeArmVgicV2), -EEXIST, "a second vgic-v2");
    same(w.kvm->create_device(w.vmm, w.vm_fd, kvm::kDevTypeVfio), -EBUSY, "a second kvm-vfio device");
    same(w.kvm->irq_line(w.vmm, w.vm_fd, (kvm::kArmIrqTypeSpi << 24) | 20, 1), -EINVAL, "IRQ_LINE of a PPI as an SPI");
    same(w.kvm->irq_line(w.vmm, w.vm_fd, (kvm::kArmIrqTypeSpi << 24) | 9999, 1), -EINVAL, "IRQ_LINE beyond the vgic");
    same(w.kvm->irq_line(w.vmm, w.vm_fd, (kvm::kArmIrqTypePpi << 24) | (5u << 16) | 27, 1), -EINVAL, "PPI of a missing vCPU");
    same(w.kvm->irq_line(w.vmm, w.vm_fd, 9u << 24, 1), -EINVAL, "unknown IRQ_LINE type");
    // Wrong flags.
    same(w.kvm->irqfd(w.vmm, w.vm_fd, rfd, 16, 1u << 5, -1), -EINVAL, "unknown irqfd flag");
    same(w.kvm->irqfd(w.vmm, w.vm_fd, efd, 17, 0, -1), -EBUSY, "an eventfd assigned twice");
    same(w.kvm->irqfd(w.vmm, w.vm_fd, rfd, 16, kvm::kIrqfdFlagResample, 99), -EBADF, "a closed resamplefd");
    same(w.kvm->irqfd(w.vmm, w.vm_fd, w.pfd, 16, 0, -1), -EINVAL, "an irqfd that is not an eventfd");
    // Wrong attributes and sizes.
    same(w.kvm->set_device_attr(w.vmm, w.vgic_fd, attr(kvm::kVgicGrpNrIrqs, 0, &n, 2)), -EFAULT, "short NR_IRQS");
    same(w.kvm->set_device_attr(w.vmm, w.vgic_fd, attr(kvm::kVgicGrpNrIrqs, 0, &n, sizeof n)), -EBUSY, "NR_IRQS after init");
    same(w.kvm->set_device_attr(w.vmm, w.vgic_fd, attr(42, 0, &n, sizeof n)), -ENXIO, "unknown vgic group");
    same(w.kvm->set_device_attr(w.vmm, w.vgic_fd, attr(kvm::kVgicGrpAddr, 7, &addr, sizeof addr)), -ENXIO, "unknown address type");
    std::uint64_t odd = 0x1234;
    same(w.kvm->set_device_attr(w.vmm, w.vgic_fd, attr(kvm::kVgicGrpAddr, 0, &odd, sizeof odd)), -EINVAL, "unaligned base");
    same(w.kvm->set_device_attr(w.vmm, w.vgic_fd, attr(kvm::kVgicGrpCtrl, 9, nullptr, 0)), -ENXIO, "unknown CTRL attribute");
    same(w.kvm->has_device_attr(w.vmm, w.vgic_fd, attr(kvm::kVgicGrpCpuRegs, 0x40, nullptr, 0)), -ENXIO, "no GICC register there");
    same(w.kvm->has_device_attr(w.vmm, w.vgic_fd, attr(kvm::kVgicGrpCpuRegs, 5ull << 32, nullptr, 0)), -EINVAL, "CPU_REGS of a missing vCPU");
    same(w.kvm->set_device_attr(w.vmm, w.kv_fd, attr(kvm_vfio::kDevVfioGroup, 9, nullptr, 0)), -ENXIO, "unknown kvm-vfio attribute");
    // A dead caller.
    host::Process dead{"dead"};
    dead.kill(std::vector<int>{});
    same(w.kvm->create_vm(dead), -ESRCH, "a killed process");
}
