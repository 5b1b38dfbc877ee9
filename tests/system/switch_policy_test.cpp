// The shipped switch_forwarding example under both forwarding policies: the
// switch itself costs the host what its calls charge (so exclusive, with
// free_irq and request_irq and the eventfds and irqfd torn down and set up
// again, costs more than bi-modal's FORWARD_IRQ / UNFORWARD_IRQ), the cost
// follows the profile's primitives rather than any stored figure, and the
// ledger loses and duplicates nothing around 22 switches.
#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/system.h>

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

std::map<std::string, SwitchResult> by_direction(const RunResult& r)
{
    std::map<std::string, SwitchResult> m;
    for (const SwitchResult& s : r.switches) m[s.from + "->" + s.to] = s;
    return m;
}

} // namespace

TEST_CASE("the switch example: bi-modal switches cost the host less than exclusive ones, as the profile's primitives say")
{
    ScenarioConfig c = load_scenario(std::string(FWDSIM_EXAMPLES_DIR) + "/switch_forwarding.yaml");
    const sim::CostProfile base = load_profile(c);
    sim::CostProfile dearer = base;
    const sim::Cycles extra{5000};
    dearer.set("host.request_irq", base.get("host.request_irq") + extra);

    std::map<ForwardPolicy, std::map<std::string, SwitchResult>> cost, cost_dearer;
    for (ForwardPolicy p : {ForwardPolicy::exclusive, ForwardPolicy::bimodal}) {
        INFO(to_string(p));
        c.vmm.forward_policy = p;
        const RunResult r = run_scenario(c, base);
        CHECK(r.forward_policy == to_string(p));
        REQUIRE(r.irqs.size() == 1);
        const IrqResult& ir = r.irqs[0];
        CHECK(ir.lost == 0);
        CHECK(ir.duplicated == 0);
        CHECK(ir.delivered > 1000);
        CHECK(ir.to_ack_near_switch.count() > 50); // the interrupts raised just after a switch began
        cost[p] = by_direction(r);
        REQUIRE(cost[p].size() == 2);
        CHECK(cost[p]["irqfd->forwarded"].count == 11);
        CHECK(cost[p]["forwarded->irqfd"].count == 11);
        cost_dearer[p] = by_direction(run_scenario(c, dearer));
    }
    const auto per = [](const SwitchResult& s) { return s.per_switch(); };
    for (const char* dir : {"irqfd->forwarded", "forwarded->irqfd"}) {
        INFO(dir);
        CHECK(per(cost[ForwardPolicy::bimodal][dir]) > 0);
        CHECK(per(cost[ForwardPolicy::bimodal][dir]) * 5 < per(cost[ForwardPolicy::exclusive][dir]));
        // Bi-modal never requests the host IRQ again; exclusive does once a switch.
        CHECK(per(cost_dearer[ForwardPolicy::bimodal][dir]) == per(cost[ForwardPolicy::bimodal][dir]));
        CHECK(per(cost_dearer[ForwardPolicy::exclusive][dir]) ==
              Approx(per(cost[ForwardPolicy::exclusive][dir]) + static_cast<double>(extra.count())));
    }
}
