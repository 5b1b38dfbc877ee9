#include <fwdsim/scenario/sweep_runner.h>
#include <fwdsim/sim/random.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <sstream>
#include <stdexcept>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

const std::string kGrid = R"(scenario: g
duration_us: 10
vms: [{name: vm0}]
devices:
  - {name: d, vm: vm0, irqs: [{host_irq: 48, traffic: {kind: poisson, rate_per_s: 1}}]}
sweep:
  seed: [1, 2, 3, 4, 5, 6, 7]
  devices.0.irqs.0.traffic.rate_per_s: [10, 20]
)";

// A stand-in for a simulation: a result derived only from the point's
// configuration, the way a real run's is.
RunResult fake_run(const SweepPoint& p)
{
    RunResult r;
    r.scenario = p.config.name;
    r.seed = p.config.seed;
    sim::Rng rng = sim::RandomStreams(p.config.seed).stream("x");
    IrqResult irq;
    irq.name = "d.0";
    irq.raised = rng.uniform(1000) + static_cast<std::uint64_t>(p.config.devices[0].irqs[0].traffic.rate_per_s);
    r.irqs.push_back(irq);
    return r;
}

std::string as_json(const std::vector<RunResult>& runs)
{
    std::ostringstream out;
    write_json_lines(out, runs);
    return out.str();
}

} // namespace

TEST_CASE("a sweep gives the same results with one thread or several")
{
    const auto points = expand_sweep(kGrid, "g.yaml");
    REQUIRE(points.size() == 14);
    std::size_t last_done = 0;
    const auto serial = run_points(points, fake_run, 1, [&](std::size_t done, std::size_t total) {
        CHECK(done == last_done + 1);
        CHECK(total == 14);
        last_done = done;
    });
    const auto parallel = run_points(points, fake_run, 4);
    CHECK(last_done == 14);
    CHECK(as_json(serial) == as_json(parallel));
    for (std::size_t i = 0; i < serial.size(); ++i) CHECK(serial[i].point == i);
}

TEST_CASE("a failing point is reported after the others finish")
{
    const auto points = expand_sweep(kGrid, "g.yaml");
    std::atomic<int> ran{0};
    auto runner = [&](const SweepPoint& p) {
        ++ran;
        if (p.index == 3) throw std::runtime_error("point 3 failed");
        return fake_run(p);
    };
    CHECK_THROWS_WITH(run_points(points, runner, 3), "point 3 failed");
    CHECK(ran == 14);
}
