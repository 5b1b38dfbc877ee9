// GicDriver: drivers/irqchip/irq-gic.c's role, through GIC registers only
// (named in fwdsim/gic/registers.h).
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/gic_driver.h>
#include <fwdsim/gic/registers.h>

#include <cerrno>

namespace fwdsim::host {

namespace {
constexpr std::uint32_t kSpurious = gic::spurious_intid;

constexpr std::uint32_t word(std::uint32_t base, unsigned irq) { return base + 4 * (irq / 32); }
constexpr std::uint32_t bit(unsigned irq) { return 1u << (irq % 32); }
} // namespace

GicDriver::GicDriver(gic::Gic& gic, ThisCpu& this_cpu, GicDriverParams params)
    : gic_(gic), this_cpu_(this_cpu), params_(params),
      last_iar_(gic.params().num_cpus, kSpurious)
{
}

std::uint32_t GicDriver::read(gic::Block b, unsigned cpu, std::uint32_t off, unsigned size)
{
    this_cpu_.charge(gic_.access_cost(b));
    return gic_.read(b, cpu, off, size);
}

void GicDriver::write(gic::Block b, unsigned cpu, std::uint32_t off, std::uint32_t v, unsigned size)
{
    this_cpu_.charge(gic_.access_cost(b));
    gic_.write(b, cpu, off, v, size);
}

unsigned GicDriver::accessing_cpu() const
{
    const Cpu* c = this_cpu_.current();
    return c && c->id() < gic_.params().num_cpus ? c->id() : 0;
}

unsigned GicDriver::nr_irqs() const { return gic_.params().num_irqs; }

void GicDriver::init()
{
    using gic::Block;
    const unsigned n = nr_irqs();
    // gic_dist_init
    write(Block::gicd, 0, gic::gicd::ctlr, 0);
    for (unsigned i = 32; i < n; i += 16) write(Block::gicd, 0, gic::gicd::icfgr + i / 4, 0); // level
    for (unsigned i = 32; i < n; i += 4) write(Block::gicd, 0, gic::gicd::itargetsr + i, 0x01010101);
    const std::uint32_t prio4 = params_.default_priority * 0x01010101u;
    for (unsigned i = 32; i < n; i += 4) write(Block::gicd, 0, gic::gicd::ipriorityr + i, prio4);
    for (unsigned i = 32; i < n; i += 32) {
        write(Block::gicd, 0, word(gic::gicd::icactiver, i), 0xffffffffu);
        write(Block::gicd, 0, word(gic::gicd::icenabler, i), 0xffffffffu);
    }
    write(Block::gicd, 0, gic::gicd::ctlr, 1);
    // gic_cpu_init, on every CPU interface: banked SGIs/PPIs, PMR, CTLR.
    for (unsigned c = 0; c < gic_.params().num_cpus; ++c) {
        write(Block::gicd, c, gic::gicd::icactiver, 0xffffffffu);
        write(Block::gicd, c, gic::gicd::icenabler, 0xffff0000u); // PPIs off
        write(Block::gicd, c, gic::gicd::isenabler, 0x0000ffffu); // SGIs on
        for (unsigned i = 0; i < 32; i += 4) write(Block::gicd, c, gic::gicd::ipriorityr + i, prio4);
        write(Block::gicc, c, gic::gicc::pmr, params_.priority_mask);
        write(Block::gicc, c, gic::gicc::ctlr, gic::gicc::ctlr_enable_grp0 | (params_.split_eoi ? gic::gicc::ctlr_eoimode : 0));
    }
}

void GicDriver::wire_cpus(const std::vector<Cpu*>& cpus)
{
    cpus_ = cpus;
    // Rises only: a CPU reads a fall back (irq_line) when it matters, so
    // the GIC can let nIRQ fall without an event of its own.
    gic_.add_irq_listener(
        [this](unsigned cpu, bool level) {
            if (cpu < cpus_.size() && cpus_[cpu]) cpus_[cpu]->set_irq_line(level);
        },
        gic::LineEdges::rising);
}

bool GicDriver::irq_line(unsigned cpu) const
{
    return gic_.irq_line(cpu);
}

void GicDriver::irq_unmask_on(unsigned irq, unsigned cpu)
{
    if (irq >= 32 || cpu >= gic_.params().num_cpus) return irq_unmask(irq);
    write(gic::Block::gicd, cpu, word(gic::gicd::isenabler, irq), bit(irq)); // the banked copy of `cpu`
}

int GicDriver::send_ipi(unsigned cpu, unsigned sgi)
{
    if (cpu >= gic_.params().num_cpus || sgi >= 16) return -EINVAL;
    // TargetListFilter 0: the CPUs in CPUTargetList.
    write(gic::Block::gicd, accessing_cpu(), gic::gicd::sgir, (1u << (16 + cpu)) | sgi);
    return 0;
}

void GicDriver::irq_mask(unsigned irq)
{
    write(gic::Block::gicd, accessing_cpu(), word(gic::gicd::icenabler, irq), bit(irq));
}

void GicDriver::irq_unmask(unsigned irq)
{
    write(gic::Block::gicd, accessing_cpu(), word(gic::gicd::isenabler, irq), bit(irq));
}

int GicDriver::irq_set_type(unsigned irq, IrqTrigger type)
{
    if (irq < 16 || irq >= nr_irqs()) return -EINVAL; // SGIs are always edge
    const unsigned cpu = accessing_cpu();
    const std::uint32_t off = gic::gicd::icfgr + 4 * (irq / 16);
    const std::uint32_t mask = 2u << (2 * (irq % 16));
    std::uint32_t v = read(gic::Block::gicd, cpu, off);
    v = type == IrqTrigger::edge ? (v | mask) : (v & ~mask);
    write(gic::Block::gicd, cpu, off, v);
    return 0;
}

int GicDriver::irq_set_affinity(unsigned irq, unsigned cpu)
{
    if (irq < 32 || irq >= nr_irqs() || cpu >= gic_.params().num_cpus || cpu >= 8) return -EINVAL;
    write(gic::Block::gicd, accessing_cpu(), gic::gicd::itargetsr + irq, 1u << cpu, 1);
    return 0;
}

int GicDriver::irq_set_irqchip_state(unsigned irq, IrqchipState which, bool value)
{
    if (irq >= nr_irqs()) return -EINVAL;
    std::uint32_t base = 0;
    switch (which) {
    case IrqchipState::pending: base = value ? gic::gicd::ispendr : gic::gicd::icpendr; break;
    case IrqchipState::active: base = value ? gic::gicd::isactiver : gic::gicd::icactiver; break;
    case IrqchipState::masked: base = value ? gic::gicd::icenabler : gic::gicd::isenabler; break;
    case IrqchipState::line_level: return -EINVAL;
    }
    write(gic::Block::gicd, accessing_cpu(), word(base, irq), bit(irq));
    return 0;
}

int GicDriver::irq_get_irqchip_state(unsigned irq, IrqchipState which, bool& value)
{
    if (irq >= nr_irqs()) return -EINVAL;
    std::uint32_t base = 0;
    switch (which) {
    case IrqchipState::pending: base = gic::gicd::ispendr; break;
    case IrqchipState::active: base = gic::gicd::isactiver; break;
    case IrqchipState::masked: base = gic::gicd::isenabler; break;
    case IrqchipState::line_level: return -EINVAL;
    }
    const bool set = (read(gic::Block::gicd, accessing_cpu(), word(base, irq)) & bit(irq)) != 0;
    value = which == IrqchipState::masked ? !set : set;
    return 0;
}

int GicDriver::acknowledge(unsigned cpu)
{
    const std::uint32_t iar = read(gic::Block::gicc, cpu, gic::gicc::iar);
    const std::uint32_t id = iar & 0x3ff;
    if (id >= 1020) return -1;
    if (cpu < last_iar_.size()) last_iar_[cpu] = iar; // SGIs carry their source CPU
    return static_cast<int>(id);
}

std::uint32_t GicDriver::eoi_value(unsigned cpu, unsigned irq) const
{
    if (cpu < last_iar_.size() && (last_iar_[cpu] & 0x3ff) == irq) return last_iar_[cpu];
    return irq;
}

void GicDriver::priority_drop(unsigned cpu, unsigned irq)
{
    write(gic::Block::gicc, cpu, gic::gicc::eoir, eoi_value(cpu, irq));
}

void GicDriver::deactivate(unsigned cpu, unsigned irq)
{
    write(gic::Block::gicc, cpu, gic::gicc::dir, eoi_value(cpu, irq));
}

} // namespace fwdsim::host
