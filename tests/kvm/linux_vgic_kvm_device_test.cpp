// The vgic-v2 kvm device as Linux 6.18 answers it:
// arch/arm64/kvm/vgic/vgic-kvm-device.c (vgic_set_common_attr,
// vgic_get_common_attr, vgic_v2_attr_regs_access, vgic_v2_parse_attr,
// vgic_v2_has_attr), vgic-mmio-v2.c (vgic_v2_has_attr_regs, the CPU
// interface registers), vgic-mmio.c (vgic_uaccess), and the v2 parts of
// tools/testing/selftests/kvm/arm64/vgic_init.c (subtest_dist_rdist,
// test_v2_uaccess_cpuif_no_vcpus).  docs/linux-conformance.md §1.
#include "kvm_world.h"

#include <cerrno>

using namespace fwdsim;
using fwdsim::test::KvmWorld;

namespace {
constexpr std::uint64_t kDist = kvm::kVgicV2AddrTypeDist, kCpu = kvm::kVgicV2AddrTypeCpu;
constexpr std::uint64_t kUndef = ~std::uint64_t{0};
std::uint64_t regs_attr(unsigned vcpu, std::uint32_t offset) { return (std::uint64_t{vcpu} << 32) | offset; }
} // namespace

TEST_CASE("vgic-kvm-device.c vgic_set_common_attr ADDR: the argument first, then the type, then vgic_check_iorange's order")
{
    KvmWorld w;
    const int vm = w.kvm().create_vm(w.vmm);
    const int vgic = w.kvm().create_device(w.vmm, vm, kvm::kDevTypeArmVgicV2);
    REQUIRE(vgic >= 0);
    // copy_from_user comes before the attribute is decoded.
    CHECK(w.set_unreadable(vgic, kvm::kVgicGrpAddr, 7) == -EFAULT);
    CHECK(w.set(vgic, kvm::kVgicGrpAddr, 7, std::uint64_t{0}) == -ENXIO); // kvm_vgic_addr's ENODEV
    CHECK(w.has(vgic, kvm::kVgicGrpAddr, ~std::uint64_t{0}) == -ENXIO);
    CHECK(w.has(vgic, kvm::kVgicGrpAddr, kDist) == 0);
    CHECK(w.has(vgic, kvm::kVgicGrpAddr, kCpu) == 0);
    // subtest_dist_rdist, v2: alignment, then the IPA size (40 bits here).
    const std::uint64_t ipa = std::uint64_t{1} << w.vm(vm).ipa_bits();
    CHECK(w.set(vgic, kvm::kVgicGrpAddr, kDist, std::uint64_t{0x100}) == -EINVAL);
    CHECK(w.set(vgic, kvm::kVgicGrpAddr, kCpu, std::uint64_t{0x100}) == -EINVAL);
    CHECK(w.set(vgic, kvm::kVgicGrpAddr, kDist, ipa) == -E2BIG);
    CHECK(w.set(vgic, kvm::kVgicGrpAddr, kCpu, ipa) == -E2BIG);
    CHECK(w.set(vgic, kvm::kVgicGrpAddr, kCpu, ipa - 0x1000) == -E2BIG); // half of its 8 KiB beyond
    CHECK(w.set(vgic, kvm::kVgicGrpAddr, kDist, ipa - 0x1000) == 0);     // its 4 KiB fits
    CHECK(w.set(vgic, kvm::kVgicGrpAddr, kCpu, std::uint64_t{0xFFFFFFFFFFFFF000}) == -EINVAL); // addr + size wraps
    CHECK(w.set(vgic, kvm::kVgicGrpAddr, kCpu, std::uint64_t{0}) == 0);
    // Set once: EEXIST comes before the alignment check.
    CHECK(w.set(vgic, kvm::kVgicGrpAddr, kCpu, std::uint64_t{0xE0000}) == -EEXIST);
    CHECK(w.set(vgic, kvm::kVgicGrpAddr, kCpu, std::uint64_t{0x123}) == -EEXIST);
    CHECK(w.set(vgic, kvm::kVgicGrpAddr, kDist, std::uint64_t{0x1000}) == -EEXIST);
    std::uint64_t got = 0;
    CHECK(w.get(vgic, kvm::kVgicGrpAddr, kCpu, got) == 0);
    CHECK(got == 0);
    CHECK(w.get(vgic, kvm::kVgicGrpAddr, kDist, got) == 0);
    CHECK(got == ipa - 0x1000);
}

TEST_CASE("vgic-kvm-device.c kvm_vgic_addr read: an unset base is VGIC_ADDR_UNDEF; an unwritable argument EFAULT")
{
    KvmWorld w;
    const int vm = w.kvm().create_vm(w.vmm);
    const int vgic = w.kvm().create_device(w.vmm, vm, kvm::kDevTypeArmVgicV2);
    std::uint64_t got = 0;
    CHECK(w.get(vgic, kvm::kVgicGrpAddr, kDist, got) == 0);
    CHECK(got == kUndef);
    CHECK(w.kvm().get_device_attr(w.vmm, vgic, kvm::DeviceAttr{0, kvm::kVgicGrpAddr, kDist, {}}) == -EFAULT);
    CHECK(w.get(vgic, kvm::kVgicGrpAddr, 2, got) == -ENXIO);
}

TEST_CASE("vgic-kvm-device.c NR_IRQS: EFAULT, the range (EINVAL), then set once (EBUSY); it reads nr_spis + 32")
{
    KvmWorld w;
    std::vector<int> vcpus;
    int vgic = -1;
    const int vm = w.vm_with_vgic(1, vcpus, vgic, /*init=*/false);
    std::uint32_t n = 0;
    CHECK(w.get(vgic, kvm::kVgicGrpNrIrqs, 0, n) == 0);
    CHECK(n == 32); // no SPI yet
    CHECK(w.set_unreadable(vgic, kvm::kVgicGrpNrIrqs, 0) == -EFAULT);
    for (std::uint32_t bad : {0u, 32u, 48u, 1024u, 1056u, 100u}) {
        INFO(bad);
        CHECK(w.set(vgic, kvm::kVgicGrpNrIrqs, 0, bad) == -EINVAL);
    }
    CHECK(w.set(vgic, kvm::kVgicGrpNrIrqs, 0, std::uint32_t{128}) == 0);
    CHECK(w.get(vgic, kvm::kVgicGrpNrIrqs, 0, n) == 0);
    CHECK(n == 128);
    CHECK(w.set(vgic, kvm::kVgicGrpNrIrqs, 0, std::uint32_t{96}) == -EBUSY); // set once
    CHECK(w.set(vgic, kvm::kVgicGrpNrIrqs, 0, std::uint32_t{100}) == -EINVAL); // the range still first
    REQUIRE(w.ctrl_init(vgic) == 0);
    CHECK(w.vm(vm).arch().vgic()->nr_irqs() == 128);

    // Without a set, vgic_init's default: 224 SPIs, 256 IDs; and then EBUSY.
    std::vector<int> v2;
    int g2 = -1;
    (void)w.vm_with_vgic(1, v2, g2);
    CHECK(w.get(g2, kvm::kVgicGrpNrIrqs, 0, n) == 0);
    CHECK(n == 256);
    CHECK(w.set(g2, kvm::kVgicGrpNrIrqs, 0, std::uint32_t{128}) == -EBUSY);
}

TEST_CASE("vgic-kvm-device.c vgic_v2_parse_attr: CPU_REGS and DIST_REGS of a VM with no vCPU are EINVAL (test_v2_uaccess_cpuif_no_vcpus)")
{
    KvmWorld w;
    const int vm = w.kvm().create_vm(w.vmm);
    const int vgic = w.kvm().create_device(w.vmm, vm, kvm::kDevTypeArmVgicV2);
    std::uint32_t v = 0;
    for (std::uint32_t group : {kvm::kVgicGrpCpuRegs, kvm::kVgicGrpDistRegs}) {
        INFO("group " << group);
        CHECK(w.has(vgic, group, regs_attr(0, 0)) == -EINVAL);
        CHECK(w.get(vgic, group, regs_attr(0, 0), v) == -EINVAL);
        CHECK(w.set(vgic, group, regs_attr(0, 0), v) == -EINVAL);
        // The vCPU is decoded before the value is read.
        CHECK(w.set_unreadable(vgic, group, regs_attr(0, 0)) == -EINVAL);
    }
    CHECK_FALSE(w.vm(vm).arch().initialized());
}

TEST_CASE("vgic-kvm-device.c vgic_v2_attr_regs_access: the vCPU, EFAULT, vgic_init, then an offset with no register reads 0")
{
    KvmWorld w;
    std::vector<int> vcpus;
    int vgic = -1;
    const int vm = w.vm_with_vgic(2, vcpus, vgic, /*init=*/false);
    std::uint32_t v = 0xDEAD;
    CHECK(w.set_unreadable(vgic, kvm::kVgicGrpDistRegs, regs_attr(0, 0)) == -EFAULT);
    CHECK_FALSE(w.vm(vm).arch().initialized()); // EFAULT came before vgic_init
    CHECK(w.get(vgic, kvm::kVgicGrpDistRegs, regs_attr(5, 0), v) == -EINVAL); // no vCPU 5
    // The access initialises the vgic (vgic_init) and reaches the register.
    CHECK(w.set(vgic, kvm::kVgicGrpDistRegs, regs_attr(0, 0x100), std::uint32_t{0xFFFFFFFF}) == 0); // GICD_ISENABLER0
    CHECK(w.vm(vm).arch().initialized());
    CHECK(w.get(vgic, kvm::kVgicGrpDistRegs, regs_attr(1, 0x104), v) == 0);
    CHECK(v == 0); // ISENABLER1: SPIs 32..63 not enabled
    // vgic_uaccess: a gap, an offset past the frame or a misaligned one
    // reads 0 and a write changes nothing: 0 in both cases.
    for (std::uint32_t off : {0x0C0u, 0x2000u, 0x101u, 0xFFFFFFFCu}) {
        INFO(std::hex << off);
        v = 0xDEAD;
        CHECK(w.get(vgic, kvm::kVgicGrpDistRegs, regs_attr(0, off), v) == 0);
        CHECK(v == 0);
        CHECK(w.set(vgic, kvm::kVgicGrpDistRegs, regs_attr(0, off), std::uint32_t{1}) == 0);
    }
    // The vCPU id is 8 bits (KVM_DEV_ARM_VGIC_CPUID_MASK): bit 40 up is not part of it.
    CHECK(w.get(vgic, kvm::kVgicGrpDistRegs, (std::uint64_t{0x101} << 32) | 0x104, v) == 0);
    // put_user of the value read.
    CHECK(w.kvm().get_device_attr(w.vmm, vgic, kvm::DeviceAttr{0, kvm::kVgicGrpDistRegs, regs_attr(0, 0), {}}) == -EFAULT);
}

TEST_CASE("vgic-mmio-v2.c vgic_v2_has_attr_regs: the vCPU, alignment, a register there, per-IRQ registers within nr_irqs")
{
    KvmWorld w;
    std::vector<int> vcpus;
    int vgic = -1;
    (void)w.vm_with_vgic(1, vcpus, vgic, /*init=*/false);
    CHECK(w.has(vgic, kvm::kVgicGrpDistRegs, regs_attr(0, 0x000)) == 0);  // GICD_CTLR
    CHECK(w.has(vgic, kvm::kVgicGrpDistRegs, regs_attr(0, 0x002)) == -ENXIO); // misaligned
    CHECK(w.has(vgic, kvm::kVgicGrpDistRegs, regs_attr(0, 0x0C0)) == -ENXIO); // a gap
    CHECK(w.has(vgic, kvm::kVgicGrpDistRegs, regs_attr(0, 0x100)) == 0);  // ISENABLER0: SGIs and PPIs
    CHECK(w.has(vgic, kvm::kVgicGrpDistRegs, regs_attr(0, 0x104)) == -ENXIO); // SPIs 32..63: none before NR_IRQS or init
    REQUIRE(w.ctrl_init(vgic) == 0);
    CHECK(w.has(vgic, kvm::kVgicGrpDistRegs, regs_attr(0, 0x104)) == 0);      // 256 IDs now
    CHECK(w.has(vgic, kvm::kVgicGrpDistRegs, regs_attr(0, 0x120)) == -ENXIO); // IDs 256.. still none
    CHECK(w.has(vgic, kvm::kVgicGrpDistRegs, regs_attr(1, 0x000)) == -EINVAL);
    // The CPU interface's registers (vgic_v2_cpu_registers).
    for (std::uint32_t off : {0x00u, 0x04u, 0x08u, 0x1Cu, 0xD0u, 0xDCu, 0xFCu}) {
        INFO(std::hex << off);
        CHECK(w.has(vgic, kvm::kVgicGrpCpuRegs, regs_attr(0, off)) == 0);
    }
    for (std::uint32_t off : {0x0Cu, 0x10u, 0x02u, 0xE0u, 0x1000u}) {
        INFO(std::hex << off);
        CHECK(w.has(vgic, kvm::kVgicGrpCpuRegs, regs_attr(0, off)) == -ENXIO);
    }
}

TEST_CASE("vgic-mmio-v2.c vgic_mmio_{read,write}_vcpuif: CPU_REGS reach the saved GICC_CTLR, PMR, BPR, ABPR, APR0 and IIDR")
{
    KvmWorld w;
    std::vector<int> vcpus;
    int vgic = -1;
    (void)w.vm_with_vgic(2, vcpus, vgic);
    std::uint32_t v = 0;
    CHECK(w.get(vgic, kvm::kVgicGrpCpuRegs, regs_attr(0, 0x08), v) == 0);
    CHECK(v == 2); // GICC_BPR's reset value
    CHECK(w.get(vgic, kvm::kVgicGrpCpuRegs, regs_attr(0, 0x1C), v) == 0);
    CHECK(v == 3); // GICC_ABPR's
    CHECK(w.set(vgic, kvm::kVgicGrpCpuRegs, regs_attr(1, 0x00), std::uint32_t{0xFFFFFFFF}) == 0);
    CHECK(w.get(vgic, kvm::kVgicGrpCpuRegs, regs_attr(1, 0x00), v) == 0);
    CHECK(v == 0x21F); // EnableGrp0/1, AckCtl, FIQEn, CBPR, EOImode: the bits VMCR keeps
    CHECK(w.set(vgic, kvm::kVgicGrpCpuRegs, regs_attr(1, 0x04), std::uint32_t{0xFF}) == 0);
    CHECK(w.get(vgic, kvm::kVgicGrpCpuRegs, regs_attr(1, 0x04), v) == 0);
    CHECK(v == 0xF8); // 32 priority levels
    CHECK(w.get(vgic, kvm::kVgicGrpCpuRegs, regs_attr(0, 0x04), v) == 0);
    CHECK(v == 0); // vCPU 0's own interface is untouched
    CHECK(w.set(vgic, kvm::kVgicGrpCpuRegs, regs_attr(1, 0xD0), std::uint32_t{0x5}) == 0);
    CHECK(w.get(vgic, kvm::kVgicGrpCpuRegs, regs_attr(1, 0xD0), v) == 0);
    CHECK(v == 0x5);
    CHECK(w.set(vgic, kvm::kVgicGrpCpuRegs, regs_attr(1, 0xD4), std::uint32_t{0x5}) == 0); // APR1: ignored
    CHECK(w.get(vgic, kvm::kVgicGrpCpuRegs, regs_attr(1, 0xD4), v) == 0);
    CHECK(v == 0);
    CHECK(w.get(vgic, kvm::kVgicGrpCpuRegs, regs_attr(0, 0xFC), v) == 0);
    CHECK(v == ((0x4Bu << 20) | (2u << 16) | 0x43Bu)); // KVM, GICv2, ARM
}
