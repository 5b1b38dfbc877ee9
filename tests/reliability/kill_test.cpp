// kill -9 of the VMM at every event boundary: "the kernel should return to
// the correct state if we kill -9 QEMU at any point".  For each scenario the
// VMM is killed after event k, for every k of the run (or of its first
// FWDSIM_KILL_POINTS events), with several close orders; the system then
// runs to quiescence, every invariant of design.md §5 must hold, and a
// fresh VMM on the same devices must get an interrupt delivered end to end.
#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/system.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

DeviceIrqConfig irq(unsigned index, TriggerKind t, unsigned host, DeliveryMode mode, double rate, unsigned sub = 0)
{
    DeviceIrqConfig c;
    c.index = index;
    c.subindex = sub;
    c.trigger = t;
    c.host_irq = host;
    c.guest_irq = host;
    c.delivery = mode;
    c.traffic.kind = TrafficConfig::Kind::periodic;
    c.traffic.rate_per_s = rate;
    return c;
}

ScenarioConfig base(std::string name, unsigned vcpus = 1)
{
    ScenarioConfig c;
    c.name = std::move(name);
    c.duration_us = 120;
    c.host_cpus = 1 + vcpus;
    std::vector<unsigned> pin;
    for (unsigned i = 0; i < vcpus; ++i) pin.push_back(1 + i);
    c.vms = {VmConfig{"vm0", vcpus, pin}};
    return c;
}

std::vector<ScenarioConfig> scenarios()
{
    std::vector<ScenarioConfig> out;
    for (DeliveryMode m : {DeliveryMode::userspace, DeliveryMode::irqfd, DeliveryMode::forwarded}) {
        ScenarioConfig c = base(std::string("platform level+edge ") + std::string(to_string(m)));
        c.devices = {DeviceConfig{"plat0", DeviceKind::platform, "vm0", 1,
                                  {irq(0, TriggerKind::level, 48, m, 60000), irq(1, TriggerKind::edge, 49, m, 45000)}}};
        out.push_back(c);
    }
    {
        ScenarioConfig c = base("pci INTx + MSI-X");
        c.devices = {DeviceConfig{"pci0", DeviceKind::pci, "vm0", 2,
                                  {irq(0, TriggerKind::level, 64, DeliveryMode::irqfd, 50000),
                                   irq(2, TriggerKind::edge, 65, DeliveryMode::forwarded, 40000, 0),
                                   irq(2, TriggerKind::edge, 66, DeliveryMode::irqfd, 30000, 1)}}};
        // INTx and MSI-X cannot be on together in vfio-pci: MSI-X only.
        c.devices[0].irqs.erase(c.devices[0].irqs.begin());
        out.push_back(c);
    }
    {
        ScenarioConfig c = base("several forwarded IRQs on several devices, 2 vCPUs", 2);
        c.devices = {DeviceConfig{"plat0", DeviceKind::platform, "vm0", 1,
                                  {irq(0, TriggerKind::level, 48, DeliveryMode::forwarded, 50000),
                                   irq(1, TriggerKind::edge, 49, DeliveryMode::forwarded, 35000)}},
                     DeviceConfig{"plat1", DeviceKind::platform, "vm0", 3,
                                  {irq(0, TriggerKind::level, 50, DeliveryMode::forwarded, 40000)}}};
        out.push_back(c);
    }
    {
        // The 2-vCPU scenario's devices on two VMs sharing one CPU: the host
        // scheduler's state (the CPU's current thread, work waiting for a
        // slice) must survive vm0's vCPU thread killed mid-flight, and vm1
        // keeps delivering throughout.
        ScenarioConfig c = out.back();
        c.name = "two VMs sharing one CPU, one killed";
        c.host_cpus = 2;
        c.vms = {VmConfig{"vm0", 1, {1}}, VmConfig{"vm1", 1, {1}}};
        c.devices[0].irqs[1].delivery = DeliveryMode::irqfd;
        c.devices[1].vm = "vm1";
        out.push_back(c);
    }
    return out;
}

std::size_t kill_points_limit()
{
    if (const char* env = std::getenv("FWDSIM_KILL_POINTS")) return std::strtoul(env, nullptr, 10);
    return 250; // per scenario in CI; FWDSIM_KILL_POINTS=0 means every boundary
}

/// Kills the VMM after event k with close order `order`, settles, checks,
/// restarts and checks that everything flows again; empty when all is well.
std::string kill_point(const ScenarioConfig& c, const sim::CostProfile& profile, std::uint64_t k, std::uint64_t order)
{
    System sys(c, profile);
    sys.start();
    for (std::uint64_t i = 0; i < k && sys.events().step(); ++i) {
    }
    sys.kill_vmm("vm0", order + k);
    sys.run_for(sys.us(60));
    const auto broken = sys.check();
    if (!broken.empty()) return broken.front();
    // A fresh VMM on the same devices gets interrupts delivered.
    std::vector<std::string> names;
    std::vector<std::uint64_t> before;
    for (const DeviceConfig& d : c.devices)
        for (std::size_t i = 0; i < d.irqs.size(); ++i) names.push_back(d.name + "." + std::to_string(i));
    for (const auto& n : names) before.push_back(sys.delivered(n));
    sys.restart_vmm("vm0");
    sys.run_for(sys.us(150));
    std::string stuck;
    for (std::size_t i = 0; i < names.size(); ++i)
        if (sys.delivered(names[i]) <= before[i]) stuck += " " + names[i];
    if (!stuck.empty()) return "no delivery after restart on" + stuck;
    const auto after = sys.check();
    return after.empty() ? std::string{} : after.front();
}

} // namespace

TEST_CASE("kill -9 of the VMM at every event boundary returns everything to the correct state")
{
    const std::size_t limit = kill_points_limit();
    std::size_t tried = 0, failed = 0;
    std::vector<std::string> failures; // the first few, for the report
    std::string coverage;              // per scenario: its events and kill points
    for (const ScenarioConfig& c : scenarios()) {
        const sim::CostProfile profile = load_profile(c);
        // How many event boundaries the scenario has.
        std::uint64_t events = 0;
        {
            System dry(c, profile);
            dry.start();
            events = dry.events().run_for(dry.us(c.duration_us));
        }
        const std::uint64_t points = limit == 0 ? events : std::min<std::uint64_t>(events, limit);
        // Spread the kill points over the whole run when not exhaustive.
        const std::uint64_t stride = limit == 0 ? 1 : std::max<std::uint64_t>(1, events / points);
        coverage += "\n  " + c.name + ": " + std::to_string(events) + " events, every " + std::to_string(stride) +
                    (stride == 1 ? "st" : "th") + " boundary";
        for (std::uint64_t k = 0; k < events; k += stride) {
            for (std::uint64_t order = 0; order < 2; ++order) {
                ++tried;
                const std::string why = kill_point(c, profile, k, order);
                if (!why.empty()) {
                    ++failed;
                    if (failures.size() < 12)
                        failures.push_back(c.name + ": kill after event " + std::to_string(k) + ", order " + std::to_string(order) + ": " + why);
                }
            }
        }
    }
    for (const auto& f : failures) WARN(f);
    WARN("kill points x close orders tried: " << tried << ", failed: " << failed << coverage);
    CHECK(tried > 0);
    CHECK(failed == 0);
}

// The larger scenario: every boundary of its first 10,000 events, two close
// orders each.  Minutes under the sanitizers, so not in every CI run:
// `fwdsim_tests_reliability "[.large]"` (docs/reliability.md has the result).
TEST_CASE("kill -9 at each of the first 10,000 event boundaries of a larger scenario", "[.large]")
{
    ScenarioConfig c = scenarios().at(4); // several forwarded IRQs on two devices, 2 vCPUs
    c.duration_us = 4000;
    const sim::CostProfile profile = load_profile(c);
    std::size_t tried = 0, failed = 0;
    std::vector<std::string> failures;
    for (std::uint64_t k = 0; k < 10000; ++k) {
        for (std::uint64_t order = 0; order < 2; ++order) {
            ++tried;
            const std::string why = kill_point(c, profile, k, order);
            if (!why.empty()) {
                ++failed;
                if (failures.size() < 12) failures.push_back("kill after event " + std::to_string(k) + ": " + why);
            }
        }
    }
    for (const auto& f : failures) WARN(f);
    WARN("large scenario: kill points x close orders tried: " << tried << ", failed: " << failed);
    CHECK(failed == 0);
}
