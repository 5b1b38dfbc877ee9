// Conformance cases V01-V16 (reference/conformance-cases.md): GICH and GICV.
#include "gic_fixture.h"

#include <fwdsim/sim/random.h>

#include <catch2/catch.hpp>

using namespace fwdsim::gic;
using LR = ListRegister;

namespace {

// Hypervisor side on, guest's virtual CPU interface on, mask open.
void virt_on(GicFixture& g, unsigned cpu = 0)
{
    g.hyp_w(gich::hcr, gich::hcr_en, cpu);
    g.vcpu_w(gicc::ctlr, 1, cpu);
    g.vcpu_w(gicc::pmr, 0xF8, cpu);
}

void write_lr(GicFixture& g, unsigned n, LR lr, unsigned cpu = 0) { g.hyp_w(gich::lr0 + 4 * n, lr.raw, cpu); }
LR read_lr(GicFixture& g, unsigned n, unsigned cpu = 0) { return LR{g.hyp(gich::lr0 + 4 * n, cpu)}; }

} // namespace

TEST_CASE("V01 VTR reports LRs-1 and priority bits; ELRSR is all-empty at reset")
{
    GicFixture g;
    CHECK(g.hyp(gich::vtr) == 0x90000003);
    CHECK(g.hyp(gich::elrsr0) == 0xF);
    GicFixture big(256, 1, 40);
    CHECK((big.hyp(gich::vtr) & 0x3F) == 39);
    CHECK(big.hyp(gich::elrsr0) == 0xFFFFFFFF);
    CHECK(big.hyp(gich::elrsr1) == 0xFF);
}

TEST_CASE("V02 HCR.En=0: nothing is signalled")
{
    GicFixture g;
    virt_on(g);
    g.hyp_w(gich::hcr, 0);
    write_lr(g, 0, LR::make_virtual(40, 0x80, LR::State::pending, false));
    CHECK_FALSE(g.virq());
    CHECK(g.vcpu(gicc::iar) == spurious_intid);
}

TEST_CASE("V03 V04 V15 a pending LR is signalled, acknowledged, and EOI empties it")
{
    GicFixture g;
    virt_on(g);
    CHECK(g.vcpu(gicc::iar) == spurious_intid);
    write_lr(g, 1, LR::make_virtual(40, 0x80, LR::State::pending, false));
    CHECK(g.virq());
    CHECK((g.hyp(gich::elrsr0) & 2) == 0);
    CHECK(g.vcpu(gicc::iar) == 40);
    CHECK(read_lr(g, 1).state() == LR::State::active);
    CHECK_FALSE(g.virq());
    g.vcpu_w(gicc::eoir, 40);
    CHECK(read_lr(g, 1).state() == LR::State::invalid);
    CHECK((g.hyp(gich::elrsr0) & 2) != 0);
}

TEST_CASE("V05 the virtual priority mask and running priority work as on GICC")
{
    GicFixture g;
    virt_on(g);
    g.vcpu_w(gicc::pmr, 0x80);
    write_lr(g, 0, LR::make_virtual(41, 0x80, LR::State::pending, false));
    CHECK_FALSE(g.virq());
    g.vcpu_w(gicc::pmr, 0x88);
    CHECK(g.virq());
    CHECK(g.vcpu(gicc::iar) == 41);
    CHECK(g.vcpu(gicc::rpr) == 0x80);
    g.vcpu_w(gicc::eoir, 41);
    CHECK(g.vcpu(gicc::rpr) == 0xFF);
}

TEST_CASE("V06 of two pending LRs the higher priority is acknowledged first")
{
    GicFixture g;
    virt_on(g);
    write_lr(g, 0, LR::make_virtual(50, 0xA0, LR::State::pending, false));
    write_lr(g, 1, LR::make_virtual(51, 0x20, LR::State::pending, false));
    CHECK(g.vcpu(gicc::iar) == 51);
    g.vcpu_w(gicc::eoir, 51);
    CHECK(g.vcpu(gicc::iar) == 50);
}

TEST_CASE("V07 EOI of a pending+active LR leaves it pending and it is delivered again")
{
    GicFixture g;
    virt_on(g);
    write_lr(g, 0, LR::make_virtual(52, 0x80, LR::State::pending_active, false));
    CHECK(g.vcpu(gicc::iar) == spurious_intid); // active: not taken again yet
    g.vcpu_w(gicc::eoir, 52);
    CHECK(read_lr(g, 0).state() == LR::State::pending);
    CHECK(g.vcpu(gicc::iar) == 52);
}

TEST_CASE("V08 HW=1: the guest's EOI deactivates the physical interrupt with no maintenance")
{
    GicFixture g;
    g.enable_all();
    g.cpuif_w(gicc::ctlr, 1 | gicc::ctlr_eoimode);
    g.enable(48);
    g.set_pending(48);
    REQUIRE(g.ack() == 48);
    g.eoi(48); // host drops priority only
    REQUIRE(g.active(48));
    virt_on(g);
    write_lr(g, 0, LR::make_hw(48, 48, 0x80, LR::State::pending));
    CHECK(g.vcpu(gicc::iar) == 48);
    g.vcpu_w(gicc::eoir, 48);
    CHECK_FALSE(g.active(48));
    CHECK((g.dist(gicd::isactiver + 4) & (1u << 16)) == 0);
    CHECK(g.hyp(gich::misr) == 0);
    CHECK_FALSE(g.gic->maintenance_pending(0));
}

TEST_CASE("V09 HW=1 with virtual EOImode 1 deactivates at GICV_DIR, not at EOIR")
{
    GicFixture g;
    g.enable_all();
    g.dist_w(gicd::isactiver + 4, 1u << 17); // physical 49 active on the guest's behalf
    virt_on(g);
    g.vcpu_w(gicc::ctlr, 1 | gicc::ctlr_eoimode);
    write_lr(g, 0, LR::make_hw(49, 49, 0x80, LR::State::pending));
    CHECK(g.vcpu(gicc::iar) == 49);
    g.vcpu_w(gicc::eoir, 49);
    CHECK(g.active(49));
    CHECK(read_lr(g, 0).state() == LR::State::active);
    g.vcpu_w(gicc::dir, 49);
    CHECK_FALSE(g.active(49));
    CHECK(read_lr(g, 0).state() == LR::State::invalid);
}

TEST_CASE("V10 V11 HW=0 with the EOI bit: EOI sets EISR and MISR.EOI and raises PPI 25; rewriting the LR clears them")
{
    GicFixture g;
    g.enable_all();
    g.enable(maintenance_ppi);
    virt_on(g);
    write_lr(g, 2, LR::make_virtual(60, 0x80, LR::State::pending, true));
    CHECK(g.hyp(gich::eisr0) == 0);
    CHECK(g.vcpu(gicc::iar) == 60);
    g.vcpu_w(gicc::eoir, 60);
    CHECK(g.hyp(gich::eisr0) == 0x4);
    CHECK((g.hyp(gich::misr) & gich::misr_eoi) != 0);
    CHECK((g.hyp(gich::elrsr0) & 0x4) == 0); // not empty until rewritten
    CHECK(g.gic->maintenance_pending(0));
    CHECK(g.irq());
    CHECK(g.ack() == maintenance_ppi);
    write_lr(g, 2, LR{0});
    CHECK(g.hyp(gich::eisr0) == 0);
    CHECK(g.hyp(gich::misr) == 0);
    CHECK_FALSE(g.gic->maintenance_pending(0));
}

TEST_CASE("V10 with 40 LRs: an EOI in a list register above 31 sets EISR1 and MISR.EOI")
{
    // MISR.EOI is asserted while any list register asks for EOI
    // maintenance, so EISR1's bits count as much as EISR0's.
    GicFixture g(256, 1, 40);
    g.enable_all();
    g.enable(maintenance_ppi);
    virt_on(g);
    write_lr(g, 35, LR::make_virtual(60, 0x80, LR::State::pending, true));
    CHECK(g.vcpu(gicc::iar) == 60);
    g.vcpu_w(gicc::eoir, 60);
    CHECK(g.hyp(gich::eisr0) == 0);
    CHECK(g.hyp(gich::eisr1) == 1u << (35 - 32));
    CHECK((g.hyp(gich::misr) & gich::misr_eoi) != 0);
    CHECK(g.gic->maintenance_pending(0));
    write_lr(g, 35, LR{0});
    CHECK(g.hyp(gich::misr) == 0);
    CHECK_FALSE(g.gic->maintenance_pending(0));
}

TEST_CASE("V12 HCR.UIE with at most one valid LR sets MISR.U")
{
    GicFixture g;
    virt_on(g);
    write_lr(g, 0, LR::make_virtual(40, 0x80, LR::State::pending, false));
    write_lr(g, 1, LR::make_virtual(41, 0x80, LR::State::pending, false));
    g.hyp_w(gich::hcr, gich::hcr_en | gich::hcr_uie);
    CHECK((g.hyp(gich::misr) & gich::misr_u) == 0);
    write_lr(g, 1, LR{0});
    CHECK((g.hyp(gich::misr) & gich::misr_u) != 0);
    CHECK(g.gic->maintenance_pending(0));
}

TEST_CASE("V13 HCR.NPIE with no pending LR sets MISR.NP")
{
    GicFixture g;
    virt_on(g);
    write_lr(g, 0, LR::make_virtual(40, 0x80, LR::State::pending, false));
    g.hyp_w(gich::hcr, gich::hcr_en | gich::hcr_npie);
    CHECK((g.hyp(gich::misr) & gich::misr_np) == 0);
    CHECK(g.vcpu(gicc::iar) == 40);
    CHECK((g.hyp(gich::misr) & gich::misr_np) != 0);
}

TEST_CASE("V14 an EOI of an interrupt in no LR counts EOICount and sets MISR.LRENP")
{
    GicFixture g;
    virt_on(g);
    g.hyp_w(gich::hcr, gich::hcr_en | gich::hcr_lrenpie);
    CHECK((g.hyp(gich::misr) & gich::misr_lrenp) == 0);
    g.vcpu_w(gicc::eoir, 77); // drops no priority (GICH_APR is 0): not counted
    CHECK((g.hyp(gich::hcr) >> gich::hcr_eoicount_shift) == 0);
    g.hyp_w(gich::apr, 1u << (0x80 >> 3)); // an active priority whose LR the hypervisor took away
    g.vcpu_w(gicc::eoir, 77);
    CHECK(g.hyp(gich::apr) == 0);
    CHECK((g.hyp(gich::hcr) >> gich::hcr_eoicount_shift) == 1);
    CHECK((g.hyp(gich::misr) & gich::misr_lrenp) != 0);
}

TEST_CASE("V16 each CPU's GICH/GICV touch only its own list registers")
{
    GicFixture g(256, 2);
    virt_on(g, 0);
    virt_on(g, 1);
    write_lr(g, 0, LR::make_virtual(40, 0x80, LR::State::pending, false), 1);
    CHECK(read_lr(g, 0, 0).raw == 0);
    CHECK(g.vcpu(gicc::iar, 0) == spurious_intid);
    CHECK_FALSE(g.virq(0));
    CHECK(g.virq(1));
    CHECK(g.vcpu(gicc::iar, 1) == 40);
}

TEST_CASE("random GICH writes and GICV accesses keep the model's cached LR state, running priority and candidates exact")
{
    // Property test: the model keeps the LRs' states as bit sets and each
    // CPU interface's running priority beside the registers, for speed.
    // After every access, Gic::self_check() recomputes all of it from the
    // registers; and the bit sets must agree with what GICH reads back.
    using fwdsim::sim::Rng;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
        GicFixture g(96, 2, 8);
        g.enable_all(2);
        Rng rng(seed);
        for (unsigned cpu = 0; cpu < 2; ++cpu) {
            virt_on(g, cpu);
            g.cpuif_w(gicc::ctlr, 1 | gicc::ctlr_eoimode, cpu);
        }
        for (int step = 0; step < 2000; ++step) {
            const unsigned cpu = static_cast<unsigned>(rng.uniform(2));
            const unsigned n = static_cast<unsigned>(rng.uniform(8));
            const unsigned vid = 32 + static_cast<unsigned>(rng.uniform(16));
            const auto prio = static_cast<unsigned>(rng.uniform(4) << 6);
            const auto st = static_cast<LR::State>(rng.uniform(4));
            switch (rng.uniform(9)) {
            case 0: write_lr(g, n, LR::make_virtual(vid, prio, st, rng.uniform(2) == 1), cpu); break;
            case 1: {
                // A physical SPI taken by the host and handed to the guest.
                g.enable(vid, cpu);
                g.set_pending(vid, cpu);
                const std::uint32_t iar = g.ack(cpu);
                if (iar != spurious_intid) g.eoi(iar, cpu);
                write_lr(g, n, LR::make_hw(vid, vid, prio, LR::State::pending), cpu);
                break;
            }
            case 2: g.hyp_w(gich::hcr, gich::hcr_en | static_cast<std::uint32_t>(rng.uniform(16)) << 1, cpu); break;
            case 3:
            case 4: {
                const std::uint32_t iar = g.vcpu(gicc::iar, cpu);
                if (iar != spurious_intid && rng.uniform(4) != 0) g.vcpu_w(gicc::eoir, iar, cpu);
                break;
            }
            case 5: g.vcpu_w(gicc::eoir, vid, cpu); break;
            case 6: g.vcpu_w(gicc::dir, vid, cpu); break;
            case 7: g.vcpu_w(gicc::pmr, static_cast<std::uint32_t>(rng.uniform(8) << 5), cpu); break;
            default: write_lr(g, n, LR{0}, cpu); break;
            }
            if ((step & 7) == 0) g.queue.run_until_idle();
            REQUIRE(g.gic->self_check() == "");
            std::uint32_t empty = 0, eoi = 0, pending = 0;
            for (unsigned k = 0; k < 8; ++k) {
                const LR lr = read_lr(g, k, cpu);
                if (lr.state() == LR::State::invalid) (lr.eoi() ? eoi : empty) |= 1u << k;
                if (lr.state() == LR::State::pending) pending |= 1u << k;
            }
            REQUIRE(g.hyp(gich::elrsr0, cpu) == empty);
            REQUIRE(g.hyp(gich::eisr0, cpu) == eoi);
            REQUIRE(((g.hyp(gich::misr, cpu) & gich::misr_eoi) != 0) == (eoi != 0));
            if ((g.hyp(gich::hcr, cpu) & gich::hcr_npie) != 0)
                REQUIRE(((g.hyp(gich::misr, cpu) & gich::misr_np) != 0) == (pending == 0));
        }
    }
}
