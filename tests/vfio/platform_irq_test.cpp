// vfio-platform interrupt handling: automasked level IRQs, edge IRQs,
// MASK/UNMASK by ioctl and by eventfd, teardown (vfio_platform_irq.c).
#include "vfio_fixture.h"

#include <cerrno>

using namespace fwdsim;
using namespace fwdsim::vfio;
using namespace fwdsim::test;

TEST_CASE("a level IRQ is masked by its handler and signalled once until it is unmasked")
{
    VfioFixture f;
    const int efd = f.new_eventfd();
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {efd})) == 0);
    IrqContext& c = *f.plat->irq_context(0, 0);
    CHECK(c.requested());
    CHECK(f.chip.irq(40).enabled);

    f.chip.set_line(40, true);
    f.queue.run_until_idle();
    CHECK(f.ctx_of(efd).count() == 1);
    CHECK(c.masked());
    CHECK(f.irqs.depth(40) == 1);
    CHECK_FALSE(f.chip.irq(40).enabled);
    CHECK_FALSE(f.chip.irq(40).active); // the host deactivated it; the mask holds it off

    // Unmasked with the line still high: it fires again.
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::none(UNMASK, 0, 0, 1)) == 0);
    f.queue.run_until_idle();
    CHECK(f.ctx_of(efd).count() == 2);
    CHECK(c.masked());
    // Serviced, then unmasked: quiet.
    f.chip.set_line(40, false);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::bools(UNMASK, 0, 0, {1})) == 0);
    f.queue.run_until_idle();
    CHECK(f.ctx_of(efd).count() == 2);
    CHECK_FALSE(c.masked());
    CHECK(f.irqs.depth(40) == 0);
    CHECK(f.irqs.unbalanced_enables() == 0);
}

TEST_CASE("MASK does not nest: masking twice needs one unmask, and unmasking an unmasked IRQ is a no-op")
{
    VfioFixture f;
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {f.new_eventfd()})) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::none(MASK, 0, 0, 1)) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::bools(MASK, 0, 0, {1})) == 0);
    CHECK(f.irqs.depth(40) == 1);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::bools(MASK, 0, 0, {0})) == 0); // false: nothing
    CHECK(f.irqs.depth(40) == 1);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::none(UNMASK, 0, 0, 1)) == 0);
    CHECK(f.irqs.depth(40) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::none(UNMASK, 0, 0, 1)) == 0);
    CHECK(f.irqs.depth(40) == 0);
    CHECK(f.irqs.unbalanced_enables() == 0);
}

TEST_CASE("an unmask eventfd re-enables the IRQ from a work item on the CPU that signalled it")
{
    VfioFixture f;
    const int trig = f.new_eventfd();
    const int unmask = f.new_eventfd();
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {trig})) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(UNMASK, 0, 0, {unmask})) == 0);
    IrqContext& c = *f.plat->irq_context(0, 0);
    CHECK(c.has_unmask_eventfd());
    f.chip.set_line(40, true);
    f.queue.run_until_idle();
    REQUIRE(c.masked());
    f.chip.set_line(40, false);
    // The resampler signals it from host work (KVM's ack notifier path).
    std::uint64_t signalled_at = 0;
    host::Work ack("ack", [&] { signalled_at = f.queue.now().count(); f.ctx_of(unmask).signal(); });
    f.cpu.submit(ack, sim::Cycles{100});
    f.queue.run_until(sim::Cycles{f.queue.now().count() + 100});
    CHECK(c.masked()); // the work item has not run yet
    f.queue.run_until_idle();
    CHECK_FALSE(c.masked());
    CHECK(f.queue.now().count() >= signalled_at + f.costs.workqueue_dispatch.count());
    CHECK(f.ctx_of(unmask).count() == 0); // virqfd consumed it
    // -1 removes it.
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(UNMASK, 0, 0, {-1})) == 0);
    CHECK_FALSE(c.has_unmask_eventfd());
}

TEST_CASE("a mask eventfd masks the IRQ when signalled")
{
    VfioFixture f;
    const int m = f.new_eventfd();
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {f.new_eventfd()})) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(MASK, 0, 0, {m})) == 0);
    f.ctx_of(m).signal();
    CHECK(f.plat->irq_context(0, 0)->masked());
    CHECK(f.irqs.depth(40) == 1);
}

TEST_CASE("closing the unmask eventfd disarms the virqfd (POLLHUP)")
{
    VfioFixture f;
    const int unmask = f.new_eventfd();
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(UNMASK, 0, 0, {unmask})) == 0);
    REQUIRE(f.vmm.close(unmask) == 0);
    CHECK_FALSE(f.plat->irq_context(0, 0)->has_unmask_eventfd());
}

TEST_CASE("an edge IRQ is signalled every time and never masked")
{
    VfioFixture f;
    const int efd = f.new_eventfd();
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 1, 0, {efd})) == 0);
    for (int i = 0; i < 3; ++i) {
        f.chip.pulse(41);
        f.queue.run_until_idle();
    }
    CHECK(f.ctx_of(efd).count() == 3);
    CHECK_FALSE(f.plat->irq_context(1, 0)->masked());
    CHECK(f.irqs.depth(41) == 0);
}

TEST_CASE("a loopback TRIGGER with DATA_NONE signals the eventfd; DATA_BOOL false does not")
{
    VfioFixture f;
    const int efd = f.new_eventfd();
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 1, 0, {efd})) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::none(TRIGGER, 1, 0, 1)) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::bools(TRIGGER, 1, 0, {0})) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::bools(TRIGGER, 1, 0, {1})) == 0);
    CHECK(f.ctx_of(efd).count() == 2);
}

TEST_CASE("eventfd -1 and count 0 with DATA_NONE both tear the trigger down and free the host IRQ")
{
    VfioFixture f;
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {f.new_eventfd()})) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {-1})) == 0);
    CHECK_FALSE(f.plat->irq_context(0, 0)->has_trigger());
    CHECK(f.irqs.released_state_violations(40).empty());
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {f.new_eventfd()})) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::none(TRIGGER, 0, 0, 0)) == 0);
    CHECK_FALSE(f.plat->irq_context(0, 0)->requested());
    CHECK(f.irqs.released_state_violations(40).empty());
}

TEST_CASE("a mask survives the trigger's teardown and is honoured when a new trigger is set")
{
    VfioFixture f;
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {f.new_eventfd()})) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::none(MASK, 0, 0, 1)) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {-1})) == 0);
    CHECK(f.irqs.released_state_violations(40).empty());
    const int efd = f.new_eventfd();
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {efd})) == 0);
    CHECK(f.irqs.depth(40) == 1);
    f.chip.set_line(40, true);
    f.queue.run_until_idle();
    CHECK(f.ctx_of(efd).count() == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::none(UNMASK, 0, 0, 1)) == 0);
    f.queue.run_until_idle();
    CHECK(f.ctx_of(efd).count() == 1);
}

TEST_CASE("closing the device file tears down every trigger and leaves the host IRQs released")
{
    VfioFixture f;
    const int efd = f.new_eventfd();
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {efd})) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 1, 0, {efd})) == 0);
    const int unmask = f.new_eventfd(); // (the trigger itself would be an IRQ storm)
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(UNMASK, 0, 0, {unmask})) == 0);
    f.chip.set_line(40, true);
    f.queue.run_until_idle();
    REQUIRE(f.plat->irq_context(0, 0)->masked());
    REQUIRE(f.vmm.close(f.pfd) == 0);
    for (unsigned irq : {40u, 41u}) CHECK(f.irqs.released_state_violations(irq).empty());
    CHECK(f.ctx_of(unmask).waiters() == 0);
    CHECK(f.ctx_of(efd).refcount() == 1); // only the file's
    CHECK(f.ctx_of(unmask).refcount() == 1);
}
