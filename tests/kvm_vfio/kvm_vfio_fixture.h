// A real host for the kvm-vfio device: the GICv2 model with three CPUs and
// the host GIC driver, the IRQ layer, VFIO with vfio-platform "plat0" in
// group 1 (IRQ index 0: level SPI on host IRQ 40; index 1: edge SPI on 41),
// and KVM with the kvm-vfio device type registered.  A VMM process has
// opened container, group and device, and created a VM, vCPU 0, the
// vgic-v2 and the kvm-vfio device -- all through the fd interfaces.
#pragma once

#include <fwdsim/gic/gic.h>
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/gic_driver.h>
#include <fwdsim/host/irq_layer.h>
#include <fwdsim/host/process.h>
#include <fwdsim/host/this_cpu.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/machine/host_board.h>
#include <fwdsim/kvm_vfio/kvm_vfio.h>
#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/vfio/platform/platform_device.h>
#include <fwdsim/vfio/vfio.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace fwdsim::test {

constexpr unsigned kLevelIrq = 40; ///< plat0 index 0
constexpr unsigned kEdgeIrq = 41;  ///< plat0 index 1

inline machine::HostBoardParams host_params(arch::ArchKind arch, host::GicDriverParams driver)
{
    machine::HostBoardParams p;
    p.gic.num_cpus = 3;
    p.arch = arch;
    p.driver = driver;
    return p;
}

struct KvmVfioWorld {
    explicit KvmVfioWorld(arch::ArchKind arch = arch::ArchKind::arm, bool with_kvm_vfio = true,
                          host::GicDriverParams driver_params = {})
        : hw(queue, sim::CostProfile::builtin_default(), host_params(arch, driver_params))
    {
        env = std::make_unique<vfio::IrqContextEnv>(vfio::IrqContextEnv{*irqs, this_cpu, hw.host_costs});
        plat = &vfio.add_device(1, std::make_unique<vfio::platform::PlatformDevice>(
                                       "plat0", *env,
                                       std::vector<vfio::platform::PlatformIrq>{{kLevelIrq, true}, {kEdgeIrq, false}}));

        REQUIRE(kvm->init() == 0);
        if (with_kvm_vfio) kvm_vfio::register_device(*kvm);

        cfd = vfio.open_container(vmm);
        gfd = vfio.open_group(vmm, 1);
        REQUIRE(cfd >= 0);
        REQUIRE(gfd >= 0);
        REQUIRE(vfio.group_set_container(vmm, gfd, cfd) == 0);
        REQUIRE(vfio.set_iommu(vmm, cfd, vfio::VFIO_TYPE1v2_IOMMU) == 0);
        pfd = vfio.group_get_device_fd(vmm, gfd, "plat0");
        REQUIRE(pfd >= 0);

        vm_fd = kvm->create_vm(vmm);
        REQUIRE(vm_fd >= 0);
        vcpu_fd = kvm->create_vcpu(vmm, vm_fd, 0);
        REQUIRE(vcpu_fd >= 0);
        vgic_fd = kvm->create_device(vmm, vm_fd, kvm::kDevTypeArmVgicV2);
        REQUIRE(vgic_fd >= 0);
        if (with_kvm_vfio) {
            kv_fd = kvm->create_device(vmm, vm_fd, kvm::kDevTypeVfio);
            REQUIRE(kv_fd >= 0);
        }
    }

    kvm::Vm& vm()
    {
        auto* f = host::file_cast<kvm::VmFile>(vmm.peek(vm_fd));
        REQUIRE(f != nullptr);
        return f->vm();
    }
    kvm_vfio::KvmVfioDevice& dev()
    {
        auto* f = host::file_cast<kvm::DeviceFile>(vmm.peek(kv_fd));
        REQUIRE(f != nullptr);
        auto* d = dynamic_cast<kvm_vfio::KvmVfioDevice*>(&f->device());
        REQUIRE(d != nullptr);
        return *d;
    }

    // --- the attribute calls, as a VMM makes them ------------------------------------
    int group_call(std::uint64_t attr, std::int32_t fd, std::uint32_t group = kvm_vfio::kDevVfioGroup)
    {
        std::vector<std::uint8_t> buf(sizeof fd);
        std::memcpy(buf.data(), &fd, sizeof fd);
        return kvm->set_device_attr(vmm, kv_fd, kvm::DeviceAttr{0, group, attr, buf});
    }
    int add_group(std::int32_t fd) { return group_call(kvm_vfio::kDevVfioGroupAdd, fd); }
    int del_group(std::int32_t fd) { return group_call(kvm_vfio::kDevVfioGroupDel, fd); }
    int irq_call(std::uint64_t attr, kvm_vfio::ForwardedIrqArg arg)
    {
        std::vector<std::uint8_t> buf(sizeof arg);
        std::memcpy(buf.data(), &arg, sizeof arg);
        return kvm->set_device_attr(vmm, kv_fd, kvm::DeviceAttr{0, kvm_vfio::kDevVfioDevice, attr, buf});
    }
    int forward(std::int32_t fd, unsigned index, unsigned subindex, std::uint32_t gsi)
    {
        return irq_call(kvm_vfio::kDevVfioDeviceForwardIrq,
                        {static_cast<std::uint32_t>(fd), index, subindex, gsi});
    }
    int unforward(std::int32_t fd, unsigned index, unsigned subindex, std::uint32_t gsi = 0)
    {
        return irq_call(kvm_vfio::kDevVfioDeviceUnforwardIrq,
                        {static_cast<std::uint32_t>(fd), index, subindex, gsi});
    }
    int has_attr(std::uint32_t group, std::uint64_t attr)
    {
        return kvm->has_device_attr(vmm, kv_fd, kvm::DeviceAttr{0, group, attr, {}});
    }

    /// Runs the simulation for a while (long enough for a host IRQ flow).
    void run(std::uint64_t cycles = 100000) { queue.run_until(queue.now() + sim::Cycles{cycles}); }

    /// Everything a kvm-vfio call may change, as text: a refused call must
    /// leave it as it was.
    std::string state()
    {
        std::ostringstream o;
        o << "plat0 refs=" << plat->refcount() << " open=" << plat->open_count()
          << " group refs=" << vfio.group(1)->refcount() << '\n';
        if (kv_fd >= 0 && host::file_cast<kvm::DeviceFile>(vmm.peek(kv_fd)) != nullptr) {
            o << "kvm-vfio groups=" << dev().groups().size() << " device files=" << dev().device_files().size()
              << " forwarded=" << dev().forwarded().size() << '\n';
            for (const auto& e : dev().forwarded())
                o << " fwd " << e.index() << '.' << e.subindex() << " gsi=" << e.gsi() << " host=" << e.host_irq()
                  << '\n';
        }
        for (vfio::IrqContext* c : plat->irq_contexts()) {
            const unsigned h = c->host_irq();
            const auto i = irqs->info(h);
            o << ' ' << c->name() << " req=" << c->requested() << " trig=" << c->trigger() << " masked=" << c->masked()
              << " fwd=" << c->forwarded() << " handler=" << i.has_handler << " dev_id=" << i.dev_id
              << " depth=" << i.depth << " vcpu=" << i.vcpu_affinity << " enabled=" << gic->is_enabled(h)
              << " active=" << gic->is_active(h) << '\n';
            if (auto* f = host::file_cast<kvm::VmFile>(vmm.peek(vm_fd)))
                o << "  arch forwarded_to=" << f->vm().arch().forwarded_to(h) << '\n';
        }
        return o.str();
    }

    sim::EventQueue queue;
    machine::HostBoard hw; // the host with KVM; the names below are its parts
    host::ThisCpu& this_cpu = hw.this_cpu;
    std::unique_ptr<gic::Gic>& gic = hw.gic;
    std::unique_ptr<host::GicDriver>& driver = hw.driver;
    std::unique_ptr<host::IrqLayer>& irqs = hw.irqs;
    std::vector<std::unique_ptr<host::Cpu>>& cpus = hw.cpus;
    std::unique_ptr<kvm::Kvm>& kvm = hw.kvm;
    std::unique_ptr<vfio::IrqContextEnv> env;
    vfio::Vfio vfio;
    host::Process vmm{"vmm"}; // last: its files close before KVM and VFIO go
    vfio::Device* plat = nullptr;
    int cfd = -1, gfd = -1, pfd = -1, vm_fd = -1, vcpu_fd = -1, vgic_fd = -1, kv_fd = -1;
};

} // namespace fwdsim::test
