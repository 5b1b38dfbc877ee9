// Outputs whose listeners take rises only (LineEdges::rising): a fall then
// needs no event of its own, and nothing anyone can observe may differ
// from the same GIC delivering every edge as an event.
#include "gic_fixture.h"

#include <fwdsim/sim/event.h>
#include <fwdsim/sim/random.h>

#include <catch2/catch.hpp>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::gic;

namespace {

const sim::CostProfile& profile() { return sim::CostProfile::builtin_default(); }
sim::Cycles register_path() { return profile().get("gic.distributor_to_cpuif") + profile().get("gic.cpuif_to_irq"); }
sim::Cycles lr_path() { return profile().get("gic.lr_update_to_virq"); }

/// One SPI pending for CPU 0, nIRQ high, every event run.
void raise_spi(GicFixture& g, unsigned id)
{
    g.enable_all();
    g.enable(id);
    g.set_pending(id);
    g.queue.run_until_idle();
}

} // namespace

TEST_CASE("a rises-only listener is not told of nIRQ's fall, which lands at its time without an event")
{
    GicFixture g;
    std::vector<bool> told;
    g.gic->add_irq_listener([&](unsigned, bool level) { told.push_back(level); }, LineEdges::rising);
    raise_spi(g, 40);
    REQUIRE(told == std::vector<bool>{true});
    REQUIRE(g.gic->irq_line(0));

    const auto t0 = g.queue.now();
    CHECK(g.ack() == 40); // nothing else pending: nIRQ falls after the register path
    CHECK(g.queue.empty());
    g.queue.run_until(t0 + register_path() - sim::Cycles{1});
    CHECK(g.gic->irq_line(0)); // not yet
    g.queue.run_until(t0 + register_path());
    CHECK_FALSE(g.gic->irq_line(0));
    CHECK(told == std::vector<bool>{true});

    // It rises again as before: an event, the listener told.
    g.eoi(40);
    g.set_pending(40);
    g.queue.run_until_idle();
    CHECK(told == std::vector<bool>{true, true});
    CHECK(g.gic->irq_line(0));
}

TEST_CASE("a fall whose time already has an event due is itself an event, ordered before later ones")
{
    // The update event would run after what was scheduled for that time
    // before it, and those must still see the line high.
    GicFixture g;
    g.gic->add_irq_listener([](unsigned, bool) {}, LineEdges::rising);
    raise_spi(g, 40);
    const auto t0 = g.queue.now();
    std::vector<bool> seen;
    sim::FunctionEvent early([&] { seen.push_back(g.gic->irq_line(0)); }, "probe.early");
    sim::FunctionEvent late([&] { seen.push_back(g.gic->irq_line(0)); }, "probe.late");
    g.queue.schedule(early, t0 + register_path());
    CHECK(g.ack() == 40);
    g.queue.schedule(late, t0 + register_path());
    const auto before = g.queue.events_processed();
    g.queue.run_until_idle();
    CHECK(g.queue.events_processed() - before == 3); // early, the nIRQ update, late
    CHECK(seen == std::vector<bool>{true, false});
}

TEST_CASE("a line rising again before a lazy fall lands cancels it, as the update's sample would")
{
    GicFixture g;
    std::vector<bool> told;
    g.gic->add_irq_listener([&](unsigned, bool level) { told.push_back(level); }, LineEdges::rising);
    g.enable_all();
    g.enable(41);
    g.enable(42);
    g.priority(41, 0x80);
    g.priority(42, 0x40); // high enough to preempt 41 while it is active
    g.set_pending(41);
    g.queue.run_until_idle();
    const auto t0 = g.queue.now();
    CHECK(g.ack() == 41);    // the fall is on its way ...
    g.set_pending(42);       // ... and another interrupt keeps the line up
    g.queue.run_until(t0 + register_path() * 2);
    CHECK(g.gic->irq_line(0));
    CHECK(told == std::vector<bool>{true}); // never fell, so never rose again
    CHECK(g.ack() == 42);
}

TEST_CASE("a rises-only nVIRQ listener is not told of its fall, which lands at its time")
{
    GicFixture g;
    std::vector<bool> told;
    g.gic->add_virq_listener([&](unsigned, bool level) { told.push_back(level); }, LineEdges::rising);
    g.hyp_w(gich::hcr, gich::hcr_en);
    g.vcpu_w(gicc::ctlr, 1);
    g.vcpu_w(gicc::pmr, 0xF8);
    g.hyp_w(gich::lr0, ListRegister::make_virtual(27, 0x80, ListRegister::State::pending, false).raw);
    g.queue.run_until_idle();
    REQUIRE(told == std::vector<bool>{true});
    const auto t0 = g.queue.now();
    CHECK((g.vcpu(gicc::iar) & 0x3FF) == 27);
    CHECK(g.queue.empty());
    g.queue.run_until(t0 + lr_path() - sim::Cycles{1});
    CHECK(g.gic->virq_line(0));
    g.queue.run_until(t0 + lr_path());
    CHECK_FALSE(g.gic->virq_line(0));
    CHECK(told == std::vector<bool>{true});
}

namespace {

/// One GIC under a random workload, its observations written down: what
/// the listeners are told (rises only, so that the two runs compare) and
/// what probes read at their times.
struct Observed {
    Observed(LineEdges edges, std::uint64_t seed) : g(64, 2, 4), rng(seed)
    {
        auto note = [this](const char* what) {
            return [this, what](unsigned cpu, bool level) {
                if (level) log << g.queue.now().count() << ' ' << what << cpu << " rose\n";
            };
        };
        g.gic->add_irq_listener(note("nIRQ"), edges);
        g.gic->add_virq_listener(note("nVIRQ"), edges);
        g.enable_all(2);
        for (unsigned id = 32; id < 64; ++id) g.target(id, static_cast<std::uint8_t>(1u << (id % 2)));
        g.hyp_w(gich::hcr, gich::hcr_en, 0);
        g.vcpu_w(gicc::ctlr, 1, 0);
        g.vcpu_w(gicc::pmr, 0xF8, 0);
    }

    void probe(sim::Cycles when)
    {
        auto ev = std::make_unique<sim::FunctionEvent>([this] {
            log << g.queue.now().count() << " probe " << g.gic->irq_line(0) << g.gic->irq_line(1) << g.gic->virq_line(0) << '\n';
        });
        g.queue.schedule(*ev, when);
        probes.push_back(std::move(ev));
    }

    /// One random step: an action now, probes at the times outputs move,
    /// then time runs on by a delay that often lands on those times.
    void step()
    {
        const auto now = g.queue.now();
        const unsigned id = 32 + static_cast<unsigned>(rng.uniform(32));
        const unsigned cpu = static_cast<unsigned>(rng.uniform(2));
        switch (rng.uniform(7)) {
        case 0: g.gic->set_spi_level(id, rng.uniform(2) == 1); break;
        case 1: g.dist_w((rng.uniform(2) == 1 ? gicd::isenabler : gicd::icenabler) + 4, 1u << (id - 32)); break;
        case 2: {
            const auto iar = g.ack(cpu);
            log << now.count() << " IAR" << cpu << ' ' << iar << '\n';
            if (iar != spurious_intid) g.eoi(iar, cpu);
            break;
        }
        case 3: g.set_pending(id); break;
        case 4:
            g.hyp_w(gich::lr0 + 4 * static_cast<unsigned>(rng.uniform(4)),
                    ListRegister::make_virtual(id, static_cast<unsigned>(rng.uniform(8)) << 4, ListRegister::State::pending, false).raw, 0);
            break;
        case 5: {
            const auto iar = g.vcpu(gicc::iar, 0);
            log << now.count() << " VIAR " << iar << '\n';
            if ((iar & 0x3FF) != spurious_intid) g.vcpu_w(gicc::eoir, iar, 0);
            break;
        }
        default: g.hyp_w(gich::hcr, rng.uniform(4) == 0 ? 0 : gich::hcr_en, 0); break;
        }
        const sim::Cycles marks[] = {register_path(), lr_path(), profile().get("gic.line_to_distributor") + register_path()};
        if (rng.uniform(2) == 1) probe(now + marks[rng.uniform(3)]);
        const sim::Cycles delay = rng.uniform(3) == 0 ? sim::Cycles{rng.uniform(40)} : marks[rng.uniform(3)];
        g.queue.run_until(now + delay);
        log << g.queue.now().count() << " now " << g.gic->irq_line(0) << g.gic->irq_line(1) << g.gic->virq_line(0) << '\n';
    }

    GicFixture g;
    sim::Rng rng;
    std::ostringstream log;
    std::vector<std::unique_ptr<sim::FunctionEvent>> probes;
};

} // namespace

TEST_CASE("with rises-only listeners every read, rise and acknowledge is as with every edge an event")
{
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
        Observed eager(LineEdges::both, seed);
        Observed lazy(LineEdges::rising, seed);
        for (int i = 0; i < 600; ++i) {
            eager.step();
            lazy.step();
        }
        eager.g.queue.run_until_idle();
        lazy.g.queue.run_until_idle();
        INFO("seed " << seed);
        REQUIRE(lazy.log.str() == eager.log.str());
        CHECK(lazy.g.queue.events_processed() < eager.g.queue.events_processed()); // the point of it
        CHECK(lazy.g.gic->self_check() == "");
    }
}
