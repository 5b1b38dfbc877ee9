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

TEST_CASE("an entry's evidence and range are read from a fourth field")
{
    const auto p = CostProfile::parse("profile = t\n"
                                      "a = 1000 | d | paper | verified\n"
                                      "b = 1000 | d | paper | recalled \xC2\xB1" "5%\n"
                                      "c = 1000 | d | s | estimate 800..3000\n"
                                      "d = 1000 | d | s | derived +-12.5%\n",
                                      "f");
    const auto& e = p.entries();
    CHECK(e.at("a").evidence == Evidence::verified);
    CHECK(e.at("a").low == Cycles{900});
    CHECK(e.at("a").high == Cycles{1100});
    CHECK_FALSE(e.at("a").range_given);
    CHECK(e.at("b").evidence == Evidence::recalled);
    CHECK(e.at("b").low == Cycles{950});
    CHECK(e.at("b").high == Cycles{1050});
    CHECK(e.at("b").range_given);
    CHECK(e.at("c").low == Cycles{800});
    CHECK(e.at("c").high == Cycles{3000});
    CHECK(e.at("d").evidence == Evidence::derived);
    CHECK(e.at("d").low == Cycles{875});
    CHECK(e.at("d").high == Cycles{1125});
}

TEST_CASE("an old profile without the fourth field takes its class from the source")
{
    const auto p = CostProfile::parse("profile = t\n"
                                      "v = 100 | d | calibrated: Dall ISCA'16 hypercall [V]\n"
                                      "r = 100 | d | calibrated: [V] and [R]\n"
                                      "e = 100 | d | estimate\n"
                                      "x = 100 | d | Linux sysctl_sched_min_granularity\n"
                                      "n = 100\n",
                                      "f");
    const auto& e = p.entries();
    CHECK(e.at("v").evidence == Evidence::verified);
    CHECK(e.at("r").evidence == Evidence::recalled);
    CHECK(e.at("e").evidence == Evidence::estimate);
    CHECK(e.at("x").evidence == Evidence::derived);
    CHECK(e.at("n").evidence == Evidence::estimate);
    for (const auto& [key, entry] : e) {
        INFO(key);
        const auto spread = static_cast<std::uint64_t>(100 * default_spread(entry.evidence) + 0.5);
        CHECK(entry.low == Cycles{100 - spread});
        CHECK(entry.high == Cycles{100 + spread});
    }
}

TEST_CASE("a bad evidence field is refused naming the line and key")
{
    const char* bad[] = {"k = 10 | d | s | measured\n",        "k = 10 | d | s | estimate 20..30\n",
                         "k = 10 | d | s | estimate 5..9\n",    "k = 10 | d | s | estimate \xC2\xB1" "101%\n",
                         "k = 10 | d | s | estimate +-x%\n",     "k = 10 | d | s | estimate +-5\n",
                         "k = 10 | d | s | estimate +-nan%\n",   "k = 10 | d | s | estimate 1..\n",
                         "k = 10 | d | s | estimate | extra\n"};
    for (const char* line : bad) {
        INFO(line);
        try {
            (void)CostProfile::parse(std::string("profile = t\n") + line, "f.profile");
            FAIL("accepted");
        } catch (const ConfigError& e) {
            CHECK(e.line() == 2);
            CHECK(e.field() == "k");
        }
    }
}

TEST_CASE("ranges never change the digest, and set_range checks the value lies inside")
{
    auto p = CostProfile::parse("profile = t\na = 10 | d | s\n", "f");
    const auto before = p.digest();
    p.set_range("a", Cycles{5}, Cycles{50});
    CHECK(p.digest() == before);
    CHECK(p.entries().at("a").high == Cycles{50});
    CHECK_THROWS_AS(p.set_range("a", Cycles{11}, Cycles{50}), ConfigError);
    CHECK_THROWS_AS(p.set_range("nope", Cycles{1}, Cycles{50}), ConfigError);
}

TEST_CASE("a range around a value near 2^64 clamps instead of wrapping")
{
    const auto p = CostProfile::parse("profile = t\nk = 18446744073709551615 | d | s | estimate +-50%\nz = 0 | d | s\n",
                                      "f");
    CHECK(p.entries().at("k").high == Cycles{18446744073709551615ull});
    CHECK(p.entries().at("k").low == Cycles{9223372036854775807ull});
    CHECK(p.entries().at("z").low == Cycles{0});
    CHECK(p.entries().at("z").high == Cycles{0});
}
