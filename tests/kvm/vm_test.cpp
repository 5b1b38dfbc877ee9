// KVM_IRQ_LINE decoding, irqfd assignment rules, and the irqfd resampler,
// over the vgic and the real GIC.
#include <fwdsim/gic/registers.h>
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/gic_driver.h>
#include <fwdsim/host/process.h>
#include <fwdsim/kvm/vm.h>
#include <fwdsim/sim/cost_profile.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <memory>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::gic;

namespace {

struct World {
    World()
    {
        const auto& profile = sim::CostProfile::builtin_default();
        GicParams params;
        params.num_cpus = 3;
        gic = std::make_unique<Gic>(queue, params, GicCosts::from_profile(profile));
        driver = std::make_unique<host::GicDriver>(*gic, this_cpu);
        driver->init();
        irqs = std::make_unique<host::IrqLayer>(*driver, this_cpu);
        for (unsigned i = 0; i < 3; ++i)
            cpus.push_back(std::make_unique<host::Cpu>(queue, this_cpu, host::HostCosts::from_profile(profile), i));
        vm = std::make_unique<kvm::Vm>(kvm::KvmEnv{queue, *gic, *irqs, this_cpu, kvm::KvmCosts::from_profile(profile),
                                                   arch::VgicCosts::from_profile(profile)},
                                       arch::ArchKind::arm);
        REQUIRE(vm->arch().create_irqchip() == 0);
        kvm::Vcpu* v = nullptr;
        REQUIRE(vm->create_vcpu(0, *cpus[1], v) == 0);
        REQUIRE(vm->create_vcpu(1, *cpus[2], v) == 0);
        REQUIRE(vm->ensure_vgic() == 0);
        vgic = vm->arch().vgic();
        sim::Cycles c;
        vgic->dist_write(0, gicd::ctlr, 1, c);
        vgic->dist_write(0, gicd::isenabler + 8, 0xFFFFFFFF, c); // INTIDs 64..95
        vgic->dist_write(0, gicd::isenabler + 4, 0xFFFFFFFF, c); // 32..63
        // The guest enables its virtual CPU interface on its first run; the
        // vgic saves that state at the exit (GICH_VMCR) and restores it.
        vgic->flush(0, 0);
        gic->write(Block::gicv, 0, gicc::ctlr, 1);
        gic->write(Block::gicv, 0, gicc::pmr, 0xF8);
        vgic->fold(0, 0);
    }
    bool pending(unsigned intid) { return vgic->irq(0, intid)->pending(); }
    // One guest round trip: enter, take and complete everything, exit.
    void guest_round()
    {
        vgic->flush(0, 0);
        for (std::uint32_t id; (id = gic->read(Block::gicv, 0, gicc::iar)) != spurious_intid;) {
            gic->write(Block::gicv, 0, gicc::eoir, id);
        }
        vgic->fold(0, 0);
    }

    sim::EventQueue queue;
    host::ThisCpu this_cpu;
    std::unique_ptr<Gic> gic;
    std::unique_ptr<host::GicDriver> driver;
    std::unique_ptr<host::IrqLayer> irqs;
    std::vector<std::unique_ptr<host::Cpu>> cpus;
    std::unique_ptr<kvm::Vm> vm;
    arch::Vgic* vgic = nullptr;
    host::Process vmm{"vmm"};
};

std::uint32_t spi(unsigned intid) { return (kvm::kArmIrqTypeSpi << kvm::kArmIrqTypeShift) | intid; }

} // namespace

TEST_CASE("KVM_IRQ_LINE decodes type, vCPU and number with Linux's errnos")
{
    World w;
    CHECK(w.vm->irq_line(spi(48), 1) == 0);
    CHECK(w.pending(48));
    CHECK(w.vm->irq_line(spi(48), 0) == 0);
    CHECK_FALSE(w.pending(48));
    CHECK(w.vm->irq_line(spi(20), 1) == -EINVAL);  // not an SPI
    CHECK(w.vm->irq_line(spi(300), 1) == -EINVAL); // beyond the vgic
    const std::uint32_t ppi27_vcpu1 = (kvm::kArmIrqTypePpi << kvm::kArmIrqTypeShift) | (1u << kvm::kArmIrqVcpuShift) | 27;
    CHECK(w.vm->irq_line(ppi27_vcpu1, 1) == 0);
    CHECK(w.vgic->irq(1, 27)->line_level);
    CHECK_FALSE(w.vgic->irq(0, 27)->line_level);
    CHECK(w.vm->irq_line((kvm::kArmIrqTypePpi << kvm::kArmIrqTypeShift) | (5u << kvm::kArmIrqVcpuShift) | 27, 1) == -EINVAL);
    CHECK(w.vm->irq_line(kvm::kArmIrqTypeCpu << kvm::kArmIrqTypeShift, 1) == -ENXIO);
    CHECK(w.vm->irq_line(7u << kvm::kArmIrqTypeShift, 1) == -EINVAL);
}

TEST_CASE("KVM_IRQFD rejects unknown flags, bad fds, non-eventfds and a second assignment of one eventfd")
{
    World w;
    const int efd = host::eventfd_create(w.vmm);
    REQUIRE(efd >= 0);
    CHECK(w.vm->irqfd(w.vmm, efd, 16, 1u << 7, -1) == -EINVAL);
    CHECK(w.vm->irqfd(w.vmm, 99, 16, 0, -1) == -EBADF);
    CHECK(w.vm->irqfd(w.vmm, efd, 16, kvm::kIrqfdFlagResample, 99) == -EBADF);
    CHECK(w.vm->irqfd_count() == 0);
    CHECK(w.vm->irqfd(w.vmm, efd, 16, 0, -1) == 0);
    CHECK(w.vm->irqfd(w.vmm, efd, 17, 0, -1) == -EBUSY);
    CHECK(w.vm->irqfd_count() == 1);
}

TEST_CASE("an edge irqfd pulses its GSI (INTID GSI+32) once per signal")
{
    World w;
    sim::Cycles c;
    w.vgic->dist_write(0, gicd::icfgr + 12, 0xFFFFFFFF, c); // INTIDs 48..63 edge
    const int efd = host::eventfd_create(w.vmm);
    REQUIRE(w.vm->irqfd(w.vmm, efd, 16, 0, -1) == 0); // GSI 16 = INTID 48
    host::EventfdCtxRef ctx;
    REQUIRE(host::eventfd_ctx_fdget(w.vmm, efd, ctx) == 0);
    ctx->signal();
    CHECK(w.pending(48));
    CHECK_FALSE(w.vgic->irq(0, 48)->line_level);
    w.guest_round();
    CHECK_FALSE(w.pending(48));
}

TEST_CASE("K03 irqfd + resamplefd: each guest EOI lowers the line and signals the resamplefd exactly once")
{
    World w;
    const int efd = host::eventfd_create(w.vmm);
    const int rfd = host::eventfd_create(w.vmm);
    REQUIRE(w.vm->irqfd(w.vmm, efd, 16, kvm::kIrqfdFlagResample, rfd) == 0);
    CHECK(w.vm->resampler_count() == 1);
    host::EventfdCtxRef trigger, resample;
    REQUIRE(host::eventfd_ctx_fdget(w.vmm, efd, trigger) == 0);
    REQUIRE(host::eventfd_ctx_fdget(w.vmm, rfd, resample) == 0);
    for (int n = 1; n <= 3; ++n) {
        trigger->signal(); // VFIO's handler: the device's level interrupt fired
        CHECK(w.vgic->irq(0, 48)->line_level);
        w.guest_round();
        CHECK_FALSE(w.vgic->irq(0, 48)->line_level);
        CHECK(resample->signals() == static_cast<std::uint64_t>(n));
    }
    // Deassigning removes the irqfd and its resampler.
    CHECK(w.vm->irqfd(w.vmm, efd, 16, kvm::kIrqfdFlagDeassign, -1) == 0);
    CHECK(w.vm->irqfd_count() == 0);
    CHECK(w.vm->resampler_count() == 0);
}

TEST_CASE("closing the last reference to an irqfd's eventfd shuts the irqfd down (POLLHUP)")
{
    World w;
    const int efd = host::eventfd_create(w.vmm);
    const int rfd = host::eventfd_create(w.vmm);
    REQUIRE(w.vm->irqfd(w.vmm, efd, 16, kvm::kIrqfdFlagResample, rfd) == 0);
    {
        host::EventfdCtxRef trigger;
        REQUIRE(host::eventfd_ctx_fdget(w.vmm, efd, trigger) == 0);
        trigger->signal();
    }
    CHECK(w.vgic->irq(0, 48)->line_level);
    // The irqfd itself holds the ctx, not the file: closing the fd hangs up.
    CHECK(w.vmm.close(efd) == 0);
    CHECK(w.vm->irqfd_count() == 0);
    CHECK(w.vm->resampler_count() == 0);
    CHECK_FALSE(w.vgic->irq(0, 48)->line_level); // the last resampler lowered it
}

TEST_CASE("KVM_SET_GSI_ROUTING: irqchip pins and MSI entries, with Linux's refusals")
{
    World w;
    const std::uint32_t pin = 16;               // GSI 5 -> SPI pin 16 -> INTID 48
    const std::uint32_t msi_intid = 70;         // GSI 6 -> an MSI whose data is INTID 70 (GICv2m)
    std::vector<kvm::RoutingEntry> table{{5, kvm::kIrqRoutingIrqchip, pin, 0, 0},
                                         {6, kvm::kIrqRoutingMsi, 0, 0x08020040, msi_intid}};
    REQUIRE(w.vm->set_gsi_routing(table) == 0);
    CHECK(w.vm->gsi_to_intid(5) == 48);
    CHECK(w.vm->gsi_to_intid(6) == -EINVAL); // an MSI route is not an irqchip pin
    CHECK(w.vm->gsi_to_intid(16) == -EINVAL); // GSIs not in the table route nowhere now

    // An irqfd on the MSI GSI delivers an edge on the MSI's INTID (which the
    // guest configures as edge-triggered, as MSI SPIs are).
    sim::Cycles c{};
    w.vgic->dist_write(0, gicd::icfgr + 4 * (msi_intid / 16), 2u << (2 * (msi_intid % 16)), c);
    const int efd = host::eventfd_create(w.vmm);
    REQUIRE(w.vm->irqfd(w.vmm, efd, 6, 0, -1) == 0);
    host::EventfdCtxRef ctx;
    REQUIRE(host::eventfd_ctx_fdget(w.vmm, efd, ctx) == 0);
    ctx->signal(1);
    CHECK(w.vgic->irq(0, msi_intid)->pending());
    CHECK_FALSE(w.vgic->irq(0, msi_intid)->line_level); // a pulse, not a held line
    // RESAMPLE on an MSI route is accepted (kvm_irqfd_assign does not look
    // at the route); its resampler never fires, as no pin is acked.
    const int e2 = host::eventfd_create(w.vmm), r2 = host::eventfd_create(w.vmm);
    CHECK(w.vm->irqfd(w.vmm, e2, 6, kvm::kIrqfdFlagResample, r2) == 0);

    // Bad tables are refused whole, leaving the old one.
    std::vector<kvm::RoutingEntry> bad_pin{{7, kvm::kIrqRoutingIrqchip, 300, 0, 0}};
    std::vector<kvm::RoutingEntry> bad_type{{7, 9, 0, 0, 0}};
    std::vector<kvm::RoutingEntry> twice{{7, kvm::kIrqRoutingIrqchip, 1, 0, 0}, {7, kvm::kIrqRoutingIrqchip, 2, 0, 0}};
    std::vector<kvm::RoutingEntry> bad_msi{{7, kvm::kIrqRoutingMsi, 0, 0, 12}};
    for (const auto* t : {&bad_pin, &bad_type, &twice, &bad_msi}) CHECK(w.vm->set_gsi_routing(*t) == -EINVAL);
    CHECK(w.vm->gsi_to_intid(5) == 48);
}

TEST_CASE("forwarding an interrupt the guest has active moves the active state to the physical side")
{
    World w;
    sim::Cycles c{};
    w.vgic->dist_write(0, gicd::isactiver + 4, 1u << (48 - 32), c); // the guest is handling INTID 48
    REQUIRE(w.vgic->irq(0, 48)->active);
    const unsigned host_irq = 40;
    REQUIRE_FALSE(w.gic->is_active(host_irq));
    REQUIRE(w.vm->forward_irq(host_irq, 16) == 0); // GSI 16 = INTID 48
    // Its EOI through the HW list register will deactivate the physical IRQ,
    // so the physical IRQ must be active now -- and cannot fire meanwhile.
    CHECK(w.gic->is_active(host_irq));
    CHECK(w.irqs->vcpu_affinity(host_irq) != nullptr);
    CHECK(w.vgic->irq(0, 48)->hw);
    // Unforwarding hands it back: the physical side inactive, the virtual
    // side keeps its state, the affinity gone.
    w.vm->unforward_irq(host_irq, 16);
    CHECK_FALSE(w.gic->is_active(host_irq));
    CHECK(w.irqs->vcpu_affinity(host_irq) == nullptr);
    CHECK(w.vgic->irq(0, 48)->active);
    CHECK_FALSE(w.vgic->irq(0, 48)->hw);
}

TEST_CASE("a forwarded injection that cannot be made is deactivated by the host, not left active")
{
    // The host took the IRQ and left it active for a guest EOI through a
    // HW list register; if no virtual interrupt is mapped to take it, no
    // such EOI will ever come.
    World w;
    const unsigned host_irq = 40;
    REQUIRE(w.irqs->irq_set_irqchip_state(host_irq, host::IrqchipState::active, true) == 0);
    REQUIRE(w.gic->is_active(host_irq));
    CHECK(w.vm->inject_forwarded(host_irq) == -ENOENT); // not forwarded (any more)
    CHECK_FALSE(w.gic->is_active(host_irq));
    CHECK(w.vm->failed_forwarded_injections() == 1);
    // Forwarded, the injection succeeds and the IRQ stays active for the guest.
    REQUIRE(w.vm->forward_irq(host_irq, 16) == 0);
    REQUIRE(w.irqs->irq_set_irqchip_state(host_irq, host::IrqchipState::active, true) == 0);
    CHECK(w.vm->inject_forwarded(host_irq) == 0);
    CHECK(w.gic->is_active(host_irq));
    CHECK(w.vgic->irq(0, 48)->pending());
    CHECK(w.vm->failed_forwarded_injections() == 1);
}
