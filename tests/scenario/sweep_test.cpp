#include <fwdsim/scenario/sweep.h>
#include <fwdsim/sim/config_error.h>

#include <catch2/catch.hpp>

#include <set>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

const std::string kSweep = R"(scenario: grid
duration_us: 1000
vms:
  - name: vm0
devices:
  - name: plat0
    vm: vm0
    irqs:
      - host_irq: 48
        traffic: {kind: poisson, rate_per_s: 1000}
sweep:
  devices.0.irqs.0.traffic.rate_per_s: [1000, 10000, 100000]
  devices.0.irqs.0.delivery: [userspace, irqfd, forwarded]
)";

} // namespace

TEST_CASE("a sweep expands to the Cartesian product, last parameter fastest")
{
    const auto points = expand_sweep(kSweep, "g.yaml");
    REQUIRE(points.size() == 9);
    CHECK(points[0].params[0].second == "1000");
    CHECK(points[0].params[1].second == "userspace");
    CHECK(points[1].params[1].second == "irqfd");
    CHECK(points[3].params[0].second == "10000");
    CHECK(points[8].config.devices[0].irqs[0].traffic.rate_per_s == 100000);
    CHECK(points[8].config.devices[0].irqs[0].delivery == DeliveryMode::forwarded);
    for (std::size_t i = 0; i < points.size(); ++i) CHECK(points[i].index == i);
}

TEST_CASE("a file without a sweep is one point")
{
    const std::string single = kSweep.substr(0, kSweep.find("sweep:"));
    const auto points = expand_sweep(single, "g.yaml");
    REQUIRE(points.size() == 1);
    CHECK(points[0].params.empty());
}

TEST_CASE("shards partition the grid")
{
    const auto all = expand_sweep(kSweep, "g.yaml");
    std::set<std::size_t> seen;
    std::size_t total = 0;
    for (std::size_t s = 0; s < 4; ++s) {
        for (const auto& p : select_shard(all, s, 4)) {
            CHECK(p.index % 4 == s);
            CHECK(seen.insert(p.index).second);
            ++total;
        }
    }
    CHECK(total == all.size());
    CHECK(parse_shard("2/4") == std::pair<std::size_t, std::size_t>{2, 4});
    CHECK_THROWS_AS(parse_shard("4/4"), sim::ConfigError);
    CHECK_THROWS_AS(parse_shard("1-4"), sim::ConfigError);
    CHECK_THROWS_AS(parse_shard("0/0"), sim::ConfigError);
}

TEST_CASE("a sweep path that does not exist, or a bad swept value, is reported")
{
    std::string bad_path = kSweep;
    bad_path.replace(bad_path.find("devices.0.irqs.0.delivery"), 25, "devices.3.irqs.0.delivery");
    try {
        (void)expand_sweep(bad_path, "g.yaml");
        FAIL("no error");
    } catch (const sim::ConfigError& e) {
        CHECK(e.line() == 13);
        CHECK(e.field() == "sweep.devices.3.irqs.0.delivery");
    }
    std::string bad_value = kSweep;
    bad_value.replace(bad_value.find("[userspace, irqfd, forwarded]"), 29, "[userspace, irqdf]");
    try {
        (void)expand_sweep(bad_value, "g.yaml");
        FAIL("no error");
    } catch (const sim::ConfigError& e) {
        CHECK(e.field() == "devices.0.irqs.0.delivery");
        CHECK(std::string(e.what()).find("irqdf") != std::string::npos);
    }
}
