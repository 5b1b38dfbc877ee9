#include <fwdsim/sim/event_queue.h>

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace fwdsim::sim;
using namespace fwdsim::sim::literals;

namespace {

// Records (time, label) into a shared log when it runs.
struct Probe {
    Probe(std::vector<std::pair<std::uint64_t, std::string>>* l, EventQueue* q, std::string name)
        : log(l), queue(q), label(std::move(name))
    {
    }
    std::vector<std::pair<std::uint64_t, std::string>>* log;
    EventQueue* queue;
    std::string label;
    FunctionEvent ev{[this] { log->emplace_back(queue->now().count(), label); }, "probe"};
};

} // namespace

TEST_CASE("events run in time order, same-time events in scheduling order")
{
    EventQueue q;
    std::vector<std::pair<std::uint64_t, std::string>> log;
    std::vector<std::unique_ptr<Probe>> probes;
    auto make = [&](std::string label) {
        probes.push_back(std::make_unique<Probe>(&log, &q, std::move(label)));
        return probes.back().get();
    };
    // Mix near (wheel) and far (ordered set) times, several at one instant.
    q.schedule(make("far-a")->ev, 10000_cy);
    q.schedule(make("b")->ev, 5_cy);
    q.schedule(make("c")->ev, 5_cy);
    q.schedule(make("far-b")->ev, 10000_cy);
    q.schedule(make("a")->ev, 1_cy);
    q.schedule(make("d")->ev, 5_cy);
    q.run_until_idle();
    const std::vector<std::pair<std::uint64_t, std::string>> expected{
        {1, "a"}, {5, "b"}, {5, "c"}, {5, "d"}, {10000, "far-a"}, {10000, "far-b"}};
    CHECK(log == expected);
    CHECK(q.events_processed() == 6);
    CHECK(q.empty());
}

TEST_CASE("an event scheduled far ahead keeps its FIFO place against later near schedules")
{
    // "early" is scheduled while its time is beyond the wheel; "late" is
    // scheduled for the same time once it is near.  early must run first.
    EventQueue q;
    std::vector<std::pair<std::uint64_t, std::string>> log;
    Probe early{&log, &q, "early"};
    Probe late{&log, &q, "late"};
    const Cycles target{EventQueue::kWheelSlots + 100};
    q.schedule(early.ev, target);
    FunctionEvent schedule_late([&] { q.schedule(late.ev, target); });
    q.schedule(schedule_late, 200_cy);
    q.run_until_idle();
    REQUIRE(log.size() == 2);
    CHECK(log[0].second == "early");
    CHECK(log[1].second == "late");
    CHECK(log[0].first == target.count());
}

TEST_CASE("descheduling removes an event from the wheel and from the far set")
{
    EventQueue q;
    int ran = 0;
    FunctionEvent near([&] { ++ran; });
    FunctionEvent far([&] { ++ran; });
    FunctionEvent keep([&] { ran += 100; });
    q.schedule(near, 3_cy);
    q.schedule(far, Cycles{1'000'000});
    q.schedule(keep, 7_cy);
    CHECK(q.size() == 3);
    q.deschedule(near);
    q.deschedule(far);
    q.deschedule(far); // idempotent
    CHECK_FALSE(near.scheduled());
    CHECK(q.size() == 1);
    q.run_until_idle();
    CHECK(ran == 100);
    CHECK(q.now() == 7_cy);
}

TEST_CASE("an event destroyed while scheduled unlinks itself")
{
    EventQueue q;
    int ran = 0;
    {
        FunctionEvent doomed([&] { ++ran; });
        q.schedule(doomed, 10_cy);
        CHECK(q.size() == 1);
    }
    CHECK(q.empty());
    q.run_until_idle();
    CHECK(ran == 0);
}

TEST_CASE("reschedule moves an event behind those already at the new time")
{
    EventQueue q;
    std::vector<std::pair<std::uint64_t, std::string>> log;
    Probe a{&log, &q, "a"};
    Probe b{&log, &q, "b"};
    q.schedule(a.ev, 2_cy);
    q.schedule(b.ev, 9_cy);
    q.reschedule(a.ev, 9_cy);
    q.run_until_idle();
    REQUIRE(log.size() == 2);
    CHECK(log[0] == std::pair<std::uint64_t, std::string>{9, "b"});
    CHECK(log[1] == std::pair<std::uint64_t, std::string>{9, "a"});
}

TEST_CASE("run_until stops at the limit and advances time to it")
{
    EventQueue q;
    int ran = 0;
    FunctionEvent e1([&] { ++ran; });
    FunctionEvent e2([&] { ++ran; });
    q.schedule(e1, 50_cy);
    q.schedule(e2, 51_cy);
    CHECK(q.run_until(50_cy) == 1);
    CHECK(q.now() == 50_cy);
    CHECK(q.next_time() == 51_cy);
    CHECK(q.run_for(1000_cy) == 1);
    CHECK(q.now() == 1050_cy);
    CHECK(ran == 2);
}

TEST_CASE("step runs exactly one event; stop ends a run after the current event")
{
    EventQueue q;
    int ran = 0;
    FunctionEvent first([&] { ++ran; q.stop(); });
    FunctionEvent second([&] { ++ran; });
    q.schedule(first, 1_cy);
    q.schedule(second, 1_cy);
    CHECK(q.run_until_idle() == 1);
    CHECK(ran == 1);
    CHECK(q.step());
    CHECK(ran == 2);
    CHECK_FALSE(q.step());
}

TEST_CASE("scheduling in the past or twice is refused")
{
    EventQueue q;
    FunctionEvent e([] {});
    FunctionEvent later([] {});
    q.schedule(later, 10_cy);
    q.run_until_idle();
    CHECK_THROWS_AS(q.schedule(e, 5_cy), std::logic_error);
    q.schedule(e, 20_cy);
    CHECK_THROWS_AS(q.schedule(e, 30_cy), std::logic_error);
}

TEST_CASE("a self-rescheduling event crosses the wheel boundary many times")
{
    EventQueue q;
    std::uint64_t count = 0;
    std::vector<std::uint64_t> times;
    FunctionEvent* self = nullptr;
    FunctionEvent tick([&] {
        ++count;
        times.push_back(q.now().count());
        if (count < 50) {
            q.schedule_after(*self, Cycles{1000 + 997 * count});
        }
    });
    self = &tick;
    q.schedule(tick, 0_cy);
    q.run_until_idle();
    REQUIRE(times.size() == 50);
    for (std::size_t i = 1; i < times.size(); ++i) {
        CHECK(times[i] - times[i - 1] == 1000 + 997 * i);
    }
}
