// Forwarded mode: the external-user side of kvm-vfio's FORWARD_IRQ.
#include "fake_vgic.h"
#include "vfio_fixture.h"

#include <cerrno>

using namespace fwdsim;
using namespace fwdsim::vfio;
using fwdsim::test::FakeVgic;
using fwdsim::test::VfioFixture;

namespace {
constexpr std::uint32_t TRIGGER = VFIO_IRQ_SET_ACTION_TRIGGER;

struct Counting final : ForwardedIrqConsumer {
    int n = 0;
    unsigned last = 0;
    void inject(unsigned irq) override { ++n; last = irq; }
};
} // namespace

TEST_CASE("the host IRQ of (index, subindex) comes from the bus driver; a bad pair gives EINVAL")
{
    VfioFixture f;
    CHECK(f.plat->host_irq(0, 0) == 40);
    CHECK(f.plat->host_irq(1, 0) == 41);
    CHECK(f.plat->host_irq(1, 1) == -EINVAL);
    CHECK(f.plat->host_irq(2, 0) == -EINVAL);
    CHECK(f.pci->host_irq(VFIO_PCI_INTX_IRQ_INDEX, 0) == 42);
    CHECK(f.pci->host_irq(VFIO_PCI_MSI_IRQ_INDEX, 1) == 45);
}

TEST_CASE("forwarding an IRQ whose VFIO signalling is set up fails with EBUSY")
{
    VfioFixture f;
    Counting c;
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {f.new_eventfd()})) == 0);
    const std::string before = f.state();
    CHECK(f.plat->set_forwarded(0, 0, c) == -EBUSY);
    CHECK(f.state() == before);
}

TEST_CASE("forwarding the same IRQ twice fails with EINVAL; a bad index fails with EINVAL")
{
    VfioFixture f;
    Counting c;
    REQUIRE(f.plat->set_forwarded(0, 0, c) == 0);
    const std::string before = f.state();
    CHECK(f.plat->set_forwarded(0, 0, c) == -EINVAL);
    CHECK(f.plat->set_forwarded(5, 0, c) == -EINVAL);
    CHECK(f.plat->set_forwarded(1, 3, c) == -EINVAL);
    CHECK(f.state() == before);
}

TEST_CASE("a trigger eventfd or a loopback on a forwarded IRQ fails with EBUSY")
{
    VfioFixture f;
    Counting c;
    REQUIRE(f.plat->set_forwarded(1, 0, c) == 0);
    const std::string before = f.state();
    CHECK(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 1, 0, {f.new_eventfd()})) == -EBUSY);
    CHECK(f.set_irqs(f.pfd, VfioIrqSet::none(TRIGGER, 1, 0, 1)) == -EBUSY);
    CHECK(f.state() == before);
    CHECK(c.n == 0);
    // Tearing down what is not there succeeds and leaves forwarding alone.
    CHECK(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 1, 0, {-1})) == 0);
    CHECK(f.plat->is_forwarded(1, 0));
}

TEST_CASE("in forwarded mode the handler neither masks nor signals: it hands the IRQ to the consumer")
{
    VfioFixture f;
    FakeVgic v(f.queue, f.irqs, 40, [&] { f.chip.set_line(40, false); });
    const int efd = f.new_eventfd();
    REQUIRE(f.plat->set_forwarded(0, 0, v) == 0);
    v.forward();
    f.chip.set_line(40, true);
    f.queue.run_until(f.queue.now() + sim::Cycles{1000});
    IrqContext& c = *f.plat->irq_context(0, 0);
    CHECK(v.injects == 1);
    CHECK_FALSE(c.masked());
    CHECK(f.irqs.depth(40) == 0);
    CHECK(f.chip.irq(40).active); // priority dropped, left active for the guest
    CHECK(f.ctx_of(efd).count() == 0);
    f.queue.run_until_idle();
    CHECK(v.deliveries == 1);
    CHECK_FALSE(f.chip.irq(40).active); // the guest's EOI deactivated it
    CHECK(v.wrong_irq == 0);
}

TEST_CASE("clear_forwarded cannot fail, frees the host IRQ, and never calls the consumer again")
{
    VfioFixture f;
    Counting c;
    f.plat->clear_forwarded(0, 0); // not forwarded: nothing
    f.plat->clear_forwarded(7, 7); // no such IRQ: nothing
    REQUIRE(f.plat->set_forwarded(1, 0, c) == 0);
    f.chip.pulse(41);
    f.queue.run_until_idle();
    CHECK(c.n == 1);
    CHECK(c.last == 41);
    f.plat->clear_forwarded(1, 0);
    CHECK_FALSE(f.plat->is_forwarded(1, 0));
    CHECK(f.irqs.released_state_violations(41).empty());
    f.chip.pulse(41);
    f.queue.run_until_idle();
    CHECK(c.n == 1);
}

TEST_CASE("forwarding lifts the handler's automask left over from VFIO signalling")
{
    VfioFixture f;
    Counting c;
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {f.new_eventfd()})) == 0);
    f.plat->irq_context(0, 0)->fire(); // the level handler masks and signals
    REQUIRE(f.plat->irq_context(0, 0)->masked());
    REQUIRE_FALSE(f.plat->irq_context(0, 0)->user_masked());
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::none(TRIGGER, 0, 0, 0)) == 0);
    REQUIRE(f.plat->set_forwarded(0, 0, c) == 0);
    CHECK_FALSE(f.plat->irq_context(0, 0)->masked());
    CHECK(f.irqs.depth(40) == 0);
    CHECK(f.chip.irq(40).enabled);
}

TEST_CASE("forwarding keeps a mask the user set until the user unmasks")
{
    VfioFixture f;
    Counting c;
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {f.new_eventfd()})) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::none(VFIO_IRQ_SET_ACTION_MASK, 0, 0, 1)) == 0);
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::none(TRIGGER, 0, 0, 0)) == 0);
    REQUIRE(f.plat->set_forwarded(0, 0, c) == 0);
    CHECK(f.plat->irq_context(0, 0)->masked());
    CHECK(f.irqs.depth(40) == 1);
    CHECK_FALSE(f.chip.irq(40).enabled);
    // The user's UNMASK works on a forwarded IRQ and lets it through.
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::none(VFIO_IRQ_SET_ACTION_UNMASK, 0, 0, 1)) == 0);
    CHECK_FALSE(f.plat->irq_context(0, 0)->masked());
    CHECK(f.irqs.depth(40) == 0);
    CHECK(f.chip.irq(40).enabled);
}

TEST_CASE("forwarding survives closing the device file; clearing it afterwards releases the host IRQ")
{
    VfioFixture f;
    Counting c;
    vfio::DeviceRef held;
    REQUIRE(vfio::device_get_from_file(*f.vmm.peek(f.pfd), held) == 0);
    REQUIRE(f.plat->set_forwarded(0, 0, c) == 0);
    REQUIRE(f.vmm.close(f.pfd) == 0);
    CHECK(f.plat->is_forwarded(0, 0));
    CHECK(f.irqs.has_handler(40));
    f.plat->clear_forwarded(0, 0);
    held.reset();
    CHECK(f.irqs.released_state_violations(40).empty());
}

TEST_CASE("an MSI-X vector can be forwarded and signalled vectors around it are unaffected")
{
    VfioFixture f;
    Counting c;
    const int efd = f.new_eventfd();
    REQUIRE(f.set_irqs(f.qfd, VfioIrqSet::eventfds(TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, {efd, -1})) == 0);
    REQUIRE(f.pci->set_forwarded(VFIO_PCI_MSIX_IRQ_INDEX, 1, c) == 0);
    CHECK(f.pci->set_forwarded(VFIO_PCI_MSIX_IRQ_INDEX, 0, c) == -EBUSY);
    f.chip.pulse(48);
    f.chip.pulse(49);
    f.queue.run_until_idle();
    CHECK(f.ctx_of(efd).count() == 1);
    CHECK(c.n == 1);
    CHECK(c.last == 49);
}

TEST_CASE("a forwarded level IRQ costs the host CPU less than the eventfd path: no mask, no signal, no DIR")
{
    auto host_cycles = [](bool forwarded) {
        VfioFixture f;
        Counting c;
        int vcpu = 0;
        if (forwarded) {
            REQUIRE(f.irqs.irq_set_vcpu_affinity(40, &vcpu) == 0);
            REQUIRE(f.plat->set_forwarded(0, 0, c) == 0);
        } else {
            REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 0, 0, {f.new_eventfd()})) == 0);
        }
        f.chip.set_line(40, true);
        f.queue.run_until_idle();
        CHECK(f.cpu.irqs_taken() == 1);
        return f.cpu.busy_cycles();
    };
    VfioFixture f;
    const sim::Cycles access{10}; // the fake irqchip's register access
    const sim::Cycles common = f.costs.irq_entry + access /*IAR*/ + access /*EOIR*/ + f.costs.irq_dispatch + f.costs.irq_exit;
    const sim::Cycles eventfd_path = host_cycles(false);
    const sim::Cycles forwarded_path = host_cycles(true);
    CHECK(eventfd_path == common + access /*ICENABLER*/ + f.costs.eventfd_signal + access /*DIR*/);
    CHECK(forwarded_path == common);
    CHECK(forwarded_path < eventfd_path);
}

TEST_CASE("bi-modal policy: forwarding with the trigger set keeps it, frees nothing, and unforwarding signals it again")
{
    VfioFixture f;
    Counting c;
    const int efd = f.new_eventfd();
    REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 1, 0, {efd})) == 0);
    IrqContext& ctx = *f.plat->irq_context(1, 0);
    CHECK(f.plat->set_forwarded(1, 0, c) == -EBUSY); // the exclusive policy
    REQUIRE(f.plat->set_forwarded(1, 0, c, ForwardingPolicy::bimodal) == 0);
    CHECK(ctx.has_trigger());
    CHECK(ctx.requested());
    ctx.fire();
    CHECK(c.n == 1);
    CHECK(f.ctx_of(efd).count() == 0); // forwarded: the trigger is not signalled
    // The trigger may be replaced while forwarded.
    const int efd2 = f.new_eventfd();
    CHECK(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, 1, 0, {efd2})) == 0);
    f.plat->clear_forwarded(1, 0);
    CHECK(ctx.requested()); // never freed by a switch
    ctx.fire();
    CHECK(c.n == 1);
    CHECK(f.ctx_of(efd2).count() == 1);
}
