// The vgic against the real GIC model: the test plays the guest (GICV
// accesses on the physical CPU) and KVM (flush before entry, fold after
// exit).  Case ids from reference/conformance-cases.md where they apply.
#include <fwdsim/arch/vgic.h>
#include <fwdsim/gic/registers.h>
#include <fwdsim/sim/cost_profile.h>

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::gic;

namespace {

struct World {
    explicit World(unsigned vcpus = 1, unsigned lrs = 4)
    {
        GicParams p;
        p.num_cpus = vcpus;
        p.num_lrs = lrs;
        gic = std::make_unique<Gic>(queue, p, GicCosts::from_profile(sim::CostProfile::builtin_default()));
        vgic = std::make_unique<arch::Vgic>(*gic, vcpus, 256, arch::VgicCosts{sim::Cycles{100}, sim::Cycles{20}},
                                            [this](unsigned v) { kicks.push_back(v); });
        vgic->set_ack_notifier([this](unsigned intid) { acks.push_back(intid); });
        sim::Cycles c;
        vgic->dist_write(0, gicd::ctlr, 1, c);
        // Each guest enables its virtual CPU interface on its first run; the
        // vgic saves that state at the exit (GICH_VMCR) and restores it.
        for (unsigned v = 0; v < vcpus; ++v) {
            vgic->flush(v, v);
            gic->write(Block::gicv, v, gicc::ctlr, 1);
            gic->write(Block::gicv, v, gicc::pmr, 0xF8);
            vgic->fold(v, v);
        }
    }
    void guest_enable(unsigned intid, std::uint8_t priority = 0xA0)
    {
        sim::Cycles c;
        vgic->dist_write(0, gicd::isenabler + intid / 32 * 4, 1u << (intid % 32), c);
        const std::uint32_t word = gicd::ipriorityr + intid / 4 * 4;
        const unsigned shift = 8 * (intid % 4);
        const std::uint32_t old = vgic->dist_read(0, word, c);
        vgic->dist_write(0, word, (old & ~(0xFFu << shift)) | (std::uint32_t{priority} << shift), c);
    }
    void guest_level(unsigned intid)
    {
        sim::Cycles c;
        const auto cfg = vgic->dist_read(0, gicd::icfgr + intid / 16 * 4, c);
        vgic->dist_write(0, gicd::icfgr + intid / 16 * 4, cfg & ~(2u << (intid % 16 * 2)), c);
    }
    void guest_edge(unsigned intid)
    {
        sim::Cycles c;
        const auto cfg = vgic->dist_read(0, gicd::icfgr + intid / 16 * 4, c);
        vgic->dist_write(0, gicd::icfgr + intid / 16 * 4, cfg | (2u << (intid % 16 * 2)), c);
    }
    std::uint32_t guest_ack(unsigned cpu = 0) { return gic->read(Block::gicv, cpu, gicc::iar); }
    void guest_eoi(std::uint32_t id, unsigned cpu = 0) { gic->write(Block::gicv, cpu, gicc::eoir, id); }

    sim::EventQueue queue;
    std::unique_ptr<Gic> gic;
    std::unique_ptr<arch::Vgic> vgic;
    std::vector<unsigned> kicks;
    std::vector<unsigned> acks;
};

} // namespace

TEST_CASE("K01 a level SPI stays pending while its line is high and is withdrawn when it drops before acknowledge")
{
    World w;
    w.guest_enable(48);
    w.vgic->inject(0, 48, true);
    CHECK(w.vgic->has_pending(0));
    CHECK(w.kicks == std::vector<unsigned>{0});
    w.vgic->flush(0, 0);
    w.vgic->fold(0, 0); // exit before the guest looked
    CHECK(w.vgic->has_pending(0));
    w.vgic->inject(0, 48, false);
    CHECK_FALSE(w.vgic->has_pending(0));
    w.vgic->flush(0, 0);
    CHECK(w.guest_ack() == spurious_intid);
}

TEST_CASE("K02 two edges before the guest acknowledges are delivered once")
{
    World w;
    w.guest_edge(50);
    w.guest_enable(50);
    w.vgic->inject(0, 50, true);
    w.vgic->inject(0, 50, false);
    w.vgic->inject(0, 50, true);
    w.vgic->inject(0, 50, false);
    w.vgic->flush(0, 0);
    CHECK(w.guest_ack() == 50);
    w.guest_eoi(50);
    CHECK(w.guest_ack() == spurious_intid);
    w.vgic->fold(0, 0);
    CHECK_FALSE(w.vgic->has_pending(0));
    CHECK(w.vgic->ap_list_size(0) == 0);
}

TEST_CASE("K03 K05 a level, unmapped interrupt asks for EOI maintenance and its EOI runs the ack notifier once")
{
    World w;
    w.guest_enable(48);
    w.vgic->inject(0, 48, true);
    w.vgic->flush(0, 0);
    const ListRegister lr{w.gic->read(Block::gich, 0, gich::lr0)};
    CHECK(lr.eoi());
    CHECK(w.guest_ack() == 48);
    w.guest_eoi(48);
    CHECK((w.gic->read(Block::gich, 0, gich::misr) & gich::misr_eoi) != 0);
    CHECK(w.gic->maintenance_pending(0));
    w.vgic->fold(0, 0);
    CHECK(w.acks == std::vector<unsigned>{48});
    CHECK_FALSE(w.gic->maintenance_pending(0)); // fold freed the LR
    // An edge interrupt asks for no maintenance.
    w.guest_edge(49);
    w.guest_enable(49);
    w.vgic->inject(0, 49, true);
    w.vgic->inject(0, 48, false);
    w.vgic->flush(0, 0);
    CHECK_FALSE(ListRegister{w.gic->read(Block::gich, 0, gich::lr0)}.eoi());
    CHECK(w.guest_ack() == 49);
    w.guest_eoi(49);
    CHECK(w.gic->read(Block::gich, 0, gich::misr) == 0);
    w.vgic->fold(0, 0);
    CHECK(w.acks == std::vector<unsigned>{48});
}

TEST_CASE("a software level interrupt still high while active goes back in active only, so its EOI brings maintenance")
{
    // vgic_v2_populate_lr's allow_pending (Linux 67b5b673ad4d): as
    // pending+active, the guest's EOI would leave it pending and the guest
    // would take it again without KVM ever seeing the EOI to resample.
    World w;
    w.guest_enable(48);
    w.vgic->inject(0, 48, true);
    w.vgic->flush(0, 0);
    CHECK(w.guest_ack() == 48);
    w.vgic->fold(0, 0); // an exit in the handler; the line is still high
    w.vgic->flush(0, 0);
    const ListRegister lr{w.gic->read(Block::gich, 0, gich::lr0)};
    CHECK(lr.state() == ListRegister::State::active);
    CHECK(lr.eoi());
    w.guest_eoi(48);
    CHECK(w.guest_ack() == spurious_intid); // not taken again before KVM resamples
    CHECK((w.gic->read(Block::gich, 0, gich::misr) & gich::misr_eoi) != 0);
    w.vgic->fold(0, 0);
    CHECK(w.acks == std::vector<unsigned>{48});
    CHECK(w.vgic->has_pending(0)); // the line is high: pending again, now as a new assertion
    // An edge interrupt asserted again while active does go in pending+active.
    w.vgic->inject(0, 48, false);
    w.guest_edge(50);
    w.guest_enable(50);
    w.vgic->inject(0, 50, true);
    w.vgic->inject(0, 50, false);
    w.vgic->flush(0, 0);
    CHECK(w.guest_ack() == 50);
    w.vgic->fold(0, 0);
    w.vgic->inject(0, 50, true);
    w.vgic->inject(0, 50, false);
    w.vgic->flush(0, 0);
    CHECK(ListRegister{w.gic->read(Block::gich, 0, gich::lr0)}.state() == ListRegister::State::pending_active);
}

TEST_CASE("K04 more pending interrupts than LRs: all delivered in priority order, underflow requested meanwhile")
{
    World w(1, 2);
    const unsigned ids[] = {40, 41, 42, 43, 44};
    const std::uint8_t prios[] = {0x80, 0x20, 0xA0, 0x40, 0x60};
    for (unsigned k = 0; k < 5; ++k) {
        w.guest_edge(ids[k]);
        w.guest_enable(ids[k], prios[k]);
        w.vgic->inject(0, ids[k], true);
    }
    std::vector<std::uint32_t> delivered;
    for (int round = 0; round < 5 && delivered.size() < 5; ++round) {
        w.vgic->flush(0, 0);
        const bool more = w.vgic->ap_list_size(0) > 2;
        CHECK(((w.gic->read(Block::gich, 0, gich::hcr) & gich::hcr_uie) != 0) == more);
        for (;;) {
            const auto id = w.guest_ack();
            if (id == spurious_intid) break;
            delivered.push_back(id);
            w.guest_eoi(id);
        }
        w.vgic->fold(0, 0);
    }
    CHECK(delivered == std::vector<std::uint32_t>{41, 43, 44, 40, 42});
}

TEST_CASE("two pending interrupts and one LR: the flush lists the higher priority one, whatever the order they came in")
{
    World w(1, 1);
    w.guest_edge(40);
    w.guest_edge(41);
    w.guest_enable(40, 0x80);
    w.guest_enable(41, 0x20);
    w.vgic->inject(0, 40, true);
    w.vgic->inject(0, 41, true);
    REQUIRE(w.vgic->ap_list_size(0) == 2);
    w.vgic->flush(0, 0);
    CHECK(ListRegister{w.gic->read(Block::gich, 0, gich::lr0)}.virtual_id() == 41);
    CHECK(w.guest_ack() == 41);
    w.guest_eoi(41);
    w.vgic->fold(0, 0);
    w.vgic->flush(0, 0);
    CHECK(w.guest_ack() == 40);
}

TEST_CASE("K06 a mapped interrupt: the guest's EOI deactivates the physical one, with no maintenance")
{
    World w;
    // The host took SPI 64 with split EOI and left it active for the guest.
    w.gic->write(Block::gicd, 0, gicd::ctlr, 1);
    w.gic->write(Block::gicd, 0, gicd::isactiver + 8, 1u);
    REQUIRE(w.gic->is_active(64));
    w.guest_enable(64);
    REQUIRE(w.vgic->map_phys_irq(0, 64, 64) == 0);
    CHECK(w.vgic->map_phys_irq(0, 64, 64) == -EBUSY);
    w.vgic->inject(0, 64, true); // the host's handler, in forwarded mode
    w.vgic->flush(0, 0);
    const ListRegister lr{w.gic->read(Block::gich, 0, gich::lr0)};
    REQUIRE(lr.hw());
    CHECK(lr.physical_id() == 64);
    CHECK(w.guest_ack() == 64);
    w.guest_eoi(64);
    CHECK_FALSE(w.gic->is_active(64));
    CHECK(w.gic->read(Block::gich, 0, gich::misr) == 0);
    w.vgic->fold(0, 0);
    CHECK(w.acks.empty());
    CHECK(w.vgic->ap_list_size(0) == 0);
}

TEST_CASE("K08 guest distributor writes change only this VM's virtual state and cost the emulation")
{
    World w;
    World other;
    sim::Cycles cost;
    w.vgic->dist_write(0, gicd::isenabler + 4, 0xFFFF0000, cost);
    CHECK(cost == sim::Cycles{100});
    w.vgic->dist_write(0, gicd::ipriorityr + 48, 0x12345678, cost);
    CHECK(w.vgic->dist_read(0, gicd::ipriorityr + 48, cost) == 0x10305078);
    CHECK(w.vgic->irq(0, 48)->enabled);
    CHECK_FALSE(other.vgic->irq(0, 48)->enabled);
    // The physical GIC is untouched.
    CHECK_FALSE(w.gic->is_enabled(48));
    CHECK(w.gic->read(Block::gicd, 0, gicd::ipriorityr + 48) == 0);
}

TEST_CASE("guest GICD_ICENABLER disables only the written interrupts: a pending one stays out of the LRs until re-enabled")
{
    World w;
    for (unsigned id : {40u, 41u, 42u, 60u}) {
        w.guest_edge(id);
        w.guest_enable(id);
    }
    sim::Cycles c;
    const std::uint32_t word = 1; // INTIDs 32..63
    const std::uint32_t on = (1u << 8) | (1u << 9) | (1u << 10) | (1u << 28);
    REQUIRE(w.vgic->dist_read(0, gicd::isenabler + word * 4, c) == on);
    REQUIRE(w.vgic->dist_read(0, gicd::icenabler + word * 4, c) == on);
    // 42 is pending (and queued) before the guest disables it; 41 after.
    w.vgic->inject(0, 42, true);
    w.vgic->inject(0, 42, false);
    REQUIRE(w.vgic->has_pending(0));
    w.vgic->dist_write(0, gicd::icenabler + word * 4, (1u << 9) | (1u << 10), c);
    CHECK(c == sim::Cycles{100});
    const std::uint32_t left = (1u << 8) | (1u << 28);
    CHECK(w.vgic->dist_read(0, gicd::isenabler + word * 4, c) == left);
    CHECK(w.vgic->dist_read(0, gicd::icenabler + word * 4, c) == left);
    CHECK(w.vgic->irq(0, 40)->enabled);
    CHECK_FALSE(w.vgic->irq(0, 41)->enabled);
    // A write of zeros changes nothing; neither does one to another word.
    w.vgic->dist_write(0, gicd::icenabler + word * 4, 0, c);
    w.vgic->dist_write(0, gicd::icenabler + 2 * 4, 0xFFFFFFFF, c);
    CHECK(w.vgic->dist_read(0, gicd::isenabler + word * 4, c) == left);
    const std::size_t kicks = w.kicks.size();
    w.vgic->inject(0, 41, true);
    w.vgic->inject(0, 41, false);
    CHECK(w.kicks.size() == kicks); // nothing deliverable: no kick
    CHECK(w.vgic->irq(0, 41)->pending());
    CHECK(w.vgic->irq(0, 42)->pending());
    CHECK_FALSE(w.vgic->has_pending(0));
    w.vgic->flush(0, 0);
    for (std::uint32_t lr = 0; lr < 4; ++lr)
        CHECK(ListRegister{w.gic->read(Block::gich, 0, gich::lr0 + 4 * lr)}.state() == ListRegister::State::invalid);
    CHECK(w.guest_ack() == spurious_intid);
    w.vgic->fold(0, 0);
    // Re-enabling 41 delivers it (42 stays disabled, still pending).
    w.vgic->dist_write(0, gicd::isenabler + word * 4, 1u << 9, c);
    CHECK(w.kicks.size() == kicks + 1);
    CHECK(w.vgic->has_pending(0));
    w.vgic->flush(0, 0);
    CHECK(w.guest_ack() == 41);
    w.guest_eoi(41);
    CHECK(w.guest_ack() == spurious_intid);
    w.vgic->fold(0, 0);
    CHECK(w.vgic->irq(0, 42)->pending());
    w.vgic->dist_write(0, gicd::isenabler + word * 4, 1u << 10, c);
    w.vgic->flush(0, 0);
    CHECK(w.guest_ack() == 42);
    w.guest_eoi(42);
    w.vgic->fold(0, 0);
    CHECK_FALSE(w.vgic->has_pending(0));
}

TEST_CASE("a virtual SGI reaches exactly the listed vCPUs")
{
    World w(2);
    sim::Cycles c;
    w.vgic->dist_write(0, gicd::sgir, (2u << 16) | 3, c);
    CHECK_FALSE(w.vgic->has_pending(0));
    CHECK(w.vgic->has_pending(1));
    CHECK(w.kicks.back() == 1);
}

TEST_CASE("the vgic's costs come from the profile")
{
    const auto costs = arch::VgicCosts::from_profile(sim::CostProfile::builtin_default());
    CHECK(costs.mmio_emulate == sim::CostProfile::builtin_default().get("arch.vgic_mmio_emulate"));
    CHECK(costs.sort_ap_list > sim::Cycles{0});
}

TEST_CASE("guest GICD_I[SC]ACTIVER and I[SC]PENDR on a mapped interrupt reach the physical IRQ, halting a vCPU that holds it")
{
    // vgic_hw_irq_change_active, and the HW branches of
    // vgic_mmio_write_spending / vgic_hw_irq_cpending: each register, with
    // the interrupt idle, pending, active, and active with its vCPU loaded
    // (its LR in the guest: halted first, never rewritten in place).
    struct Call {
        unsigned irq;
        host::IrqchipState which;
        bool value;
    };
    enum class State { idle, pending, active, active_loaded };
    const std::uint32_t regs[] = {gicd::isactiver, gicd::icactiver, gicd::ispendr, gicd::icpendr};
    for (const std::uint32_t reg : regs) {
        for (const State st : {State::idle, State::pending, State::active, State::active_loaded}) {
            INFO("register " << reg << " state " << static_cast<int>(st));
            World w;
            std::vector<Call> calls;
            std::vector<unsigned> halts;
            w.vgic->set_phys_state([&](unsigned irq, host::IrqchipState which, bool v) { calls.push_back({irq, which, v}); });
            // KVM's halt: the vCPU leaves the guest, its LRs folded on its CPU.
            w.vgic->set_halt([&](unsigned v) {
                halts.push_back(v);
                w.vgic->fold(v, v);
            });
            w.guest_enable(64);
            w.guest_edge(64);
            REQUIRE(w.vgic->map_phys_irq(0, 64, 80) == 0);
            if (st != State::idle) REQUIRE(w.vgic->inject_mapped(0, 64) == 0);
            if (st == State::active || st == State::active_loaded) {
                w.vgic->flush(0, 0);
                REQUIRE(w.guest_ack() == 64);
                if (st == State::active) w.vgic->fold(0, 0);
            }
            REQUIRE(w.vgic->loaded_on(0) == (st == State::active_loaded ? 0 : -1));
            sim::Cycles c;
            w.vgic->dist_write(0, reg + 8, 1u, c); // bit 0 of the third word: INTID 64
            const arch::VirtualIrq& v = *w.vgic->irq(0, 64);
            // A loaded vCPU holding it was halted before the change; no other.
            CHECK(halts.size() == (st == State::active_loaded ? 1u : 0u));
            CHECK(w.vgic->loaded_on(0) == -1);
            const bool was_active = st == State::active || st == State::active_loaded;
            std::vector<Call> want;
            if (reg == gicd::isactiver) want = {{80, host::IrqchipState::active, true}};
            if (reg == gicd::icactiver) want = {{80, host::IrqchipState::active, false}};
            if (reg == gicd::ispendr) want = {{80, host::IrqchipState::active, true}};
            if (reg == gicd::icpendr) {
                want = {{80, host::IrqchipState::pending, false}};
                if (!was_active) want.push_back({80, host::IrqchipState::active, false});
            }
            REQUIRE(calls.size() == want.size());
            for (std::size_t k = 0; k < want.size(); ++k) {
                CHECK(calls[k].irq == want[k].irq);
                CHECK(calls[k].which == want[k].which);
                CHECK(calls[k].value == want[k].value);
            }
            // And the virtual state changed as the guest asked, from the exact state.
            if (reg == gicd::isactiver) CHECK(v.active);
            if (reg == gicd::icactiver) CHECK_FALSE(v.active);
            if (reg == gicd::ispendr) CHECK(v.pending());
            if (reg == gicd::icpendr) {
                CHECK_FALSE(v.pending());
                CHECK(v.active == was_active);
            }
        }
    }
}

TEST_CASE("unmapping an interrupt a loaded vCPU holds halts that vCPU instead of rewriting its list register")
{
    World w;
    std::vector<unsigned> halts;
    w.vgic->set_halt([&](unsigned v) {
        halts.push_back(v);
        w.vgic->fold(v, v);
    });
    w.guest_enable(64);
    REQUIRE(w.vgic->map_phys_irq(0, 64, 80) == 0);
    REQUIRE(w.vgic->inject_mapped(0, 64) == 0);
    w.vgic->flush(0, 0);
    REQUIRE(w.guest_ack() == 64);
    const std::uint32_t lr_before = w.gic->read(Block::gich, 0, gich::lr0);
    REQUIRE(ListRegister{lr_before}.hw());
    w.vgic->unmap_phys_irq(0, 64);
    CHECK(halts == std::vector<unsigned>{0});
    // The LR was folded by the halted vCPU's exit, not rewritten: the next
    // entry writes it back as a software interrupt, still active.
    CHECK(w.vgic->loaded_on(0) == -1);
    CHECK(w.vgic->irq(0, 64)->active);
    w.vgic->flush(0, 0);
    const ListRegister lr{w.gic->read(Block::gich, 0, gich::lr0)};
    CHECK_FALSE(lr.hw());
    CHECK(lr.state() == ListRegister::State::active);
}
