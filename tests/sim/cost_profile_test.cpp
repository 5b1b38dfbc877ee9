#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/cost_profile.h>

#include <catch2/catch.hpp>

using namespace fwdsim::sim;

TEST_CASE("a profile parses entries with description and source")
{
    const auto p = CostProfile::parse("profile = test\n# c\nkvm.trap = 120 | trap to EL2 | paper\nx.y=3\n", "t.profile");
    CHECK(p.name() == "test");
    CHECK(p.get("kvm.trap") == Cycles{120});
    CHECK(p.entries().at("kvm.trap").description == "trap to EL2");
    CHECK(p.entries().at("kvm.trap").source == "paper");
    CHECK(p.get("x.y") == Cycles{3});
}

TEST_CASE("profile errors name the file, the line and the key")
{
    try {
        (void)CostProfile::parse("profile = t\ngood = 1\nbad = 1x | oops\n", "my.profile");
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(e.line() == 3);
        CHECK(e.field() == "bad");
        CHECK(std::string(e.what()).find("my.profile:3: bad:") == 0);
    }
    CHECK_THROWS_AS(CostProfile::parse("profile = t\na = 1\na = 2\n", "f"), ConfigError);
    CHECK_THROWS_AS(CostProfile::parse("a = 1\n", "f"), ConfigError);
    CHECK_THROWS_AS(CostProfile::parse("profile = t\nBad Key = 1\n", "f"), ConfigError);
    const auto p = CostProfile::parse("profile = t\n", "f");
    CHECK_THROWS_AS(p.get("missing.key"), ConfigError);
}

TEST_CASE("the built-in default profile is the shipped file and is self-consistent")
{
    const auto& p = CostProfile::builtin_default();
    CHECK(p.name() == "kvm-arm-v8.0-gicv2");
    CHECK(p.contains("gic.gicd_access"));
    for (const auto& [key, entry] : p.entries()) {
        INFO(key);
        CHECK_FALSE(entry.description.empty());
        CHECK_FALSE(entry.source.empty());
    }
}

TEST_CASE("the digest changes when any cost changes")
{
    auto p = CostProfile::parse("profile = t\na = 1 | d | s\nb = 2 | d | s\n", "f");
    const auto before = p.digest();
    p.set("b", Cycles{3});
    CHECK(p.digest() != before);
}
