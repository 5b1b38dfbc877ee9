// The distributor (GICD, IHI 0048B 4.3): its register file, decoded through
// the one register map (gicd_map.h).  Every register may be read or written
// by byte (a word access acts on its four bytes in ascending order, as QEMU
// also does), except GICD_SGIR, which acts only on word writes.
#include "gic_impl.h"

namespace fwdsim::gic {

std::uint32_t Gic::Impl::gicd_read(unsigned cpu, std::uint32_t off, unsigned size)
{
    const GicdRange* r = gicd_decode(off);
    if (r == nullptr) return 0; // reserved
    if (size == 1) return (gicd_read_word(cpu, *r, off & ~3u) >> (8 * (off & 3))) & 0xFF;
    return gicd_read_word(cpu, *r, off & ~3u);
}

/// The word at `off` of range `r`.  Reads have no side effects here, so a
/// byte read takes its byte of the word.
std::uint32_t Gic::Impl::gicd_read_word(unsigned cpu, const GicdRange& r, std::uint32_t off)
{
    const unsigned n = params.num_irqs;
    const unsigned first = r.bits_per_irq != 0 ? r.intid_at(off) : 0;
    auto bits = [&](auto pred) {
        std::uint32_t v = 0;
        for (unsigned i = 0; i < 32 && first + i < n; ++i) {
            if (pred(first + i)) v |= 1u << i;
        }
        return v;
    };
    auto bytes = [&](auto field) {
        std::uint32_t v = 0;
        for (unsigned i = 0; i < 4 && first + i < n; ++i) v |= std::uint32_t{field(first + i)} << (8 * i);
        return v;
    };
    switch (r.reg) {
    case GicdRegister::ctlr: return dist_ctlr;
    case GicdRegister::typer: return ((n / 32 - 1) & 0x1F) | ((params.num_cpus - 1) << 5);
    case GicdRegister::iidr: return params.iidr;
    case GicdRegister::igroupr: return bits([&](unsigned id) { return state(cpu, id)->group1; });
    case GicdRegister::isenabler:
    case GicdRegister::icenabler: return bits([&](unsigned id) { return state(cpu, id)->enabled; });
    case GicdRegister::ispendr:
    case GicdRegister::icpendr: return bits([&](unsigned id) { return pending(cpu, id); });
    case GicdRegister::isactiver:
    case GicdRegister::icactiver: return bits([&](unsigned id) { return state(cpu, id)->active; });
    case GicdRegister::ipriorityr: return bytes([&](unsigned id) { return state(cpu, id)->priority; });
    case GicdRegister::itargetsr:
        if (params.num_cpus == 1) return 0; // uniprocessor: RAZ/WI
        return bytes([&](unsigned id) -> std::uint8_t {
            // SGIs and PPIs read the accessing CPU's own bit.
            return id < kBanked ? static_cast<std::uint8_t>(1u << cpu) : spis[id - kBanked].targets;
        });
    case GicdRegister::icfgr: {
        std::uint32_t v = 0;
        for (unsigned i = 0; i < 16 && first + i < n; ++i) {
            if (state(cpu, first + i)->edge) v |= 2u << (2 * i);
        }
        return v;
    }
    case GicdRegister::sgir: return 0; // write-only
    case GicdRegister::cpendsgir:
    case GicdRegister::spendsgir: {
        const auto& src = cpus[cpu].sgi_sources;
        return std::uint32_t{src[first]} | std::uint32_t{src[first + 1]} << 8 | std::uint32_t{src[first + 2]} << 16 |
               std::uint32_t{src[first + 3]} << 24;
    }
    case GicdRegister::pidr: {
        // Identification registers, values of the GIC-400 (one byte in each word).
        static constexpr std::uint8_t ids[] = {0x04, 0x00, 0x00, 0x00, 0x90, 0xB4, 0x2B, 0x00, 0x0D, 0xF0, 0x05, 0xB1};
        return ids[(off - r.offset) / 4];
    }
    }
    return 0;
}

void Gic::Impl::gicd_write(unsigned cpu, std::uint32_t off, std::uint32_t v, unsigned size)
{
    const GicdRange* r = gicd_decode(off);
    if (r == nullptr) return; // reserved
    if (size == 4) off &= ~3u;
    switch (r->reg) {
    case GicdRegister::ctlr:
        if (off != r->offset) return; // bits [31:8]: reserved
        dist_ctlr = v & 3u;           // EnableGrp0, EnableGrp1
        refresh_all();
        return;
    case GicdRegister::isenabler:
    case GicdRegister::icenabler:
    case GicdRegister::ispendr:
    case GicdRegister::icpendr:
    case GicdRegister::isactiver:
    case GicdRegister::icactiver:
        // A byte passes in place within its word.
        gicd_write_bits(cpu, r->reg, r->intid_at(off & ~3u), size == 4 ? v : (v & 0xFF) << (8 * (off & 3)));
        return;
    case GicdRegister::sgir:
        if (size == 4) write_sgir(cpu, v);
        return;
    case GicdRegister::igroupr:
    case GicdRegister::ipriorityr:
    case GicdRegister::itargetsr:
    case GicdRegister::icfgr:
    case GicdRegister::cpendsgir:
    case GicdRegister::spendsgir: gicd_write_fields(cpu, *r, off, v, size); return;
    case GicdRegister::typer:
    case GicdRegister::iidr:
    case GicdRegister::pidr: return; // read-only
    }
}

/// A write to the per-interrupt fields of `r` from `off`: each INTID's field
/// in ascending order, each change filed before the next.
void Gic::Impl::gicd_write_fields(unsigned cpu, const GicdRange& r, std::uint32_t off, std::uint32_t v, unsigned size)
{
    const unsigned n = params.num_irqs;
    const unsigned first = r.intid_at(off);
    const unsigned count = 8 * size / r.bits_per_irq;
    const std::uint32_t field_mask = (1u << r.bits_per_irq) - 1;
    for (unsigned i = 0; i < count; ++i) {
        const unsigned id = first + i;
        const std::uint32_t f = (v >> (r.bits_per_irq * i)) & field_mask;
        switch (r.reg) {
        case GicdRegister::igroupr:
            if (id >= n) continue;
            state(cpu, id)->group1 = f != 0;
            break;
        case GicdRegister::ipriorityr:
            if (id >= n) continue;
            state(cpu, id)->priority = static_cast<std::uint8_t>(f & prio_mask);
            break;
        case GicdRegister::itargetsr:
            // SGIs' and PPIs' targets are read-only; uniprocessor: RAZ/WI.
            if (id < kBanked || id >= n || params.num_cpus == 1) continue;
            spis[id - kBanked].targets = static_cast<std::uint8_t>(f & ((1u << params.num_cpus) - 1));
            break;
        case GicdRegister::icfgr:
            if (id < kSgis || id >= n) continue; // SGIs are always edge
            state(cpu, id)->edge = (f & 2u) != 0;
            break;
        case GicdRegister::cpendsgir:
            cpus[cpu].sgi_sources[id] = static_cast<std::uint8_t>(cpus[cpu].sgi_sources[id] & ~f);
            break;
        case GicdRegister::spendsgir:
            cpus[cpu].sgi_sources[id] |= static_cast<std::uint8_t>(f & ((1u << params.num_cpus) - 1));
            break;
        default: return;
        }
        changed(cpu, id);
    }
}

/// The set/clear registers ISENABLER..ICACTIVER: each set bit of `v` acts
/// on its interrupt from `first` up, in ascending order.  A word at a
/// time, since the host's masking writes one bit of one word on every
/// interrupt.
void Gic::Impl::gicd_write_bits(unsigned cpu, GicdRegister reg, unsigned first, std::uint32_t v)
{
    for (; v != 0; v &= v - 1) {
        const unsigned id = first + static_cast<unsigned>(std::countr_zero(v));
        if (id >= params.num_irqs) return; // so are the rest
        IrqState& s = *state(cpu, id);
        switch (reg) {
        case GicdRegister::isenabler: s.enabled = true; break;
        // SGIs' enables are RAO/WI, their pending state is SPENDSGIR's.
        case GicdRegister::icenabler:
            if (id >= kSgis) s.enabled = false;
            break;
        case GicdRegister::ispendr:
            if (id >= kSgis) s.latch = true;
            break;
        case GicdRegister::icpendr:
            if (id >= kSgis) s.latch = false;
            break;
        case GicdRegister::isactiver: s.active = true; break;
        case GicdRegister::icactiver: s.active = false; break;
        default: return;
        }
        changed(cpu, id);
    }
}

void Gic::Impl::write_sgir(unsigned cpu, std::uint32_t v)
{
    const unsigned sgi = v & 0xF;
    const unsigned filter = (v >> 24) & 3;
    const std::uint8_t all = static_cast<std::uint8_t>((1u << params.num_cpus) - 1);
    std::uint8_t targets = 0;
    switch (filter) {
    case 0: targets = static_cast<std::uint8_t>((v >> 16) & all); break;
    case 1: targets = static_cast<std::uint8_t>(all & ~(1u << cpu)); break;
    case 2: targets = static_cast<std::uint8_t>(1u << cpu); break;
    default: return; // reserved filter
    }
    for (unsigned t = 0; t < params.num_cpus; ++t) {
        if (targets >> t & 1u) {
            cpus[t].sgi_sources[sgi] |= static_cast<std::uint8_t>(1u << cpu);
            changed(t, sgi);
        }
    }
}

} // namespace fwdsim::gic
