// Conformance cases C01-C13 and E01-E07 (reference/conformance-cases.md).
#include "gic_fixture.h"

#include <fwdsim/sim/random.h>

#include <set>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

using namespace fwdsim::gic;

TEST_CASE("C01 with nothing pending IAR returns 1023 and RPR is idle")
{
    GicFixture g;
    g.enable_all();
    CHECK(g.ack() == spurious_intid);
    CHECK(g.cpuif(gicc::rpr) == 0xFF);
}

TEST_CASE("C02 C03 IAR returns the highest priority, lowest ID among equals, and activates it")
{
    GicFixture g;
    g.enable_all();
    for (unsigned id : {50u, 40u, 45u}) {
        g.enable(id);
        g.set_pending(id);
    }
    g.priority(50, 0x40);
    g.priority(40, 0x80);
    g.priority(45, 0x80);
    CHECK(g.ack() == 50);
    CHECK(g.active(50));
    CHECK_FALSE(g.pending(50));
    g.eoi(50);
    CHECK(g.ack() == 40);
    g.eoi(40);
    CHECK(g.ack() == 45);
}

TEST_CASE("C02 C03 IAR and HPPIR follow (priority, ID) order through any mix of pends, clears and priority changes")
{
    // The candidate set keeps its least entry apart from the rest: every
    // way in and out of it (a new least, the least taken with others left,
    // a re-prioritised entry) checked against a plain ordered set.
    GicFixture g;
    g.enable_all();
    for (unsigned id = 32; id < 64; ++id) g.enable(id);
    std::set<std::pair<unsigned, unsigned>> expected; // (priority, INTID) of the pending ones
    std::vector<unsigned> prio(64, 0);
    fwdsim::sim::Rng rng(19);
    const auto pending_at = [&](unsigned id) { return expected.count({prio[id], id}) != 0; };
    for (int step = 0; step < 4000; ++step) {
        const unsigned id = 32 + static_cast<unsigned>(rng.uniform(32));
        const auto p = static_cast<unsigned>(rng.uniform(31)) << 3; // below PMR, 5 implemented bits
        switch (rng.uniform(4)) {
        case 0: // pend it (again)
            g.set_pending(id);
            expected.insert({prio[id], id});
            break;
        case 1: // clear it
            g.dist_w(gicd::icpendr + id / 32 * 4, 1u << (id % 32));
            expected.erase({prio[id], id});
            break;
        case 2: // move it, pending or not
            if (pending_at(id)) {
                expected.erase({prio[id], id});
                expected.insert({p, id});
            }
            prio[id] = p;
            g.priority(id, static_cast<std::uint8_t>(p));
            break;
        default: { // take the highest and complete it
            const std::uint32_t want = expected.empty() ? spurious_intid : expected.begin()->second;
            REQUIRE(g.ack() == want);
            if (want != spurious_intid) {
                expected.erase(expected.begin());
                g.eoi(want);
            }
            break;
        }
        }
        REQUIRE(g.cpuif(gicc::hppir) == (expected.empty() ? spurious_intid : expected.begin()->second));
        REQUIRE(g.gic->self_check().empty());
    }
}

TEST_CASE("C04 PMR masks priorities equal to or lower than it")
{
    GicFixture g;
    g.enable_all();
    g.enable(33);
    g.priority(33, 0x80);
    g.set_pending(33);
    g.cpuif_w(gicc::pmr, 0x80);
    CHECK_FALSE(g.irq());
    CHECK(g.ack() == spurious_intid);
    g.cpuif_w(gicc::pmr, 0x88);
    CHECK(g.irq());
    CHECK(g.ack() == 33);
}

TEST_CASE("C05 RPR follows acknowledge and EOI")
{
    GicFixture g;
    g.enable_all();
    g.enable(33);
    g.enable(34);
    g.priority(33, 0xA0);
    g.priority(34, 0x20);
    g.set_pending(33);
    CHECK(g.ack() == 33);
    CHECK(g.cpuif(gicc::rpr) == 0xA0);
    g.set_pending(34);
    CHECK(g.ack() == 34); // preempts
    CHECK(g.cpuif(gicc::rpr) == 0x20);
    g.eoi(34);
    CHECK(g.cpuif(gicc::rpr) == 0xA0);
    g.eoi(33);
    CHECK(g.cpuif(gicc::rpr) == 0xFF);
}

TEST_CASE("C06 a priority drop raises nIRQ for the interrupt it no longer masks, in either EOI mode")
{
    for (const bool split : {false, true}) {
        GicFixture g;
        g.enable_all();
        if (split) g.cpuif_w(gicc::ctlr, gicc::ctlr_enable_grp0 | gicc::ctlr_eoimode);
        for (unsigned id : {33u, 34u}) g.enable(id);
        g.priority(33, 0x40);
        g.priority(34, 0x80);
        g.set_pending(33);
        CHECK(g.ack() == 33);
        g.set_pending(34);
        CHECK_FALSE(g.irq()); // 0x80 does not preempt 0x40
        g.eoi(33);
        CHECK(g.irq()); // dropped: 34 is signalled, 33 still active with the split
        CHECK(g.active(33) == split);
        CHECK(g.ack() == 34);
        if (split) g.cpuif_w(gicc::dir, 33);
        CHECK_FALSE(g.active(33));
    }
}

TEST_CASE("C06 C07 preemption needs a higher group priority")
{
    GicFixture g;
    g.enable_all();
    for (unsigned id : {33u, 34u, 35u}) g.enable(id);
    g.priority(33, 0x80);
    g.priority(34, 0x80); // equal: does not preempt
    g.priority(35, 0x70); // higher by 0x10
    g.set_pending(33);
    CHECK(g.ack() == 33);
    g.set_pending(34);
    CHECK_FALSE(g.irq());
    CHECK(g.ack() == spurious_intid);
    g.set_pending(35);
    CHECK(g.irq()); // 0x70 is a higher group priority than 0x80
    CHECK(g.ack() == 35);
    g.eoi(35);
    g.eoi(33);
    CHECK(g.ack() == 34);
    g.eoi(34);
    // The binary point at its maximum leaves no group priority bits: the
    // running priority is the acknowledged interrupt's group priority, 0,
    // and nothing preempts it.
    g.cpuif_w(gicc::bpr, 7);
    g.set_pending(33);
    CHECK(g.ack() == 33);
    CHECK(g.cpuif(gicc::rpr) == 0);
    g.set_pending(35);
    CHECK_FALSE(g.irq());
    CHECK(g.ack() == spurious_intid);
}

TEST_CASE("C08 EOImode 0: EOIR deactivates")
{
    GicFixture g;
    g.enable_all();
    g.enable(33);
    g.set_pending(33);
    CHECK(g.ack() == 33);
    g.eoi(33);
    CHECK_FALSE(g.active(33));
}

TEST_CASE("C09 C10 EOImode 1: EOIR drops priority, DIR deactivates; DIR of an inactive IRQ changes nothing")
{
    GicFixture g;
    g.enable_all();
    g.cpuif_w(gicc::ctlr, 1 | gicc::ctlr_eoimode);
    g.enable(33);
    g.set_pending(33);
    CHECK(g.ack() == 33);
    g.eoi(33);
    CHECK(g.active(33));
    CHECK(g.cpuif(gicc::rpr) == 0xFF);
    g.cpuif_w(gicc::dir, 33);
    CHECK_FALSE(g.active(33));
    g.cpuif_w(gicc::dir, 40);
    CHECK_FALSE(g.active(40));
    CHECK_FALSE(g.pending(40));
}

TEST_CASE("C11 SGI acknowledge reports the source CPU")
{
    GicFixture g(256, 4);
    g.enable_all(4);
    g.dist_w(gicd::sgir, (1u << 16) | 9, 3);
    const auto iar = g.ack(0);
    CHECK(iar == (9u | (3u << 10)));
    g.eoi(iar, 0);
    CHECK_FALSE(g.active(9, 0));
}

TEST_CASE("C12 C13 nothing is signalled with the CPU interface or the distributor disabled")
{
    GicFixture g;
    g.enable_all();
    g.enable(33);
    g.set_pending(33);
    g.cpuif_w(gicc::ctlr, 0);
    CHECK_FALSE(g.irq());
    CHECK(g.ack() == spurious_intid);
    g.cpuif_w(gicc::ctlr, 1);
    g.dist_w(gicd::ctlr, 0);
    CHECK_FALSE(g.irq());
    CHECK(g.dist(gicd::ispendr + 4) == 0x2); // pending still readable
    g.dist_w(gicd::ctlr, 1);
    CHECK(g.irq());
}

TEST_CASE("E01 E02 an edge latches; a second edge while active is delivered once more")
{
    GicFixture g;
    g.enable_all();
    g.edge(40);
    g.enable(40);
    g.gic->set_spi_level(40, true);
    g.gic->set_spi_level(40, false);
    CHECK(g.pending(40));
    CHECK(g.ack() == 40);
    g.gic->set_spi_level(40, true);
    g.gic->set_spi_level(40, false);
    g.gic->set_spi_level(40, true); // no new edge: still high
    CHECK(g.pending(40));
    CHECK(g.active(40));
    CHECK(g.ack() == spurious_intid); // active and pending: not signalled again yet
    g.eoi(40);
    CHECK(g.ack() == 40);
    g.eoi(40);
    CHECK(g.ack() == spurious_intid);
}

TEST_CASE("E03 E04 a level interrupt follows its line; still high at EOI it is pending again")
{
    GicFixture g;
    g.enable_all();
    g.enable(41);
    g.gic->set_spi_level(41, true);
    CHECK(g.irq());
    g.gic->set_spi_level(41, false);
    CHECK_FALSE(g.irq());
    CHECK_FALSE(g.pending(41));
    g.gic->set_spi_level(41, true);
    CHECK(g.ack() == 41);
    g.eoi(41);
    CHECK(g.pending(41));
    CHECK(g.ack() == 41);
}

TEST_CASE("E05 a level interrupt set pending by ISPENDR stays pending after its line drops")
{
    GicFixture g;
    g.enable_all();
    g.enable(42);
    g.gic->set_spi_level(42, true);
    g.set_pending(42);
    g.gic->set_spi_level(42, false);
    CHECK(g.pending(42));
    g.dist_w(gicd::icpendr + 4, 1u << 10);
    CHECK_FALSE(g.pending(42));
}

TEST_CASE("E06 a disabled interrupt keeps its pending state and is delivered when enabled")
{
    GicFixture g;
    g.enable_all();
    g.set_pending(43);
    CHECK_FALSE(g.irq());
    g.enable(43);
    CHECK(g.irq());
    CHECK(g.ack() == 43);
}

TEST_CASE("E07 random line changes, enables, acks and EOIs never lose an edge nor deliver a masked interrupt")
{
    // Property test: a reference count of edges per SPI is kept beside the
    // model; every acknowledged interrupt must be enabled, above PMR and
    // above the running priority, and at the end every edge is accounted for.
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        GicFixture g(64);
        g.enable_all();
        fwdsim::sim::Rng rng(seed);
        std::array<bool, 64> enabled{}, line{}, owed{};
        std::array<std::uint8_t, 64> prio{};
        for (unsigned id = 32; id < 64; ++id) {
            g.edge(id);
            prio[id] = static_cast<std::uint8_t>(rng.uniform(8) << 5);
            g.priority(id, prio[id]);
        }
        std::vector<unsigned> running;
        std::uint8_t pmr = 0xFF;
        for (int step = 0; step < 3000; ++step) {
            // What the model caches (candidate sets, running priority) stays exact.
            REQUIRE(g.gic->self_check() == "");
            const unsigned id = 32 + static_cast<unsigned>(rng.uniform(32));
            switch (rng.uniform(6)) {
            case 0:
                line[id] = !line[id];
                if (line[id]) owed[id] = true;
                g.gic->set_spi_level(id, line[id]);
                break;
            case 1:
                enabled[id] = !enabled[id];
                g.dist_w((enabled[id] ? gicd::isenabler : gicd::icenabler) + 4, 1u << (id - 32));
                break;
            case 2:
                pmr = static_cast<std::uint8_t>(rng.uniform(9) << 5);
                g.cpuif_w(gicc::pmr, pmr);
                break;
            case 3:
            case 4: {
                const auto iar = g.ack();
                if (iar == spurious_intid) break;
                REQUIRE(iar >= 32);
                REQUIRE(iar < 64);
                REQUIRE(enabled[iar]);
                REQUIRE(prio[iar] < pmr);
                for (unsigned r : running) REQUIRE(prio[iar] < prio[r]);
                owed[iar] = false;
                running.push_back(iar);
                break;
            }
            default:
                if (!running.empty()) {
                    g.eoi(running.back());
                    running.pop_back();
                }
            }
        }
        // Drain: unmask everything and acknowledge whatever is left.
        while (!running.empty()) {
            g.eoi(running.back());
            running.pop_back();
        }
        g.cpuif_w(gicc::pmr, 0xFF);
        g.dist_w(gicd::isenabler + 4, 0xFFFFFFFF);
        for (int k = 0; k < 64; ++k) {
            const auto iar = g.ack();
            if (iar == spurious_intid) break;
            owed[iar] = false;
            g.eoi(iar);
        }
        for (unsigned id = 32; id < 64; ++id) {
            INFO("seed " << seed << " SPI " << id);
            CHECK_FALSE(owed[id]);
        }
    }
}

TEST_CASE("nIRQ follows an input line after the profile's propagation cycles, and a register write sooner")
{
    GicFixture g;
    g.enable_all();
    g.enable(44);
    const auto& p = fwdsim::sim::CostProfile::builtin_default();
    const auto line_path = p.get("gic.line_to_distributor") + p.get("gic.distributor_to_cpuif") + p.get("gic.cpuif_to_irq");
    const auto register_path = p.get("gic.distributor_to_cpuif") + p.get("gic.cpuif_to_irq");
    std::vector<std::pair<std::uint64_t, bool>> edges;
    g.gic->add_irq_listener([&](unsigned, bool level) { edges.emplace_back(g.queue.now().count(), level); });
    g.queue.run_until_idle();
    const auto t0 = g.queue.now();
    g.gic->set_spi_level(44, true);
    CHECK(g.pending(44)); // the register view changes at once
    g.queue.run_until_idle();
    REQUIRE(edges.size() == 1);
    CHECK(edges[0] == std::pair<std::uint64_t, bool>{(t0 + line_path).count(), true});
    const auto t1 = g.queue.now();
    g.dist_w(gicd::icenabler + 4, 1u << 12); // disabling it is a register write
    g.queue.run_until_idle();
    REQUIRE(edges.size() == 2);
    CHECK(edges[1] == std::pair<std::uint64_t, bool>{(t1 + register_path).count(), false});
}

TEST_CASE("nFIQ takes group 0 interrupts with FIQEn, its listeners told of both edges after nIRQ's delays")
{
    GicFixture g;
    g.dist_w(gicd::ctlr, 3);
    g.cpuif_w(gicc::pmr, 0xFF);
    g.cpuif_w(gicc::ctlr, gicc::ctlr_enable_grp0 | gicc::ctlr_enable_grp1 | gicc::ctlr_fiqen);
    g.enable(44);
    const auto& p = fwdsim::sim::CostProfile::builtin_default();
    const auto line_path = p.get("gic.line_to_distributor") + p.get("gic.distributor_to_cpuif") + p.get("gic.cpuif_to_irq");
    const auto register_path = p.get("gic.distributor_to_cpuif") + p.get("gic.cpuif_to_irq");
    std::vector<std::pair<std::uint64_t, bool>> fiq_edges, irq_edges;
    g.gic->add_fiq_listener([&](unsigned, bool level) { fiq_edges.emplace_back(g.queue.now().count(), level); });
    g.gic->add_irq_listener([&](unsigned, bool level) { irq_edges.emplace_back(g.queue.now().count(), level); });
    g.queue.run_until_idle();
    const auto t0 = g.queue.now();
    g.gic->set_spi_level(44, true); // group 0: nFIQ
    g.queue.run_until_idle();
    REQUIRE(fiq_edges.size() == 1);
    CHECK(fiq_edges[0] == std::pair<std::uint64_t, bool>{(t0 + line_path).count(), true});
    CHECK(irq_edges.empty());
    CHECK(g.gic->fiq_line(0));
    const auto t1 = g.queue.now();
    g.dist_w(gicd::igroupr + 4, 1u << 12); // to group 1: from nFIQ to nIRQ
    g.queue.run_until_idle();
    REQUIRE(fiq_edges.size() == 2);
    CHECK(fiq_edges[1] == std::pair<std::uint64_t, bool>{(t1 + register_path).count(), false});
    REQUIRE(irq_edges.size() == 1);
    CHECK(irq_edges[0] == std::pair<std::uint64_t, bool>{(t1 + register_path).count(), true});
    CHECK(g.gic->self_check().empty());
}
