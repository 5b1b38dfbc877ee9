// The host scheduler's time slice: vCPU threads sharing one physical CPU
// take turns, and a CPU with one thread behaves as without a scheduler.
#include "host_fixture.h"

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::sim::literals;
using fwdsim::test::HostFixture;

namespace {

/// A vCPU thread as the CPU sees it: a run-loop pass (owned work) enters
/// the guest; any exit queues the next pass.  With `quantum` set it also
/// leaves the guest by itself every `quantum` cycles (a trap).
struct Thread final : host::GuestContext {
    Thread(HostFixture& h, std::string name, bool owned = true) : h(h), name(std::move(name))
    {
        if (owned) pass.set_owner(this);
    }
    void start() { (void)h.cpu.submit(pass, entry_cost); }
    void enter()
    {
        h.cpu.enter_guest(*this);
        since = h.queue.now();
        log.push_back(name + " in @" + std::to_string(since.count()));
        if (quantum > sim::Cycles{}) h.queue.schedule_after(trap, quantum);
    }
    void leave()
    {
        if (trap.scheduled()) h.queue.deschedule(trap);
        guest += h.queue.now() - since;
        ++exits;
        log.push_back(name + " out @" + std::to_string(h.queue.now().count()));
        h.cpu.exit_guest();
        start();
    }
    void host_irq(host::Cpu&) override { leave(); }
    void host_work(host::Cpu&) override { leave(); }
    void sched_out(host::Cpu&) override { ++outs; }
    void sched_in(host::Cpu&) override { ++ins; }

    HostFixture& h;
    std::string name;
    host::Work pass{"run", [this] { enter(); }};
    sim::FunctionEvent trap{[this] { leave(); }, "trap"};
    sim::Cycles entry_cost = 500_cy;
    sim::Cycles quantum{};
    sim::Cycles since{};
    sim::Cycles guest{};
    int exits = 0, outs = 0, ins = 0;
    std::vector<std::string> log;
};

} // namespace

TEST_CASE("two vCPU threads on one CPU both run their guests, switching once per slice")
{
    HostFixture h;
    const sim::Cycles slice = h.costs.sched_slice;
    REQUIRE(slice > sim::Cycles{});
    Thread a(h, "a"), b(h, "b");
    a.start();
    b.start();
    h.queue.run_until(slice * 10);
    // Without the slice each entry would find the other's pass queued and
    // exit at once: no guest time at all.
    CHECK(a.guest >= slice * 4);
    CHECK(b.guest >= slice * 4);
    // They alternate: one switch per slice, each charging the scheduler.
    const auto switches = h.cpu.context_switches();
    CHECK(switches >= 9);
    CHECK(switches <= 10);
    CHECK(a.outs + b.outs == static_cast<int>(switches));
    CHECK(a.ins + b.ins == static_cast<int>(switches));
    CHECK(a.exits + b.exits == static_cast<int>(switches));
    CHECK(h.cpu.busy_cycles() >= h.costs.context_switch * switches);
}

TEST_CASE("within its slice a thread's own exits do not hand the CPU to the other thread")
{
    HostFixture h;
    const sim::Cycles slice = h.costs.sched_slice;
    Thread a(h, "a"), b(h, "b");
    a.quantum = sim::Cycles{slice.count() / 10}; // traps ten times a slice
    a.start();
    b.start();
    h.queue.run_until(slice - 1_cy);
    CHECK(a.exits >= 8);
    CHECK(b.guest == sim::Cycles{});
    CHECK(h.cpu.context_switches() == 0);
    h.queue.run_until(slice * 2);
    CHECK(h.cpu.context_switches() >= 1);
    CHECK(b.guest > sim::Cycles{});
}

TEST_CASE("work without an owner still makes a guest exit at once, whatever the slice")
{
    HostFixture h;
    Thread a(h, "a"), b(h, "b");
    a.start();
    b.start();
    h.queue.run_until(1000_cy); // a is in the guest, b waits for the slice
    REQUIRE(h.cpu.mode() == host::Cpu::Mode::guest);
    const int before = a.exits;
    int bottom_half = 0;
    host::Work w("bottom half", [&] { ++bottom_half; });
    (void)h.cpu.submit(w, 100_cy);
    h.queue.run_until(1000_cy);
    CHECK(a.exits == before + 1);
    h.queue.run_until(3000_cy);
    CHECK(bottom_half == 1);
    CHECK(h.cpu.context_switches() == 0); // a re-entered: still its slice
    CHECK(b.guest == sim::Cycles{});
}

TEST_CASE("a sleeping thread gives the CPU up without waiting for its slice")
{
    HostFixture h;
    Thread a(h, "a"), b(h, "b");
    a.start();
    b.start();
    h.queue.run_until(1000_cy);
    REQUIRE(h.cpu.guest() == &a);
    // a blocks (WFI): it leaves the guest and sleeps instead of re-entering.
    a.pass.cancel();
    h.cpu.exit_guest();
    h.cpu.task_sleep(a);
    h.queue.run_until(1000_cy + b.entry_cost + h.costs.context_switch);
    CHECK(h.cpu.guest() == &b);
    CHECK(h.cpu.context_switches() == 1);
}

TEST_CASE("with one thread, owning its work changes nothing")
{
    // The same run -- a thread trapping every 7,000 cycles, unowned host
    // work arriving every 11,000 -- with the thread's passes owned and not:
    // the same entries and exits at the same times, no switch.
    auto run = [](bool owned) {
        HostFixture h;
        Thread a(h, "a", owned);
        a.quantum = 7000_cy;
        int done = 0;
        host::Work w("bottom half", [&] { ++done; });
        std::function<void()> arrive;
        sim::FunctionEvent arrival([&] { arrive(); }, "arrival");
        arrive = [&] {
            (void)h.cpu.submit(w, 300_cy);
            h.queue.schedule_after(arrival, 11'000_cy);
        };
        h.queue.schedule_after(arrival, 11'000_cy);
        a.start();
        h.queue.run_until(h.costs.sched_slice * 3);
        CHECK(h.cpu.context_switches() == 0);
        CHECK(done > 100);
        return std::pair{a.log, h.cpu.busy_cycles()};
    };
    const auto owned = run(true);
    const auto plain = run(false);
    CHECK(owned.first.size() > 200);
    CHECK(owned.first == plain.first);
    CHECK(owned.second == plain.second);
}
