// A bare GIC with helpers named after the registers they touch, so tests
// read like the conformance cases they check.
#pragma once

#include <fwdsim/gic/gic.h>
#include <fwdsim/gic/registers.h>
#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/event_queue.h>

#include <memory>

struct GicFixture {
    explicit GicFixture(unsigned irqs = 256, unsigned cpus = 1, unsigned lrs = 4, unsigned bits = 5)
    {
        fwdsim::gic::GicParams p;
        p.num_irqs = irqs;
        p.num_cpus = cpus;
        p.num_lrs = lrs;
        p.priority_bits = bits;
        gic = std::make_unique<fwdsim::gic::Gic>(queue, p,
                                                 fwdsim::gic::GicCosts::from_profile(fwdsim::sim::CostProfile::builtin_default()));
    }

    using Block = fwdsim::gic::Block;
    std::uint32_t dist(std::uint32_t off, unsigned cpu = 0) { return gic->read(Block::gicd, cpu, off); }
    void dist_w(std::uint32_t off, std::uint32_t v, unsigned cpu = 0) { gic->write(Block::gicd, cpu, off, v); }
    std::uint32_t cpuif(std::uint32_t off, unsigned cpu = 0) { return gic->read(Block::gicc, cpu, off); }
    void cpuif_w(std::uint32_t off, std::uint32_t v, unsigned cpu = 0) { gic->write(Block::gicc, cpu, off, v); }
    std::uint32_t hyp(std::uint32_t off, unsigned cpu = 0) { return gic->read(Block::gich, cpu, off); }
    void hyp_w(std::uint32_t off, std::uint32_t v, unsigned cpu = 0) { gic->write(Block::gich, cpu, off, v); }
    std::uint32_t vcpu(std::uint32_t off, unsigned cpu = 0) { return gic->read(Block::gicv, cpu, off); }
    void vcpu_w(std::uint32_t off, std::uint32_t v, unsigned cpu = 0) { gic->write(Block::gicv, cpu, off, v); }

    /// Distributor and CPU interface on, priority mask open.
    void enable_all(unsigned cpus = 1)
    {
        namespace r = fwdsim::gic;
        dist_w(r::gicd::ctlr, 1);
        for (unsigned c = 0; c < cpus; ++c) {
            cpuif_w(r::gicc::pmr, 0xFF, c);
            cpuif_w(r::gicc::ctlr, 1, c);
        }
    }
    void enable(unsigned id, unsigned cpu = 0) { dist_w(fwdsim::gic::gicd::isenabler + id / 32 * 4, 1u << (id % 32), cpu); }
    void set_pending(unsigned id, unsigned cpu = 0) { dist_w(fwdsim::gic::gicd::ispendr + id / 32 * 4, 1u << (id % 32), cpu); }
    void priority(unsigned id, std::uint8_t p, unsigned cpu = 0) { gic->write(Block::gicd, cpu, fwdsim::gic::gicd::ipriorityr + id, p, 1); }
    void target(unsigned id, std::uint8_t cpus) { gic->write(Block::gicd, 0, fwdsim::gic::gicd::itargetsr + id, cpus, 1); }
    void edge(unsigned id) { dist_w(fwdsim::gic::gicd::icfgr + id / 16 * 4, dist(fwdsim::gic::gicd::icfgr + id / 16 * 4) | (2u << (id % 16 * 2))); }
    std::uint32_t ack(unsigned cpu = 0) { return cpuif(fwdsim::gic::gicc::iar, cpu); }
    void eoi(std::uint32_t v, unsigned cpu = 0) { cpuif_w(fwdsim::gic::gicc::eoir, v, cpu); }
    bool active(unsigned id, unsigned cpu = 0) { return gic->is_active(id, cpu); }
    bool pending(unsigned id, unsigned cpu = 0) { return gic->is_pending(id, cpu); }
    bool irq(unsigned cpu = 0)
    {
        queue.run_until_idle();
        return gic->irq_line(cpu);
    }
    bool virq(unsigned cpu = 0)
    {
        queue.run_until_idle();
        return gic->virq_line(cpu);
    }

    fwdsim::sim::EventQueue queue;
    std::unique_ptr<fwdsim::gic::Gic> gic;
};
