// Forwarding switched on and off, under both forwarding policies of the
// kvm-vfio device, with the interrupt active in the guest, in
// every state its vCPU can be in: not loaded (in the host, or exiting --
// its list registers already folded), loaded and running the guest, in the
// middle of its entry (list registers written, guest not yet running),
// blocked in WFI; with the vCPU on another physical CPU than the VMM that
// switches, and on the same one.  Right after the switch the physical IRQ's
// active state must be the guest's (forward: the guest's active interrupt
// keeps the physical one active, so the next assertion cannot be injected on
// top of it and dropped at the guest's EOI; unforward: handed back, not
// active), a vCPU that held the interrupt in a list register must have been
// halted rather than had its LR rewritten from elsewhere, and afterwards the
// ledger must show nothing lost or delivered twice.
#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/system.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

ScenarioConfig two_irqs(TriggerKind trigger, DeliveryMode from, unsigned pin, ForwardPolicy policy)
{
    ScenarioConfig c;
    c.name = "handover";
    c.vmm.forward_policy = policy;
    c.duration_us = 200;
    c.host_cpus = 2;
    c.vms = {VmConfig{"vm0", 1, {pin}}};
    DeviceIrqConfig irq;
    irq.index = trigger == TriggerKind::level ? 0 : 1;
    irq.trigger = trigger;
    irq.host_irq = trigger == TriggerKind::level ? 48 : 49;
    irq.guest_irq = irq.host_irq;
    irq.delivery = from;
    irq.traffic = {}; // scripted: System::raise
    DeviceIrqConfig other = irq; // its only use: an exit while ours is active
    other.index = 1 - irq.index;
    other.trigger = trigger == TriggerKind::level ? TriggerKind::edge : TriggerKind::level;
    other.host_irq = trigger == TriggerKind::level ? 49 : 48;
    other.guest_irq = other.host_irq;
    other.delivery = DeliveryMode::irqfd;
    c.devices = {DeviceConfig{"plat0", DeviceKind::platform, "vm0", 1, {}}};
    if (irq.index == 0) c.devices[0].irqs = {irq, other};
    else c.devices[0].irqs = {other, irq};
    return c;
}

std::string field(const std::string& obs, const std::string& key)
{
    const auto at = obs.find(key + "=");
    if (at == std::string::npos) return {};
    const auto from = at + key.size() + 1;
    return obs.substr(from, obs.find(' ', from) - from);
}

bool guest_active(const std::string& obs)
{
    const std::string lr = field(obs, "lr"), virq = field(obs, "virq");
    // In a loaded vCPU's LR the LR is the truth; otherwise the vgic's copy.
    if (lr != "-") return lr.find('A') != std::string::npos;
    return virq.find('A') != std::string::npos;
}

} // namespace

TEST_CASE("forward and unforward hand the active state over exactly in every vCPU state, halting a vCPU that holds the LR")
{
    const std::vector<std::string> states{"host", "exiting", "entering", "guest", "blocked"};
    std::size_t tried = 0;
    // The handover is the arch's, the same under both policies; the VMM's
    // calls around it differ (bi-modal keeps irqfd set under forwarding).
    for (ForwardPolicy policy : {ForwardPolicy::exclusive, ForwardPolicy::bimodal})
    for (TriggerKind t : {TriggerKind::level, TriggerKind::edge}) {
        const std::string name = t == TriggerKind::level ? "plat0.0" : "plat0.1";
        const std::string other = t == TriggerKind::level ? "plat0.1" : "plat0.0";
        for (bool forward : {true, false}) {
            const DeliveryMode from = forward ? DeliveryMode::irqfd : DeliveryMode::forwarded;
            const DeliveryMode to = forward ? DeliveryMode::forwarded : DeliveryMode::irqfd;
            for (unsigned pin : {1u, 0u}) {
                for (const std::string& state : states) {
                    INFO(to_string(policy) << " " << name << (forward ? " forward" : " unforward") << " with its vCPU " << state << " on CPU " << pin
                              << (pin == 0 ? " (the VMM's)" : " (not the VMM's)"));
                    const ScenarioConfig c = two_irqs(t, from, pin, policy);
                    System sys(c, load_profile(c));
                    sys.start();
                    sys.run_for(sys.us(30)); // booted, idle in WFI
                    // Ours is raised; once the guest has it active, the other IRQ
                    // makes the vCPU exit and enter again around it.
                    if (state != "blocked") sys.raise(name);
                    bool other_raised = false, found = false;
                    for (int step = 0; step < 4000 && !found; ++step) {
                        const std::string obs = sys.observe(name);
                        const bool active = guest_active(obs);
                        if (active && !other_raised && state != "guest") {
                            sys.raise(other);
                            other_raised = true;
                        }
                        found = field(obs, "vcpu") == state && (state == "blocked" || active);
                        if (!found) REQUIRE(sys.events().step());
                    }
                    REQUIRE(found);
                    ++tried;
                    const std::string before = sys.observe(name);
                    const bool held_in_lr = field(before, "lr") != "-";
                    sys.set_delivery(name, to);
                    const std::string after = sys.observe(name);
                    INFO("before: " << before << "\nafter:  " << after);
                    const bool phys_active = field(after, "phys").find('A') != std::string::npos;
                    if (forward) {
                        CHECK(phys_active == guest_active(after));
                        if (state != "blocked") CHECK(phys_active);
                    } else {
                        CHECK_FALSE(phys_active);
                    }
                    // A vCPU holding it in a list register was halted: it left the
                    // guest, its LRs folded on its own CPU (none left in one).
                    if (held_in_lr) {
                        CHECK(field(after, "lr") == "-");
                        CHECK(field(after, "vcpu") == "exiting");
                    }
                    // It keeps flowing in the new mode, nothing lost or twice.
                    const std::uint64_t served = sys.delivered(name);
                    sys.run_for(sys.us(40));
                    sys.raise(name);
                    sys.run_for(sys.us(60));
                    CHECK(sys.delivered(name) > served);
                    CHECK(sys.spurious_services(name) <= (t == TriggerKind::level ? 1u : 0u));
                    const auto broken = sys.check();
                    CHECK(broken.empty());
                    for (const auto& b : broken) WARN(b);
                    const RunResult r = sys.report();
                    for (const auto& ir : r.irqs) {
                        CHECK(ir.lost == 0);
                        CHECK(ir.duplicated == 0);
                        CHECK(ir.outstanding == 0);
                    }
                }
            }
        }
    }
    CHECK(tried == 2 * 2 * 2 * 2 * 5);
}
