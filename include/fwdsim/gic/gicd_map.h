// The distributor's register map (ARM IHI 0048B 4.1.2, Table 4-1), written
// once as a table of ranges.
//
// Every GICD register is either a single register or an array with one
// field of `bits_per_irq` bits per interrupt ID, the layout Linux's
// vgic-mmio-v2.c describes with its vgic_v2_dist_registers[] table.  Both
// distributors of fwdsim -- the physical GIC (src/gic/distributor.cpp) and
// KVM's emulated one in the vgic (src/arch/arm/vgic.cpp) -- decode an access
// through gicd_decode() and dispatch on the register it names; the offsets
// in registers.h (gicd::*) are read from this table, so the map is written
// nowhere else.  Each distributor keeps its own semantics per register.
#pragma once

#include <array>
#include <cstdint>

namespace fwdsim::gic {

/// The distributor's registers (4.3).
enum class GicdRegister : std::uint8_t {
    ctlr,
    typer,
    iidr,
    igroupr,
    isenabler,
    icenabler,
    ispendr,
    icpendr,
    isactiver,
    icactiver,
    ipriorityr,
    itargetsr,
    icfgr,
    sgir,
    cpendsgir,
    spendsgir,
    pidr, ///< the identification registers (implementation defined)
};

/// One register, or one array of registers, of the distributor.
struct GicdRange {
    GicdRegister reg;
    std::uint32_t offset;      ///< its first byte
    std::uint32_t length;      ///< bytes
    unsigned bits_per_irq;     ///< 0: not indexed by interrupt; else the width of each INTID's field
    const char* name;

    /// The first INTID whose field lies at `off` (an offset inside the range).
    constexpr unsigned intid_at(std::uint32_t off) const { return (off - offset) * 8 / bits_per_irq; }
};

/// The map: Table 4-1, reserved and implementation-defined gaps left out.
inline constexpr GicdRange gicd_ranges[] = {
    {GicdRegister::ctlr, 0x000, 4, 0, "GICD_CTLR"},
    {GicdRegister::typer, 0x004, 4, 0, "GICD_TYPER"},
    {GicdRegister::iidr, 0x008, 4, 0, "GICD_IIDR"},
    {GicdRegister::igroupr, 0x080, 0x80, 1, "GICD_IGROUPR"},
    {GicdRegister::isenabler, 0x100, 0x80, 1, "GICD_ISENABLER"},
    {GicdRegister::icenabler, 0x180, 0x80, 1, "GICD_ICENABLER"},
    {GicdRegister::ispendr, 0x200, 0x80, 1, "GICD_ISPENDR"},
    {GicdRegister::icpendr, 0x280, 0x80, 1, "GICD_ICPENDR"},
    {GicdRegister::isactiver, 0x300, 0x80, 1, "GICD_ISACTIVER"},
    {GicdRegister::icactiver, 0x380, 0x80, 1, "GICD_ICACTIVER"},
    {GicdRegister::ipriorityr, 0x400, 0x3FC, 8, "GICD_IPRIORITYR"},
    {GicdRegister::itargetsr, 0x800, 0x3FC, 8, "GICD_ITARGETSR"},
    {GicdRegister::icfgr, 0xC00, 0x100, 2, "GICD_ICFGR"},
    {GicdRegister::sgir, 0xF00, 4, 0, "GICD_SGIR"},
    {GicdRegister::cpendsgir, 0xF10, 0x10, 8, "GICD_CPENDSGIR"}, // a byte per SGI: its source CPUs
    {GicdRegister::spendsgir, 0xF20, 0x10, 8, "GICD_SPENDSGIR"},
    {GicdRegister::pidr, 0xFD0, 0x30, 0, "GICD_PIDR/CIDR"},
};

/// The size of the distributor's frame.
inline constexpr std::uint32_t gicd_frame_size = 0x1000;

/// The range of register `r`.
constexpr const GicdRange& gicd_range(GicdRegister r)
{
    for (const GicdRange& g : gicd_ranges) {
        if (g.reg == r) return g;
    }
    return gicd_ranges[0]; // unreachable: every register is in the table
}

namespace detail {
/// For each word of the frame, the index in gicd_ranges of the range that
/// holds it, or 0xFF: decoding is one load, whatever the table's length.
inline constexpr auto gicd_word_index = [] {
    std::array<std::uint8_t, gicd_frame_size / 4> index{};
    index.fill(0xFF);
    for (std::uint8_t i = 0; i < std::size(gicd_ranges); ++i) {
        const GicdRange& g = gicd_ranges[i];
        for (std::uint32_t off = g.offset; off < g.offset + g.length; off += 4) index[off / 4] = i;
    }
    return index;
}();
} // namespace detail

/// The range that byte offset `off` of the distributor falls in, or nullptr
/// (reserved, or beyond the frame).
inline const GicdRange* gicd_decode(std::uint32_t off)
{
    if (off >= gicd_frame_size) return nullptr;
    const std::uint8_t i = detail::gicd_word_index[off / 4];
    return i == 0xFF ? nullptr : &gicd_ranges[i];
}

} // namespace fwdsim::gic
