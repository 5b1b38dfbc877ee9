// The vmm-script machine's key=value options against their table
// (machine::script_param_table()): each ranged option just outside its range
// is refused at its file, line and key; gic_irqs and gic_lrs say what the
// scenario's gic.irqs and gic.lrs say; what options owe each other is
// reported at the option's own line.
#include <fwdsim/gic/gic.h>
#include <fwdsim/machine/params.h>
#include <fwdsim/machine/script_machine.h>
#include <fwdsim/sim/config_error.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>

using namespace fwdsim;

namespace {

struct Refusal {
    int line = -1;
    std::string field, message;
};

Refusal refusal_of(const std::string& text)
{
    std::istringstream in(text);
    try {
        (void)machine::parse_script_machine_config(in, "m.conf");
    } catch (const sim::ConfigError& e) {
        CHECK(e.origin() == "m.conf");
        return {e.line(), e.field(), e.message()};
    }
    return {};
}

} // namespace

TEST_CASE("each vmm-script option just outside its range is refused at its file, line and key")
{
    std::size_t cases = 0;
    for (const sim::Param& p : machine::script_param_table()) {
        if (!p.ranged) continue;
        const std::string key(p.key);
        std::vector<double> outside{p.max + 1};
        if (p.min > 0) outside.push_back(p.min - 1);
        if (p.multiple_of > 1) outside.push_back(p.min + 1);
        for (const double v : outside) {
            const std::string value = sim::param_number(v);
            INFO(key << "=" << value);
            const Refusal r = refusal_of("# a machine\n" + key + "=" + value + "\n");
            CHECK(r.line == 2);
            CHECK(r.field == key);
            CHECK(r.message == p.problem(v));
            ++cases;
        }
    }
    CHECK(cases >= 18);
}

TEST_CASE("gic_irqs and gic_lrs are the scenario's gic.irqs and gic.lrs: same range, same message")
{
    const auto& script = machine::script_param_table();
    const sim::Param* irqs = machine::find_param(script, "gic_irqs");
    const sim::Param* lrs = machine::find_param(script, "gic_lrs");
    REQUIRE(irqs != nullptr);
    REQUIRE(lrs != nullptr);
    CHECK(irqs->range() == gic::kParamIrqs.range());
    CHECK(lrs->range() == gic::kParamLrs.range());
    CHECK(refusal_of("gic_irqs=33\n").message == gic::kParamIrqs.problem(33));
    CHECK(refusal_of("gic_irqs=33\n").message == "must be a multiple of 32 in 32..1020, or 1020, got 33");
    CHECK(refusal_of("gic_lrs=65\n").message == gic::kParamLrs.problem(65));
}

TEST_CASE("an SPI at or above gic_irqs, or used twice, is refused at the option's line")
{
    Refusal r = refusal_of("gic_irqs=64\n\nplat0.irq0=70\n");
    CHECK(r.line == 3);
    CHECK(r.field == "plat0.irq0");
    CHECK(r.message == "host SPI 70 is outside 32..63 (gic_irqs is 64)");
    r = refusal_of("# two lines on one SPI\nplat0.irq1=40\n"); // plat0.irq0 is 40 by default
    CHECK(r.line == 2);
    CHECK(r.field == "plat0.irq1");
    CHECK(r.message == "host SPI 40 used twice");
    r = refusal_of("pci0.msix_vectors=64\n\npci0.msix_base=200\ngic_irqs=256\n");
    CHECK(r.line == 3);
    CHECK(r.field == "pci0.msix_base");
    // A configuration made in C++: the same check, at line 0.
    machine::ScriptMachineConfig c;
    c.plat0_irq0 = 300;
    try {
        machine::ScriptMachine m(c);
        FAIL("built");
    } catch (const sim::ConfigError& e) {
        CHECK(e.line() == 0);
        CHECK(e.field() == "plat0.irq0");
    }
}

TEST_CASE("every option's default in the table is the machine's default")
{
    const machine::ScriptMachineConfig defaults;
    std::string all;
    for (const sim::Param& p : machine::script_param_table()) {
        INFO(p.key);
        CHECK(machine::script_option_value(defaults, p.key) == p.fallback);
        all += std::string(p.key) + "=" + std::string(p.fallback) + "\n";
    }
    std::istringstream in(all);
    const machine::ScriptMachineConfig read = machine::parse_script_machine_config(in, "m.conf");
    for (const sim::Param& p : machine::script_param_table())
        CHECK(machine::script_option_value(read, p.key) == machine::script_option_value(defaults, p.key));
    CHECK(machine::script_machine_config_help().find("  gic_irqs=256\n") != std::string::npos);
}
