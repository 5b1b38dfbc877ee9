// The host GIC driver on the physical GIC model: register programming,
// the IRQ flow with split EOI, vCPU affinity, and the cost of each access.
#include <fwdsim/gic/gic.h>
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/gic_driver.h>
#include <fwdsim/host/irq_layer.h>
#include <fwdsim/sim/cost_profile.h>

#include <catch2/catch.hpp>

#include <cerrno>

using namespace fwdsim;

namespace {
struct GicHost {
    explicit GicHost(bool split = true)
        : profile(sim::CostProfile::builtin_default()), costs(host::HostCosts::from_profile(profile)),
          gic(queue, gic::GicParams{}, gic::GicCosts::from_profile(profile)),
          driver(gic, this_cpu, host::GicDriverParams{split}), irqs(driver, this_cpu),
          cpu(queue, this_cpu, costs, 0)
    {
        driver.init();
        cpu.attach_irq_layer(irqs);
        driver.wire_cpus({&cpu});
    }
    sim::EventQueue queue;
    host::ThisCpu this_cpu;
    const sim::CostProfile& profile;
    host::HostCosts costs;
    gic::Gic gic;
    host::GicDriver driver;
    host::IrqLayer irqs;
    host::Cpu cpu;
};
int dev;
} // namespace

TEST_CASE("GIC driver init sets GICC_CTLR.EOImode only when KVM needs split EOI")
{
    GicHost split(true), unified(false);
    CHECK((split.gic.read(gic::Block::gicc, 0, 0x0) & (1u << 9)) != 0);
    CHECK((unified.gic.read(gic::Block::gicc, 0, 0x0) & (1u << 9)) == 0);
    CHECK(split.gic.read(gic::Block::gicc, 0, 0x4) == 0xf0);
    CHECK_FALSE(split.gic.is_enabled(40));
}

TEST_CASE("GIC driver: request_irq enables the SPI, disable_irq clears it, through GICD_I[SC]ENABLER")
{
    GicHost h;
    REQUIRE(h.irqs.request_irq(40, [](unsigned, void*) { return host::IrqReturn::handled; }, &dev) == 0);
    CHECK(h.gic.is_enabled(40));
    REQUIRE(h.irqs.disable_irq_nosync(40) == 0);
    CHECK_FALSE(h.gic.is_enabled(40));
    REQUIRE(h.irqs.enable_irq(40) == 0);
    CHECK(h.gic.is_enabled(40));
}

TEST_CASE("GIC driver: a level SPI is taken, handled, and deactivated by GICC_DIR")
{
    GicHost h;
    int handled = 0;
    bool active_in_handler = false;
    REQUIRE(h.irqs.request_irq(40, [&](unsigned, void*) {
        ++handled;
        active_in_handler = h.gic.is_active(40);
        h.gic.set_spi_level(40, false); // the device is serviced
        return host::IrqReturn::handled;
    }, &dev) == 0);
    h.gic.set_spi_level(40, true);
    h.queue.run_until_idle();
    CHECK(handled == 1);
    CHECK(active_in_handler);
    CHECK_FALSE(h.gic.is_active(40));
    CHECK_FALSE(h.gic.is_pending(40));
    CHECK(h.cpu.irqs_taken() == 1);
}

TEST_CASE("GIC driver: an IRQ with a vCPU affinity stays active after the host's EOI")
{
    GicHost h;
    int vcpu = 0;
    REQUIRE(h.irqs.request_irq(40, [&](unsigned, void*) { return host::IrqReturn::handled; }, &dev) == 0);
    REQUIRE(h.irqs.irq_set_vcpu_affinity(40, &vcpu) == 0);
    h.gic.set_spi_level(40, true);
    h.queue.run_until_idle();
    CHECK(h.gic.is_active(40));
    CHECK_FALSE(h.gic.irq_line(0)); // priority dropped: lower-priority work can proceed
    bool active = false;
    REQUIRE(h.irqs.irq_get_irqchip_state(40, host::IrqchipState::active, active) == 0);
    CHECK(active);
    h.gic.set_spi_level(40, false);
    REQUIRE(h.irqs.irq_set_irqchip_state(40, host::IrqchipState::active, false) == 0);
    CHECK_FALSE(h.gic.is_active(40));
}

TEST_CASE("GIC driver: the host's IRQ flow costs entry, IAR, EOIR, dispatch, DIR and exit")
{
    GicHost h;
    REQUIRE(h.irqs.irq_set_irq_type(41, host::IrqTrigger::edge) == 0);
    REQUIRE(h.irqs.request_irq(41, [](unsigned, void*) { return host::IrqReturn::handled; }, &dev) == 0);
    h.gic.set_spi_level(41, true);
    h.gic.set_spi_level(41, false);
    h.queue.run_until_idle();
    const auto gicc = h.gic.access_cost(gic::Block::gicc);
    // IAR, EOIR, DIR, and the IAR that finds nothing more pending is not made
    // because nIRQ is low by then.
    const auto expected = h.costs.irq_entry + gicc + gicc + h.costs.irq_dispatch + gicc + h.costs.irq_exit;
    CHECK(h.cpu.busy_cycles() == expected);
}

TEST_CASE("GIC driver: irq_set_affinity rejects banked IRQs and absent CPUs with EINVAL")
{
    GicHost h;
    CHECK(h.irqs.irq_set_affinity(20, 0) == -EINVAL);
    CHECK(h.irqs.irq_set_affinity(40, 3) == -EINVAL);
    CHECK(h.irqs.irq_set_affinity(40, 0) == 0);
    CHECK(h.irqs.irq_set_irq_type(3, host::IrqTrigger::level) == -EINVAL);
}
