#include <fwdsim/dev/traffic.h>
#include <fwdsim/sim/config_error.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

using namespace fwdsim;

TEST_CASE("periodic traffic without jitter is exactly periodic; with jitter it stays in the band")
{
    sim::Rng rng(1);
    auto p = dev::periodic_traffic(sim::Cycles{1000});
    for (int i = 0; i < 10; ++i) CHECK(*p->next_gap(rng) == sim::Cycles{1000});
    auto j = dev::periodic_traffic(sim::Cycles{1000}, sim::Cycles{50});
    std::uint64_t lo = ~0ull, hi = 0, sum = 0;
    for (int i = 0; i < 20000; ++i) {
        const auto g = j->next_gap(rng)->count();
        lo = std::min(lo, g);
        hi = std::max(hi, g);
        sum += g;
    }
    CHECK(lo >= 950);
    CHECK(hi <= 1050);
    CHECK(lo < 960);  // the band is actually used
    CHECK(hi > 1040);
    CHECK(static_cast<double>(sum) / 20000 == Approx(1000).epsilon(0.01));
}

TEST_CASE("poisson traffic has the requested mean rate")
{
    sim::Rng rng(5);
    auto p = dev::poisson_traffic(2400.0);
    double sum = 0;
    for (int i = 0; i < 100000; ++i) sum += static_cast<double>(p->next_gap(rng)->count());
    CHECK(sum / 100000 == Approx(2400).epsilon(0.02));
}

TEST_CASE("bursty traffic puts no event inside an off period")
{
    sim::Rng rng(9);
    const std::uint64_t on = 10000, off = 30000;
    auto b = dev::bursty_traffic(500.0, sim::Cycles{on}, sim::Cycles{off});
    std::uint64_t t = 0;
    int events = 0;
    while (t < 4'000'000) {
        t += b->next_gap(rng)->count();
        const std::uint64_t phase = t % (on + off);
        INFO("event at " << t);
        REQUIRE(phase <= on); // inside [0, on]: the "on" stretch (end inclusive)
        ++events;
    }
    // Expected: on-fraction 1/4 of 4e6 cycles at one per 500 = 2000 events.
    CHECK(events > 1700);
    CHECK(events < 2300);
}

TEST_CASE("a trace replays its times and then ends")
{
    sim::Rng rng(1);
    auto t = dev::trace_traffic({sim::Cycles{10}, sim::Cycles{15}, sim::Cycles{15}, sim::Cycles{100}});
    CHECK(*t->next_gap(rng) == sim::Cycles{10});
    CHECK(*t->next_gap(rng) == sim::Cycles{5});
    CHECK(*t->next_gap(rng) == sim::Cycles{0});
    CHECK(*t->next_gap(rng) == sim::Cycles{85});
    CHECK_FALSE(t->next_gap(rng).has_value());
    CHECK_THROWS_AS(dev::trace_traffic({sim::Cycles{10}, sim::Cycles{5}}), sim::ConfigError);
}

TEST_CASE("a trace file with a bad line is rejected naming the line")
{
    const std::string path = "dev_trace_test.tmp";
    {
        std::ofstream f(path);
        f << "# times\n100\n200 # ok\nabc\n";
    }
    try {
        (void)dev::trace_traffic_from_file(path);
        FAIL("no error");
    } catch (const sim::ConfigError& e) {
        CHECK(e.line() == 4);
        CHECK(e.field() == "time");
    }
    {
        std::ofstream f(path);
        f << "100\n\n250\n";
    }
    sim::Rng rng(1);
    auto t = dev::trace_traffic_from_file(path);
    CHECK(*t->next_gap(rng) == sim::Cycles{100});
    CHECK(*t->next_gap(rng) == sim::Cycles{150});
    std::remove(path.c_str());
}
