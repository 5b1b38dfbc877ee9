// KVM_IRQFD as Linux 6.18 answers it: virt/kvm/eventfd.c and the selftest
// tools/testing/selftests/kvm/irqfd_test.c (docs/linux-conformance.md §2).
// Each case names the Linux function whose checks it follows.
#include "kvm_world.h"

#include <cerrno>

using namespace fwdsim;
using fwdsim::test::KvmWorld;

namespace {
constexpr std::uint32_t kResample = kvm::kIrqfdFlagResample, kDeassign = kvm::kIrqfdFlagDeassign;
}

TEST_CASE("virt/kvm/eventfd.c kvm_irqfd_assign: EAGAIN until the vgic is initialised, before any fd is looked at")
{
    KvmWorld w;
    std::vector<int> vcpus;
    int vgic = -1;
    const int vm = w.vm_with_vgic(1, vcpus, vgic, /*init=*/false);
    const int efd = host::eventfd_create(w.vmm);
    // kvm_arch_intc_initialized (arm64: vgic_initialized) comes first: even
    // a closed fd or a bad resamplefd answers EAGAIN.
    CHECK(w.kvm().irqfd(w.vmm, vm, efd, 10, 0, 0) == -EAGAIN);
    CHECK(w.kvm().irqfd(w.vmm, vm, 99, 10, 0, 0) == -EAGAIN);
    CHECK(w.kvm().irqfd(w.vmm, vm, efd, 10, kResample, 99) == -EAGAIN);
    // kvm_irqfd: unknown flags are refused before the path is chosen.
    CHECK(w.kvm().irqfd(w.vmm, vm, efd, 10, 1u << 2, 0) == -EINVAL);
    // kvm_irqfd_deassign has no such check.
    CHECK(w.kvm().irqfd(w.vmm, vm, efd, 10, kDeassign, 0) == 0);
    CHECK(w.vm(vm).irqfd_count() == 0);
    REQUIRE(w.ctrl_init(vgic) == 0);
    CHECK(w.kvm().irqfd(w.vmm, vm, efd, 10, 0, 0) == 0);
    CHECK(w.vm(vm).irqfd_count() == 1);
}

TEST_CASE("virt/kvm/eventfd.c kvm_irqfd_assign: a VM with no vgic at all answers EAGAIN")
{
    KvmWorld w;
    const int vm = w.kvm().create_vm(w.vmm);
    REQUIRE(w.kvm().create_vcpu(w.vmm, vm, 0) >= 0);
    const int efd = host::eventfd_create(w.vmm);
    CHECK(w.kvm().irqfd(w.vmm, vm, efd, 10, 0, 0) == -EAGAIN);
}

TEST_CASE("virt/kvm/eventfd.c kvm_irqfd_assign: the eventfd, then the resamplefd, then EBUSY")
{
    KvmWorld w;
    std::vector<int> vcpus;
    int vgic = -1;
    const int vm = w.vm_with_vgic(1, vcpus, vgic);
    const int efd = host::eventfd_create(w.vmm), rfd = host::eventfd_create(w.vmm);
    CHECK(w.kvm().irqfd(w.vmm, vm, 99, 10, 0, 0) == -EBADF);            // fdget
    CHECK(w.kvm().irqfd(w.vmm, vm, vgic, 10, 0, 0) == -EINVAL);         // eventfd_ctx_fileget: not an eventfd
    CHECK(w.kvm().irqfd(w.vmm, vm, efd, 10, kResample, 99) == -EBADF);  // eventfd_ctx_fdget(resamplefd)
    CHECK(w.kvm().irqfd(w.vmm, vm, efd, 10, kResample, vm) == -EINVAL);
    // A resamplefd not given is the zeroed struct's 0: stdin, no eventfd.
    CHECK(w.kvm().irqfd(w.vmm, vm, efd, 10, kResample, 0) == -EINVAL);
    REQUIRE(w.kvm().irqfd(w.vmm, vm, efd, 10, 0, 0) == 0);
    // The resamplefd is looked up before the busy eventfd is found.
    CHECK(w.kvm().irqfd(w.vmm, vm, efd, 11, kResample, 99) == -EBADF);
    CHECK(w.kvm().irqfd(w.vmm, vm, efd, 11, kResample, rfd) == -EBUSY);
    CHECK(w.vm(vm).irqfd_count() == 1);
    CHECK(w.vm(vm).resampler_count() == 0); // the failed assignment left no resampler
}

TEST_CASE("virt/kvm/eventfd.c kvm_irqfd_register (6.16+): one irqfd per eventfd across VMs, as irqfd_test.c checks")
{
    KvmWorld w;
    std::vector<int> v1, v2;
    int g1 = -1, g2 = -1;
    const int vm1 = w.vm_with_vgic(1, v1, g1);
    const int vm2 = w.vm_with_vgic(1, v2, g2);
    const int efd = host::eventfd_create(w.vmm);
    REQUIRE(w.kvm().irqfd(w.vmm, vm1, efd, 10, 0, 0) == 0);
    CHECK(w.kvm().irqfd(w.vmm, vm1, efd, 11, 0, 0) == -EBUSY);
    CHECK(w.kvm().irqfd(w.vmm, vm2, efd, 12, 0, 0) == -EBUSY);
    // Deassigning GSIs never assigned is allowed while the eventfd is valid.
    for (std::uint32_t gsi : {11u, 12u, 13u, 14u, 10u}) {
        INFO("gsi " << gsi);
        CHECK(w.kvm().irqfd(w.vmm, vm1, efd, gsi, kDeassign, 0) == 0);
    }
    CHECK(w.vm(vm1).irqfd_count() == 0);
    // Once vm1 let go, vm2 may take it; then vm1 is the one refused.
    CHECK(w.kvm().irqfd(w.vmm, vm2, efd, 12, 0, 0) == 0);
    CHECK(w.kvm().irqfd(w.vmm, vm1, efd, 10, 0, 0) == -EBUSY);
    // kvm_irqfd_deassign looks the eventfd up: a closed fd is EBADF.
    CHECK(w.kvm().irqfd(w.vmm, vm1, 99, 10, kDeassign, 0) == -EBADF);
    CHECK(w.kvm().irqfd(w.vmm, vm1, vm1, 10, kDeassign, 0) == -EINVAL);
    // Closing the eventfd hangs the irqfd up (POLLHUP): the eventfd is free.
    REQUIRE(w.vmm.close(efd) == 0);
    CHECK(w.vm(vm2).irqfd_count() == 0);
}

TEST_CASE("virt/kvm/eventfd.c kvm_irqfd_assign: an unrouted GSI and RESAMPLE on an MSI route are accepted")
{
    KvmWorld w;
    std::vector<int> vcpus;
    int vgic = -1;
    const int vm = w.vm_with_vgic(1, vcpus, vgic);
    kvm::Vm& v = w.vm(vm);
    // Far beyond the vgic's SPIs: nothing injects, nothing fails.
    const int e1 = host::eventfd_create(w.vmm);
    CHECK(w.kvm().irqfd(w.vmm, vm, e1, 5000, 0, 0) == 0);
    host::EventfdCtxRef c1;
    REQUIRE(host::eventfd_ctx_fdget(w.vmm, e1, c1) == 0);
    c1->signal(1);
    w.events.run_until(w.events.now() + sim::Cycles{100000});
    for (unsigned id = 32; id < v.arch().vgic()->nr_irqs(); ++id) CHECK_FALSE(v.arch().vgic()->irq(0, id)->pending());
    // RESAMPLE on an MSI route: kvm_irqfd_assign does not look at the route.
    const std::vector<kvm::RoutingEntry> table{{6, kvm::kIrqRoutingMsi, 0, 0x08020040, 70}};
    REQUIRE(w.kvm().set_gsi_routing(w.vmm, vm, table) == 0);
    const int e2 = host::eventfd_create(w.vmm), r2 = host::eventfd_create(w.vmm);
    CHECK(w.kvm().irqfd(w.vmm, vm, e2, 6, kResample, r2) == 0);
    CHECK(v.resampler_count() == 1);
    CHECK(w.kvm().irqfd(w.vmm, vm, e2, 6, kDeassign, 0) == 0);
    CHECK(v.resampler_count() == 0);
}
