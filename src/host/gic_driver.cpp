// GicDriver: drivers/irqchip/irq-gic.c's role, through GIC registers only
// (offsets from ARM IHI 0048B, 4.3 and 4.4).
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/gic_driver.h>

#include <cerrno>

namespace fwdsim::host {

namespace {
// GICD (IHI 0048B table 4-1)
constexpr std::uint32_t GICD_CTLR = 0x000;
constexpr std::uint32_t GICD_ISENABLER = 0x100;
constexpr std::uint32_t GICD_ICENABLER = 0x180;
constexpr std::uint32_t GICD_ISPENDR = 0x200;
constexpr std::uint32_t GICD_ICPENDR = 0x280;
constexpr std::uint32_t GICD_ISACTIVER = 0x300;
constexpr std::uint32_t GICD_ICACTIVER = 0x380;
constexpr std::uint32_t GICD_IPRIORITYR = 0x400;
constexpr std::uint32_t GICD_ITARGETSR = 0x800;
constexpr std::uint32_t GICD_ICFGR = 0xc00;
// GICC (table 4-2)
constexpr std::uint32_t GICC_CTLR = 0x00;
constexpr std::uint32_t GICC_PMR = 0x04;
constexpr std::uint32_t GICC_IAR = 0x0c;
constexpr std::uint32_t GICC_EOIR = 0x10;
constexpr std::uint32_t GICC_DIR = 0x1000;
constexpr std::uint32_t GICC_CTLR_ENABLE = 1u << 0;
constexpr std::uint32_t GICC_CTLR_EOIMODE = 1u << 9;
constexpr std::uint32_t kSpurious = 1023;

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
    write(Block::gicd, 0, GICD_CTLR, 0);
    for (unsigned i = 32; i < n; i += 16) write(Block::gicd, 0, GICD_ICFGR + i / 4, 0); // level
    for (unsigned i = 32; i < n; i += 4) write(Block::gicd, 0, GICD_ITARGETSR + i, 0x01010101);
    const std::uint32_t prio4 = params_.default_priority * 0x01010101u;
    for (unsigned i = 32; i < n; i += 4) write(Block::gicd, 0, GICD_IPRIORITYR + i, prio4);
    for (unsigned i = 32; i < n; i += 32) {
        write(Block::gicd, 0, word(GICD_ICACTIVER, i), 0xffffffffu);
        write(Block::gicd, 0, word(GICD_ICENABLER, i), 0xffffffffu);
    }
    write(Block::gicd, 0, GICD_CTLR, 1);
    // gic_cpu_init, on every CPU interface: banked SGIs/PPIs, PMR, CTLR.
    for (unsigned c = 0; c < gic_.params().num_cpus; ++c) {
        write(Block::gicd, c, GICD_ICACTIVER, 0xffffffffu);
        write(Block::gicd, c, GICD_ICENABLER, 0xffff0000u); // PPIs off
        write(Block::gicd, c, GICD_ISENABLER, 0x0000ffffu); // SGIs on
        for (unsigned i = 0; i < 32; i += 4) write(Block::gicd, c, GICD_IPRIORITYR + i, prio4);
        write(Block::gicc, c, GICC_PMR, params_.priority_mask);
        write(Block::gicc, c, GICC_CTLR, GICC_CTLR_ENABLE | (params_.split_eoi ? GICC_CTLR_EOIMODE : 0));
    }
}

void GicDriver::wire_cpus(const std::vector<Cpu*>& cpus)
{
    cpus_ = cpus;
    gic_.add_irq_listener([this](unsigned cpu, bool level) {
        if (cpu < cpus_.size() && cpus_[cpu]) cpus_[cpu]->set_irq_line(level);
    });
}

void GicDriver::irq_mask(unsigned irq)
{
    write(gic::Block::gicd, accessing_cpu(), word(GICD_ICENABLER, irq), bit(irq));
}

void GicDriver::irq_unmask(unsigned irq)
{
    write(gic::Block::gicd, accessing_cpu(), word(GICD_ISENABLER, irq), bit(irq));
}

int GicDriver::irq_set_type(unsigned irq, IrqTrigger type)
{
    if (irq < 16 || irq >= nr_irqs()) return -EINVAL; // SGIs are always edge
    const unsigned cpu = accessing_cpu();
    const std::uint32_t off = GICD_ICFGR + 4 * (irq / 16);
    const std::uint32_t mask = 2u << (2 * (irq % 16));
    std::uint32_t v = read(gic::Block::gicd, cpu, off);
    v = type == IrqTrigger::edge ? (v | mask) : (v & ~mask);
    write(gic::Block::gicd, cpu, off, v);
    return 0;
}

int GicDriver::irq_set_affinity(unsigned irq, unsigned cpu)
{
    if (irq < 32 || irq >= nr_irqs() || cpu >= gic_.params().num_cpus || cpu >= 8) return -EINVAL;
    write(gic::Block::gicd, accessing_cpu(), GICD_ITARGETSR + irq, 1u << cpu, 1);
    return 0;
}

int GicDriver::irq_set_irqchip_state(unsigned irq, IrqchipState which, bool value)
{
    if (irq >= nr_irqs()) return -EINVAL;
    std::uint32_t base = 0;
    switch (which) {
    case IrqchipState::pending: base = value ? GICD_ISPENDR : GICD_ICPENDR; break;
    case IrqchipState::active: base = value ? GICD_ISACTIVER : GICD_ICACTIVER; break;
    case IrqchipState::masked: base = value ? GICD_ICENABLER : GICD_ISENABLER; break;
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
    case IrqchipState::pending: base = GICD_ISPENDR; break;
    case IrqchipState::active: base = GICD_ISACTIVER; break;
    case IrqchipState::masked: base = GICD_ISENABLER; break;
    case IrqchipState::line_level: return -EINVAL;
    }
    const bool set = (read(gic::Block::gicd, accessing_cpu(), word(base, irq)) & bit(irq)) != 0;
    value = which == IrqchipState::masked ? !set : set;
    return 0;
}

int GicDriver::acknowledge(unsigned cpu)
{
    const std::uint32_t iar = read(gic::Block::gicc, cpu, GICC_IAR);
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
    write(gic::Block::gicc, cpu, GICC_EOIR, eoi_value(cpu, irq));
}

void GicDriver::deactivate(unsigned cpu, unsigned irq)
{
    write(gic::Block::gicc, cpu, GICC_DIR, eoi_value(cpu, irq));
}

} // namespace fwdsim::host
