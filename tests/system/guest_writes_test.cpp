// A guest's GICD_ICACTIVER / ISACTIVER / ISPENDR / ICPENDR on a forwarded
// interrupt, in a whole system: the write reaches the physical distributor
// (vgic_hw_irq_change_active, the HW branches of vgic_mmio_write_spending /
// vgic_hw_irq_cpending), with the interrupt idle, pending or active in the
// guest and its vCPU blocked in WFI, running the guest, in the middle of an
// entry or an exit, or back in the host; written from that vCPU or from the
// VM's other vCPU on another physical CPU.  Right after the write the
// physical GIC must show what Linux leaves there, and afterwards the
// interrupt must keep flowing with the ledger accounting for every
// assertion: nothing lost that the guest did not discard itself, nothing
// delivered that the guest did not make pending itself.
#include <fwdsim/gic/registers.h>
#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/system.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

constexpr unsigned kIntid = 48;

ScenarioConfig forwarded_irq(TriggerKind trigger)
{
    ScenarioConfig c;
    c.name = "guest-writes";
    c.duration_us = 200;
    c.host_cpus = 3;
    c.vms = {VmConfig{"vm0", 2, {1, 2}}}; // the interrupt's vCPU 0 on CPU 1, vCPU 1 on CPU 2
    DeviceIrqConfig irq;
    irq.trigger = trigger;
    irq.host_irq = kIntid;
    irq.guest_irq = kIntid;
    irq.delivery = DeliveryMode::forwarded;
    DeviceIrqConfig other = irq; // an irqfd IRQ whose only use is an exit while ours is active
    other.index = 1;
    other.trigger = TriggerKind::edge;
    other.host_irq = other.guest_irq = kIntid + 1;
    other.delivery = DeliveryMode::irqfd;
    c.devices = {DeviceConfig{"plat0", DeviceKind::platform, "vm0", 1, {irq, other}}};
    return c;
}

std::string field(const std::string& obs, const std::string& key)
{
    const std::string padded = " " + obs; // every key after a space
    const auto at = padded.find(" " + key + "=");
    if (at == std::string::npos) return {};
    const auto from = at + key.size() + 1; // in obs
    return obs.substr(from, obs.find(' ', from) - from);
}

bool has(const std::string& s, char c) { return s.find(c) != std::string::npos; }

/// The guest's view: in a loaded vCPU's list register, else the vgic's copy.
bool guest_active(const std::string& obs)
{
    const std::string lr = field(obs, "lr");
    return lr != "-" ? has(lr, 'A') : has(field(obs, "virq"), 'A');
}
bool guest_pending(const std::string& obs)
{
    const std::string lr = field(obs, "lr");
    return lr != "-" ? has(lr, 'P') : has(field(obs, "virq"), 'P');
}

struct Case {
    const char* irq_state;  ///< idle, pending, active
    const char* vcpu_state; ///< kvm::Vcpu::state_name of vCPU 0
};

} // namespace

TEST_CASE("a guest's active and pending writes on a forwarded interrupt reach the physical distributor in every state")
{
    namespace d = gic::gicd;
    const std::vector<std::pair<const char*, std::uint32_t>> registers{
        {"ICACTIVER", d::icactiver}, {"ISACTIVER", d::isactiver}, {"ISPENDR", d::ispendr}, {"ICPENDR", d::icpendr}};
    const std::vector<Case> cases{{"idle", "blocked"},    {"pending", "entering"}, {"pending", "guest"},
                                  {"active", "host"},     {"active", "exiting"},   {"active", "entering"},
                                  {"active", "guest"}};
    std::size_t tried = 0;
    for (TriggerKind t : {TriggerKind::level, TriggerKind::edge}) {
        for (const auto& [reg_name, reg] : registers) {
            for (const Case& k : cases) {
                for (unsigned writer : {0u, 1u}) {
                    // vCPU 0 writes only while it runs the guest (the write is its trap).
                    if (writer == 0 && std::string(k.vcpu_state) != "guest") continue;
                    INFO((t == TriggerKind::level ? "level " : "edge ") << reg_name << " with the interrupt " << k.irq_state
                                                                        << ", vCPU 0 " << k.vcpu_state << ", written by vCPU "
                                                                        << writer);
                    const ScenarioConfig c = forwarded_irq(t);
                    System sys(c, load_profile(c));
                    sys.start();
                    sys.run_for(sys.us(150)); // booted, both vCPUs idle in WFI
                    REQUIRE(field(sys.observe("plat0.0"), "vcpu") == "blocked");
                    const std::string irq = "plat0.0";
                    const std::string state = k.vcpu_state, want = k.irq_state;
                    if (want != "idle") sys.raise(irq);
                    bool other_raised = false, found = false;
                    for (int step = 0; step < 6000 && !found; ++step) {
                        const std::string obs = sys.observe(irq);
                        const bool active = guest_active(obs), pending = guest_pending(obs);
                        // Once the guest has ours active, the other IRQ makes vCPU 0 exit
                        // and enter again around it (host, exiting, entering).
                        if (want == "active" && active && !other_raised && state != "guest" && state != "blocked") {
                            sys.raise("plat0.1");
                            other_raised = true;
                        }
                        const bool irq_ok = want == "idle"      ? !active && !pending
                                            : want == "pending" ? pending && !active
                                                                : active;
                        found = field(obs, "vcpu") == state && irq_ok;
                        if (!found) REQUIRE(sys.events().step());
                    }
                    REQUIRE(found);
                    ++tried;
                    const std::string before = sys.observe(irq);
                    const bool was_active = guest_active(before);
                    const bool was_pending = guest_pending(before);
                    REQUIRE(sys.guest_gicd_write("vm0", writer, reg + 4 * (kIntid / 32), 1u << (kIntid % 32)));
                    const std::string after = sys.observe(irq);
                    INFO("before: " << before << "\nafter:  " << after);
                    const std::string phys = field(after, "phys");
                    // What Linux leaves in the physical distributor.
                    if (reg == d::icactiver) {
                        CHECK_FALSE(has(phys, 'A'));
                        CHECK_FALSE(guest_active(after));
                    } else if (reg == d::isactiver) {
                        CHECK(has(phys, 'A'));
                        CHECK(guest_active(after));
                    } else if (reg == d::ispendr) {
                        CHECK(has(phys, 'A')); // so the guest's EOI through the HW LR has something to deactivate
                        CHECK(guest_pending(after));
                    } else {
                        // A level line still high keeps the physical pending state
                        // (IHI 0048B 4.3.8: ICPENDR has no effect while it is asserted).
                        CHECK(has(phys, 'P') == (t == TriggerKind::level && field(after, "line") == "1"));
                        CHECK(has(phys, 'A') == was_active); // active only while the guest still has it active
                        CHECK(guest_active(after) == was_active);
                    }
                    // A vCPU holding it in a list register was halted, not rewritten.
                    if (field(before, "lr") != "-") CHECK(field(after, "lr") == "-");

                    // ISACTIVER leaves it active for the guest to end: the guest's
                    // driver would (an active interrupt it never acknowledged);
                    // here its clear comes once what was in flight has settled.
                    sys.run_for(sys.us(60));
                    if (reg == d::isactiver && !was_active) {
                        REQUIRE(sys.guest_gicd_write("vm0", writer, d::icactiver + 4 * (kIntid / 32), 1u << (kIntid % 32)));
                        sys.run_for(sys.us(60));
                    }
                    // It keeps flowing: a fresh assertion is delivered.
                    const std::uint64_t served = sys.delivered(irq);
                    sys.raise(irq);
                    sys.run_for(sys.us(80));
                    CHECK(sys.delivered(irq) > served);
                    const std::string settled = sys.observe(irq);
                    INFO("settled: " << settled);
                    CHECK(field(settled, "phys") == "--E"); // neither pending nor active, enabled
                    const RunResult r = sys.report();
                    const IrqResult& ir = r.irqs.at(0);
                    // The ledger: an edge the guest discarded with ICPENDR before
                    // taking it is the one loss, and it is the guest's; a pending the
                    // guest set itself with ISPENDR on an edge is the one acknowledge
                    // no assertion explains (on a level source the ledger calls an
                    // acknowledge without an assertion a redelivery).  Nothing else.
                    const bool discarded = reg == d::icpendr && was_pending && !was_active && t == TriggerKind::edge;
                    const bool made_up = reg == d::ispendr && !was_pending && t == TriggerKind::edge;
                    CHECK(ir.lost == (discarded ? 1u : 0u));
                    CHECK(ir.duplicated == (made_up ? 1u : 0u));
                    if (reg == d::ispendr && !was_pending && t == TriggerKind::level) CHECK(ir.redelivered >= 1);
                    CHECK(ir.outstanding == 0);
                    for (const auto& broken : sys.check()) {
                        const bool explained = (discarded && broken.find("lost") != std::string::npos) ||
                                               (made_up && broken.find("no assertion explains") != std::string::npos);
                        if (!explained) FAIL_CHECK(broken);
                    }
                }
            }
        }
    }
    // Level and edge, four registers, seven states written from vCPU 1 and
    // two of them from vCPU 0 too.  (Blocked in WFI with the interrupt
    // active cannot happen: the guest's handler is running.)
    CHECK(tried == 2 * 4 * (7 + 2));
}
