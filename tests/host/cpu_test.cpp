// Physical CPUs: serial work, IRQ preemption, costs, and guest mode.
#include "host_fixture.h"

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::sim::literals;
using fwdsim::test::HostFixture;

namespace {
int dev;

struct RecordingGuest final : host::GuestContext {
    int irqs = 0, works = 0;
    bool exit_on_irq = true;
    void host_irq(host::Cpu& cpu) override
    {
        ++irqs;
        if (exit_on_irq) cpu.exit_guest();
    }
    void host_work(host::Cpu&) override { ++works; }
};
} // namespace

TEST_CASE("work on one CPU runs serially: each item completes its cost after the previous one")
{
    HostFixture h;
    std::vector<std::uint64_t> done;
    host::Work a("a", [&] { done.push_back(h.queue.now().count()); });
    host::Work b("b", [&] { done.push_back(h.queue.now().count()); });
    REQUIRE(h.cpu.submit(a, 100_cy));
    REQUIRE(h.cpu.submit(b, 50_cy));
    CHECK_FALSE(h.cpu.submit(a, 100_cy)); // already queued
    h.queue.run_until_idle();
    CHECK(done == std::vector<std::uint64_t>{100, 150});
    CHECK(h.cpu.busy_cycles() == 150_cy);
    CHECK(h.cpu.work_done() == 2);
    CHECK(h.cpu.idle());
}

TEST_CASE("what a completion charges keeps the CPU busy before the next item starts")
{
    HostFixture h;
    std::vector<std::uint64_t> done;
    host::Work a("a", [&] { h.this_cpu.charge(30_cy); done.push_back(h.queue.now().count()); });
    host::Work b("b", [&] { done.push_back(h.queue.now().count()); });
    h.cpu.submit(a, 100_cy);
    h.cpu.submit(b, 50_cy);
    h.queue.run_until_idle();
    CHECK(done == std::vector<std::uint64_t>{100, 180});
}

TEST_CASE("acts run once what was charged before them has elapsed, small lambdas and std::functions alike")
{
    HostFixture h;
    std::vector<std::pair<int, std::uint64_t>> ran;
    auto token = std::make_shared<int>(0);
    host::Work w("w", [&] {
        h.this_cpu.charge(10_cy);
        h.cpu.after_charged(&h, [&ran, &h] { ran.emplace_back(1, h.queue.now().count()); }); // kept in the act
        h.this_cpu.charge(5_cy);
        h.cpu.after_charged(&h, [&ran, &h, token] { ran.emplace_back(2, h.queue.now().count()); }); // a std::function
        CHECK(token.use_count() == 2);
    });
    h.cpu.submit(w, 100_cy);
    h.queue.run_until_idle();
    CHECK(ran == std::vector<std::pair<int, std::uint64_t>>{{1, 110}, {2, 115}});
    CHECK(token.use_count() == 1); // run, then freed
}

TEST_CASE("cancelled acts do not run, and what they hold is freed, also when the CPU goes with acts queued")
{
    auto token = std::make_shared<int>(0);
    int runs = 0;
    {
        HostFixture h;
        int owner_a = 0, owner_b = 0;
        host::Work w("w", [&] {
            h.this_cpu.charge(10_cy);
            h.cpu.after_charged(&owner_a, std::function<void()>([&runs, token] { ++runs; }));
            h.cpu.after_charged(&owner_a, [&runs] { ++runs; });
            h.cpu.after_charged(&owner_b, std::function<void()>([&runs, token] { ++runs; }));
        });
        h.cpu.submit(w, 100_cy);
        h.queue.run_until(100_cy); // the completion has run; its acts are due at 110
        CHECK(h.cpu.pending_acts() == 3);
        CHECK(token.use_count() == 3);
        h.cpu.cancel_acts(&owner_a);
        CHECK(h.cpu.pending_acts() == 1);
        CHECK(token.use_count() == 2);
        CHECK_FALSE(h.cpu.has_acts(&owner_a));
        CHECK(h.cpu.has_acts(&owner_b));
    }
    CHECK(runs == 0);
    CHECK(token.use_count() == 1);
}

TEST_CASE("a cancelled work item does not run")
{
    HostFixture h;
    int runs = 0;
    host::Work a("a", [&] { ++runs; });
    host::Work b("b", [&] { ++runs; });
    h.cpu.submit(a, 100_cy);
    h.cpu.submit(b, 100_cy);
    CHECK(h.cpu.cancel(b));
    CHECK_FALSE(h.cpu.cancel(b));
    h.queue.run_until_idle();
    CHECK(runs == 1);
}

TEST_CASE("an interrupt preempts work, which completes later by exactly the IRQ flow's duration")
{
    HostFixture h;
    int handled = 0;
    REQUIRE(h.irqs.irq_set_irq_type(40, host::IrqTrigger::edge) == 0);
    REQUIRE(h.irqs.request_irq(40, [&](unsigned, void*) {
        ++handled;
        h.this_cpu.charge(200_cy);
        return host::IrqReturn::handled;
    }, &dev) == 0);
    std::uint64_t done_at = 0;
    host::Work w("w", [&] { done_at = h.queue.now().count(); });
    h.cpu.submit(w, 1000_cy);
    h.queue.run_until(100_cy);
    h.chip.pulse(40);
    h.queue.run_until_idle();
    CHECK(handled == 1);
    // entry + IAR + EOIR + dispatch + handler + DIR + exit, each from the profile or the chip
    const sim::Cycles access{10};
    const sim::Cycles flow = h.costs.irq_entry + access + access + h.costs.irq_dispatch + 200_cy +
                             access + h.costs.irq_exit;
    CHECK(done_at == 1000 + flow.count());
    CHECK(h.cpu.irqs_taken() == 1);
}

TEST_CASE("a CPU in guest mode tells the guest context about nIRQ once and takes the IRQ after exit")
{
    HostFixture h;
    int handled = 0;
    REQUIRE(h.irqs.request_irq(40, [&](unsigned, void*) { ++handled; h.chip.set_line(40, false); return host::IrqReturn::handled; }, &dev) == 0);
    RecordingGuest g;
    g.exit_on_irq = false;
    h.cpu.enter_guest(g);
    CHECK(h.cpu.mode() == host::Cpu::Mode::guest);
    h.chip.set_line(40, true);
    h.queue.run_until(1000_cy);
    CHECK(g.irqs == 1);
    CHECK(handled == 0); // the host cannot run while the guest does
    h.cpu.exit_guest();
    h.queue.run_until_idle();
    CHECK(handled == 1);
    CHECK(h.cpu.mode() == host::Cpu::Mode::host);
}

TEST_CASE("entering a guest with nIRQ already high makes the guest exit at once")
{
    HostFixture h;
    int handled = 0;
    REQUIRE(h.irqs.request_irq(40, [&](unsigned, void*) { ++handled; h.chip.set_line(40, false); return host::IrqReturn::handled; }, &dev) == 0);
    RecordingGuest g;
    host::Work enter("enter", [&] { h.cpu.enter_guest(g); });
    h.cpu.submit(enter, 10_cy);
    h.queue.run_until(5_cy);
    h.chip.set_line(40, true); // arrives while the work runs: preempts it
    h.queue.run_until_idle();
    CHECK(handled == 1);
    CHECK(g.irqs == 0); // taken in host mode, before the entry
    CHECK(h.cpu.mode() == host::Cpu::Mode::guest);
}

TEST_CASE("host work submitted while a guest runs waits, and the guest context is told once")
{
    HostFixture h;
    RecordingGuest g;
    h.cpu.enter_guest(g);
    int runs = 0;
    host::Work a("a", [&] { ++runs; });
    host::Work b("b", [&] { ++runs; });
    h.cpu.submit(a, 10_cy);
    h.cpu.submit(b, 10_cy);
    h.queue.run_until(100_cy);
    CHECK(runs == 0);
    CHECK(g.works == 1);
    h.cpu.exit_guest();
    h.queue.run_until_idle();
    CHECK(runs == 2);
}

TEST_CASE("an IRQ signalled to two CPUs is handled once: the CPU that acknowledges second sees a spurious IRQ")
{
    HostFixture h;
    host::Cpu cpu1(h.queue, h.this_cpu, h.costs, 1);
    cpu1.attach_irq_layer(h.irqs);
    h.chip.attach(cpu1);
    int handled = 0;
    std::vector<unsigned> on_cpu;
    REQUIRE(h.irqs.irq_set_irq_type(40, host::IrqTrigger::edge) == 0);
    REQUIRE(h.irqs.request_irq(40, [&](unsigned, void*) {
        ++handled;
        on_cpu.push_back(h.this_cpu.current()->id());
        return host::IrqReturn::handled;
    }, &dev) == 0);
    h.chip.pulse(40);
    h.queue.run_until_idle();
    CHECK(handled == 1);
    CHECK(h.cpu.irqs_taken() + cpu1.irqs_taken() == 1);
    CHECK(h.cpu.spurious_irqs() + cpu1.spurious_irqs() == 1);
    CHECK(h.irqs.info(40).flows_in_progress == 0);
    CHECK_FALSE(h.chip.irq(40).active);
    REQUIRE(on_cpu.size() == 1);
}
