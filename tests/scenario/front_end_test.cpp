// Issue #22: the scenario front end refuses, located, what used to crash,
// hang or be silently accepted -- each class by more than its first example.
#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>

#include "expect_refused.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

const std::string kBase = R"(scenario: front
duration_us: 200
vms: [{name: vm0}]
guest:
  handler: {kind: fixed, cycles: 2000}
devices:
  - name: d
    vm: vm0
    irqs:
      - {host_irq: 48, traffic: {kind: periodic, rate_per_s: 100000}}
)";

std::string replace(std::string text, const std::string& from, const std::string& to)
{
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

// Expects the text to be refused at `line`, naming `field`, with `words` in
// the message.
void refused(const std::string& text, int line, const std::string& field, const std::string& words = "")
{
    test::expect_refused(
        [&] {
            const Sweep s = Sweep::parse(text, "t.yaml");
            for (std::size_t i = 0; i < s.size(); ++i) validate_system(s.point(i).config);
        },
        field, line, words);
}

// A device list replacing kBase's.
std::string with_devices(const std::string& devices)
{
    return kBase.substr(0, kBase.find("devices:")) + "devices:\n" + devices;
}

} // namespace

TEST_CASE("crashes: a huge MSI-X subindex, a full-range uniform handler and an infinite jitter are refused")
{
    for (const char* sub : {"4294967295", "4000000000", "2048"}) {
        refused(with_devices(fmt::format("  - name: p\n    kind: pci\n    vm: vm0\n    irqs:\n"
                                         "      - {{index: 2, subindex: {}, trigger: edge, host_irq: 64}}\n",
                                         sub)),
                11, "devices.0.irqs.0.subindex", "2048");
    }
    refused(replace(kBase, "{kind: fixed, cycles: 2000}", "{kind: uniform, min_cycles: 0, max_cycles: 18446744073709551615}"), 5,
            "guest.handler.max_cycles", "2^40");
    refused(replace(kBase, "{kind: fixed, cycles: 2000}", "{kind: exponential, cycles: 18446744073709551615}"), 5,
            "guest.handler.cycles", "2^40");
    for (const char* v : {".inf", "-.inf", ".nan", "1e300"}) {
        refused(replace(kBase, "rate_per_s: 100000}", fmt::format("rate_per_s: 100000, jitter_us: {}}}", v)), 10,
                "devices.0.irqs.0.traffic.jitter_us");
    }
    // The builder itself refuses what the parser would: a config made in code.
    ScenarioConfig c = parse_scenario(with_devices("  - name: p\n    kind: pci\n    vm: vm0\n    irqs:\n"
                                                   "      - {index: 2, subindex: 0, trigger: edge, host_irq: 64}\n"),
                                      "t.yaml");
    c.devices[0].irqs[0].subindex = 4294967295u;
    CHECK_THROWS_AS(validate_system(c), sim::ConfigError);
    CHECK_THROWS_AS(System(c, load_profile(c)), sim::ConfigError);
}

TEST_CASE("hangs: non-finite, huge and zero-cycle times and rates are refused with file, line and key")
{
    for (const char* v : {".inf", ".nan", "1e300", "1e17", "0.0001"}) {
        INFO(v);
        refused(replace(kBase, "duration_us: 200", std::string("duration_us: ") + v), 2, "duration_us");
    }
    // Above the clock a period rounds to 0 cycles; far below it a gap overflows.
    for (const char* v : {"1e10", "4.9e9", ".inf", "1e-300", ".nan"}) {
        INFO(v);
        refused(replace(kBase, "rate_per_s: 100000", std::string("rate_per_s: ") + v), 10,
                "devices.0.irqs.0.traffic.rate_per_s");
    }
    refused(replace(kBase, "{kind: periodic, rate_per_s: 100000}", "{kind: bursty, rate_per_s: 1000, on_us: 0.0001, off_us: 10}"),
            10, "devices.0.irqs.0.traffic.on_us", "0 cycles");
    refused(replace(kBase, "{kind: periodic, rate_per_s: 100000}", "{kind: bursty, rate_per_s: 1000, on_us: 10, off_us: .inf}"),
            10, "devices.0.irqs.0.traffic.off_us");
    refused(replace(kBase, "{kind: periodic, rate_per_s: 100000}", "{kind: poisson, rate_per_s: 1e12}"), 10,
            "devices.0.irqs.0.traffic.rate_per_s");
    refused(kBase + "vmm: {kill_at_us: .nan}\n", 11, "vmm.kill_at_us");
    // --duration-us goes through the same check as the file's duration_us.
    const ScenarioConfig c = parse_scenario(kBase, "t.yaml");
    CHECK_FALSE(duration_problem(c, 1e300).empty());
    CHECK_FALSE(duration_problem(c, std::numeric_limits<double>::infinity()).empty());
    CHECK_FALSE(duration_problem(c, 0.0001).empty());
    CHECK(duration_problem(c, 1000).empty());
}

TEST_CASE("hangs: one hanging value in a sweep is refused at its own line, naming the point")
{
    const std::string sweep = kBase + "sweep:\n  devices.0.irqs.0.traffic.rate_per_s:\n    - 1000\n    - 1e12\n";
    const Sweep s = Sweep::parse(sweep, "t.yaml");
    REQUIRE(s.size() == 2);
    CHECK_NOTHROW(s.point(0));
    try {
        (void)s.point(1);
        FAIL("accepted");
    } catch (const sim::ConfigError& e) {
        CHECK(e.line() == 14);
        CHECK(e.field() == "devices.0.irqs.0.traffic.rate_per_s");
        CHECK(e.message().find("sweep point 1") != std::string::npos);
    }
}

TEST_CASE("a sweep point that breaks a rule of a key it does not sweep is refused at that key's line")
{
    // gic.irqs 64 leaves the VM's 128 vgic IDs without a GIC behind them: the
    // fault is reported at vms.0.irqs, where the file gives it.
    const std::string sweep = replace(kBase, "vms: [{name: vm0}]", "vms: [{name: vm0, irqs: 128}]") +
                              "gic: {irqs: 256}\nsweep:\n  gic.irqs: [256, 64]\n";
    const Sweep s = Sweep::parse(sweep, "t.yaml");
    REQUIRE(s.size() == 2);
    CHECK_NOTHROW(s.point(0));
    test::expect_refused([&] { (void)s.point(1); }, "vms.0.irqs", 3, "sweep point 1 (gic.irqs=64)");
}

TEST_CASE("silent acceptance: duplicate keys, a second document and duplicate sweep axes are refused")
{
    refused(replace(kBase, "duration_us: 200\n", "duration_us: 200\nduration_us: 300\n"), 3, "duration_us", "line 2");
    refused(replace(kBase, "{kind: fixed, cycles: 2000}", "{kind: fixed, cycles: 2000, cycles: 1}"), 5, "guest.handler.cycles");
    refused(replace(kBase, "host_irq: 48,", "host_irq: 48, host_irq: 49,"), 10, "devices.0.irqs.0.host_irq");
    // The line of the second document's start: the '---' the message asks to remove.
    refused(kBase + "---\nscenario: other\n", 11, "(document)");
    refused(kBase + "...\n---\n", 12, "(document)");
    refused(kBase + "sweep:\n  seed: [1, 2]\n  seed: [3]\n", 13, "sweep.seed", "duplicate key");
    refused(kBase + "sweep:\n  devices.0.irqs.0.delivery: [irqfd]\n  devices.00.irqs.0.delivery: [forwarded]\n", 13,
            "sweep.devices.00.irqs.0.delivery", "already swept on line 12");
}

TEST_CASE("silent acceptance: a grid too big to count or to run is refused, and a big one expands lazily")
{
    // 100^5 = 10^10 points: past the bound at the fifth axis, before the
    // product could wrap (100^10 in 64 bits is a small, wrong number).
    std::string grid = kBase + "sweep:\n";
    for (int a = 0; a < 6; ++a) {
        grid += fmt::format("  seed{}: [", std::string(static_cast<std::size_t>(a), 's'));
        for (int v = 0; v < 100; ++v) grid += fmt::format("{}{}", v ? ", " : "", v);
        grid += "]\n";
    }
    refused(grid, 16, "sweep.seedssss", "1000000000 points");
    // 10^8 points: accepted, counted, and point 99999999 is built alone.
    std::string values;
    for (int k = 0; k < 10000; ++k) values += fmt::format("{}{}", k ? ", " : "", k + 1);
    const std::string big = kBase + "sweep:\n  seed: [" + values + "]\n  guest.handler.cycles: [" + values + "]\n";
    const Sweep s = Sweep::parse(big, "t.yaml");
    CHECK(s.size() == 100'000'000);
    const SweepPoint last = s.point(99'999'999);
    CHECK(last.config.seed == 10000);
    CHECK(last.config.guest.handler.cycles == 10000);
}

TEST_CASE("slow expansion: an 800-value axis expands in linear time")
{
    const auto grid = [](int values) {
        std::string text = kBase + "sweep:\n  guest.handler.cycles: [";
        for (int k = 0; k < values; ++k) text += fmt::format("{}{}", k ? ", " : "", 1000 + k);
        return text + "]\n";
    };
    // The best of three, against a machine shared with other work.
    const auto seconds = [&](int values) {
        double best = 1e9;
        for (int run = 0; run < 3; ++run) {
            const auto start = std::chrono::steady_clock::now();
            const auto points = expand_sweep(grid(values), "t.yaml");
            best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
            REQUIRE(points.size() == static_cast<std::size_t>(values));
            CHECK(points.back().config.guest.handler.cycles == static_cast<std::uint64_t>(999 + values));
        }
        return best;
    };
    const double small = seconds(100), large = seconds(800);
    // Linear: 8 times the points, about 8 times the time (8.1 measured).  When every point
    // carried the whole axis it was quadratic (about 64 times; 60 s for 800
    // values in a release build).
    INFO(small << " s for 100 values, " << large << " s for 800");
    CHECK(large < 16 * small + 0.05);
}

TEST_CASE("silent acceptance: impossible wiring is refused where the system is assembled")
{
    const std::string two = "  - {name: a, vm: vm0, irqs: [{host_irq: 48, guest_irq: 48}]}\n"
                            "  - {name: b, vm: vm0, irqs: [{host_irq: 48, guest_irq: 49}]}\n";
    refused(with_devices(two), 8, "devices.1.irqs.0.host_irq", "devices.0.irqs.0");
    refused(with_devices("  - {name: a, vm: vm0, irqs: [{host_irq: 48, guest_irq: 50}]}\n"
                         "  - {name: b, vm: vm0, irqs: [{host_irq: 49, guest_irq: 50}]}\n"),
            8, "devices.1.irqs.0.guest_irq", "devices.0.irqs.0");
    // One guest INTID in two VMs is two interrupts, not a conflict.
    const std::string two_vms = replace(with_devices("  - {name: a, vm: vm0, irqs: [{host_irq: 48, guest_irq: 50}]}\n"
                                                     "  - {name: b, vm: vm1, irqs: [{host_irq: 49, guest_irq: 50}]}\n"),
                                        "vms: [{name: vm0}]", "host: {cpus: 3}\nvms: [{name: vm0}, {name: vm1, pin: [2]}]");
    CHECK_NOTHROW(validate_system(parse_scenario(two_vms, "t.yaml")));
    refused(with_devices("  - name: p\n    kind: pci\n    vm: vm0\n    irqs:\n"
                         "      - {index: 0, trigger: level, host_irq: 48}\n"
                         "      - {index: 2, subindex: 0, trigger: edge, host_irq: 64}\n"),
            10, "devices.0.irqs", "INTx and MSI-X"); // the line of irqs:, where the two kinds are listed
    refused(with_devices("  - name: t\n    kind: timer\n    vm: vm0\n    irqs:\n"
                         "      - {host_irq: 25, guest_irq: 27, delivery: forwarded}\n"),
            11, "devices.0.irqs.0.host_irq", "maintenance");
}

TEST_CASE("vmm.switches[].irq is the interrupt's position in the device's list, whatever its VFIO index")
{
    // MSI-X vectors have VFIO index 2: position 1 used to be looked up as
    // VFIO index 1, which no interrupt of the device has.
    const std::string text = with_devices("  - name: p\n    kind: pci\n    vm: vm0\n    irqs:\n"
                                          "      - {index: 2, subindex: 0, trigger: edge, host_irq: 64, traffic: {kind: periodic, rate_per_s: 50000}}\n"
                                          "      - {index: 2, subindex: 1, trigger: edge, host_irq: 65, traffic: {kind: periodic, rate_per_s: 50000}}\n") +
                             "vmm:\n  switches:\n    - {at_us: 0, device: p, irq: 1, delivery: userspace}\n";
    ScenarioConfig c = parse_scenario(text, "t.yaml");
    c.duration_us = 400;
    const RunResult switched = run_scenario(c);
    c.vmm.switches.clear();
    const RunResult control = run_scenario(c);
    REQUIRE(switched.irqs.size() == 2);
    REQUIRE(switched.irqs[1].delivered > 5);
    // Userspace delivery wakes the VMM's thread to inject each interrupt:
    // the host works more than when the vector stays on irqfd.  (Host
    // cycles are shared out by interrupts delivered, so compare the totals.)
    const auto host = [](const RunResult& r) { return r.irqs[0].host_cycles + r.irqs[1].host_cycles; };
    CHECK(switched.irqs[1].delivered == control.irqs[1].delivered);
    CHECK(host(switched) > host(control) + 10'000);
}

TEST_CASE("silent acceptance: a misspelt primitive in a profile and folders given as files are refused")
{
    const auto dir = std::filesystem::temp_directory_path() / "fwdsim-front-end-test";
    std::filesystem::create_directories(dir);
    {
        std::ofstream p(dir / "typo.profile");
        p << "profile = typo\nhost.irq_entyr = 150 | a typo | test\n";
    }
    const std::string with_profile = replace(kBase, "duration_us: 200\n", "duration_us: 200\nprofile: typo.profile\n");
    const ScenarioConfig c = parse_scenario(with_profile, (dir / "t.yaml").string());
    try {
        (void)load_profile(c);
        FAIL("accepted");
    } catch (const sim::ConfigError& e) {
        CHECK(e.line() == 2);
        CHECK(e.field() == "host.irq_entyr");
        CHECK(e.message().find("did you mean host.irq_entry?") != std::string::npos);
    }
    std::filesystem::create_directories(dir / "a.profile");
    CHECK_THROWS_WITH(parse_scenario(replace(kBase, "duration_us: 200\n", "duration_us: 200\nprofile: a.profile\n"),
                                     (dir / "t.yaml").string()),
                      Catch::Contains("is a directory"));
    CHECK_THROWS_WITH(parse_scenario(replace(kBase, "{kind: periodic, rate_per_s: 100000}", "{kind: trace, file: a.profile}"),
                                     (dir / "t.yaml").string()),
                      Catch::Contains("is a directory"));
    CHECK_THROWS_WITH(load_scenario(dir.string()), Catch::Contains("is a directory"));
    CHECK_THROWS_WITH(Sweep::load(dir.string()), Catch::Contains("is a directory"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("a report taken before the warm-up ends measures nothing, and does not throw")
{
    // Found by the scenario fuzzer once it ran the System: the exits of the
    // measured window were looked up in a snapshot not yet taken (map::at).
    const ScenarioConfig c = parse_scenario(replace(kBase, "duration_us: 200\n", "duration_us: 200\nwarmup_us: 100\n"), "t.yaml");
    System sys(c, load_profile(c));
    sys.start();
    sys.run_for(sys.us(50));
    const RunResult r = sys.report();
    REQUIRE(r.irqs.size() == 1);
    CHECK(r.irqs[0].exits.at("wfi") == 0);
    sys.run_for(sys.us(150));
    CHECK(sys.report().irqs[0].delivered > 0);
}

TEST_CASE("front end: what only building finds wrong is still reported at its line and key", "[scenario][front-end]")
{
    // Two VMs' devices in one IOMMU group pass every check of the file, but
    // the second VMM cannot set its container (EBUSY): the machine finds it
    // while building, and names the device's line, not line 0.
    const std::string text = R"(scenario: shared-group
duration_us: 1000
host: {cpus: 3}
vms:
  - {name: vm0, vcpus: 1, pin: [1]}
  - {name: vm1, vcpus: 1, pin: [2]}
devices:
  - {name: plat0, vm: vm0, iommu_group: 1, irqs: [{host_irq: 40}]}
  - name: plat1
    vm: vm1
    iommu_group: 1
    irqs: [{host_irq: 41}]
)";
    const ScenarioConfig c = parse_scenario(text, "t.yaml");
    test::expect_refused(
        [&] {
            System sys(c, load_profile(c));
            sys.start();
        },
        "devices.1", 9, "could not open the device");
}
