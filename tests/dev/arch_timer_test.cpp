#include "recording_line.h"

#include <fwdsim/dev/arch_timer.h>

#include <catch2/catch.hpp>

using namespace fwdsim;
using Edges = std::vector<std::pair<std::uint64_t, bool>>;

TEST_CASE("the timer output rises at the compare value and falls when masked")
{
    sim::EventQueue q;
    RecordingLine line(q);
    dev::ArchTimer t(q, line);
    t.set_compare(sim::Cycles{500});
    t.set_control(true, false);
    q.run_until(sim::Cycles{499});
    CHECK(line.edges.empty());
    q.run_until(sim::Cycles{600});
    CHECK(line.edges == Edges{{500, true}});
    CHECK(t.istatus());
    t.set_control(true, true); // the guest's handler masks it (IMASK)
    CHECK(line.edges == Edges{{500, true}, {600, false}});
    CHECK(t.istatus()); // the condition still holds; only the output is masked
    t.set_timer(sim::Cycles{100});
    t.set_control(true, false);
    q.run_until(sim::Cycles{800});
    CHECK(line.edges == Edges{{500, true}, {600, false}, {700, true}});
    CHECK(t.fires() == 2);
}

TEST_CASE("a disabled timer never fires")
{
    sim::EventQueue q;
    RecordingLine line(q);
    dev::ArchTimer t(q, line);
    t.set_compare(sim::Cycles{10});
    q.run_until(sim::Cycles{100});
    CHECK(line.edges.empty());
    CHECK_FALSE(t.istatus());
}
