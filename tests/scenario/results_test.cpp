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

TEST_CASE("the table's sweep column names a switch's delivery, which the mode column does not show")
{
    // The mode column is the interrupt's configured delivery: a point that
    // sweeps it needs no more; a point that sweeps what a vmm.switches
    // entry switches to would otherwise print the same labels as its
    // neighbour.
    RunResult r = make_run(0, 0);
    r.params = {{"vmm.switches.0.delivery", "userspace"}, {"devices.0.irqs.0.traffic.rate_per_s", "1000"}};
    std::ostringstream table;
    write_table(table, {r}, TablePart::rows);
    CHECK(table.str().find("delivery=userspace rate_per_s=1000") != std::string::npos);
    r.params = {{"devices.0.irqs.0.delivery", "irqfd"}};
    std::ostringstream own_column;
    write_table(own_column, {r}, TablePart::rows);
    CHECK(own_column.str().find("delivery=") == std::string::npos);
}

