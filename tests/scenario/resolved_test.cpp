// The resolved scenario results carry, and --set overrides (issue #24).
#include <fwdsim/scenario/overrides.h>
#include <fwdsim/scenario/resolved.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/sim/config_error.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

const std::string kBase = R"(scenario: t
duration_us: 100
vms: [{name: vm0}]
devices:
  - {name: d, vm: vm0, irqs: [{host_irq: 48, traffic: {kind: periodic, rate_per_s: 1000}}]}
)";

std::string error_of(const std::function<void()>& f)
{
    try {
        f();
    } catch (const sim::ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST_CASE("the resolved scenario of every example's every point reads back to itself")
{
    const std::filesystem::path dir = std::filesystem::path(FWDSIM_SOURCE_DIR) / "examples" / "scenarios";
    int points = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".yaml") continue;
        for (const SweepPoint& p : load_sweep(entry.path().string())) {
            INFO(entry.path().string() << " point " << p.index);
            const std::string json = resolved_json(p.config);
            const ScenarioConfig again = parse_scenario(json, "resolved");
            CHECK(resolved_json(again) == json);
            CHECK(again.seed == p.config.seed);
            CHECK(again.devices.size() == p.config.devices.size());
            CHECK(again.vmm.switches.size() == p.config.vmm.switches.size());
            CHECK(again.compare.size() == p.config.compare.size());
            ++points;
        }
    }
    CHECK(points >= 30);
}

TEST_CASE("every parameter shows in the resolved scenario")
{
    const ScenarioConfig base = parse_scenario(kBase, "t.yaml");
    const std::string json = resolved_json(base);
    // One change to each parameter must change the text.
    const std::vector<std::pair<const char*, std::function<void(ScenarioConfig&)>>> changes{
        {"name", [](ScenarioConfig& c) { c.name = "u"; }},
        {"seed", [](ScenarioConfig& c) { c.seed = 2; }},
        {"clock_hz", [](ScenarioConfig& c) { c.clock_hz = 1'000'000'000; }},
        {"duration_us", [](ScenarioConfig& c) { c.duration_us = 101; }},
        {"warmup_us", [](ScenarioConfig& c) { c.warmup_us = 1; }},
        {"profile", [](ScenarioConfig& c) { c.profile = "p"; }},
        {"host_cpus", [](ScenarioConfig& c) { c.host_cpus = 3; }},
        {"gic_irqs", [](ScenarioConfig& c) { c.gic_irqs = 512; }},
        {"gic_lrs", [](ScenarioConfig& c) { c.gic_lrs = 2; }},
        {"gic_priority_bits", [](ScenarioConfig& c) { c.gic_priority_bits = 4; }},
        {"vm name", [](ScenarioConfig& c) { c.vms[0].name = "w"; }},
        {"vcpus", [](ScenarioConfig& c) { c.vms[0].vcpus = 2; }},
        {"pin", [](ScenarioConfig& c) { c.vms[0].pin = {0}; }},
        {"vm irqs", [](ScenarioConfig& c) { c.vms[0].irqs = 64; }},
        {"handler kind", [](ScenarioConfig& c) { c.guest.handler.kind = ServiceTime::Kind::exponential; }},
        {"handler cycles", [](ScenarioConfig& c) { c.guest.handler.cycles = 1; }},
        {"eoi_mode", [](ScenarioConfig& c) { c.guest.eoi_mode = 1; }},
        {"busy", [](ScenarioConfig& c) { c.guest.busy = true; }},
        {"device name", [](ScenarioConfig& c) { c.devices[0].name = "e"; }},
        {"device kind", [](ScenarioConfig& c) { c.devices[0].kind = DeviceKind::pci; }},
        {"device vm", [](ScenarioConfig& c) { c.devices[0].vm = "x"; }},
        {"iommu_group", [](ScenarioConfig& c) { c.devices[0].iommu_group = 7; }},
        {"index", [](ScenarioConfig& c) { c.devices[0].irqs[0].index = 2; }},
        {"subindex", [](ScenarioConfig& c) { c.devices[0].irqs[0].subindex = 1; }},
        {"trigger", [](ScenarioConfig& c) { c.devices[0].irqs[0].trigger = TriggerKind::edge; }},
        {"host_irq", [](ScenarioConfig& c) { c.devices[0].irqs[0].host_irq = 49; }},
        {"guest_irq", [](ScenarioConfig& c) { c.devices[0].irqs[0].guest_irq = 50; }},
        {"delivery", [](ScenarioConfig& c) { c.devices[0].irqs[0].delivery = DeliveryMode::forwarded; }},
        {"rate", [](ScenarioConfig& c) { c.devices[0].irqs[0].traffic.rate_per_s = 2; }},
        {"jitter", [](ScenarioConfig& c) { c.devices[0].irqs[0].traffic.jitter_us = 2; }},
        {"traffic kind", [](ScenarioConfig& c) { c.devices[0].irqs[0].traffic.kind = TrafficConfig::Kind::poisson; }},
        {"kill_at_us", [](ScenarioConfig& c) { c.vmm.kill_at_us = 5; }},
        {"close_order_seed", [](ScenarioConfig& c) { c.vmm.close_order_seed = 5; }},
        {"switches", [](ScenarioConfig& c) { c.vmm.switches.push_back({1, "d", 0, DeliveryMode::forwarded}); }},
    };
    for (const auto& [what, change] : changes) {
        INFO(what);
        ScenarioConfig c = base;
        change(c);
        CHECK(resolved_json(c) != json);
    }
    // The outputs say where results go, not what produced them.
    ScenarioConfig c = base;
    c.outputs.json = "elsewhere.jsonl";
    CHECK(resolved_json(c) == json);
}

TEST_CASE("an override (--set) replaces a value of the file, or sets a default it leaves out")
{
    const ScenarioConfig c = parse_scenario(kBase, "t.yaml",
                                            {{"devices.0.irqs.0.traffic.rate_per_s", "2500"}, {"gic.lrs", "2"}, {"seed", "9"}});
    CHECK(c.devices[0].irqs[0].traffic.rate_per_s == 2500);
    CHECK(c.gic_lrs == 2);
    CHECK(c.seed == 9);
    CHECK(c.duration_us == 100);
}

TEST_CASE("a bad --set is refused as the file's own value would be, naming --set and the key")
{
    const std::string file_error = error_of([] {
        std::string text = kBase;
        text.replace(text.find("rate_per_s: 1000"), 16, "rate_per_s: -1");
        parse_scenario(text, "t.yaml");
    });
    const std::string set_error =
        error_of([] { parse_scenario(kBase, "t.yaml", {{"devices.0.irqs.0.traffic.rate_per_s", "-1"}}); });
    CHECK(set_error == "t.yaml:0: --set devices.0.irqs.0.traffic.rate_per_s: " +
                           file_error.substr(file_error.find("rate_per_s: ") + 12));
    CHECK_THAT(error_of([] { parse_scenario(kBase, "t.yaml", {{"gic.lrz", "2"}}); }),
               Catch::Contains("--set gic.lrz: unknown key"));
    CHECK_THAT(error_of([] { parse_scenario(kBase, "t.yaml", {{"devices.3.name", "x"}}); }),
               Catch::Contains("--set devices.3.name: '3' is not a position of that list"));
    CHECK_THAT(error_of([] { parse_scenario(kBase, "t.yaml", {{"host.cpus", "[1"}}); }),
               Catch::Contains("--set host.cpus: cannot read '[1'"));
    CHECK_THAT(error_of([] { parse_override("seed"); }), Catch::Contains("expected KEY=VALUE"));
    CHECK_THAT(error_of([] { parse_override("=3"); }), Catch::Contains("the key (before '=') is empty"));
    CHECK_THAT(error_of([] { parse_override("seed="); }), Catch::Contains("needs a value"));
}

TEST_CASE("a sweep refuses an override of a key it varies, and its digest tells overrides apart")
{
    const std::string text = kBase + "sweep:\n  devices.0.irqs.0.traffic.rate_per_s: [1000, 2000]\n";
    CHECK_THAT(error_of([&] { Sweep::parse(text, "t.yaml", {{"devices.00.irqs.0.traffic.rate_per_s", "5"}}); }),
               Catch::Contains("the sweep varies devices.0.irqs.0.traffic.rate_per_s"));
    CHECK_THAT(error_of([&] { Sweep::parse(text, "t.yaml", {{"devices.0.irqs.0.traffic", "{kind: none}"}}); }),
               Catch::Contains("the sweep varies"));
    const Sweep plain = Sweep::parse(text, "t.yaml");
    const Sweep set = Sweep::parse(text, "t.yaml", {{"gic.lrs", "2"}});
    CHECK(plain.digest() != set.digest());
    CHECK(set.point(1).config.gic_lrs == 2);
    CHECK(set.point(1).config.devices[0].irqs[0].traffic.rate_per_s == 2000);
}
