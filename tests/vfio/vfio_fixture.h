// A host with VFIO: plat0 (group 1: IRQ 0 level on host IRQ 40, IRQ 1 edge on
// 41), pci0 (group 2: INTx on 42, 2 MSI vectors on 44-45, 8 MSI-X vectors on
// 48-55), group 3 not viable, and a VMM process that has opened plat0 and
// pci0 through a container with the type-1 IOMMU.
#pragma once

#include "host_fixture.h"

#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/process.h>
#include <fwdsim/vfio/pci/pci_device.h>
#include <fwdsim/vfio/platform/platform_device.h>
#include <fwdsim/vfio/vfio.h>

#include <catch2/catch.hpp>

#include <sstream>
#include <string>

namespace fwdsim::test {

struct VfioFixture : HostFixture {
    VfioFixture()
        : env{irqs, this_cpu, costs}, vmm("vmm")
    {
        plat = &vfio.add_device(1, std::make_unique<vfio::platform::PlatformDevice>(
                                       "plat0", env, std::vector<vfio::platform::PlatformIrq>{{40, true}, {41, false}}));
        vfio::pci::PciConfig cfg;
        cfg.intx_irq = 42;
        cfg.msi_irqs = {44, 45};
        for (unsigned i = 0; i < 8; ++i) cfg.msix_irqs.push_back(48 + i);
        pci = &vfio.add_device(2, std::make_unique<vfio::pci::PciDevice>("pci0", env, cfg));
        vfio.add_device(3, std::make_unique<vfio::platform::PlatformDevice>(
                               "plat3", env, std::vector<vfio::platform::PlatformIrq>{{60, true}}));
        vfio.add_foreign_device(3);

        cfd = vfio.open_container(vmm);
        g1 = vfio.open_group(vmm, 1);
        g2 = vfio.open_group(vmm, 2);
        REQUIRE(vfio.group_set_container(vmm, g1, cfd) == 0);
        REQUIRE(vfio.group_set_container(vmm, g2, cfd) == 0);
        REQUIRE(vfio.set_iommu(vmm, cfd, vfio::VFIO_TYPE1v2_IOMMU) == 0);
        pfd = vfio.group_get_device_fd(vmm, g1, "plat0");
        qfd = vfio.group_get_device_fd(vmm, g2, "pci0");
        REQUIRE(pfd >= 0);
        REQUIRE(qfd >= 0);
    }

    int new_eventfd() { return host::eventfd_create(vmm); }
    host::EventfdCtx& ctx_of(int fd)
    {
        auto* f = host::file_cast<host::EventfdFile>(vmm.peek(fd));
        REQUIRE(f);
        return f->ctx();
    }
    int set_irqs(int dfd, const vfio::VfioIrqSet& s) { return vfio.device_set_irqs(vmm, dfd, s); }

    /// Everything SET_IRQS may change, as text, to show an error changed nothing.
    std::string state()
    {
        std::ostringstream o;
        for (vfio::Device* d : vfio.devices()) {
            o << d->name() << " refs=" << d->refcount() << " open=" << d->open_count() << '\n';
            if (auto* p = dynamic_cast<vfio::pci::PciDevice*>(d))
                o << " mode=" << static_cast<int>(p->irq_mode()) << " vectors=" << p->enabled_vectors()
                  << " err=" << p->err_trigger() << " req=" << p->req_trigger() << '\n';
            for (vfio::IrqContext* c : d->irq_contexts()) {
                const auto i = irqs.info(c->host_irq());
                o << ' ' << c->name() << " req=" << c->requested() << " trig=" << c->trigger()
                  << " masked=" << c->masked() << " fwd=" << c->forwarded() << " unmaskfd=" << c->has_unmask_eventfd()
                  << " maskfd=" << c->has_mask_eventfd() << " handler=" << i.has_handler << " depth=" << i.depth
                  << " enabled=" << chip.irq(c->host_irq()).enabled << '\n';
            }
        }
        return o.str();
    }

    vfio::IrqContextEnv env;
    vfio::Vfio vfio;
    host::Process vmm;
    vfio::Device* plat = nullptr;
    vfio::Device* pci = nullptr;
    int cfd = -1, g1 = -1, g2 = -1, pfd = -1, qfd = -1;
};

/// The SET_IRQS actions, as the tests write them.
constexpr std::uint32_t TRIGGER = vfio::VFIO_IRQ_SET_ACTION_TRIGGER;
constexpr std::uint32_t MASK = vfio::VFIO_IRQ_SET_ACTION_MASK;
constexpr std::uint32_t UNMASK = vfio::VFIO_IRQ_SET_ACTION_UNMASK;

/// Runs `s` on `fd` and checks it fails with `err` and changes nothing.
inline void expect_error(VfioFixture& f, int fd, const vfio::VfioIrqSet& s, int err)
{
    const std::string before = f.state();
    CHECK(f.set_irqs(fd, s) == err);
    CHECK(f.state() == before);
}

} // namespace fwdsim::test
