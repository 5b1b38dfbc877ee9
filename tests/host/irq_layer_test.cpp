// The generic IRQ layer: request/free, depth counting, irqchip state, vCPU
// affinity, and the flow a CPU runs (kernel/irq/*.c, irq-gic.c).
#include "host_fixture.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>

using namespace fwdsim;
using fwdsim::test::HostFixture;

namespace {
host::IrqHandler counting(int& n)
{
    return [&n](unsigned, void*) { ++n; return host::IrqReturn::handled; };
}
int dev_a, dev_b;
} // namespace

TEST_CASE("request_irq enables the IRQ and a second request fails with EBUSY")
{
    HostFixture h;
    int n = 0;
    REQUIRE(h.irqs.request_irq(40, counting(n), &dev_a, "a") == 0);
    CHECK(h.chip.irq(40).enabled);
    CHECK(h.irqs.has_handler(40));
    CHECK(h.irqs.request_irq(40, counting(n), &dev_b, "b") == -EBUSY);
    CHECK(h.irqs.info(40).dev_id == &dev_a);
    CHECK(h.irqs.info(40).name == "a");
}

TEST_CASE("request_irq of an IRQ the controller does not have fails with EINVAL and changes nothing")
{
    HostFixture h;
    int n = 0;
    CHECK(h.irqs.request_irq(64, counting(n), &dev_a) == -EINVAL);
    CHECK(h.irqs.request_irq(40, nullptr, &dev_a) == -EINVAL);
    CHECK_FALSE(h.irqs.has_handler(40));
    CHECK(h.chip.log.empty());
}

TEST_CASE("request_irq with no_autoenable leaves the IRQ disabled at depth 1")
{
    HostFixture h;
    int n = 0;
    REQUIRE(h.irqs.request_irq(40, counting(n), &dev_a, "a", true) == 0);
    CHECK(h.irqs.depth(40) == 1);
    CHECK_FALSE(h.chip.irq(40).enabled);
    CHECK(h.irqs.enable_irq(40) == 0);
    CHECK(h.chip.irq(40).enabled);
}

TEST_CASE("free_irq by a dev_id that does not own the IRQ fails with EINVAL and is counted")
{
    HostFixture h;
    int n = 0;
    REQUIRE(h.irqs.request_irq(40, counting(n), &dev_a) == 0);
    CHECK(h.irqs.free_irq(40, &dev_b) == -EINVAL);
    CHECK(h.irqs.bad_frees() == 1);
    CHECK(h.irqs.has_handler(40));
    CHECK(h.irqs.free_irq(41, &dev_a) == -EINVAL);
    CHECK(h.irqs.bad_frees() == 2);
}

TEST_CASE("disables nest: the IRQ is unmasked only by the enable that balances the last disable")
{
    HostFixture h;
    int n = 0;
    REQUIRE(h.irqs.request_irq(40, counting(n), &dev_a) == 0);
    CHECK(h.irqs.disable_irq_nosync(40) == 0);
    CHECK(h.irqs.disable_irq(40) == 0);
    CHECK(h.irqs.depth(40) == 2);
    CHECK_FALSE(h.chip.irq(40).enabled);
    CHECK(h.irqs.enable_irq(40) == 0);
    CHECK(h.irqs.depth(40) == 1);
    CHECK_FALSE(h.chip.irq(40).enabled);
    CHECK(h.irqs.enable_irq(40) == 0);
    CHECK(h.irqs.depth(40) == 0);
    CHECK(h.chip.irq(40).enabled);
}

TEST_CASE("an unbalanced enable_irq fails with EINVAL, is counted, and changes nothing")
{
    HostFixture h;
    int n = 0;
    REQUIRE(h.irqs.request_irq(40, counting(n), &dev_a) == 0);
    const auto log_before = h.chip.log.size();
    CHECK(h.irqs.enable_irq(40) == -EINVAL);
    CHECK(h.irqs.unbalanced_enables() == 1);
    CHECK(h.irqs.depth(40) == 0);
    CHECK(h.chip.log.size() == log_before);
    CHECK(h.irqs.enable_irq(999) == -EINVAL);
    CHECK(h.irqs.unbalanced_enables() == 1); // a bad IRQ is not an unbalanced enable
}

TEST_CASE("free_irq leaves the IRQ masked, without handler, depth or vCPU affinity, and not active")
{
    HostFixture h;
    int n = 0;
    REQUIRE(h.irqs.request_irq(40, counting(n), &dev_a) == 0);
    REQUIRE(h.irqs.disable_irq(40) == 0);
    int cookie = 0;
    REQUIRE(h.irqs.irq_set_vcpu_affinity(40, &cookie) == 0);
    REQUIRE(h.irqs.irq_set_irqchip_state(40, host::IrqchipState::active, true) == 0);
    CHECK_FALSE(h.irqs.released_state_violations(40).empty());

    CHECK(h.irqs.free_irq(40, &dev_a) == 0);
    CHECK(h.irqs.released_state_violations(40).empty());
    CHECK_FALSE(h.chip.irq(40).enabled);
    CHECK_FALSE(h.chip.irq(40).active);
    // The next owner receives interrupts at once.
    REQUIRE(h.irqs.request_irq(40, counting(n), &dev_b) == 0);
    CHECK(h.chip.irq(40).enabled);
}

TEST_CASE("irq_set_vcpu_affinity needs split EOI (ENOSYS) and a valid IRQ (EINVAL)")
{
    HostFixture split;
    HostFixture unified(false);
    int cookie = 0;
    CHECK(split.irqs.irq_set_vcpu_affinity(40, &cookie) == 0);
    CHECK(split.irqs.vcpu_affinity(40) == &cookie);
    CHECK(split.irqs.irq_set_vcpu_affinity(40, nullptr) == 0);
    CHECK(split.irqs.vcpu_affinity(40) == nullptr);
    CHECK(split.irqs.irq_set_vcpu_affinity(100, &cookie) == -EINVAL);
    CHECK(unified.irqs.irq_set_vcpu_affinity(40, &cookie) == -ENOSYS);
    CHECK(unified.irqs.vcpu_affinity(40) == nullptr);
}

TEST_CASE("irqchip state: ACTIVE can be set, read back and cleared; bad IRQs fail with EINVAL")
{
    HostFixture h;
    bool v = true;
    REQUIRE(h.irqs.irq_get_irqchip_state(40, host::IrqchipState::active, v) == 0);
    CHECK_FALSE(v);
    REQUIRE(h.irqs.irq_set_irqchip_state(40, host::IrqchipState::active, true) == 0);
    REQUIRE(h.irqs.irq_get_irqchip_state(40, host::IrqchipState::active, v) == 0);
    CHECK(v);
    REQUIRE(h.irqs.irq_set_irqchip_state(40, host::IrqchipState::active, false) == 0);
    REQUIRE(h.irqs.irq_get_irqchip_state(40, host::IrqchipState::active, v) == 0);
    CHECK_FALSE(v);
    CHECK(h.irqs.irq_set_irqchip_state(64, host::IrqchipState::active, true) == -EINVAL);
    CHECK(h.irqs.irq_get_irqchip_state(64, host::IrqchipState::active, v) == -EINVAL);
}

TEST_CASE("with split EOI the flow acknowledges, drops priority, runs the handler, then deactivates")
{
    HostFixture h;
    std::vector<std::string> seen;
    REQUIRE(h.irqs.request_irq(40, [&](unsigned irq, void* dev) {
        CHECK(irq == 40);
        CHECK(dev == &dev_a);
        seen = h.chip.log;
        return host::IrqReturn::handled;
    }, &dev_a) == 0);
    h.chip.log.clear();
    h.chip.set_line(40, true);
    h.queue.run_until(sim::Cycles{10'000});
    REQUIRE(seen.size() >= 2);
    CHECK(seen[0] == "ack 40");
    CHECK(seen[1] == "eoi 40");
    // The level line is still high: after DIR it is taken again.
    h.chip.set_line(40, false);
    h.queue.run_until_idle();
    auto dirs = std::count(h.chip.log.begin(), h.chip.log.end(), std::string("dir 40"));
    CHECK(dirs >= 2);
    CHECK(h.irqs.info(40).handled == static_cast<std::uint64_t>(dirs));
    CHECK_FALSE(h.chip.irq(40).active);
    CHECK(h.cpu.idle());
}

TEST_CASE("with EOImode 0 the flow ends with one EOIR that also deactivates")
{
    HostFixture h(false);
    int n = 0;
    REQUIRE(h.irqs.request_irq(40, counting(n), &dev_a) == 0);
    REQUIRE(h.irqs.irq_set_irq_type(40, host::IrqTrigger::edge) == 0);
    h.chip.log.clear();
    h.chip.pulse(40);
    h.queue.run_until_idle();
    CHECK(n == 1);
    CHECK(h.chip.log == std::vector<std::string>{"ack 40", "eoi 40"});
    CHECK_FALSE(h.chip.irq(40).active);
}

TEST_CASE("an IRQ with a vCPU affinity is priority-dropped but left active for the guest to deactivate")
{
    HostFixture h;
    int n = 0;
    int vcpu = 0;
    REQUIRE(h.irqs.request_irq(40, counting(n), &dev_a) == 0);
    REQUIRE(h.irqs.irq_set_vcpu_affinity(40, &vcpu) == 0);
    h.chip.log.clear();
    h.chip.set_line(40, true);
    h.queue.run_until_idle();
    CHECK(n == 1);
    CHECK(h.chip.irq(40).active);
    CHECK(std::count(h.chip.log.begin(), h.chip.log.end(), std::string("dir 40")) == 0);
    CHECK(h.irqs.info(40).flows_in_progress == 0);
    // The guest's EOI through the HW list register deactivates it; it fires again.
    h.chip.irq_set_irqchip_state(40, host::IrqchipState::active, false);
    h.queue.run_until_idle();
    CHECK(n == 2);
}

TEST_CASE("an edge that arrives while the IRQ is disabled is replayed when it is enabled")
{
    HostFixture h;
    int n = 0;
    REQUIRE(h.irqs.irq_set_irq_type(40, host::IrqTrigger::edge) == 0);
    REQUIRE(h.irqs.request_irq(40, counting(n), &dev_a) == 0);
    // The edge is acknowledged, then the IRQ is disabled before its handler runs.
    h.chip.pulse(40);
    h.queue.run_until(h.queue.now() + h.costs.irq_entry + sim::Cycles{5});
    REQUIRE(h.cpu.in_irq());
    REQUIRE(h.irqs.disable_irq_nosync(40) == 0);
    h.queue.run_until_idle();
    CHECK(n == 0);
    CHECK(h.irqs.info(40).replay_pending);
    CHECK_FALSE(h.chip.irq(40).active);
    REQUIRE(h.irqs.enable_irq(40) == 0);
    h.queue.run_until_idle();
    CHECK(n == 1);
    CHECK_FALSE(h.irqs.info(40).replay_pending);
}

TEST_CASE("an edge acknowledged after its handler was freed is delivered to the next owner")
{
    HostFixture h;
    int n = 0, m = 0;
    REQUIRE(h.irqs.irq_set_irq_type(40, host::IrqTrigger::edge) == 0);
    REQUIRE(h.irqs.request_irq(40, counting(n), &dev_a) == 0);
    h.chip.pulse(40);
    h.queue.run_until(h.queue.now() + h.costs.irq_entry + sim::Cycles{5});
    REQUIRE(h.cpu.in_irq());
    REQUIRE(h.irqs.free_irq(40, &dev_a) == 0);
    h.queue.run_until_idle();
    CHECK(n == 0);
    CHECK(h.irqs.released_state_violations(40).empty());
    REQUIRE(h.irqs.request_irq(40, counting(m), &dev_b) == 0);
    h.queue.run_until_idle();
    CHECK(m == 1);
}
