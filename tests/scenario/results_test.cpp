#include <fwdsim/scenario/results.h>
#include <fwdsim/sim/config_error.h>

#include <catch2/catch.hpp>

#include <sstream>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

RunResult make_run(std::size_t point, std::uint64_t base)
{
    RunResult r;
    r.scenario = "t";
    r.point = point;
    r.params = {{"devices.0.irqs.0.delivery", "irqfd"}};
    r.seed = 1;
    r.profile = "p";
    IrqResult i;
    i.name = "plat0.0";
    i.delivery = "irqfd";
    i.raised = 10 + base;
    i.delivered = 10 + base;
    for (std::uint64_t v = 1; v <= 100; ++v) i.to_ack.record(v * (base + 1));
    i.exits["maintenance"] = 10 + base;
    i.vfio_unmasks = 10 + base;
    r.irqs.push_back(i);
    return r;
}

std::string json(const std::vector<RunResult>& runs)
{
    std::ostringstream out;
    write_json_lines(out, runs);
    return out.str();
}

} // namespace

TEST_CASE("JSON Lines results are one record per run with the measured figures")
{
    const std::string s = json({make_run(0, 0), make_run(1, 5)});
    CHECK(std::count(s.begin(), s.end(), '\n') == 2);
    CHECK(s.find(R"("point":1)") != std::string::npos);
    CHECK(s.find(R"("exits_per_irq":1.0000)") != std::string::npos);
    CHECK(s.find(R"("unmasks_per_irq":1.0000)") != std::string::npos);
    CHECK(s.find(R"("p50":50)") != std::string::npos);
    CHECK(json({make_run(0, 0)}) == json({make_run(0, 0)}));
}

