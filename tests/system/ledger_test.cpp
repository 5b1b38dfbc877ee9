// The per-interrupt ledger: each assertion's fate by its definition
// (scenario/ledger.h), and, on whole systems, that traffic slow enough for
// every interrupt to reach the guest before the next is raised is delivered
// one for one in every mode -- nothing coalesced, lost or delivered twice.
#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/ledger.h>
#include <fwdsim/scenario/results.h>
#include <fwdsim/scenario/system.h>

#include <catch2/catch.hpp>

#include <string>

using namespace fwdsim;
using namespace fwdsim::scenario;
using Fate = IrqLedger::Fate;

TEST_CASE("ledger: an edge asserted while its carrier is held and not acknowledged is coalesced into it")
{
    IrqLedger l(false);
    const auto a = l.asserted(false, false);
    const auto b = l.asserted(false, true); // the path holds a's interrupt pending
    CHECK(l.fate(a) == Fate::outstanding);
    CHECK(l.fate(b) == Fate::coalesced);
    CHECK(l.acknowledged() == a);
    CHECK(l.fate(a) == Fate::delivered);
    // b found the physical IRQ active and went its own way: its delivery is
    // explained (a redelivery), not a duplicate.
    CHECK_FALSE(l.acknowledged().has_value());
    const auto c = l.counts();
    CHECK(c.delivered == 1);
    CHECK(c.coalesced == 1);
    CHECK(c.redelivered == 1);
    CHECK(c.duplicated == 0);
    // One more acknowledge has nothing to explain it.
    CHECK_FALSE(l.acknowledged().has_value());
    CHECK(l.counts().duplicated == 1);
}

TEST_CASE("ledger: an open carrier the path no longer holds is lost, not coalesced into the next assertion")
{
    IrqLedger l(false);
    const auto a = l.asserted(false, false);
    l.audit(true, true); // still on its way
    CHECK(l.fate(a) == Fate::outstanding);
    // Dropped somewhere: the next assertion finds nothing holding it.
    const auto b = l.asserted(false, false);
    CHECK(l.fate(a) == Fate::lost);
    CHECK(l.fate(b) == Fate::outstanding);
    CHECK(l.acknowledged() == b);
    const auto c = l.counts();
    CHECK(c.raised == 2);
    CHECK(c.lost == 1);
    CHECK(c.delivered == 1);
    CHECK(c.coalesced == 0);
    CHECK(l.lost_ids().at(0) == a);
}

TEST_CASE("ledger: a level re-assertion while the line is high is merged by the line, before or after the acknowledge")
{
    IrqLedger l(true);
    const auto a = l.asserted(false, false);
    const auto b = l.asserted(true, true); // line high, not yet acknowledged
    CHECK(l.acknowledged() == a);
    const auto c = l.asserted(true, false); // line still high: acknowledged, not serviced
    CHECK(l.fate(b) == Fate::coalesced);
    CHECK(l.fate(c) == Fate::coalesced);
    // The line re-sampled high once more (its mask lifted by a switch)
    // is the same assertion again, not a duplicate.
    CHECK_FALSE(l.acknowledged().has_value());
    CHECK(l.counts().redelivered == 1);
    CHECK(l.counts().duplicated == 0);
    // A handler that services the device before its carrier's acknowledge
    // delivers it; the acknowledge that follows is a redelivery.
    const auto d = l.asserted(false, false);
    l.serviced_level();
    CHECK(l.fate(d) == Fate::delivered);
}

TEST_CASE("ledger: what was on its way into a VM that died is dropped with it, not lost; counts start at the window")
{
    IrqLedger l(false);
    (void)l.asserted(false, false);
    l.audit(false, false);
    const auto b = l.asserted(false, false);
    CHECK(l.counts().dropped == 1);
    CHECK(l.counts().lost == 0);
    CHECK(l.counts(b).raised == 1);
    CHECK(l.counts(b).outstanding == 1);
}

namespace {

ScenarioConfig slow(TriggerKind trigger, DeliveryMode mode, DeviceKind kind = DeviceKind::platform)
{
    ScenarioConfig c;
    c.name = "ledger";
    c.duration_us = 4000;
    c.warmup_us = 0;
    c.vms = {VmConfig{"vm0", 1, {1}}};
    DeviceIrqConfig irq;
    irq.trigger = trigger;
    irq.host_irq = 48;
    irq.guest_irq = 48;
    irq.delivery = mode;
    irq.traffic.kind = TrafficConfig::Kind::periodic;
    irq.traffic.rate_per_s = 10000; // every 100 us: far above any path's latency
    if (kind == DeviceKind::pci) irq.index = trigger == TriggerKind::level ? 0 : 2; // INTx, MSI-X vector 0
    c.devices = {DeviceConfig{"dev0", kind, "vm0", 1, {irq}}};
    return c;
}

} // namespace

TEST_CASE("periodic traffic far slower than the path is delivered one for one in every mode: nothing coalesced, lost or twice")
{
    struct Case {
        TriggerKind trigger;
        DeviceKind kind;
        const char* what;
    };
    for (const Case k : {Case{TriggerKind::level, DeviceKind::platform, "platform level"},
                         Case{TriggerKind::edge, DeviceKind::platform, "platform edge"},
                         Case{TriggerKind::edge, DeviceKind::pci, "PCI MSI-X"}}) {
        for (DeliveryMode mode : {DeliveryMode::userspace, DeliveryMode::irqfd, DeliveryMode::forwarded}) {
            INFO(k.what << " under " << to_string(mode));
            const ScenarioConfig c = slow(k.trigger, mode, k.kind);
            System sys(c, load_profile(c));
            sys.start();
            sys.run_for(sys.us(c.duration_us));
            sys.run_for(sys.us(60)); // the last one reaches the guest
            const IrqResult r = sys.report().irqs.at(0);
            CHECK(r.raised >= 39);
            CHECK(r.delivered == r.raised);
            CHECK(r.coalesced == 0);
            CHECK(r.lost == 0);
            CHECK(r.outstanding == 0);
            CHECK(r.redelivered == 0);
            CHECK(r.duplicated == 0);
            CHECK(sys.check().empty());
        }
    }
}
