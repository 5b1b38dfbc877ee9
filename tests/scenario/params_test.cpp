// The parameter table's ranges, key by key: for every key of
// machine::param_table() with a range, a value just outside it is refused --
// in a file, through --set and as a sweep point -- with the file, the line
// and the key.  The cases come from the table, so a new key is covered (or
// this test names it until a base scenario below gives it).
#include <fwdsim/machine/params.h>
#include <fwdsim/machine/validate.h>
#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/overrides.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/sim/config_error.h>

#include "expect_refused.h"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cctype>
#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <optional>
#include <string>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

// Every key of the table, one a line, so a value can be replaced where it
// stands.  The second base differs in the handler's kind (its other keys).
const std::string kEveryKey = R"(scenario: every-key
seed: 3
clock_hz: 2400000000
duration_us: 1000
warmup_us: 100
profile: default
host:
  cpus: 3
gic:
  irqs: 256
  lrs: 4
  priority_bits: 5
vms:
  - name: vm0
    vcpus: 2
    pin: [1, 2]
    irqs: 256
guest:
  handler:
    kind: fixed
    cycles: 2000
  eoi_mode: 0
  workload: idle
devices:
  - name: plat0
    kind: platform
    vm: vm0
    iommu_group: 1
    irqs:
      - index: 0
        subindex: 0
        trigger: level
        host_irq: 48
        guest_irq: 48
        delivery: irqfd
        traffic:
          kind: periodic
          rate_per_s: 10000
          jitter_us: 1
      - index: 1
        trigger: edge
        host_irq: 49
        traffic:
          kind: bursty
          rate_per_s: 10000
          on_us: 10
          off_us: 10
vmm:
  kill_at_us: 900
  close_order_seed: 2
  forward_policy: exclusive
  switches:
    - at_us: 500
      device: plat0
      irq: 0
      delivery: forwarded
)";

std::string with_uniform_handler()
{
    std::string s = kEveryKey;
    const std::string from = "    kind: fixed\n    cycles: 2000\n";
    s.replace(s.find(from), from.size(), "    kind: uniform\n    min_cycles: 1000\n    max_cycles: 3000\n");
    return s;
}

/// "devices.0.irqs.1.host_irq" -> "devices[].irqs[].host_irq".
std::string generic(const std::string& path)
{
    std::string out;
    std::size_t i = 0;
    while (i < path.size()) {
        const std::size_t dot = path.find('.', i);
        const std::string part = path.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
        if (!part.empty() && std::isdigit(static_cast<unsigned char>(part[0])) != 0) {
            out += "[]";
        } else {
            out += (out.empty() ? "" : ".") + part;
        }
        if (dot == std::string::npos) break;
        i = dot + 1;
    }
    return out;
}

struct Site {
    std::string text;  ///< the base scenario
    std::string path;  ///< the key's first instance in it
    int line = 0;
};

/// Where a base scenario gives `key`.
std::optional<Site> site_of(const std::string& key)
{
    for (const std::string& base : {kEveryKey, with_uniform_handler()}) {
        const ScenarioConfig c = parse_scenario(base, "t.yaml");
        for (const auto& [path, line] : c.lines.entries()) {
            if (generic(path) == key) return Site{base, path, line};
        }
    }
    return std::nullopt;
}

/// `text` with the value on line `line` (a "key: value" line) replaced.
std::string with_value(const std::string& text, int line, const std::string& leaf, const std::string& value)
{
    std::size_t at = 0;
    for (int l = 1; l < line; ++l) at = text.find('\n', at) + 1;
    const std::size_t end = text.find('\n', at);
    const std::string old = text.substr(at, end - at);
    const std::size_t colon = old.find(leaf + ": ");
    REQUIRE(colon != std::string::npos);
    return text.substr(0, at) + old.substr(0, colon + leaf.size() + 2) + value + text.substr(end);
}

/// The values just outside a key's own range: below it, above it, and
/// between two multiples.  An integer key's -1 is not an integer the file
/// can give (the reader refuses it as text), so it is left out.
std::vector<double> just_outside(const sim::Param& p)
{
    std::vector<double> out;
    if (p.above_min) out.push_back(p.min);
    else if (p.real || p.min > 0) out.push_back(p.min - 1);
    if (std::isfinite(p.max)) out.push_back(p.max + 1);
    if (p.multiple_of > 1) out.push_back(p.min + 1);
    return out;
}

using test::expect_refused;

} // namespace

TEST_CASE("every base scenario of this test is accepted")
{
    CHECK_NOTHROW(parse_scenario(kEveryKey, "t.yaml"));
    CHECK_NOTHROW(parse_scenario(with_uniform_handler(), "t.yaml"));
}

TEST_CASE("a value just outside its key's range is refused with the file, the line and the key")
{
    std::size_t cases = 0;
    for (const sim::Param& p : machine::param_table()) {
        if (!p.ranged) continue;
        const std::string key(p.key);
        INFO("key " << key);
        const auto site = site_of(key);
        if (!site) FAIL("no base scenario of tests/scenario/params_test.cpp gives " << key << ": add it");
        const std::string leaf = site->path.substr(site->path.rfind('.') + 1);
        for (const double v : just_outside(p)) {
            const std::string value = sim::param_number(v);
            INFO("value " << value);
            const std::string text = with_value(site->text, site->line, leaf, value);
            // In the file: its own line.
            expect_refused([&] { (void)parse_scenario(text, "t.yaml"); }, site->path, site->line);
            // From the command line: the override is the place.
            expect_refused([&] { (void)parse_scenario(site->text, "t.yaml", {Override{site->path, value}}); },
                           "--set " + site->path, 0);
            // As a sweep point: the line of the swept value.
            const int sweep_line = static_cast<int>(std::count(site->text.begin(), site->text.end(), '\n')) + 3;
            const Sweep s = Sweep::parse(site->text + fmt::format("sweep:\n  {}:\n    - {}\n", site->path, value), "t.yaml");
            expect_refused([&] { (void)s.point(0); }, site->path, sweep_line);
            ++cases;
        }
    }
    CHECK(cases >= 30);
}

TEST_CASE("a configuration made in C++ is held to the same table, at line 0")
{
    ScenarioConfig c = parse_scenario(kEveryKey, "t.yaml");
    c.lines = {};
    c.gic_lrs = 65;
    try {
        machine::validate(c);
        FAIL("accepted");
    } catch (const sim::ConfigError& e) {
        CHECK(e.line() == 0);
        CHECK(e.field() == "gic.lrs");
        CHECK(e.message() == "must be 1..64, got 65");
    }
    c.gic_lrs = 4;
    c.vms[0].irqs = 1020; // a vgic-v2 takes at most 992, however big the GIC
    c.gic_irqs = 1020;
    CHECK_THROWS_WITH(machine::validate(c), Catch::Contains("vms.0.irqs: must be a multiple of 32 in 64..992"));
    c.vms[0].irqs = 992;
    CHECK_NOTHROW(machine::validate(c));
}

TEST_CASE("a VMM action after the file's end of run is refused; after a run shortened later it is not")
{
    const std::string late = kEveryKey.substr(0, kEveryKey.find("  kill_at_us: 900")) + "  kill_at_us: 1001\n";
    expect_refused([&] { (void)parse_scenario(late, "t.yaml"); }, "vmm.kill_at_us",
                   static_cast<int>(std::count(late.begin(), late.end(), '\n')));
    ScenarioConfig c = parse_scenario(kEveryKey, "t.yaml");
    c.duration_us = 200; // as --duration-us 200 does
    CHECK_NOTHROW(machine::validate(c));
}

TEST_CASE("the table lists each key once, every range in words")
{
    std::set<std::string> keys;
    for (const sim::Param& p : machine::param_table()) {
        CHECK(keys.insert(std::string(p.key)).second);
        CHECK_FALSE(p.description.empty());
        CHECK_FALSE(p.fallback.empty());
        if (p.ranged) CHECK_FALSE(p.range().empty());
    }
    CHECK(machine::param_markdown(machine::param_table()).find("| `gic.irqs` |  | 256 | a multiple of 32 in 32..1020, or 1020 |") !=
          std::string::npos);
}
