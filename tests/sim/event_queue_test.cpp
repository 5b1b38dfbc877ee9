#include <fwdsim/sim/event_queue.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
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

TEST_CASE("run_events runs a given number of events across cycles, in order, and no more")
{
    EventQueue q;
    std::vector<std::pair<std::uint64_t, std::string>> log;
    // Three tickers, each re-arming itself two cycles later (the wheel) and
    // one far event; a run of N events must stop mid-cycle and resume there.
    struct Ticker {
        EventQueue& q;
        std::vector<std::pair<std::uint64_t, std::string>>& log;
        std::string name;
        FunctionEvent ev{[this] {
            log.emplace_back(q.now().count(), name);
            q.schedule_after(ev, 2_cy);
        }};
    };
    Ticker a{q, log, "a"}, b{q, log, "b"}, c{q, log, "c"};
    FunctionEvent far([&] { log.emplace_back(q.now().count(), "far"); });
    q.schedule(a.ev, 1_cy);
    q.schedule(b.ev, 1_cy);
    q.schedule(c.ev, 2_cy);
    q.schedule(far, 5000_cy);

    CHECK(q.run_events(0) == 0);
    CHECK(log.empty());
    CHECK(q.run_events(4) == 4); // a@1 b@1 c@2 a@3
    CHECK(q.now() == 3_cy);
    CHECK(q.events_processed() == 4);
    CHECK(q.run_events(1) == 1); // b@3: the rest of cycle 3, not cycle 4
    const std::vector<std::pair<std::uint64_t, std::string>> expected{
        {1, "a"}, {1, "b"}, {2, "c"}, {3, "a"}, {3, "b"}};
    CHECK(log == expected);

    // stop() still ends a counted run early, after the running event.
    FunctionEvent stopper([&] { q.stop(); });
    q.deschedule(a.ev);
    q.deschedule(b.ev);
    q.deschedule(c.ev);
    q.schedule(stopper, 10_cy);
    CHECK(q.run_events(100) == 1);
    CHECK(q.now() == 10_cy);
    // An emptying queue ends it too: only the far event is left.
    CHECK(q.run_events(100) == 1);
    CHECK(log.back() == std::pair<std::uint64_t, std::string>{5000, "far"});
    CHECK(q.empty());
    CHECK(q.events_processed() == 7);
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

// The run loop takes a whole cycle's FIFO at once (the batch); these check
// that what handlers do to the queue meanwhile keeps the documented order.

TEST_CASE("an event scheduled for the current cycle runs after the rest of that cycle")
{
    EventQueue q;
    std::vector<std::string> order;
    FunctionEvent late([&] { order.push_back("late"); });
    FunctionEvent a([&] {
        order.push_back("a");
        q.schedule(late, q.now());
    });
    FunctionEvent b([&] { order.push_back("b"); });
    q.schedule(a, 4_cy);
    q.schedule(b, 4_cy);
    q.run_until_idle();
    CHECK(order == std::vector<std::string>{"a", "b", "late"});
    CHECK(q.now() == 4_cy);
}

TEST_CASE("a handler can deschedule or reschedule events of its own cycle that have not run yet")
{
    EventQueue q;
    std::vector<std::string> order;
    FunctionEvent b([&] { order.push_back("b"); });
    FunctionEvent c([&] { order.push_back("c"); });
    FunctionEvent d([&] { order.push_back("d"); });
    FunctionEvent a([&] {
        order.push_back("a");
        CHECK(q.size() == 3);
        q.deschedule(b);          // the very next one
        q.reschedule(c, q.now()); // moves behind d
        CHECK_FALSE(b.scheduled());
        CHECK(q.size() == 2);
    });
    q.schedule(a, 2_cy);
    q.schedule(b, 2_cy);
    q.schedule(c, 2_cy);
    q.schedule(d, 2_cy);
    CHECK(q.run_until_idle() == 3);
    CHECK(order == std::vector<std::string>{"a", "d", "c"});
    CHECK(q.empty());
}

TEST_CASE("an event of the current cycle destroyed by an earlier handler does not run")
{
    EventQueue q;
    int ran = 0;
    auto doomed = std::make_unique<FunctionEvent>([&] { ran += 100; });
    FunctionEvent last([&] { ++ran; });
    FunctionEvent killer([&] { doomed.reset(); });
    q.schedule(killer, 1_cy);
    q.schedule(*doomed, 1_cy);
    q.schedule(last, 1_cy);
    q.run_until_idle();
    CHECK(ran == 1);
    CHECK(q.empty());
}

TEST_CASE("step and stop leave the rest of a cycle queued in order")
{
    EventQueue q;
    std::vector<std::string> order;
    FunctionEvent a([&] { order.push_back("a"); });
    FunctionEvent c([&] { order.push_back("c"); });
    FunctionEvent b([&] {
        order.push_back("b");
        q.schedule(c, q.now());
        q.stop();
    });
    FunctionEvent d([&] { order.push_back("d"); });
    q.schedule(a, 3_cy);
    q.schedule(b, 3_cy);
    q.schedule(d, 3_cy);
    CHECK(q.step());
    CHECK(q.size() == 2);
    CHECK(q.next_time() == 3_cy);
    CHECK(q.run_until_idle() == 1); // b, then stop
    CHECK(q.size() == 2);
    CHECK(q.run_until_idle() == 2);
    CHECK(order == std::vector<std::string>{"a", "b", "d", "c"});
    CHECK(q.events_processed() == 4);
}

TEST_CASE("a handler may run the queue itself")
{
    EventQueue q;
    std::vector<std::string> order;
    FunctionEvent b([&] { order.push_back("b"); });
    FunctionEvent c([&] { order.push_back("c"); });
    FunctionEvent later([&] { order.push_back("later"); });
    FunctionEvent a([&] {
        order.push_back("a");
        CHECK(q.events_processed() == 1);
        CHECK(q.step()); // runs b, the next event of this cycle
        order.push_back("a-end");
    });
    q.schedule(a, 1_cy);
    q.schedule(b, 1_cy);
    q.schedule(c, 1_cy);
    q.schedule(later, 2_cy);
    CHECK(q.run_until_idle() == 4);
    CHECK(order == std::vector<std::string>{"a", "b", "a-end", "c", "later"});
    CHECK(q.events_processed() == 4);
}

TEST_CASE("an exception from a handler leaves the rest of its cycle scheduled")
{
    EventQueue q;
    int ran = 0;
    FunctionEvent thrower([] { throw std::runtime_error("handler failed"); });
    FunctionEvent next([&] { ++ran; });
    q.schedule(thrower, 5_cy);
    q.schedule(next, 5_cy);
    CHECK_THROWS_AS(q.run_until_idle(), std::runtime_error);
    CHECK(q.size() == 1);
    CHECK(next.scheduled());
    CHECK(q.next_time() == 5_cy);
    q.run_until_idle();
    CHECK(ran == 1);
}

TEST_CASE("events due this cycle and next are found and counted between runs")
{
    // insert() skips the occupancy bitmap for delays of 0 and 1; next_time,
    // size and the run loop must still see those events.
    EventQueue q;
    std::vector<std::pair<std::uint64_t, std::string>> log;
    Probe next{&log, &q, "next"};
    Probe now{&log, &q, "now"};
    Probe far_off{&log, &q, "far"};
    FunctionEvent at10([&] {
        q.schedule_after(next.ev, 1_cy);
        q.schedule_after(now.ev, 0_cy);
    });
    q.schedule(at10, 10_cy);
    CHECK(q.run_until(9_cy) == 0);
    CHECK(q.next_time() == 10_cy);
    CHECK(q.run_until(10_cy) == 2); // at10, then "now" in the same cycle
    CHECK(q.size() == 1);
    CHECK_FALSE(q.empty());
    CHECK(q.next_time() == 11_cy);
    q.schedule(far_off.ev, 500_cy);
    CHECK(q.size() == 2);
    q.run_until_idle();
    const std::vector<std::pair<std::uint64_t, std::string>> expected{{10, "now"}, {11, "next"}, {500, "far"}};
    CHECK(log == expected);
    CHECK(q.empty());
    CHECK(q.size() == 0);
    CHECK(q.next_time() == Cycles::max());
}

using Log = std::vector<std::pair<std::uint64_t, std::string>>;

// The far set's first time is cached; each change to the far set's front
// must keep it right, or far events would enter the wheel late (lost FIFO
// place) or never.

TEST_CASE("descheduling the earliest far event lets the next far event run on time")
{
    EventQueue q;
    Log log;
    Probe first{&log, &q, "first"}, second{&log, &q, "second"}, third{&log, &q, "third"};
    q.schedule(second.ev, 20'000_cy);
    q.schedule(first.ev, 10'000_cy);
    q.schedule(third.ev, 30'000_cy);
    CHECK(q.next_time() == 10'000_cy);
    q.deschedule(first.ev);
    CHECK(q.next_time() == 20'000_cy);
    q.deschedule(third.ev);
    CHECK(q.next_time() == 20'000_cy);
    q.deschedule(second.ev);
    CHECK(q.empty());
    CHECK(q.next_time() == Cycles::max());
    q.schedule(third.ev, 30'000_cy);
    CHECK(q.next_time() == 30'000_cy);
    q.run_until_idle();
    const Log expected{{30'000, "third"}};
    CHECK(log == expected);
}

TEST_CASE("run_until past the wheel's window moves far events in before nearer schedules")
{
    // run_until jumps time without running an event; far events now inside
    // the window must be in their slots before a later schedule reaches
    // the same time directly.
    EventQueue q;
    Log log;
    Probe early{&log, &q, "early"}, late{&log, &q, "late"};
    const Cycles target{3 * EventQueue::kWheelSlots};
    q.schedule(early.ev, target);
    CHECK(q.run_until(target - Cycles{10}) == 0);
    q.schedule(late.ev, target);
    CHECK(q.next_time() == target);
    CHECK(q.run_until(target) == 2);
    REQUIRE(log.size() == 2);
    CHECK(log[0].second == "early");
    CHECK(log[1].second == "late");
}

TEST_CASE("an event taken out of a slot, the far set or a run can be scheduled again at once")
{
    // schedule() relies on an idle event's link being null: every way out
    // of the queue must leave it so.
    EventQueue q;
    Log log;
    Probe a{&log, &q, "a"}, b{&log, &q, "b"}, c{&log, &q, "c"}, far_off{&log, &q, "far"};
    q.schedule(a.ev, 5_cy);
    q.schedule(b.ev, 5_cy); // b is in the middle of slot 5
    q.schedule(c.ev, 5_cy);
    q.schedule(far_off.ev, 50'000_cy);
    q.deschedule(b.ev);
    q.deschedule(far_off.ev);
    q.schedule(b.ev, 6_cy);
    q.schedule(far_off.ev, 6_cy); // its link held the far set's sequence number
    q.run_until_idle();
    const Log expected{
        {5, "a"}, {5, "c"}, {6, "b"}, {6, "far"}};
    CHECK(log == expected);
    CHECK(q.size() == 0);
}

TEST_CASE("events outliving their queue can be scheduled on another")
{
    Log log;
    auto first = std::make_unique<EventQueue>();
    EventQueue second;
    Probe near{&log, first.get(), "near"}, mid{&log, first.get(), "mid"}, far_off{&log, first.get(), "far"};
    first->schedule(near.ev, 3_cy);
    first->schedule(mid.ev, 3_cy);
    first->schedule(far_off.ev, 90'000_cy);
    first.reset();
    CHECK_FALSE(near.ev.scheduled());
    CHECK_FALSE(mid.ev.scheduled());
    CHECK_FALSE(far_off.ev.scheduled());
    near.queue = mid.queue = far_off.queue = &second;
    second.schedule(far_off.ev, 2_cy);
    second.schedule(near.ev, 2_cy);
    second.schedule(mid.ev, 4_cy);
    second.run_until_idle();
    const Log expected{{2, "far"}, {2, "near"}, {4, "mid"}};
    CHECK(log == expected);
}

// The run loop caches the time of the earliest slot with its occupancy bit
// set; descheduling, stop() returning a batch and handlers scheduling
// nearer than what is already queued all have to keep it right.  A random
// mix of them, checked at every event against a plain list of what is due:
// each event that runs must be the earliest (time, then scheduling order).

TEST_CASE("a random mix of schedules, cancels and partial runs keeps time and FIFO order")
{
    struct Due {
        std::uint64_t when, seq;
        int id;
    };
    EventQueue q;
    std::vector<Due> due; // the reference: what is scheduled, unordered
    std::uint64_t seq = 0, state = 0x9E3779B97F4A7C15u, ran = 0;
    bool in_order = true;
    auto draw = [&](std::uint64_t n) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state % n;
    };
    auto delay = [&]() -> std::uint64_t {
        switch (draw(5)) {
        case 0: return draw(3);                                       // this cycle or the next two
        case 1: return 2 + draw(200);                                 // near, in the bitmap
        case 2: return 2 + draw(EventQueue::kWheelSlots);             // up to just past the window
        case 3: {
            // Far, on a coarse grid of absolute times: many ties, also at
            // the edges between the far set's parts.
            const std::uint64_t at = (q.now().count() / 1024 + 5 + draw(3)) * 1024;
            return at - q.now().count();
        }
        default: return draw(6 * EventQueue::kWheelSlots);           // often far
        }
    };
    constexpr int kEvents = 160;
    std::vector<std::unique_ptr<FunctionEvent>> events;
    auto forget = [&](int id) {
        std::erase_if(due, [id](const Due& d) { return d.id == id; });
    };
    auto put = [&](int id, std::uint64_t when) {
        Event& ev = *events[static_cast<std::size_t>(id)];
        forget(id);
        q.reschedule(ev, Cycles{when});
        due.push_back({when, seq++, id});
    };
    for (int id = 0; id < kEvents; ++id) {
        events.push_back(std::make_unique<FunctionEvent>([&, id] {
            const auto first = std::min_element(due.begin(), due.end(), [](const Due& a, const Due& b) {
                return a.when != b.when ? a.when < b.when : a.seq < b.seq;
            });
            if (first == due.end() || first->id != id || first->when != q.now().count()) in_order = false;
            forget(id);
            ++ran;
            // Handlers schedule, cancel and sometimes stop the run.
            for (std::uint64_t k = draw(3); k > 0; --k) put(static_cast<int>(draw(kEvents)), q.now().count() + delay());
            if (draw(4) == 0) {
                const int victim = static_cast<int>(draw(kEvents));
                q.deschedule(*events[static_cast<std::size_t>(victim)]);
                forget(victim);
            }
            if (draw(16) == 0) q.stop();
        }));
    }
    for (int id = 0; id < kEvents; ++id) put(id, delay());
    for (int round = 0; round < 6000 && in_order; ++round) {
        switch (draw(8)) {
        case 0: (void)q.run_until_idle(); break;
        case 1:
        case 2: (void)q.step(); break;
        default: q.run_until(q.now() + Cycles{draw(3000)}); break;
        }
        // Keep the queue busy, with many far events at a time.
        for (std::uint64_t k = draw(4); k > 0; --k) put(static_cast<int>(draw(kEvents)), q.now().count() + delay());
        CHECK(q.size() == due.size());
    }
    CHECK(in_order);
    CHECK(ran > 10'000);
}

TEST_CASE("far events at equal times keep their scheduling order wherever the far set keeps them")
{
    // The far set keeps its earliest events in a short sorted array and the
    // rest in a tree.  Ties across that boundary, whatever its size, must
    // still run in scheduling order.  Each case fills the far set with 20
    // events in ascending time, maybe moves the earliest into the wheel,
    // and then schedules more at the same times: one at each time in
    // reverse, one at a single time, or earlier ones first that push the
    // array's last events into the tree.
    const std::uint64_t base = 3 * EventQueue::kWheelSlots;
    auto check = [&](std::uint64_t pulled_up_to, auto&& more) {
        EventQueue q;
        Log log;
        std::vector<std::unique_ptr<Probe>> probes;
        std::vector<std::pair<std::uint64_t, int>> order; // (time, scheduling order)
        auto at = [&](std::uint64_t t) {
            probes.push_back(std::make_unique<Probe>(&log, &q, std::to_string(probes.size())));
            q.schedule(probes.back()->ev, Cycles{t});
            order.emplace_back(t, static_cast<int>(order.size()));
        };
        for (std::uint64_t k = 1; k <= 20; ++k) at(base + 100 * k);
        // Far events up to pulled_up_to enter the wheel, none runs yet.
        if (pulled_up_to != 0) q.run_until(Cycles{pulled_up_to - EventQueue::kWheelSlots + 1});
        more(at);
        q.run_until_idle();
        std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        Log expected;
        for (const auto& [t, n] : order) expected.emplace_back(t, std::to_string(n));
        return log == expected;
    };
    CHECK(check(0, [&](auto& at) {
        for (std::uint64_t k = 20; k > 0; --k) at(base + 100 * k);
    }));
    CHECK(check(0, [&](auto& at) {
        for (std::uint64_t k = 0; k < 20; ++k) at(base + 50 - k);
        for (std::uint64_t k = 1; k <= 20; ++k) at(base + 100 * k);
    }));
    for (std::uint64_t pulled = 0; pulled <= 20; ++pulled) {
        for (std::uint64_t tie = pulled + 1; tie <= 20; ++tie) {
            INFO("pulled up to " << pulled << ", tie at " << tie);
            CHECK(check(pulled == 0 ? 0 : base + 100 * pulled, [&](auto& at) { at(base + 100 * tie); }));
        }
    }
}

TEST_CASE("a cycle cut short by stop() leaves the later marked events where a run finds them")
{
    // stop() returns the rest of the cycle to its slot, ahead of the
    // earliest event scheduled further on (whose time the run loop caches):
    // both must still be found, counted and run afterwards, in order.
    EventQueue q;
    Log log;
    Probe later{&log, &q, "later"}, second{&log, &q, "second"};
    FunctionEvent first([&] {
        log.emplace_back(q.now().count(), "first");
        q.schedule(later.ev, 100_cy);
        q.stop();
    });
    q.schedule(first, 5_cy);
    q.schedule(second.ev, 5_cy);
    CHECK(q.run_until_idle() == 1);
    CHECK(q.size() == 2);
    CHECK(q.next_time() == 5_cy);
    CHECK(q.run_until_idle() == 2);
    const Log expected{{5, "first"}, {5, "second"}, {100, "later"}};
    CHECK(log == expected);
}

TEST_CASE("has_events_at answers for the wheel, the running cycle and the far future")
{
    EventQueue q;
    std::vector<bool> seen_in_run;
    FunctionEvent near([] {}, "near");
    FunctionEvent far([] {}, "far");
    FunctionEvent far_later([] {}, "far-later");
    FunctionEvent mate([] {}, "mate");
    FunctionEvent first([&] {
        // The batch being run: its other event still counts, itself not.
        seen_in_run.push_back(q.has_events_at(q.now()));
        seen_in_run.push_back(q.has_events_at(q.now() + 1_cy));
    }, "first");
    q.schedule(near, 3_cy);
    q.schedule(far, 100000_cy);
    q.schedule(far_later, 200000_cy);
    CHECK(q.has_events_at(3_cy));
    CHECK_FALSE(q.has_events_at(4_cy));
    CHECK_FALSE(q.has_events_at(0_cy));
    CHECK(q.has_events_at(100000_cy));
    CHECK(q.has_events_at(200000_cy));
    CHECK_FALSE(q.has_events_at(150000_cy));
    CHECK_FALSE(q.has_events_at(300000_cy));
    q.run_until(2_cy);
    CHECK_FALSE(q.has_events_at(1_cy)); // the past
    q.schedule(first, 3_cy);
    q.schedule(mate, 3_cy);
    q.deschedule(near);
    q.run_until(3_cy);
    CHECK(seen_in_run == std::vector<bool>{true, false});
    CHECK_FALSE(q.has_events_at(3_cy)); // all of it run
    q.run_until(100000_cy);
    CHECK_FALSE(q.has_events_at(100000_cy));
    CHECK(q.has_events_at(200000_cy));
}

TEST_CASE("continue_at after a nested run: the outer run's rules again, unless the nested run was stopped")
{
    EventQueue q;
    std::vector<bool> answers;
    FunctionEvent inner([] {}, "inner");
    FunctionEvent stopper([&] { q.stop(); }, "stopper");
    FunctionEvent outer([&] {
        q.schedule(inner, q.now() + 1_cy);
        q.run_until(q.now() + 1_cy);
        answers.push_back(q.continue_at(q.now() + 1_cy)); // the outer run_until's limit again
        q.schedule(stopper, q.now() + 1_cy);
        q.run_until(q.now() + 1_cy);
        answers.push_back(q.continue_at(q.now() + 1_cy)); // the stop ends the outer run too
    }, "outer");
    q.schedule(outer, 10_cy);
    q.run_until(100_cy);
    CHECK(answers == std::vector<bool>{true, false});
    CHECK(q.now() == 13_cy); // stopped: run_until does not move on to its limit
}

TEST_CASE("continue_at goes on only when the event it stands for would run next")
{
    EventQueue q;
    std::vector<bool> answers;
    std::vector<std::uint64_t> times;
    FunctionEvent other([&] { times.push_back(q.now().count()); }, "other");
    FunctionEvent chain([&] {
        answers.push_back(q.continue_at(q.now() + 5_cy));  // 10 -> 15: nothing before 20
        times.push_back(q.now().count());
        answers.push_back(q.continue_at(20_cy));           // "other" is due at 20 and runs first
        answers.push_back(q.continue_at(q.now() + 2_cy));  // 15 -> 17
        answers.push_back(q.continue_at(q.now()));         // 17 -> 17: nothing else due now
        times.push_back(q.now().count());
    }, "chain");
    q.schedule(chain, 10_cy);
    q.schedule(other, 20_cy);
    q.run_until_idle();
    CHECK(answers == std::vector<bool>{true, false, true, true});
    CHECK(times == std::vector<std::uint64_t>{15, 17, 20});
    CHECK(q.events_processed() == 2 + 3); // the three continuations count as run

    answers.clear();
    FunctionEvent limited([&] {
        answers.push_back(q.continue_at(q.now() + 10_cy)); // beyond run_until's limit
        answers.push_back(q.continue_at(q.now() + 5_cy));  // at it
        q.stop();
        answers.push_back(q.continue_at(q.now() + 1_cy));  // the run is ending
    }, "limited");
    q.schedule(limited, 100_cy);
    q.run_until(105_cy);
    CHECK(answers == std::vector<bool>{false, true, false});
    CHECK(q.now() == 105_cy);

    answers.clear();
    FunctionEvent counted([&] { answers.push_back(q.continue_at(q.now() + 1_cy)); }, "counted");
    FunctionEvent nested([&] {
        answers.push_back(q.continue_at(q.now() + 1_cy)); // outermost run: fine
        q.schedule(counted, q.now() + 1_cy);
        q.run_until(q.now() + 1_cy);                        // a nested run: never
    }, "nested");
    q.schedule(counted, 200_cy);
    (void)q.step(); // run_events counts events one by one: never
    q.schedule(nested, 300_cy);
    q.run_until_idle();
    CHECK(answers == std::vector<bool>{false, true, false});
    CHECK_FALSE(q.continue_at(q.now() + 1_cy)); // outside any run

    // Far ahead, past the wheel: allowed when nothing lies in between, and
    // the far events the window then reaches keep their places.
    answers.clear();
    times.clear();
    FunctionEvent far_one([&] { times.push_back(q.now().count()); }, "far-one");
    FunctionEvent leap([&] {
        answers.push_back(q.continue_at(q.now() + 50000_cy));
        answers.push_back(q.continue_at(q.now() + 50001_cy)); // far_one is due first
        times.push_back(q.now().count());
        q.schedule(other, q.now() + 1_cy);
    }, "leap");
    const Cycles start = q.now();
    q.schedule(leap, start + 1_cy);
    q.schedule(far_one, start + 1_cy + 100000_cy);
    q.run_until_idle();
    const std::uint64_t s = start.count();
    CHECK(answers == std::vector<bool>{true, false});
    CHECK(times == std::vector<std::uint64_t>{s + 50001, s + 50002, s + 100001});
}

TEST_CASE("a model that goes on with continue_at runs exactly as one that schedules its next event")
{
    // Actors whose handler picks its own next run, then does more work
    // (scheduling others, often for the same cycle; sometimes a stop).  One
    // queue schedules the next run at once; the other puts it off to the
    // handler's end where may_defer allows, and there goes on with
    // continue_at or schedules it with schedule_deferred.  Same draws, same
    // run_until calls: the same log, count and time.
    struct Run {
        EventQueue q;
        std::vector<std::pair<std::uint64_t, int>> log;
        std::vector<std::uint64_t> state;
        std::vector<std::unique_ptr<FunctionEvent>> events;
        std::uint64_t continued = 0, deferred = 0;
        std::uint64_t draw(std::size_t actor, std::uint64_t n)
        {
            std::uint64_t& x = state[actor];
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            return x % n;
        }
        std::uint64_t delay(std::size_t actor)
        {
            switch (draw(actor, 5)) {
            case 0: return draw(actor, 2);
            case 1: return 2 + draw(actor, 40);
            case 2: return 2 + draw(actor, 2 * EventQueue::kWheelSlots);
            default: return 5 + 3 * draw(actor, 7); // ties between actors
            }
        }
        // One run of actor a's handler: its next run (if any) is decided
        // first and handed to `own`, then the rest of its work.
        void body(std::size_t a, const std::function<void(Cycles)>& own)
        {
            log.emplace_back(q.now().count(), static_cast<int>(a));
            if (draw(a, 6) != 0) own(q.now() + Cycles{delay(a)}); // else quiet until woken
            for (std::uint64_t k = draw(a, 3); k > 0; --k) {
                const std::size_t b = draw(a, events.size());
                if (b != a && !events[b]->scheduled()) q.schedule(*events[b], q.now() + Cycles{delay(a)});
            }
            if (draw(a, 50) == 0) q.stop();
        }
        explicit Run(bool defer)
        {
            constexpr std::size_t kActors = 6;
            for (std::size_t a = 0; a < kActors; ++a) {
                state.push_back(0x9E3779B97F4A7C15u * (a + 1));
                events.push_back(std::make_unique<FunctionEvent>([this, a, defer] {
                    for (;;) {
                        bool put_off = false;
                        Cycles at{};
                        body(a, [&](Cycles t) {
                            if (defer && q.may_defer(t)) {
                                put_off = true;
                                at = t;
                            } else {
                                q.schedule(*events[a], t);
                            }
                        });
                        if (!put_off) return;
                        ++deferred;
                        if (!q.continue_at(at)) {
                            q.schedule_deferred(*events[a], at);
                            return;
                        }
                        ++continued;
                    }
                }));
            }
            for (std::size_t a = 0; a < kActors; ++a) q.schedule(*events[a], Cycles{a * 3});
            std::uint64_t limits = 0x2545F4914F6CDD1Du;
            for (int round = 0; round < 3000; ++round) {
                limits ^= limits << 13;
                limits ^= limits >> 7;
                limits ^= limits << 17;
                if (limits % 7 == 0) (void)q.step();
                else q.run_until(q.now() + Cycles{limits % 9000});
                if (q.empty()) q.schedule(*events[limits % kActors], q.now() + Cycles{1});
            }
        }
    };
    const Run plain(false), going_on(true);
    CHECK(going_on.continued > 1000);
    CHECK(going_on.deferred > going_on.continued + 1000); // many a deferred schedule did not go on
    CHECK(plain.deferred == 0);
    CHECK(plain.log.size() > 10000);
    CHECK(going_on.log == plain.log);
    CHECK(going_on.q.events_processed() == plain.q.events_processed());
    CHECK(going_on.q.now() == plain.q.now());
}

TEST_CASE("a schedule put off to the end of its handler keeps its place in its cycle")
{
    EventQueue q;
    std::vector<std::string> log;
    FunctionEvent before([&] { log.push_back("before"); }, "before");
    FunctionEvent deferred([&] { log.push_back("deferred"); }, "deferred");
    FunctionEvent after([&] { log.push_back("after"); }, "after");
    std::vector<bool> allowed;
    FunctionEvent handler([&] {
        allowed.push_back(q.may_defer(q.now() + 7_cy));  // something is due then already
        allowed.push_back(q.may_defer(q.now() + 5_cy));
        allowed.push_back(q.may_defer(q.now() + Cycles{EventQueue::kWheelSlots})); // beyond the wheel
        // "deferred" is put off; "after" is scheduled for its time meanwhile
        // and must still run after it.
        q.schedule(after, q.now() + 5_cy);
        CHECK_FALSE(q.continue_at(q.now() + 5_cy));
        q.schedule_deferred(deferred, q.now() + 5_cy);
        q.schedule(before, q.now() + 4_cy);
    }, "handler");
    FunctionEvent occupant([&] { log.push_back("occupant"); }, "occupant");
    q.schedule(handler, 10_cy);
    q.schedule(occupant, 17_cy);
    q.run_until_idle();
    CHECK(allowed == std::vector<bool>{false, true, false});
    CHECK(log == std::vector<std::string>{"before", "deferred", "after", "occupant"});

    // Due now: allowed only when nothing else is left to run this cycle.
    allowed.clear();
    FunctionEvent mate([] {}, "mate");
    FunctionEvent first([&] { allowed.push_back(q.may_defer(q.now())); }, "first");
    FunctionEvent last([&] { allowed.push_back(q.may_defer(q.now())); }, "last");
    q.schedule(first, q.now() + 3_cy);
    q.schedule(mate, q.now() + 3_cy);
    q.schedule(last, q.now() + 3_cy);
    q.run_until_idle();
    CHECK(allowed == std::vector<bool>{false, true});
}
