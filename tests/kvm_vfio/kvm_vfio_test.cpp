// The kvm-vfio device over a real host: every errno of group ADD/DEL and
// FORWARD/UNFORWARD_IRQ with "nothing changed" after each refusal, one
// device reference per forwarded IRQ, destruction by killing the VMM in
// every close order, and unforwarding an interrupt that is active on the
// guest's behalf.  docs/kvm-vfio.md is the table these tests hold the
// implementation to.
#include "kvm_vfio_fixture.h"

#include <fwdsim/arch/vgic.h>
#include <fwdsim/gic/registers.h>
#include <fwdsim/vfio/uapi.h>

#include <algorithm>
#include <array>
#include <cerrno>

using namespace fwdsim;
using fwdsim::test::KvmVfioWorld;
using fwdsim::test::kEdgeIrq;
using fwdsim::test::kLevelIrq;
namespace kv = fwdsim::kvm_vfio;

namespace {

constexpr std::uint32_t kTrigger = vfio::VFIO_IRQ_SET_ACTION_TRIGGER;

/// A refused call: the errno, and not one bit of state changed.
#define CHECK_REFUSED(w, call, err)                                                                                   \
    do {                                                                                                               \
        const std::string before_ = (w).state();                                                                       \
        CHECK((call) == -(err));                                                                                       \
        CHECK((w).state() == before_);                                                                                 \
    } while (0)

int raw_attr(KvmVfioWorld& w, std::uint32_t group, std::uint64_t attr, std::span<std::uint8_t> data)
{
    return w.kvm->set_device_attr(w.vmm, w.kv_fd, kvm::DeviceAttr{0, group, attr, data});
}

/// The state every VMM-side user must leave behind once it is gone.
void check_released(KvmVfioWorld& w)
{
    CHECK(w.kvm->vms().empty());
    const auto vfio_bad = w.vfio.released_state_violations();
    CHECK(vfio_bad.empty());
    for (const auto& s : vfio_bad) UNSCOPED_INFO(s);
    CHECK(w.irqs->released_state_violations(kLevelIrq).empty());
    CHECK(w.irqs->released_state_violations(kEdgeIrq).empty());
    CHECK(w.plat->refcount() == 1);
    CHECK(w.vfio.group(1)->refcount() == 1);
    CHECK_FALSE(w.gic->is_active(kLevelIrq));
    CHECK_FALSE(w.gic->is_active(kEdgeIrq));
}

/// Both plat0 IRQs forwarded (INTIDs 80 and 81), the level one taken by the
/// host and left active for the guest.
void forward_both_with_one_active(KvmVfioWorld& w)
{
    REQUIRE(w.add_group(w.gfd) == 0);
    REQUIRE(w.forward(w.pfd, 0, 0, 48) == 0);
    REQUIRE(w.forward(w.pfd, 1, 0, 49) == 0);
    w.gic->set_spi_level(kLevelIrq, true);
    w.run();
    REQUIRE(w.gic->is_active(kLevelIrq));
}

} // namespace

// --- device creation ------------------------------------------------------------------------

TEST_CASE("KVM_CREATE_DEVICE: a second kvm-vfio is EBUSY, a second vgic-v2 EEXIST, an unknown type ENODEV")
{
    const auto arch = GENERATE(arch::ArchKind::arm, arch::ArchKind::minimal);
    INFO("arch " << arch::arch_name(arch));
    KvmVfioWorld w(arch);
    const auto devices = w.vm().devices().size();
    const auto fds = w.vmm.open_count();
    CHECK(w.kvm->create_device(w.vmm, w.vm_fd, kvm::kDevTypeVfio) == -EBUSY);
    CHECK(w.kvm->create_device(w.vmm, w.vm_fd, kvm::kDevTypeArmVgicV2) == -EEXIST);
    CHECK(w.kvm->create_device(w.vmm, w.vm_fd, 99) == -ENODEV);
    CHECK(w.kvm->create_device(w.vmm, 99, kvm::kDevTypeVfio) == -EBADF);
    CHECK(w.kvm->create_device(w.vmm, w.pfd, kvm::kDevTypeVfio) == -ENOTTY);
    CHECK(w.vm().devices().size() == devices);
    CHECK(w.vmm.open_count() == fds);
    // One per VM, not one per host: another VM gets its own.
    const int vm2 = w.kvm->create_vm(w.vmm);
    REQUIRE(vm2 >= 0);
    CHECK(w.kvm->create_device(w.vmm, vm2, kvm::kDevTypeVfio) >= 0);
}

TEST_CASE("without kvm_vfio::register_device the VFIO device type does not exist (ENODEV)")
{
    KvmVfioWorld w(arch::ArchKind::arm, /*with_kvm_vfio=*/false);
    CHECK(w.kvm->create_device(w.vmm, w.vm_fd, kvm::kDevTypeVfio) == -ENODEV);
    CHECK(w.vm().devices().size() == 1);
}

// --- KVM_DEV_VFIO_GROUP -----------------------------------------------------------------------

TEST_CASE("group ADD/DEL: EBADF, EINVAL, EEXIST, ENOENT, EFAULT, ENXIO, each changing nothing")
{
    const auto arch = GENERATE(arch::ArchKind::arm, arch::ArchKind::minimal);
    INFO("arch " << arch::arch_name(arch));
    KvmVfioWorld w(arch);
    const int efd = host::eventfd_create(w.vmm);
    REQUIRE(efd >= 0);

    CHECK(w.has_attr(kv::kDevVfioGroup, kv::kDevVfioGroupAdd) == 0);
    CHECK(w.has_attr(kv::kDevVfioGroup, kv::kDevVfioGroupDel) == 0);
    CHECK(w.has_attr(kv::kDevVfioGroup, 3) == -ENXIO);
    CHECK(w.has_attr(9, kv::kDevVfioGroupAdd) == -ENXIO);

    for (const std::uint64_t op : {kv::kDevVfioGroupAdd, kv::kDevVfioGroupDel}) {
        INFO("attr " << op);
        CHECK_REFUSED(w, w.group_call(op, 99), EBADF);
        CHECK_REFUSED(w, w.group_call(op, -1), EBADF);
        // virt/kvm/vfio.c (6.18): ADD takes a VFIO group or device file, else
        // EINVAL; DEL looks any file up in its list: ENOENT.
        const int refused = op == kv::kDevVfioGroupAdd ? EINVAL : ENOENT;
        CHECK_REFUSED(w, w.group_call(op, w.cfd), refused);
        CHECK_REFUSED(w, w.group_call(op, w.vm_fd), refused);
        CHECK_REFUSED(w, w.group_call(op, efd), refused);
        CHECK_REFUSED(w, raw_attr(w, kv::kDevVfioGroup, op, {}), EFAULT);
        std::array<std::uint8_t, 2> short_arg{};
        CHECK_REFUSED(w, raw_attr(w, kv::kDevVfioGroup, op, short_arg), EFAULT);
    }
    CHECK_REFUSED(w, w.group_call(3, w.gfd), ENXIO);
    CHECK_REFUSED(w, w.group_call(kv::kDevVfioGroupAdd, w.gfd, 9), ENXIO);
    CHECK_REFUSED(w, w.del_group(w.gfd), ENOENT);
    CHECK_REFUSED(w, w.del_group(w.pfd), ENOENT); // a device file never added

    const unsigned group_refs = w.vfio.group(1)->refcount();
    REQUIRE(w.add_group(w.gfd) == 0);
    CHECK(w.dev().groups().size() == 1);
    CHECK(w.vfio.group(1)->refcount() == group_refs + 1); // the device holds the group
    CHECK_REFUSED(w, w.add_group(w.gfd), EEXIST);
    // ENXIO wins over EBADF: the attribute is checked before its argument.
    CHECK_REFUSED(w, w.group_call(3, 99), ENXIO);
    REQUIRE(w.del_group(w.gfd) == 0);
    CHECK(w.dev().groups().empty());
    CHECK(w.vfio.group(1)->refcount() == group_refs);
    CHECK_REFUSED(w, w.del_group(w.gfd), ENOENT);
}

// --- KVM_DEV_VFIO_DEVICE: FORWARD_IRQ / UNFORWARD_IRQ ---------------------------------------------

TEST_CASE("FORWARD_IRQ errnos (arm): each refusal leaves device, list, VFIO and the host IRQ unchanged")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    const int efd = host::eventfd_create(w.vmm);
    REQUIRE(efd >= 0);
    CHECK(w.has_attr(kv::kDevVfioDevice, kv::kDevVfioDeviceForwardIrq) == 0);
    CHECK(w.has_attr(kv::kDevVfioDevice, kv::kDevVfioDeviceUnforwardIrq) == 0);
    CHECK(w.has_attr(kv::kDevVfioDevice, kv::kDevVfioDeviceForwardPolicy) == 0);
    CHECK(w.has_attr(kv::kDevVfioDevice, 4) == -ENXIO);

    // The device's group is not known to KVM yet.
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 0, 16), EINVAL);
    REQUIRE(w.add_group(w.gfd) == 0);

    CHECK_REFUSED(w, w.forward(99, 0, 0, 16), EBADF);
    CHECK_REFUSED(w, w.forward(w.gfd, 0, 0, 16), EINVAL); // VFIO's external user: not a device file
    CHECK_REFUSED(w, w.forward(efd, 0, 0, 16), EINVAL);
    CHECK_REFUSED(w, w.forward(w.vm_fd, 0, 0, 16), EINVAL);
    CHECK_REFUSED(w, w.forward(w.pfd, 2, 0, 16), EINVAL); // no such index
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 1, 16), EINVAL); // no such subindex
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 0, 224), EINVAL); // INTID 256: beyond the vgic
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 0, 0xFFFFFFFFu), EINVAL);
    CHECK_REFUSED(w, raw_attr(w, kv::kDevVfioDevice, kv::kDevVfioDeviceForwardIrq, {}), EFAULT);
    std::array<std::uint8_t, 8> short_arg{};
    CHECK_REFUSED(w, raw_attr(w, kv::kDevVfioDevice, kv::kDevVfioDeviceForwardIrq, short_arg), EFAULT);
    CHECK_REFUSED(w, w.irq_call(4, {static_cast<std::uint32_t>(w.pfd), 0, 0, 16}), ENXIO);

    REQUIRE(w.forward(w.pfd, 0, 0, 16) == 0);
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 0, 16), EINVAL); // same (device, index, subindex)
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 0, 20), EINVAL); // ... whatever the GSI
    // A guest IRQ that is forwarded already: the arch's EBUSY, found after
    // VFIO switched the host IRQ to forwarded mode -- which must be undone.
    CHECK_REFUSED(w, w.forward(w.pfd, 1, 0, 16), EBUSY);
    CHECK_FALSE(w.plat->irq_context(1, 0)->requested());

    // VFIO signalling set up on index 1: VFIO refuses, EBUSY.
    REQUIRE(w.vfio.device_set_irqs(w.vmm, w.pfd, vfio::VfioIrqSet::eventfds(kTrigger, 1, 0, {efd})) == 0);
    CHECK_REFUSED(w, w.forward(w.pfd, 1, 0, 17), EBUSY);
    CHECK(w.plat->irq_context(1, 0)->has_trigger());
    REQUIRE(w.vfio.device_set_irqs(w.vmm, w.pfd, vfio::VfioIrqSet::eventfds(kTrigger, 1, 0, {-1})) == 0);
    CHECK(w.forward(w.pfd, 1, 0, 17) == 0);
    CHECK(w.dev().forwarded().size() == 2);
}

TEST_CASE("the forwarding policy attribute: EINVAL for an unknown value, EBUSY while forwarded; bi-modal keeps the trigger")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    REQUIRE(w.add_group(w.gfd) == 0);
    auto policy = [&](std::uint32_t v) {
        std::vector<std::uint8_t> buf(sizeof v);
        std::memcpy(buf.data(), &v, sizeof v);
        return raw_attr(w, kv::kDevVfioDevice, kv::kDevVfioDeviceForwardPolicy, buf);
    };
    CHECK(w.dev().policy() == vfio::ForwardingPolicy::exclusive);
    CHECK_REFUSED(w, policy(2), EINVAL);
    CHECK_REFUSED(w, raw_attr(w, kv::kDevVfioDevice, kv::kDevVfioDeviceForwardPolicy, {}), EFAULT);
    REQUIRE(policy(1) == 0);
    CHECK(w.dev().policy() == vfio::ForwardingPolicy::bimodal);
    // Bi-modal: forwarding with VFIO signalling set up is accepted and leaves it set.
    const int efd = host::eventfd_create(w.vmm);
    REQUIRE(w.vfio.device_set_irqs(w.vmm, w.pfd, vfio::VfioIrqSet::eventfds(kTrigger, 1, 0, {efd})) == 0);
    REQUIRE(w.forward(w.pfd, 1, 0, 17) == 0);
    CHECK(w.plat->irq_context(1, 0)->has_trigger());
    CHECK(w.plat->irq_context(1, 0)->forwarded());
    CHECK_REFUSED(w, policy(0), EBUSY); // entries exist under the old policy
    REQUIRE(w.unforward(w.pfd, 1, 0) == 0);
    CHECK(w.plat->irq_context(1, 0)->requested()); // the switch freed nothing
    CHECK(policy(0) == 0);
}

TEST_CASE("UNFORWARD_IRQ errnos: not forwarded EINVAL, bad fd EBADF, not a device EINVAL, EFAULT")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    REQUIRE(w.add_group(w.gfd) == 0);
    REQUIRE(w.forward(w.pfd, 0, 0, 16) == 0);
    CHECK_REFUSED(w, w.unforward(w.pfd, 1, 0), EINVAL);
    CHECK_REFUSED(w, w.unforward(w.pfd, 0, 1), EINVAL);
    CHECK_REFUSED(w, w.unforward(w.pfd, 7, 0), EINVAL);
    CHECK_REFUSED(w, w.unforward(99, 0, 0), EBADF);
    CHECK_REFUSED(w, w.unforward(w.gfd, 0, 0), EINVAL);
    CHECK_REFUSED(w, raw_attr(w, kv::kDevVfioDevice, kv::kDevVfioDeviceUnforwardIrq, {}), EFAULT);
    CHECK(w.unforward(w.pfd, 0, 0) == 0);
    CHECK_REFUSED(w, w.unforward(w.pfd, 0, 0), EINVAL); // twice
}

TEST_CASE("an arch without forwarding: the DEVICE attributes do not exist (ENXIO), has_attr says so too")
{
    KvmVfioWorld w(arch::ArchKind::minimal);
    REQUIRE(w.add_group(w.gfd) == 0);
    CHECK(w.has_attr(kv::kDevVfioDevice, kv::kDevVfioDeviceForwardIrq) == -ENXIO);
    CHECK(w.has_attr(kv::kDevVfioDevice, kv::kDevVfioDeviceUnforwardIrq) == -ENXIO);
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 0, 16), ENXIO);
    CHECK_REFUSED(w, w.forward(99, 0, 0, 16), ENXIO); // before the argument is looked at
    CHECK_REFUSED(w, w.unforward(w.pfd, 0, 0), ENXIO);
    // The VMM's fallback, VFIO signalling, is still there.
    const int efd = host::eventfd_create(w.vmm);
    CHECK(w.vfio.device_set_irqs(w.vmm, w.pfd, vfio::VfioIrqSet::eventfds(kTrigger, 0, 0, {efd})) == 0);
}

// --- reference counts -------------------------------------------------------------------------------

TEST_CASE("one device reference per forwarded IRQ: taken at FORWARD, dropped at UNFORWARD, never by a refusal")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    const unsigned base = w.plat->refcount(); // binding + device file
    CHECK(base == 2);
    REQUIRE(w.add_group(w.gfd) == 0);
    CHECK(w.plat->refcount() == base); // a group reference, not a device one
    REQUIRE(w.forward(w.pfd, 0, 0, 16) == 0);
    CHECK(w.plat->refcount() == base + 1);
    CHECK(w.forward(w.pfd, 0, 0, 16) == -EINVAL);
    CHECK(w.plat->refcount() == base + 1);
    CHECK(w.forward(w.pfd, 1, 0, 16) == -EBUSY);
    CHECK(w.plat->refcount() == base + 1);
    REQUIRE(w.forward(w.pfd, 1, 0, 17) == 0);
    CHECK(w.plat->refcount() == base + 2);
    CHECK(w.unforward(w.pfd, 1, 0) == -0);
    CHECK(w.plat->refcount() == base + 1);
    CHECK(w.irqs->released_state_violations(kEdgeIrq).empty());
    CHECK(w.unforward(w.pfd, 1, 0) == -EINVAL);
    CHECK(w.plat->refcount() == base + 1);
    CHECK(w.unforward(w.pfd, 0, 0) == 0);
    CHECK(w.plat->refcount() == base);
    CHECK(w.irqs->released_state_violations(kLevelIrq).empty());
    // And again: nothing was left behind that would refuse a new forward.
    CHECK(w.forward(w.pfd, 0, 0, 16) == 0);
    CHECK(w.plat->refcount() == base + 1);
}

TEST_CASE("group DEL unforwards the group's devices and drops their references")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    const unsigned base = w.plat->refcount();
    const unsigned group_base = w.vfio.group(1)->refcount();
    forward_both_with_one_active(w);
    CHECK(w.plat->refcount() == base + 2);
    REQUIRE(w.del_group(w.gfd) == 0);
    CHECK(w.dev().forwarded().empty());
    CHECK(w.plat->refcount() == base);
    CHECK(w.vfio.group(1)->refcount() == group_base);
    CHECK(w.irqs->released_state_violations(kLevelIrq).empty());
    CHECK(w.irqs->released_state_violations(kEdgeIrq).empty());
    CHECK(w.vm().arch().forwarded_to(kLevelIrq) == -1);
    // Without the group, the device can no longer be forwarded.
    CHECK(w.forward(w.pfd, 0, 0, 48) == -EINVAL);
}

TEST_CASE("forwarding and VFIO signalling exclude each other, in both directions")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    const int efd = host::eventfd_create(w.vmm);
    REQUIRE(w.add_group(w.gfd) == 0);
    REQUIRE(w.forward(w.pfd, 0, 0, 16) == 0);
    CHECK(w.vfio.device_set_irqs(w.vmm, w.pfd, vfio::VfioIrqSet::eventfds(kTrigger, 0, 0, {efd})) == -EBUSY);
    REQUIRE(w.unforward(w.pfd, 0, 0) == 0);
    CHECK(w.vfio.device_set_irqs(w.vmm, w.pfd, vfio::VfioIrqSet::eventfds(kTrigger, 0, 0, {efd})) == 0);
}

// --- destruction ---------------------------------------------------------------------------------------

TEST_CASE("closing the kvm-vfio fd alone changes nothing: the device lives as long as its VM")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    forward_both_with_one_active(w);
    kv::KvmVfioDevice* dev = &w.dev();
    const unsigned refs = w.plat->refcount();
    REQUIRE(w.vmm.close(w.kv_fd) == 0);
    REQUIRE(w.vmm.close(w.vm_fd) == 0); // the vCPU and vgic files still hold the VM
    CHECK(w.kvm->vms().size() == 1);
    CHECK(dev->forwarded().size() == 2);
    CHECK(w.plat->refcount() == refs);
    CHECK(w.gic->is_active(kLevelIrq));
    REQUIRE(w.vmm.close(w.vcpu_fd) == 0);
    REQUIRE(w.vmm.close(w.vgic_fd) == 0); // last VM reference: destroyed, everything unforwarded
    CHECK(w.kvm->vms().empty());
    CHECK(w.plat->refcount() == 2);
    CHECK_FALSE(w.gic->is_active(kLevelIrq));
    CHECK(w.irqs->released_state_violations(kLevelIrq).empty());
    CHECK(w.irqs->released_state_violations(kEdgeIrq).empty());
    w.vmm.kill(std::span<const int>{});
    check_released(w);
}

TEST_CASE("killing the VMM in chosen close orders unforwards everything and drops every reference")
{
    const auto arch = GENERATE(arch::ArchKind::arm, arch::ArchKind::minimal);
    // fds: cfd 0, gfd 1, pfd 2, vm 3, vcpu 4, vgic 5, kvm-vfio 6
    const std::vector<std::vector<int>> orders = {
        {6, 5, 4, 3, 2, 1, 0}, // KVM side first
        {0, 1, 2, 3, 4, 5, 6}, // VFIO side first
        {2, 3, 6, 4, 5, 1, 0}, // the device file before the VM
        {1, 6, 3, 0, 2, 5, 4}, // the group file first
        {4, 2, 5, 1, 3, 0, 6}, // the kvm-vfio fd last
    };
    for (const auto& order : orders) {
        INFO("arch " << arch::arch_name(arch) << " order " << order[0] << order[1] << order[2] << order[3]
                     << order[4] << order[5] << order[6]);
        KvmVfioWorld w(arch);
        REQUIRE(std::vector<int>{w.cfd, w.gfd, w.pfd, w.vm_fd, w.vcpu_fd, w.vgic_fd, w.kv_fd} ==
                std::vector<int>{0, 1, 2, 3, 4, 5, 6});
        if (arch == arch::ArchKind::arm) {
            forward_both_with_one_active(w);
            CHECK(w.plat->refcount() == 4);
        } else {
            REQUIRE(w.add_group(w.gfd) == 0);
            REQUIRE(w.vfio.device_set_irqs(w.vmm, w.pfd,
                                           vfio::VfioIrqSet::eventfds(kTrigger, 0, 0, {host::eventfd_create(w.vmm)})) == 0);
        }
        w.vmm.kill(order);
        w.run();
        check_released(w);
    }
}

TEST_CASE("killing the VMM in every one of the 5040 close orders leaves VFIO and the host IRQs released")
{
    std::array<int, 7> order{0, 1, 2, 3, 4, 5, 6};
    std::vector<std::string> failures;
    unsigned tried = 0;
    do {
        KvmVfioWorld w(arch::ArchKind::arm);
        forward_both_with_one_active(w);
        w.vmm.kill(order);
        w.run();
        ++tried;
        std::vector<std::string> bad = w.vfio.released_state_violations();
        for (unsigned irq : {kLevelIrq, kEdgeIrq})
            for (auto& s : w.irqs->released_state_violations(irq)) bad.push_back(std::move(s));
        if (!w.kvm->vms().empty()) bad.emplace_back("VM still alive");
        if (w.plat->refcount() != 1) bad.push_back("plat0 refcount " + std::to_string(w.plat->refcount()));
        if (!bad.empty() && failures.size() < 5) {
            std::string o;
            for (int fd : order) o += std::to_string(fd);
            failures.push_back(o + ": " + bad.front());
        }
    } while (std::next_permutation(order.begin(), order.end()));
    CHECK(tried == 5040);
    for (const auto& f : failures) UNSCOPED_INFO(f);
    CHECK(failures.empty());
}

// --- unforwarding an active interrupt ------------------------------------------------------------

TEST_CASE("gsi is a GSI as for irqfd: gsi 48 forwards to INTID 80")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    REQUIRE(w.add_group(w.gfd) == 0);
    REQUIRE(w.forward(w.pfd, 0, 0, 48) == 0);
    CHECK(w.vm().arch().forwarded_to(kLevelIrq) == 80);
    const arch::VirtualIrq* virq = w.vm().arch().vgic()->irq(0, 80);
    CHECK(virq->hw);
    CHECK(virq->hwintid == kLevelIrq);
    CHECK(w.dev().forwarded().front().gsi() == 48);
    CHECK(w.dev().forwarded().front().host_irq() == kLevelIrq);
    CHECK(w.irqs->vcpu_affinity(kLevelIrq) != nullptr);
}

TEST_CASE("UNFORWARD of a level IRQ the host left active for the guest deactivates it and drops the vCPU affinity")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    REQUIRE(w.add_group(w.gfd) == 0);
    REQUIRE(w.forward(w.pfd, 0, 0, 48) == 0);
    vfio::IrqContext& ctx = *w.plat->irq_context(0, 0);

    w.gic->set_spi_level(kLevelIrq, true);
    w.run();
    // The host took it, its handler injected into the vgic, and the flow
    // dropped priority only: the physical IRQ is active until the guest EOIs.
    CHECK(w.cpus[0]->irqs_taken() >= 1);
    CHECK(ctx.injections() == 1);
    CHECK(ctx.signals() == 0);
    CHECK_FALSE(ctx.masked());
    CHECK(w.irqs->depth(kLevelIrq) == 0);
    CHECK(w.gic->is_active(kLevelIrq));
    CHECK(w.irqs->vcpu_affinity(kLevelIrq) != nullptr);
    const arch::VirtualIrq* virq = w.vm().arch().vgic()->irq(0, 80);
    CHECK(virq->pending()); // one virtual pending interrupt per physical one taken (Vgic::inject_mapped)

    REQUIRE(w.unforward(w.pfd, 0, 0) == 0);
    CHECK_FALSE(w.gic->is_active(kLevelIrq));
    CHECK(w.irqs->vcpu_affinity(kLevelIrq) == nullptr);
    CHECK_FALSE(virq->hw);
    CHECK(w.vm().arch().forwarded_to(kLevelIrq) == -1);
    CHECK_FALSE(ctx.forwarded());
    CHECK(w.irqs->released_state_violations(kLevelIrq).empty());
    CHECK(w.plat->refcount() == 2);

    // Nothing is stuck: forwarded again with the device still asserting, the
    // host takes the interrupt again at once.
    REQUIRE(w.forward(w.pfd, 0, 0, 48) == 0);
    w.run();
    CHECK(w.plat->irq_context(0, 0)->injections() == 2);
    CHECK(w.gic->is_active(kLevelIrq));
    w.gic->set_spi_level(kLevelIrq, false);
    REQUIRE(w.unforward(w.pfd, 0, 0) == 0);
    CHECK_FALSE(w.gic->is_active(kLevelIrq));
    CHECK(w.irqs->released_state_violations(kLevelIrq).empty());
}

TEST_CASE("UNFORWARD of an edge IRQ left active for the guest deactivates it too")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    REQUIRE(w.add_group(w.gfd) == 0);
    REQUIRE(w.forward(w.pfd, 1, 0, 49) == 0);
    w.gic->set_spi_level(kEdgeIrq, true);
    w.gic->set_spi_level(kEdgeIrq, false);
    w.run();
    CHECK(w.plat->irq_context(1, 0)->injections() == 1);
    CHECK(w.gic->is_active(kEdgeIrq));
    CHECK(w.irqs->vcpu_affinity(kEdgeIrq) != nullptr);
    REQUIRE(w.unforward(w.pfd, 1, 0) == 0);
    CHECK_FALSE(w.gic->is_active(kEdgeIrq));
    CHECK(w.irqs->vcpu_affinity(kEdgeIrq) == nullptr);
    CHECK(w.irqs->released_state_violations(kEdgeIrq).empty());
}

TEST_CASE("UNFORWARD while the guest has the IRQ active in a HW list register: its later EOI leaves nothing stuck")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    REQUIRE(w.add_group(w.gfd) == 0);
    REQUIRE(w.forward(w.pfd, 0, 0, 48) == 0);
    arch::Vgic& vgic = *w.vm().arch().vgic();
    sim::Cycles c{};
    vgic.dist_write(0, gic::gicd::ctlr, 1, c);
    vgic.dist_write(0, gic::gicd::isenabler + 8, 1u << 16, c); // INTID 80
    const unsigned pcpu = 1;                                    // where vCPU 0 runs
    // The guest's first run enables its virtual CPU interface (saved in GICH_VMCR at the exit).
    vgic.flush(0, pcpu);
    w.gic->write(gic::Block::gicv, pcpu, gic::gicc::ctlr, 1);
    w.gic->write(gic::Block::gicv, pcpu, gic::gicc::pmr, 0xF8);
    vgic.fold(0, pcpu);

    w.gic->set_spi_level(kLevelIrq, true);
    w.run();
    REQUIRE(w.gic->is_active(kLevelIrq));
    vgic.flush(0, pcpu);
    REQUIRE(w.gic->read(gic::Block::gicv, pcpu, gic::gicc::iar) == 80); // the guest took it

    REQUIRE(w.unforward(w.pfd, 0, 0) == 0);
    CHECK_FALSE(w.gic->is_active(kLevelIrq));
    CHECK(w.irqs->vcpu_affinity(kLevelIrq) == nullptr);
    // The guest completes it through the LR that still says HW.
    w.gic->write(gic::Block::gicv, pcpu, gic::gicc::eoir, 80);
    vgic.fold(0, pcpu);
    CHECK_FALSE(vgic.irq(0, 80)->active);
    CHECK_FALSE(w.gic->is_active(kLevelIrq));
    CHECK(w.irqs->released_state_violations(kLevelIrq).empty());

    // Forwarded again with the device still asserting: taken again at once.
    REQUIRE(w.forward(w.pfd, 0, 0, 48) == 0);
    w.run();
    CHECK(w.plat->irq_context(0, 0)->injections() == 2);
    CHECK(w.gic->is_active(kLevelIrq));
}

TEST_CASE("FORWARD on a VM whose vgic cannot be set up is refused with KVM's errno, and VFIO's switch is undone")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    const int main_dev = w.kv_fd;
    // VM 2: a kvm-vfio device but no irqchip; VM 3: a vgic but no vCPU.
    const int vm2 = w.kvm->create_vm(w.vmm);
    const int vm3 = w.kvm->create_vm(w.vmm);
    REQUIRE(vm2 >= 0);
    REQUIRE(vm3 >= 0);
    const int kv2 = w.kvm->create_device(w.vmm, vm2, kvm::kDevTypeVfio);
    REQUIRE(w.kvm->create_device(w.vmm, vm3, kvm::kDevTypeArmVgicV2) >= 0);
    const int kv3 = w.kvm->create_device(w.vmm, vm3, kvm::kDevTypeVfio);
    REQUIRE(kv2 >= 0);
    REQUIRE(kv3 >= 0);

    w.kv_fd = kv2; // the helpers talk to the device at kv_fd
    REQUIRE(w.add_group(w.gfd) == 0);
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 0, 16), ENXIO); // vgic_lazy_init without an irqchip
    w.kv_fd = kv3;
    REQUIRE(w.add_group(w.gfd) == 0);
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 0, 16), EBUSY); // ... without a vCPU

    // VM 1 forwards plat0's IRQ 0; VM 3 cannot take it over, nor unforward it.
    w.kv_fd = main_dev;
    REQUIRE(w.add_group(w.gfd) == 0);
    REQUIRE(w.forward(w.pfd, 0, 0, 16) == 0);
    w.kv_fd = kv3;
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 0, 16), EINVAL); // VFIO: already forwarded
    CHECK_REFUSED(w, w.unforward(w.pfd, 0, 0), EINVAL);   // not on this device's list
    w.kv_fd = main_dev;
    CHECK(w.plat->is_forwarded(0, 0));
    CHECK(w.plat->refcount() == 3);
}

TEST_CASE("UNFORWARD or killing the VMM at every event of the host's IRQ flow leaves the host IRQ released")
{
    // How many events the host takes from the line rising to the flow's end.
    unsigned flow_events = 0;
    {
        KvmVfioWorld w(arch::ArchKind::arm);
        REQUIRE(w.add_group(w.gfd) == 0);
        REQUIRE(w.forward(w.pfd, 0, 0, 48) == 0);
        w.gic->set_spi_level(kLevelIrq, true);
        bool seen = false;
        while (w.queue.step()) {
            ++flow_events;
            seen = seen || w.cpus[0]->in_irq();
            if (seen && !w.cpus[0]->in_irq()) break;
            REQUIRE(flow_events < 1000);
        }
        REQUIRE(seen);
        REQUIRE(w.gic->is_active(kLevelIrq));
    }
    for (const bool kill : {false, true}) {
        for (unsigned k = 0; k <= flow_events + 1; ++k) {
            INFO((kill ? "kill" : "unforward") << " after " << k << " of " << flow_events << " events");
            KvmVfioWorld w(arch::ArchKind::arm);
            REQUIRE(w.add_group(w.gfd) == 0);
            REQUIRE(w.forward(w.pfd, 0, 0, 48) == 0);
            w.gic->set_spi_level(kLevelIrq, true);
            for (unsigned n = 0; n < k; ++n) (void)w.queue.step();
            if (kill) {
                const std::array<int, 7> order{2, 1, 0, 6, 3, 4, 5}; // VFIO side first: forwarding outlives the device file
                w.vmm.kill(order);
            } else {
                REQUIRE(w.unforward(w.pfd, 0, 0) == 0);
            }
            w.run();
            w.gic->set_spi_level(kLevelIrq, false);
            w.run();
            CHECK_FALSE(w.gic->is_active(kLevelIrq));
            const auto bad = w.irqs->released_state_violations(kLevelIrq);
            CHECK(bad.empty());
            for (const auto& s : bad) UNSCOPED_INFO(s);
            CHECK(w.irqs->unbalanced_enables() == 0);
            CHECK(w.irqs->bad_frees() == 0);
            if (kill) check_released(w);
        }
    }
}

TEST_CASE("gsi follows KVM_SET_GSI_ROUTING: an irqchip entry names the pin, an MSI or unrouted GSI is EINVAL")
{
    KvmVfioWorld w(arch::ArchKind::arm);
    REQUIRE(w.add_group(w.gfd) == 0);
    kvm::RoutingEntry pin;
    pin.gsi = 7;
    pin.pin = 48; // INTID 80
    kvm::RoutingEntry msi;
    msi.gsi = 5;
    msi.type = kvm::kIrqRoutingMsi;
    msi.msi_data = 90;
    const std::array<kvm::RoutingEntry, 2> table{pin, msi};
    REQUIRE(w.kvm->set_gsi_routing(w.vmm, w.vm_fd, table) == 0);
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 0, 5), EINVAL);  // MSI: no pin to map
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 0, 48), EINVAL); // not in the table any more
    REQUIRE(w.forward(w.pfd, 0, 0, 7) == 0);
    CHECK(w.vm().arch().forwarded_to(kLevelIrq) == 80);
    // UNFORWARD finds the entry by (device, index, subindex); its gsi is not used.
    CHECK(w.unforward(w.pfd, 0, 0, 1234) == 0);
    CHECK(w.vm().arch().forwarded_to(kLevelIrq) == -1);
}

TEST_CASE("a host GIC driver without split EOI cannot leave the IRQ to the guest: ENOSYS, VFIO's switch undone")
{
    host::GicDriverParams no_split;
    no_split.split_eoi = false;
    KvmVfioWorld w(arch::ArchKind::arm, true, no_split);
    REQUIRE(w.add_group(w.gfd) == 0);
    CHECK_REFUSED(w, w.forward(w.pfd, 0, 0, 48), ENOSYS);
    CHECK_FALSE(w.plat->irq_context(0, 0)->requested());
    CHECK(w.plat->refcount() == 2);
}
