#include "recording_line.h"

#include <fwdsim/dev/interrupt_source.h>
#include <fwdsim/dev/pci_device.h>
#include <fwdsim/dev/platform_device.h>

#include <catch2/catch.hpp>

using namespace fwdsim;
using Edges = std::vector<std::pair<std::uint64_t, bool>>;

TEST_CASE("a level source holds its line from the first event until serviced")
{
    sim::EventQueue q;
    RecordingLine line(q);
    dev::InterruptSource src(q, "lvl", dev::Trigger::level, line, dev::periodic_traffic(sim::Cycles{100}), sim::Rng(1));
    src.start(sim::Cycles{0});
    q.run_until(sim::Cycles{250}); // events at 100 and 200
    CHECK(line.edges == Edges{{100, true}});
    CHECK(src.outstanding() == 2);
    const auto r = src.service();
    CHECK(r.consumed == 2);
    CHECK(r.oldest_raised == sim::Cycles{100});
    CHECK(line.edges == Edges{{100, true}, {250, false}});
    CHECK(src.raised() == 2);
    CHECK(src.delivered() == 1);
    CHECK(src.coalesced() == 1);
}

TEST_CASE("an edge source pulses once per event")
{
    sim::EventQueue q;
    RecordingLine line(q);
    dev::InterruptSource src(q, "edge", dev::Trigger::edge, line, dev::periodic_traffic(sim::Cycles{50}), sim::Rng(1));
    src.start(sim::Cycles{0});
    q.run_until(sim::Cycles{160});
    CHECK(line.edges == Edges{{50, true}, {51, false}, {100, true}, {101, false}, {150, true}, {151, false}});
    CHECK(src.raised() == 3);
}

TEST_CASE("raised always equals delivered + coalesced + outstanding")
{
    sim::EventQueue q;
    RecordingLine line(q);
    dev::InterruptSource src(q, "p", dev::Trigger::level, line, dev::poisson_traffic(300.0), sim::Rng(42));
    sim::Rng service_times(7);
    src.start(sim::Cycles{0});
    for (int i = 0; i < 2000; ++i) {
        q.run_for(sim::Cycles{1 + service_times.uniform(900)});
        (void)src.service();
        REQUIRE(src.raised() == src.delivered() + src.coalesced() + src.outstanding());
    }
    CHECK(src.delivered() > 0);
    CHECK(src.coalesced() > 0);
}

TEST_CASE("a masked MSI-X vector holds one message and sends it on unmask")
{
    sim::EventQueue q;
    RecordingLine intx_line(q), v0_line(q);
    std::vector<std::unique_ptr<dev::InterruptSource>> vectors;
    vectors.push_back(std::make_unique<dev::InterruptSource>(q, "v0", dev::Trigger::edge, v0_line, nullptr, sim::Rng(1)));
    dev::PciDevice pci("pci0",
                       std::make_unique<dev::InterruptSource>(q, "intx", dev::Trigger::level, intx_line, nullptr, sim::Rng(2)),
                       std::move(vectors));
    CHECK(pci.msix(0).masked()); // reset state: MSI-X off
    pci.msix(0).raise_now();
    pci.msix(0).raise_now();
    q.run_until(sim::Cycles{10});
    CHECK(v0_line.edges.empty());
    pci.set_msix_enabled(true);
    q.run_until(sim::Cycles{20});
    CHECK(v0_line.edges == Edges{{10, true}, {11, false}});
    CHECK(pci.msix(0).outstanding() == 2);
}

TEST_CASE("a platform device only accepts sources matching its resources")
{
    sim::EventQueue q;
    RecordingLine line(q);
    dev::PlatformDevice plat("plat0", {{48, dev::Trigger::level}, {49, dev::Trigger::edge}});
    CHECK_THROWS(plat.attach(0, std::make_unique<dev::InterruptSource>(q, "x", dev::Trigger::edge, line, nullptr, sim::Rng(1))));
    CHECK_THROWS(plat.attach(2, std::make_unique<dev::InterruptSource>(q, "x", dev::Trigger::edge, line, nullptr, sim::Rng(1))));
    plat.attach(1, std::make_unique<dev::InterruptSource>(q, "x", dev::Trigger::edge, line, nullptr, sim::Rng(1)));
    CHECK(plat.attached(1));
    CHECK_FALSE(plat.attached(0));
}
