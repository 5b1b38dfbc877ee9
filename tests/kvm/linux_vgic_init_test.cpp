// The vgic's life cycle and the first KVM_RUN as Linux 6.18 answers them:
// arch/arm64/kvm/vgic/vgic-init.c (kvm_vgic_create, vgic_init,
// kvm_vgic_map_resources), vgic-v2.c (vgic_v2_map_resources,
// vgic_v2_check_base), virt/kvm/kvm_main.c (kvm_ioctl_create_device,
// kvm_vm_ioctl_create_vcpu, kvm_vm_dead), and the v2 parts of
// tools/testing/selftests/kvm/arm64/vgic_init.c (test_kvm_device,
// test_vcpus_then_vgic, test_vgic_then_vcpus).  docs/linux-conformance.md §1.
#include "kvm_world.h"

#include <cerrno>

using namespace fwdsim;
using fwdsim::test::KvmWorld;

namespace {
constexpr std::uint64_t kDist = kvm::kVgicV2AddrTypeDist, kCpu = kvm::kVgicV2AddrTypeCpu;
constexpr std::uint32_t kGenericV8 = 5;
const std::uint32_t kNoFeatures[7] = {0, 0, 0, 0, 0, 0, 0};

int init_all(KvmWorld& w, const std::vector<int>& vcpus)
{
    for (int fd : vcpus) {
        if (const int err = w.kvm().vcpu_init(w.vmm, fd, kGenericV8, kNoFeatures); err < 0) return err;
    }
    return 0;
}
} // namespace

TEST_CASE("kvm_main.c kvm_ioctl_create_device: ENODEV, KVM_CREATE_DEVICE_TEST creates nothing, a second vgic EEXIST (test_kvm_device)")
{
    KvmWorld w;
    const int vm = w.kvm().create_vm(w.vmm);
    CHECK(w.kvm().create_device(w.vmm, vm, 0, kvm::kCreateDeviceTest) == -ENODEV);
    CHECK(w.kvm().create_device(w.vmm, vm, 77, 0) == -ENODEV);
    const unsigned fds = w.vmm.open_count();
    CHECK(w.kvm().create_device(w.vmm, vm, kvm::kDevTypeArmVgicV2, kvm::kCreateDeviceTest) == 0);
    CHECK(w.vmm.open_count() == fds);
    CHECK_FALSE(w.vm(vm).arch().has_irqchip());
    CHECK(w.vm(vm).devices().empty());
    const int vgic = w.kvm().create_device(w.vmm, vm, kvm::kDevTypeArmVgicV2);
    CHECK(vgic >= 0);
    CHECK(w.kvm().create_device(w.vmm, vm, kvm::kDevTypeArmVgicV2) == -EEXIST);
    CHECK(w.kvm().create_device(w.vmm, vm, kvm::kDevTypeArmVgicV2, kvm::kCreateDeviceTest) == 0); // TEST asks the type only
}

TEST_CASE("kvm_main.c kvm_ioctl_create_device: with no fd to give, the device is destroyed again")
{
    KvmWorld w;
    host::Process small{"small", 4}; // fds 0..3 only
    const int vm = w.kvm().create_vm(small);
    REQUIRE(vm == 0);
    for (int i = 1; i < 4; ++i) REQUIRE(host::eventfd_create(small) == i);
    CHECK(w.kvm().create_device(small, vm, kvm::kDevTypeArmVgicV2) == -EMFILE);
    kvm::Vm& v = host::file_cast<kvm::VmFile>(small.peek(vm))->vm();
    CHECK(v.devices().empty());
    CHECK(v.refcount() == 1); // the device file's reference went with it
}

TEST_CASE("vgic-init.c kvm_vgic_create: EBUSY once a vCPU has run, before EEXIST")
{
    KvmWorld w;
    std::vector<int> vcpus;
    int vgic = -1;
    const int vm = w.vm_with_vgic(1, vcpus, vgic);
    REQUIRE(init_all(w, vcpus) == 0);
    REQUIRE(w.kvm().run(w.vmm, vcpus[0]) == 0);
    CHECK(w.kvm().create_device(w.vmm, vm, kvm::kDevTypeArmVgicV2) == -EBUSY);
    // A VM without a vgic whose vCPU ran cannot get one any more.
    const int vm2 = w.kvm().create_vm(w.vmm);
    const int c2 = w.kvm().create_vcpu(w.vmm, vm2, 0);
    REQUIRE(w.kvm().vcpu_init(w.vmm, c2, kGenericV8, kNoFeatures) == 0);
    CHECK(w.kvm().run(w.vmm, c2) == 0); // no in-kernel irqchip: nothing to map
    CHECK(w.kvm().create_device(w.vmm, vm2, kvm::kDevTypeArmVgicV2) == -EBUSY);
}

TEST_CASE("vgic-init.c vgic_init: CTRL_INIT twice is 0; vCPUs created after it are EBUSY (kvm_arch_vcpu_precreate) before EEXIST")
{
    KvmWorld w;
    std::vector<int> vcpus;
    int vgic = -1;
    const int vm = w.vm_with_vgic(2, vcpus, vgic);
    CHECK(w.ctrl_init(vgic) == 0);
    CHECK(w.kvm().create_vcpu(w.vmm, vm, 2) == -EBUSY);
    CHECK(w.kvm().create_vcpu(w.vmm, vm, 0) == -EBUSY); // an id in use: EBUSY comes first
    CHECK(w.kvm().set_device_attr(w.vmm, vgic, kvm::DeviceAttr{0, kvm::kVgicGrpCtrl, 1, {}}) == -ENXIO);
    CHECK(w.vm(vm).arch().vgic()->nr_vcpus() == 2);
}

TEST_CASE("vgic-v2.c vgic_v2_map_resources: the first KVM_RUN wants both bases (ENXIO), then frames that do not overlap (EINVAL)")
{
    SECTION("no CPU interface base: ENXIO, and the VM is dead (kvm_vm_dead, 6.12+)")
    {
        KvmWorld w;
        const int vm = w.kvm().create_vm(w.vmm);
        const int c = w.kvm().create_vcpu(w.vmm, vm, 0);
        const int vgic = w.kvm().create_device(w.vmm, vm, kvm::kDevTypeArmVgicV2);
        REQUIRE(w.set(vgic, kvm::kVgicGrpAddr, kDist, std::uint64_t{0x8000000}) == 0);
        REQUIRE(w.kvm().vcpu_init(w.vmm, c, kGenericV8, kNoFeatures) == 0);
        CHECK(w.kvm().run(w.vmm, c) == -ENXIO);
        CHECK(w.vm(vm).dead());
        CHECK(w.kvm().run(w.vmm, c) == -EIO);
        CHECK(w.set(vgic, kvm::kVgicGrpAddr, kCpu, std::uint64_t{0x8010000}) == -EIO);
        CHECK(w.kvm().create_vcpu(w.vmm, vm, 1) == -EIO);
        const int efd = host::eventfd_create(w.vmm);
        CHECK(w.kvm().irqfd(w.vmm, vm, efd, 0, 0, 0) == -EIO);
        CHECK(w.vmm.close(vgic) == 0); // close is no ioctl
    }
    SECTION("test_vcpus_then_vgic: 4 vCPUs, then the vgic with overlapping frames: KVM_RUN is EINVAL")
    {
        KvmWorld w;
        const int vm = w.kvm().create_vm(w.vmm);
        std::vector<int> vcpus;
        for (unsigned i = 0; i < 4; ++i) vcpus.push_back(w.kvm().create_vcpu(w.vmm, vm, i));
        const int vgic = w.kvm().create_device(w.vmm, vm, kvm::kDevTypeArmVgicV2);
        REQUIRE(w.set(vgic, kvm::kVgicGrpAddr, kCpu, std::uint64_t{0}) == 0);
        REQUIRE(w.set(vgic, kvm::kVgicGrpAddr, kDist, std::uint64_t{0x1000}) == 0); // inside the CPU's 8 KiB
        REQUIRE(init_all(w, vcpus) == 0);
        CHECK(w.kvm().run(w.vmm, vcpus[3]) == -EINVAL);
        CHECK(w.vm(vm).dead());
    }
    SECTION("test_vgic_then_vcpus: vCPUs added to an uninitialised vgic, the same overlap: EINVAL")
    {
        KvmWorld w;
        const int vm = w.kvm().create_vm(w.vmm);
        std::vector<int> vcpus{w.kvm().create_vcpu(w.vmm, vm, 0)};
        const int vgic = w.kvm().create_device(w.vmm, vm, kvm::kDevTypeArmVgicV2);
        REQUIRE(w.set(vgic, kvm::kVgicGrpAddr, kCpu, std::uint64_t{0}) == 0);
        REQUIRE(w.set(vgic, kvm::kVgicGrpAddr, kDist, std::uint64_t{0x1000}) == 0);
        for (unsigned i = 1; i < 4; ++i) {
            vcpus.push_back(w.kvm().create_vcpu(w.vmm, vm, i));
            REQUIRE(vcpus.back() >= 0); // allowed: the vgic is not initialised yet
        }
        REQUIRE(init_all(w, vcpus) == 0);
        CHECK(w.kvm().run(w.vmm, vcpus[0]) == -EINVAL);
    }
    SECTION("frames side by side run, and the vgic is initialised by the first run")
    {
        KvmWorld w;
        std::vector<int> vcpus;
        int vgic = -1;
        const int vm = w.vm_with_vgic(2, vcpus, vgic, /*init=*/false);
        REQUIRE(init_all(w, vcpus) == 0);
        CHECK(w.kvm().run(w.vmm, vcpus[1]) == 0);
        CHECK(w.vm(vm).vgic_ready());
        CHECK(w.vm(vm).arch().initialized());
        CHECK(w.kvm().run(w.vmm, vcpus[0]) == 0);
        CHECK_FALSE(w.vm(vm).dead());
        // kvm_trylock_all_vcpus: register access while a vCPU is in KVM_RUN.
        std::uint32_t v = 0;
        CHECK(w.get(vgic, kvm::kVgicGrpDistRegs, 0, v) == -EBUSY);
        CHECK(w.get(vgic, kvm::kVgicGrpCpuRegs, 0, v) == -EBUSY);
        CHECK(w.kvm().create_device(w.vmm, vm, kvm::kDevTypeArmVgicV2) == -EBUSY);
    }
}
