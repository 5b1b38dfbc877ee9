// The whole system, end to end: what a user must see in the results of the
// headline comparison, determinism, a VMM killed mid-run, and forwarding
// switched on a running interrupt.  Every figure checked here comes out of
// the simulation; none is written down.
#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/results.h>
#include <fwdsim/scenario/system.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <sstream>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

ScenarioConfig headline(DeliveryMode mode, double rate = 20000, double duration_us = 10000)
{
    ScenarioConfig c = load_scenario(std::string(FWDSIM_EXAMPLES_DIR) + "/headline.yaml");
    c.duration_us = duration_us;
    c.warmup_us = 1000;
    c.devices.at(0).irqs.at(0).delivery = mode;
    c.devices.at(0).irqs.at(0).traffic.rate_per_s = rate;
    c.outputs = {};
    return c;
}

std::string json(const RunResult& r)
{
    std::ostringstream out;
    write_json_lines(out, {r});
    return out.str();
}

void check_accounted(const IrqResult& r)
{
    INFO(r.name << " under " << r.delivery);
    CHECK(r.lost == 0);
    CHECK(r.duplicated == 0);
    // The ledger's terms, each counted on its own (an MSI raised before the
    // guest configured its SPI as an edge is dropped, as KVM drops it).
    CHECK(r.raised == r.delivered + r.coalesced + r.outstanding + r.lost + r.dropped);
    CHECK(r.delivered > 0);
}

} // namespace

TEST_CASE("level IRQ in steady state: forwarded needs no maintenance and no unmask, and costs less than irqfd")
{
    const RunResult fwd = run_scenario(headline(DeliveryMode::forwarded));
    const RunResult irqfd = run_scenario(headline(DeliveryMode::irqfd));
    const RunResult user = run_scenario(headline(DeliveryMode::userspace));
    const IrqResult& f = fwd.irqs.at(0);
    const IrqResult& i = irqfd.irqs.at(0);
    const IrqResult& u = user.irqs.at(0);
    for (const IrqResult* r : {&f, &i, &u}) check_accounted(*r);

    // forwarded: the guest's EOI deactivates the physical IRQ -- no EOI
    // maintenance interrupt, no VFIO mask or unmask.
    CHECK(f.maintenance_irqs == 0);
    CHECK(f.vfio_unmasks == 0);
    CHECK(f.vfio_masks == 0);
    // irqfd: one EOI maintenance exit and one unmask per interrupt (the
    // measured window may cut one interrupt in two).
    CHECK(i.maintenance_irqs >= i.delivered - 1);
    CHECK(i.maintenance_irqs <= i.delivered + 1);
    CHECK(i.vfio_unmasks >= i.delivered - 1);
    CHECK(i.vfio_unmasks <= i.delivered + 1);
    CHECK(f.exits.at("irq") + f.exits.at("maintenance") < i.exits.at("irq") + i.exits.at("maintenance"));
    // Cost and latency order: forwarded < irqfd < userspace.
    CHECK(f.per_irq(f.host_cycles) < i.per_irq(i.host_cycles));
    CHECK(i.per_irq(i.host_cycles) < u.per_irq(u.host_cycles));
    CHECK(f.to_ack.percentile(50) < i.to_ack.percentile(50));
    CHECK(f.to_eoi.percentile(50) < i.to_eoi.percentile(50));
    CHECK(i.to_ack.percentile(50) < u.to_ack.percentile(50));
    // Every delivered interrupt was acknowledged and completed by the guest.
    CHECK(f.to_ack.count() > 0);
    CHECK(f.to_deactivate.count() == f.to_eoi.count());
}

TEST_CASE("a GIC with 1020 IDs delivers its highest SPI into a VM whose vgic has 992")
{
    for (const DeliveryMode mode : {DeliveryMode::forwarded, DeliveryMode::irqfd}) {
        ScenarioConfig c = headline(mode);
        c.gic_irqs = 1020; // the VM's vgic gets 992, the most a vgic-v2 takes
        c.devices.at(0).irqs.at(0).host_irq = 1019;
        c.devices.at(0).irqs.at(0).guest_irq = 991;
        const IrqResult r = run_scenario(c).irqs.at(0);
        check_accounted(r);
        // Forwarding works across the two numberings: still no EOI
        // maintenance and no VFIO unmask, where irqfd needs both.
        CHECK((r.maintenance_irqs == 0) == (mode == DeliveryMode::forwarded));
        CHECK((r.vfio_unmasks == 0) == (mode == DeliveryMode::forwarded));
    }
}

TEST_CASE("the same file and seed give the same results, byte for byte; another seed does not")
{
    const ScenarioConfig c = headline(DeliveryMode::irqfd, 50000, 4000);
    const std::string a = json(run_scenario(c));
    const std::string b = json(run_scenario(c));
    CHECK(a == b);
    ScenarioConfig other = c;
    other.seed = c.seed + 1;
    CHECK(json(run_scenario(other)) != a);
}

TEST_CASE("past saturation every interrupt is still delivered or accounted as coalesced")
{
    for (DeliveryMode m : {DeliveryMode::userspace, DeliveryMode::irqfd, DeliveryMode::forwarded}) {
        const RunResult r = run_scenario(headline(m, 400000, 4000));
        check_accounted(r.irqs.at(0));
        CHECK(r.irqs.at(0).coalesced > 0); // saturated: the device merged events
    }
}

TEST_CASE("a VMM killed mid-run leaves nothing behind, in any close order")
{
    for (std::uint64_t order = 0; order < 8; ++order) {
        for (DeliveryMode m : {DeliveryMode::userspace, DeliveryMode::irqfd, DeliveryMode::forwarded}) {
            ScenarioConfig c = headline(m, 100000, 3000);
            c.vmm.kill_at_us = 1500 + 7.0 * static_cast<double>(order);
            c.vmm.close_order_seed = order;
            System sys(c, load_profile(c));
            sys.start();
            sys.run_for(sys.us(c.duration_us));
            INFO("mode " << to_string(m) << ", close order " << order);
            const auto broken = sys.check();
            for (const auto& b : broken) UNSCOPED_INFO(b);
            CHECK(broken.empty());
        }
    }
}

TEST_CASE("forwarding switched on and off on a running interrupt loses nothing")
{
    for (double at : {1000.0, 1001.5, 1003.0, 1004.2}) {
        ScenarioConfig c = headline(DeliveryMode::irqfd, 100000, 4000);
        c.vmm.switches = {{at, "plat0", 0, DeliveryMode::forwarded}, {at + 1000.7, "plat0", 0, DeliveryMode::irqfd},
                          {at + 2000.3, "plat0", 0, DeliveryMode::forwarded}};
        System sys(c, load_profile(c));
        sys.start();
        sys.run_for(sys.us(c.duration_us));
        const RunResult r = sys.report();
        INFO("switch at " << at << " us");
        check_accounted(r.irqs.at(0));
        CHECK(sys.check().empty());
        // Still flowing at the end: the last quarter delivered something.
        CHECK(r.irqs.at(0).delivered > 100);
    }
}

TEST_CASE("every example scenario runs, delivers, and accounts for every interrupt")
{
    for (const char* name : {"headline", "msix_irqfd", "timer_forwarded", "switch_forwarding", "vmm_killed", "multi_vcpu"}) {
        ScenarioConfig c = load_scenario(std::string(FWDSIM_EXAMPLES_DIR) + "/" + name + ".yaml");
        c.duration_us = std::min(c.duration_us, 6000.0);
        c.warmup_us = std::min(c.warmup_us, 500.0);
        c.outputs = {};
        System sys(c, load_profile(c));
        sys.start();
        sys.run_for(sys.us(c.duration_us));
        const RunResult r = sys.report();
        INFO("example " << name);
        for (const IrqResult& irq : r.irqs) check_accounted(irq);
        CHECK(sys.check().empty());
    }
}

TEST_CASE("a PCI function: INTx needs a resample per interrupt under irqfd, MSI-X vectors none")
{
    const RunResult r = run_scenario([] {
        ScenarioConfig c = load_scenario(std::string(FWDSIM_EXAMPLES_DIR) + "/multi_vcpu.yaml");
        c.duration_us = 5000;
        c.outputs = {};
        return c;
    }());
    for (const IrqResult& irq : r.irqs) {
        INFO(irq.name);
        check_accounted(irq);
        if (irq.name == "pci0.0") CHECK(irq.vfio_unmasks >= irq.delivered - 1); // INTx: level, resampled
        if (irq.name == "plat1.0") CHECK(irq.vfio_unmasks == 0);                 // edge: nothing to unmask
    }
    const RunResult msix = run_scenario([] {
        ScenarioConfig c = load_scenario(std::string(FWDSIM_EXAMPLES_DIR) + "/msix_irqfd.yaml");
        c.duration_us = 5000;
        c.outputs = {};
        return c;
    }());
    for (const IrqResult& irq : msix.irqs) {
        INFO(irq.name);
        check_accounted(irq);
        CHECK(irq.maintenance_irqs == 0); // edge: no EOI maintenance
        CHECK(irq.vfio_unmasks == 0);
    }
}

namespace {
/// The number after "key": in one JSON object (the first occurrence).
double json_number(const std::string& obj, const std::string& key)
{
    const auto at = obj.find("\"" + key + "\":");
    REQUIRE(at != std::string::npos);
    return std::strtod(obj.c_str() + at + key.size() + 3, nullptr);
}
} // namespace

TEST_CASE("the headline claims, read back from the JSON results a user gets")
{
    std::vector<RunResult> runs;
    for (DeliveryMode m : {DeliveryMode::userspace, DeliveryMode::irqfd, DeliveryMode::forwarded})
        runs.push_back(run_scenario(headline(m)));
    std::ostringstream out;
    write_json_lines(out, runs);
    std::istringstream lines(out.str());
    std::map<std::string, std::string> by_mode;
    for (std::string line; std::getline(lines, line);) {
        const auto at = line.find("\"delivery\":\"");
        REQUIRE(at != std::string::npos);
        const auto start = at + 12;
        by_mode[line.substr(start, line.find('"', start) - start)] = line;
    }
    REQUIRE(by_mode.size() == 3);
    const std::string& f = by_mode.at("forwarded");
    const std::string& i = by_mode.at("irqfd");
    const std::string& u = by_mode.at("userspace");
    for (const std::string* r : {&f, &i, &u}) CHECK(json_number(*r, "lost") == 0);
    CHECK(json_number(f, "maintenance_per_irq") == 0);
    CHECK(json_number(f, "unmasks_per_irq") == 0);
    CHECK(json_number(i, "maintenance_per_irq") == Approx(1.0).margin(0.02));
    CHECK(json_number(i, "unmasks_per_irq") == Approx(1.0).margin(0.02));
    CHECK(json_number(f, "host_cycles_per_irq") < json_number(i, "host_cycles_per_irq"));
    CHECK(json_number(i, "host_cycles_per_irq") < json_number(u, "host_cycles_per_irq"));
}

TEST_CASE("two VMs pinned to one CPU take turns: both deliver, and sharing shows in the tail latency")
{
    // The host scheduler's time slice (host.sched_slice) decides who runs:
    // an idle vCPU blocks in WFI and hands the CPU over at once, a woken one
    // may wait for the other's slice.
    ScenarioConfig alone = headline(DeliveryMode::forwarded, 20000, 20000);
    ScenarioConfig shared = alone;
    shared.vms.push_back(VmConfig{"vm1", 1, {alone.vms.at(0).pin.at(0)}});
    DeviceConfig second = shared.devices.at(0);
    second.name = "plat1";
    second.vm = "vm1";
    second.iommu_group = 2;
    second.irqs.at(0).host_irq = 49; // its own physical SPI; the guest sees INTID 48 like vm0's
    shared.devices.push_back(second);

    System sys(shared, load_profile(shared));
    sys.start();
    sys.run_for(sys.us(shared.duration_us));
    const RunResult r = sys.report();
    CHECK(sys.check().empty());
    REQUIRE(r.irqs.size() == 2);
    for (const IrqResult& irq : r.irqs) {
        check_accounted(irq);
        CHECK(irq.maintenance_irqs == 0); // still forwarded: sharing adds no maintenance
    }
    const RunResult solo = run_scenario(alone);
    INFO("p99 alone " << solo.irqs.at(0).to_ack.percentile(99) << ", shared " << r.irqs.at(0).to_ack.percentile(99));
    CHECK(r.irqs.at(0).to_ack.percentile(99) > solo.irqs.at(0).to_ack.percentile(99));
}
