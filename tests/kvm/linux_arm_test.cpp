// KVM_ARM_VCPU_INIT and KVM_RUN's first checks as Linux 6.18 answers them:
// arch/arm64/kvm/arm.c (kvm_arch_vcpu_ioctl_vcpu_init, kvm_vcpu_set_target,
// kvm_vcpu_init_check_features, __kvm_vcpu_set_target,
// kvm_arch_vcpu_run_pid_change).  docs/linux-conformance.md §1.
#include "kvm_world.h"

#include <array>
#include <cerrno>

using namespace fwdsim;
using fwdsim::test::KvmWorld;

namespace {
constexpr std::uint32_t kGenericV8 = 5;
std::array<std::uint32_t, 7> feats(std::uint32_t f0, std::size_t word = 0, std::uint32_t other = 0)
{
    std::array<std::uint32_t, 7> a{};
    a[0] = f0;
    if (word != 0) a[word] = other;
    return a;
}
} // namespace

TEST_CASE("arm.c kvm_arch_vcpu_run_pid_change: KVM_RUN before KVM_ARM_VCPU_INIT is ENOEXEC")
{
    KvmWorld w;
    std::vector<int> vcpus;
    int vgic = -1;
    const int vm = w.vm_with_vgic(1, vcpus, vgic);
    CHECK(w.kvm().run(w.vmm, vcpus[0]) == -ENOEXEC);
    CHECK_FALSE(w.vm(vm).dead()); // no vgic work was done
    CHECK(w.kvm().run(w.vmm, vgic) == -ENOTTY); // kvm_device_ioctl: the vgic has no ioctl op
    REQUIRE(w.kvm().vcpu_init(w.vmm, vcpus[0], kGenericV8, feats(0)) == 0);
    CHECK(w.kvm().run(w.vmm, vcpus[0]) == 0);
}

TEST_CASE("arm.c kvm_vcpu_set_target / kvm_vcpu_init_check_features: the target, ENOENT, EINVAL, and one feature set a VM")
{
    KvmWorld w;
    const int vm = w.kvm().create_vm(w.vmm);
    const int c0 = w.kvm().create_vcpu(w.vmm, vm, 0), c1 = w.kvm().create_vcpu(w.vmm, vm, 1);
    // The target: GENERIC_V8 (what KVM_ARM_PREFERRED_TARGET answers) only.
    CHECK(w.kvm().vcpu_init(w.vmm, c0, 0, feats(0)) == -EINVAL);
    CHECK(w.kvm().vcpu_init(w.vmm, c0, kGenericV8, feats(1u << 9)) == -ENOENT); // beyond KVM_VCPU_VALID_FEATURES
    CHECK(w.kvm().vcpu_init(w.vmm, c0, 0, feats(1u << 9)) == -EINVAL);          // the target is checked first
    CHECK(w.kvm().vcpu_init(w.vmm, c0, kGenericV8, feats(0, 3, 1)) == -ENOENT); // features[1..6] must be 0
    // Valid bits the modelled host lacks: EL1_32BIT, PMU_V3, SVE, HAS_EL2.
    for (unsigned bit : {1u, 3u, 4u, 7u}) {
        INFO("feature " << bit);
        CHECK(w.kvm().vcpu_init(w.vmm, c0, kGenericV8, feats(1u << bit)) == -EINVAL);
    }
    CHECK_FALSE(host::file_cast<kvm::VcpuFile>(w.vmm.peek(c0))->vcpu().initialized());
    // POWER_OFF is per call and not part of the set; PSCI 0.2 is.
    REQUIRE(w.kvm().vcpu_init(w.vmm, c0, kGenericV8, feats((1u << 0) | (1u << 2))) == 0);
    CHECK(w.kvm().vcpu_init(w.vmm, c0, kGenericV8, feats(1u << 2)) == 0); // the same set again
    CHECK(w.kvm().vcpu_init(w.vmm, c0, kGenericV8, feats(0)) == -EINVAL); // another set for this vCPU
    // __kvm_vcpu_set_target: the first init fixed the VM's set.
    CHECK(w.kvm().vcpu_init(w.vmm, c1, kGenericV8, feats(0)) == -EINVAL);
    CHECK(w.kvm().vcpu_init(w.vmm, c1, kGenericV8, feats(1u << 2)) == 0);
    CHECK(host::file_cast<kvm::VcpuFile>(w.vmm.peek(c1))->vcpu().features() == (1u << 2));
}

TEST_CASE("arm.c kvm_vm_ioctl_irq_line: the ranges before vgic_lazy_init, VCPU2's bits, an unknown type")
{
    KvmWorld w;
    std::vector<int> vcpus;
    int vgic = -1;
    const int vm = w.vm_with_vgic(1, vcpus, vgic, /*init=*/false);
    kvm::Vm& v = w.vm(vm);
    auto field = [](std::uint32_t type, std::uint32_t vcpu, std::uint32_t num) {
        return (type << kvm::kArmIrqTypeShift) | ((vcpu & 0xFF) << kvm::kArmIrqVcpuShift) | ((vcpu >> 8) << 28) | num;
    };
    // Refused by their ranges before kvm_vgic_inject_irq's lazy init.
    CHECK(v.irq_line(field(kvm::kArmIrqTypePpi, 0, 5), 1) == -EINVAL);
    CHECK(v.irq_line(field(kvm::kArmIrqTypeSpi, 0, 3), 1) == -EINVAL);
    CHECK(v.irq_line(field(kvm::kArmIrqTypePpi, 256, 27), 1) == -EINVAL); // vCPU index 256 (VCPU2 = 1)
    CHECK(v.irq_line(field(9, 0, 48), 1) == -EINVAL);
    CHECK_FALSE(v.arch().initialized());
    // VCPU2's bits are not part of the type: an SPI ignores them.
    CHECK(v.irq_line(field(kvm::kArmIrqTypeSpi, 256, 48), 1) == 0);
    CHECK(v.arch().initialized()); // lazily, by the injection
    CHECK(v.irq_line(field(kvm::kArmIrqTypeSpi, 0, 300), 1) == -EINVAL); // beyond the vgic's 256 IDs
    CHECK(v.irq_line(field(kvm::kArmIrqTypeCpu, 0, 0), 1) == -ENXIO);    // the in-kernel irqchip owns the CPU lines
}
