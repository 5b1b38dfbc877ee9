// The forwarded/non-forwarded switch raced against an interrupt's life: the
// switch is applied after every event boundary of a small scenario (device
// raises the IRQ, host enters, acknowledges, drops priority, runs the
// handler, deactivates or leaves it active, the guest services and EOIs,
// the resampler unmasks), for edge and level IRQs and both directions.
// Each run must deliver the interrupt to the guest exactly once and end with
// the IRQ quiet: not active, not pending, enabled at depth 0, consistent.
#include "fake_vgic.h"
#include "vfio_fixture.h"

#include <cstdio>
#include <memory>

using namespace fwdsim;
using namespace fwdsim::vfio;
using fwdsim::test::FakeVgic;
using fwdsim::test::VfioFixture;

namespace {
constexpr std::uint32_t TRIGGER = VFIO_IRQ_SET_ACTION_TRIGGER;
constexpr std::uint32_t UNMASK = VFIO_IRQ_SET_ACTION_UNMASK;

struct Scenario {
    bool level;
    bool start_forwarded;
    int raises = 1; ///< device assertions, 5000 cycles apart
    /// bimodal: the trigger (and the irqfd on it) stay set across switches;
    /// a switch is set_forwarded / clear_forwarded alone.
    ForwardingPolicy policy = ForwardingPolicy::exclusive;
};

struct Run {
    explicit Run(Scenario s)
        : sc(s), index(s.level ? 0u : 1u), irq(s.level ? 40u : 41u),
          vgic(f.queue, f.irqs, irq, [this] { if (sc.level) f.chip.set_line(irq, false); }),
          raise([this] {
              if (sc.level) f.chip.set_line(irq, true);
              else f.chip.pulse(irq);
              if (++raised < sc.raises) f.queue.schedule_after(raise, sim::Cycles{5000});
          }, "device raise")
    {
        efd = f.new_eventfd();
        ufd = f.new_eventfd();
        if (bimodal()) set_up_signalling();
        if (s.start_forwarded) to_forwarded();
        else to_normal();
        f.queue.schedule(raise, sim::Cycles{10});
    }

    bool bimodal() const { return sc.policy == ForwardingPolicy::bimodal; }
    void set_up_signalling()
    {
        REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, index, 0, {efd})) == 0);
        if (sc.level) REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(UNMASK, index, 0, {ufd})) == 0);
        vgic.attach_irqfd(host::EventfdCtxRef::acquire(&f.ctx_of(efd)),
                          sc.level ? host::EventfdCtxRef::acquire(&f.ctx_of(ufd)) : host::EventfdCtxRef{});
    }
    void to_forwarded()
    {
        if (bimodal()) {
            vgic.forward();
            REQUIRE(f.plat->set_forwarded(index, 0, vgic, sc.policy) == 0);
            return;
        }
        vgic.detach_irqfd();
        REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, index, 0, {-1})) == 0);
        if (sc.level) REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(UNMASK, index, 0, {-1})) == 0);
        vgic.forward();
        REQUIRE(f.plat->set_forwarded(index, 0, vgic) == 0);
    }
    void to_normal()
    {
        vgic.unforward();
        f.plat->clear_forwarded(index, 0);
        if (bimodal()) return;
        REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(TRIGGER, index, 0, {efd})) == 0);
        if (sc.level) REQUIRE(f.set_irqs(f.pfd, VfioIrqSet::eventfds(UNMASK, index, 0, {ufd})) == 0);
        vgic.attach_irqfd(host::EventfdCtxRef::acquire(&f.ctx_of(efd)),
                          sc.level ? host::EventfdCtxRef::acquire(&f.ctx_of(ufd)) : host::EventfdCtxRef{});
    }
    void switch_mode()
    {
        if (f.plat->is_forwarded(index, 0)) to_normal();
        else to_forwarded();
    }

    /// Everything that must hold at the end; empty when it all does.
    std::string problems()
    {
        std::string p;
        auto bad = [&](bool cond, const char* what) { if (cond) { p += what; p += "; "; } };
        IrqContext& c = *f.plat->irq_context(index, 0);
        const auto info = f.irqs.info(irq);
        bad(vgic.deliveries != sc.raises, "not delivered exactly once per raise");
        bad(vgic.wrong_irq != 0, "injected the wrong host IRQ");
        bad(f.chip.irq(irq).active, "host IRQ left active");
        bad(f.chip.pending(irq), "host IRQ left pending");
        bad(!f.chip.irq(irq).enabled, "host IRQ left disabled");
        bad(!info.has_handler || info.depth != 0, "host IRQ not requested at depth 0");
        bad(info.replay_pending, "a replay is still pending");
        bad(c.masked(), "VFIO context left masked");
        bad(f.irqs.unbalanced_enables() != 0, "unbalanced enable_irq");
        if (sc.policy == ForwardingPolicy::exclusive) bad(c.forwarded() == c.has_trigger(), "neither or both of forwarded and trigger");
        else bad(!c.has_trigger(), "the trigger did not stay set");
        bad(c.forwarded() != (f.irqs.vcpu_affinity(irq) != nullptr), "vCPU affinity disagrees with the mode");
        bad(!f.cpu.idle(), "CPU not idle");
        return p;
    }

    VfioFixture f;
    Scenario sc;
    unsigned index;
    unsigned irq;
    FakeVgic vgic;
    sim::FunctionEvent raise;
    int efd = -1, ufd = -1;
    int raised = 0;
};

/// Events the scenario runs without a switch.
std::uint64_t baseline_events(Scenario s)
{
    Run r(s);
    r.f.queue.run_until_idle();
    REQUIRE(r.problems().empty());
    return r.f.queue.events_processed();
}

void race_everywhere(Scenario s)
{
    const std::uint64_t n = baseline_events(s);
    REQUIRE(n >= 7); // raise, entry, IAR, EOIR, handler (+ DIR), exit, guest EOI ...
    std::uint64_t failures = 0;
    for (std::uint64_t k = 0; k <= n; ++k) {
        auto r = std::make_unique<Run>(s);
        for (std::uint64_t i = 0; i < k && r->f.queue.step(); ++i) {}
        r->switch_mode();
        r->f.queue.run_until_idle();
        const std::string p = r->problems();
        if (!p.empty()) {
            ++failures;
            UNSCOPED_INFO("switch after event " << k << " of " << n << ": " << p);
        }
    }
    CHECK(failures == 0);
}
} // namespace

/// Switch after event k and back after event m, for every k <= m.
void race_there_and_back(Scenario s)
{
    const std::uint64_t n = baseline_events(s);
    std::uint64_t failures = 0, runs = 0;
    for (std::uint64_t k = 0; k <= n; ++k) {
        for (std::uint64_t m = k; m <= n + 4; ++m) {
            auto r = std::make_unique<Run>(s);
            std::uint64_t i = 0;
            for (; i < k && r->f.queue.step(); ++i) {}
            r->switch_mode();
            for (; i < m && r->f.queue.step(); ++i) {}
            r->switch_mode();
            r->f.queue.run_until_idle();
            ++runs;
            const std::string p = r->problems();
            if (!p.empty()) {
                ++failures;
                UNSCOPED_INFO("switch after event " << k << " and back after " << m << ": " << p);
            }
        }
    }
    CHECK(runs > n);
    CHECK(failures == 0);
}

TEST_CASE("forwarding an edge IRQ at every event boundary neither loses nor duplicates it")
{
    race_everywhere({false, false});
}

TEST_CASE("unforwarding an edge IRQ at every event boundary neither loses nor duplicates it")
{
    race_everywhere({false, true});
}

TEST_CASE("forwarding a level IRQ at every event boundary neither loses nor duplicates it")
{
    race_everywhere({true, false});
}

TEST_CASE("unforwarding a level IRQ at every event boundary neither loses nor duplicates it")
{
    race_everywhere({true, true});
}

TEST_CASE("forwarding and unforwarding again at every pair of event boundaries, two edges, loses and duplicates nothing")
{
    race_there_and_back({false, false, 2});
    race_there_and_back({false, true, 2});
}

TEST_CASE("forwarding and unforwarding again at every pair of event boundaries, two level assertions, loses and duplicates nothing")
{
    race_there_and_back({true, false, 2});
    race_there_and_back({true, true, 2});
}

TEST_CASE("two level assertions with one switch at every event boundary are each delivered once")
{
    race_everywhere({true, false, 2});
    race_everywhere({true, true, 2});
    race_everywhere({false, false, 2});
    race_everywhere({false, true, 2});
}

TEST_CASE("bi-modal policy: forwarding and unforwarding with the trigger left set, at every event boundary, loses and duplicates nothing")
{
    for (const bool level : {false, true}) {
        for (const bool from_forwarded : {false, true}) {
            race_everywhere({level, from_forwarded, 1, ForwardingPolicy::bimodal});
            race_everywhere({level, from_forwarded, 2, ForwardingPolicy::bimodal});
        }
        race_there_and_back({level, false, 2, ForwardingPolicy::bimodal});
        race_there_and_back({level, true, 2, ForwardingPolicy::bimodal});
    }
}
