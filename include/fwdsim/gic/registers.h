// Register offsets and field layouts of the GICv2 (ARM IHI 0048B, chapter 4
// and section 5.3), named as the architecture names them.
//
// Everything that drives the GIC model through its registers -- the host
// GIC driver, the vgic, the guest, the script driver, tests -- uses these
// instead of bare numbers.
#pragma once

#include <fwdsim/gic/gicd_map.h>

#include <cstdint>

namespace fwdsim::gic {

// Distributor (4.3): the offsets are gicd_map.h's, which writes the map.
namespace gicd {
constexpr std::uint32_t offset_of(GicdRegister r) { return gicd_range(r).offset; }
constexpr std::uint32_t ctlr = offset_of(GicdRegister::ctlr);
constexpr std::uint32_t typer = offset_of(GicdRegister::typer);
constexpr std::uint32_t iidr = offset_of(GicdRegister::iidr);
constexpr std::uint32_t igroupr = offset_of(GicdRegister::igroupr);
constexpr std::uint32_t isenabler = offset_of(GicdRegister::isenabler);
constexpr std::uint32_t icenabler = offset_of(GicdRegister::icenabler);
constexpr std::uint32_t ispendr = offset_of(GicdRegister::ispendr);
constexpr std::uint32_t icpendr = offset_of(GicdRegister::icpendr);
constexpr std::uint32_t isactiver = offset_of(GicdRegister::isactiver);
constexpr std::uint32_t icactiver = offset_of(GicdRegister::icactiver);
constexpr std::uint32_t ipriorityr = offset_of(GicdRegister::ipriorityr);
constexpr std::uint32_t itargetsr = offset_of(GicdRegister::itargetsr);
constexpr std::uint32_t icfgr = offset_of(GicdRegister::icfgr);
constexpr std::uint32_t sgir = offset_of(GicdRegister::sgir);
constexpr std::uint32_t cpendsgir = offset_of(GicdRegister::cpendsgir);
constexpr std::uint32_t spendsgir = offset_of(GicdRegister::spendsgir);
constexpr std::uint32_t pidr4 = offset_of(GicdRegister::pidr); ///< identification registers
} // namespace gicd

// CPU interface (4.4); the virtual CPU interface GICV has the same layout (5.5).
namespace gicc {
constexpr std::uint32_t ctlr = 0x00;
constexpr std::uint32_t pmr = 0x04;
constexpr std::uint32_t bpr = 0x08;
constexpr std::uint32_t iar = 0x0C;
constexpr std::uint32_t eoir = 0x10;
constexpr std::uint32_t rpr = 0x14;
constexpr std::uint32_t hppir = 0x18;
constexpr std::uint32_t abpr = 0x1C;
constexpr std::uint32_t aiar = 0x20;
constexpr std::uint32_t aeoir = 0x24;
constexpr std::uint32_t ahppir = 0x28;
constexpr std::uint32_t apr0 = 0xD0;
constexpr std::uint32_t nsapr0 = 0xE0;
constexpr std::uint32_t iidr = 0xFC;
constexpr std::uint32_t dir = 0x1000;

constexpr std::uint32_t ctlr_enable_grp0 = 1u << 0;
constexpr std::uint32_t ctlr_enable_grp1 = 1u << 1;
constexpr std::uint32_t ctlr_ackctl = 1u << 2; ///< GICC_IAR/HPPIR may answer a group 1 interrupt
constexpr std::uint32_t ctlr_fiqen = 1u << 3;  ///< group 0 signalled on nFIQ
constexpr std::uint32_t ctlr_cbpr = 1u << 4;   ///< GICC_BPR splits group 1 priorities too
constexpr std::uint32_t ctlr_eoimode = 1u << 9;
} // namespace gicc

// Virtual interface control (5.3)
namespace gich {
constexpr std::uint32_t hcr = 0x00;
constexpr std::uint32_t vtr = 0x04;
constexpr std::uint32_t vmcr = 0x08;
constexpr std::uint32_t misr = 0x10;
constexpr std::uint32_t eisr0 = 0x20;
constexpr std::uint32_t eisr1 = 0x24;
constexpr std::uint32_t elrsr0 = 0x30;
constexpr std::uint32_t elrsr1 = 0x34;
constexpr std::uint32_t apr = 0xF0;
constexpr std::uint32_t lr0 = 0x100;

constexpr std::uint32_t hcr_en = 1u << 0;
constexpr std::uint32_t hcr_uie = 1u << 1;
constexpr std::uint32_t hcr_lrenpie = 1u << 2;
constexpr std::uint32_t hcr_npie = 1u << 3;
constexpr std::uint32_t hcr_vgrp0eie = 1u << 4;
constexpr std::uint32_t hcr_vgrp0die = 1u << 5;
constexpr std::uint32_t hcr_vgrp1eie = 1u << 6;
constexpr std::uint32_t hcr_vgrp1die = 1u << 7;
constexpr unsigned hcr_eoicount_shift = 27;

constexpr std::uint32_t misr_eoi = 1u << 0;
constexpr std::uint32_t misr_u = 1u << 1;
constexpr std::uint32_t misr_lrenp = 1u << 2;
constexpr std::uint32_t misr_np = 1u << 3;
constexpr std::uint32_t misr_vgrp0e = 1u << 4;
constexpr std::uint32_t misr_vgrp0d = 1u << 5;
constexpr std::uint32_t misr_vgrp1e = 1u << 6;
constexpr std::uint32_t misr_vgrp1d = 1u << 7;

// GICH_VMCR fields
constexpr std::uint32_t vmcr_veng0 = 1u << 0;
constexpr std::uint32_t vmcr_veng1 = 1u << 1;
constexpr std::uint32_t vmcr_vackctl = 1u << 2;
constexpr std::uint32_t vmcr_vfiqen = 1u << 3;
constexpr std::uint32_t vmcr_vcbpr = 1u << 4;
constexpr std::uint32_t vmcr_vem = 1u << 9;
constexpr unsigned vmcr_vabpr_shift = 18;
constexpr unsigned vmcr_vbpr_shift = 21;
constexpr unsigned vmcr_vpmr_shift = 27;
} // namespace gich

/// The maintenance interrupt: a PPI at the CPU whose GICH raised it.
constexpr unsigned maintenance_ppi = 25;
constexpr unsigned spurious_intid = 1023;
/// What GICC_IAR/HPPIR answer when the highest-priority pending interrupt is
/// group 1 and GICC_CTLR.AckCtl is clear (4.4.4, 4.4.8).
constexpr unsigned group1_withheld_intid = 1022;

/// A list register (5.3.14): bit layout and constructors.
struct ListRegister {
    enum class State : std::uint32_t { invalid = 0, pending = 1, active = 2, pending_active = 3 };

    std::uint32_t raw = 0;

    static constexpr std::uint32_t virtual_id_mask = 0x3FF;
    static constexpr unsigned physical_id_shift = 10;
    static constexpr std::uint32_t eoi_bit = 1u << 19;
    static constexpr unsigned cpuid_shift = 10;
    static constexpr unsigned priority_shift = 23;
    static constexpr unsigned state_shift = 28;
    static constexpr std::uint32_t grp1_bit = 1u << 30;
    static constexpr std::uint32_t hw_bit = 1u << 31;

    unsigned virtual_id() const { return raw & virtual_id_mask; }
    unsigned physical_id() const { return (raw >> physical_id_shift) & 0x3FF; }
    unsigned cpuid() const { return (raw >> cpuid_shift) & 0x7; }
    bool eoi() const { return !hw() && (raw & eoi_bit) != 0; }
    bool hw() const { return (raw & hw_bit) != 0; }
    bool grp1() const { return (raw & grp1_bit) != 0; }
    /// The 8-bit priority (LR holds its top five bits).
    unsigned priority() const { return ((raw >> priority_shift) & 0x1F) << 3; }
    State state() const { return static_cast<State>((raw >> state_shift) & 3); }
    void set_state(State s) { raw = (raw & ~(3u << state_shift)) | (static_cast<std::uint32_t>(s) << state_shift); }

    /// A software interrupt entry (HW=0); `eoi` asks for EOI maintenance.
    static ListRegister make_virtual(unsigned vintid, unsigned priority, State s, bool eoi, unsigned cpuid = 0)
    {
        ListRegister lr;
        lr.raw = (vintid & virtual_id_mask) | ((cpuid & 7u) << cpuid_shift) | (eoi ? eoi_bit : 0u) |
                 (((priority >> 3) & 0x1F) << priority_shift) | (static_cast<std::uint32_t>(s) << state_shift);
        return lr;
    }
    /// A hardware entry (HW=1): the guest's EOI deactivates `pintid`.
    static ListRegister make_hw(unsigned vintid, unsigned pintid, unsigned priority, State s)
    {
        ListRegister lr;
        lr.raw = (vintid & virtual_id_mask) | ((pintid & 0x3FF) << physical_id_shift) |
                 (((priority >> 3) & 0x1F) << priority_shift) | (static_cast<std::uint32_t>(s) << state_shift) | hw_bit;
        return lr;
    }
};

} // namespace fwdsim::gic
