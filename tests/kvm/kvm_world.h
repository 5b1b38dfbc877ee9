// A host with KVM and nothing else -- the GICv2 model with five CPUs, its
// driver, the IRQ layer, KVM -- and a VMM process making calls through the
// fd interface, with helpers for the set-up steps Linux's selftests take
// (vm_create, vgic_v2_setup).  For the conformance tests, which follow
// Linux's own sources call by call (docs/linux-conformance.md).
#pragma once

#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/process.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/machine/host_board.h>
#include <fwdsim/kvm/vgic_device.h>
#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/event_queue.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

namespace fwdsim::test {

inline machine::HostBoardParams kvm_world_params()
{
    machine::HostBoardParams p;
    p.gic.num_cpus = 5;
    return p;
}

/// fds 0-2, as a process starts with them: the first file opened is fd 3.
class StdioFile final : public host::File {
public:
    std::string_view kind() const override { return "stdio"; }
};

struct KvmWorld {
    KvmWorld() : hw(events, sim::CostProfile::builtin_default(), kvm_world_params())
    {
        REQUIRE(kvm().init() == 0);
        for (int i = 0; i < 3; ++i) REQUIRE(vmm.install(host::make_file<StdioFile>()) == i);
    }
    kvm::Kvm& kvm() { return *hw.kvm; }
    kvm::Vm& vm(int vm_fd) { return host::file_cast<kvm::VmFile>(vmm.peek(vm_fd))->vm(); }

    /// KVM_{SET,GET,HAS}_DEVICE_ATTR with a value in user memory.
    template <class T>
    int set(int fd, std::uint32_t group, std::uint64_t attr, T value)
    {
        return kvm().set_device_attr(vmm, fd, kvm::DeviceAttr{0, group, attr, {reinterpret_cast<std::uint8_t*>(&value), sizeof value}});
    }
    /// An attribute whose address cannot be read or written (EFAULT).
    int set_unreadable(int fd, std::uint32_t group, std::uint64_t attr)
    {
        return kvm().set_device_attr(vmm, fd, kvm::DeviceAttr{0, group, attr, {}});
    }
    template <class T>
    int get(int fd, std::uint32_t group, std::uint64_t attr, T& value)
    {
        return kvm().get_device_attr(vmm, fd, kvm::DeviceAttr{0, group, attr, {reinterpret_cast<std::uint8_t*>(&value), sizeof value}});
    }
    int has(int fd, std::uint32_t group, std::uint64_t attr)
    {
        return kvm().has_device_attr(vmm, fd, kvm::DeviceAttr{0, group, attr, {}});
    }
    int ctrl_init(int vgic_fd) { return kvm().set_device_attr(vmm, vgic_fd, kvm::DeviceAttr{0, kvm::kVgicGrpCtrl, kvm::kVgicCtrlInit, {}}); }

    /// The bases Linux's selftests give a v2 vgic (a DIST and a CPU region
    /// that do not overlap).
    static constexpr std::uint64_t kDistBase = 0x8000000, kCpuBase = 0x8010000;

    /// A VM with `nr_vcpus` vCPUs (fds in `vcpu_fds`), a vgic-v2 with both
    /// bases set, initialised unless `init` is false; returns the VM fd.
    int vm_with_vgic(unsigned nr_vcpus, std::vector<int>& vcpu_fds, int& vgic_fd, bool init = true)
    {
        const int vm_fd = kvm().create_vm(vmm);
        REQUIRE(vm_fd >= 0);
        for (unsigned i = 0; i < nr_vcpus; ++i) {
            const int fd = kvm().create_vcpu(vmm, vm_fd, i);
            REQUIRE(fd >= 0);
            vcpu_fds.push_back(fd);
        }
        vgic_fd = kvm().create_device(vmm, vm_fd, kvm::kDevTypeArmVgicV2);
        REQUIRE(vgic_fd >= 0);
        REQUIRE(set(vgic_fd, kvm::kVgicGrpAddr, kvm::kVgicV2AddrTypeDist, kDistBase) == 0);
        REQUIRE(set(vgic_fd, kvm::kVgicGrpAddr, kvm::kVgicV2AddrTypeCpu, kCpuBase) == 0);
        if (init) REQUIRE(ctrl_init(vgic_fd) == 0);
        return vm_fd;
    }

    sim::EventQueue events;
    machine::HostBoard hw;
    host::Process vmm{"vmm"};
};

} // namespace fwdsim::test
