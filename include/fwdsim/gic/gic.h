// Gic: the physical GICv2 with the virtualization extensions (ARM IHI 0048B).
//
// One object models the whole interrupt controller: the distributor (GICD),
// one CPU interface per CPU (GICC), and per CPU the virtual interface
// control block (GICH, with its list registers) and the virtual CPU
// interface (GICV) that the list registers feed.  Software reaches it only
// through 32-bit or byte register accesses, as the hardware is reached;
// devices reach it through input lines; CPUs see it through their nIRQ,
// nFIQ and nVIRQ outputs.  Register accesses take effect at the simulated time they
// are made and report their cost so the caller can charge it to the CPU that
// made them; propagation from an input line to an output line takes the
// profile's propagation cycles and happens as scheduled events.
#pragma once

#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/cycles.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/param.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace fwdsim::gic {

/// The four register blocks.  GICH and GICV accesses are always those of the
/// accessing CPU (the architecture's "as seen by that CPU" view).
enum class Block { gicd, gicc, gich, gicv };

/// QEMU virt's physical memory map for the GIC, used by the script drivers.
struct MemoryMap {
    static constexpr std::uint64_t gicd_base = 0x0800'0000;
    static constexpr std::uint64_t gicc_base = 0x0801'0000;
    static constexpr std::uint64_t gich_base = 0x0803'0000;
    static constexpr std::uint64_t gicv_base = 0x0804'0000;
    static constexpr std::uint64_t block_size = 0x1'0000;
};

/// Implementation-defined choices; defaults are GIC-400's.
struct GicParams {
    unsigned num_irqs = 256;      ///< interrupt IDs, multiple of 32, 32..1020 (TYPER.ITLinesNumber)
    unsigned num_cpus = 1;        ///< CPU interfaces, 1..8
    unsigned num_lrs = 4;         ///< list registers per CPU, 1..64
    unsigned priority_bits = 5;   ///< implemented priority bits, 4..8
    std::uint32_t iidr = 0x0200143B; ///< GICD_IIDR / GICC_IIDR value (GIC-400)
};

// The scenario keys of GicParams (machine::param_table()); the constructor
// holds a GicParams to the same ranges.
inline constexpr sim::Param kParamCpus{.key = "host.cpus", .fallback = "2",
    .description = "physical CPUs, one GICv2 CPU interface each (CPU 0 is the host's)",
    .ranged = true, .min = 1, .max = 8, .note = "a GICv2 has 8 CPU interfaces"};
inline constexpr sim::Param kParamIrqs{.key = "gic.irqs", .fallback = "256",
    .description = "interrupt IDs the distributor implements (GICD_TYPER.ITLinesNumber)",
    .ranged = true, .min = 32, .max = 1020, .multiple_of = 32, .exception = 1020};
inline constexpr sim::Param kParamLrs{.key = "gic.lrs", .fallback = "4",
    .description = "list registers per virtual CPU interface (GICH_VTR.ListRegs)", .ranged = true, .min = 1, .max = 64};
inline constexpr sim::Param kParamPriorityBits{.key = "gic.priority_bits", .fallback = "5",
    .description = "implemented priority bits", .ranged = true, .min = 4, .max = 8};

/// Cycle costs, read once from a cost profile (keys "gic.*").
struct GicCosts {
    sim::Cycles line_to_distributor{};
    sim::Cycles distributor_to_cpuif{};
    sim::Cycles cpuif_to_irq{};
    sim::Cycles gicd_access{};
    sim::Cycles gicc_access{};
    sim::Cycles gich_access{};
    sim::Cycles gicv_access{};
    sim::Cycles lr_update_to_virq{};

    static GicCosts from_profile(const sim::CostProfile& profile);
};

/// Receives the edges of a CPU's output line (nIRQ or nVIRQ).
using LineListener = std::function<void(unsigned cpu, bool level)>;

/// Which edges a listener is told of.  One that takes rises only reads the
/// line (irq_line, virq_line) when it needs the level; when every listener
/// of an output does, the output falls without an event of its own (it is
/// settled when next read or changed; docs/gic.md).
enum class LineEdges { both, rising };

class Gic {
public:
    Gic(sim::EventQueue& queue, const GicParams& params, const GicCosts& costs);
    ~Gic();
    Gic(const Gic&) = delete;
    Gic& operator=(const Gic&) = delete;

    const GicParams& params() const;

    // --- register interface ------------------------------------------------
    /// A read of `size` bytes (4, or 1 where the register allows byte access)
    /// at `offset` within `block`, made by CPU `cpu`.  Reads have side effects
    /// where the architecture says so (IAR acknowledges).
    std::uint32_t read(Block block, unsigned cpu, std::uint32_t offset, unsigned size = 4);
    void write(Block block, unsigned cpu, std::uint32_t offset, std::uint32_t value, unsigned size = 4);
    /// What one access to `block` costs the accessing CPU.
    sim::Cycles access_cost(Block block) const;

    // --- input lines -------------------------------------------------------
    void set_spi_level(unsigned intid, bool level);           ///< intid 32..num_irqs-1
    void set_ppi_level(unsigned cpu, unsigned intid, bool level); ///< intid 16..31

    // --- output lines ------------------------------------------------------
    /// Physical nIRQ of each CPU.
    void add_irq_listener(LineListener listener, LineEdges edges = LineEdges::both);
    /// Virtual nVIRQ (GICV) of each CPU.
    void add_virq_listener(LineListener listener, LineEdges edges = LineEdges::both);
    /// Physical nFIQ of each CPU: group 0 interrupts while GICC_CTLR.FIQEn is
    /// set (3.6); every edge is told, after nIRQ's propagation delay.
    void add_fiq_listener(LineListener listener);
    bool irq_line(unsigned cpu) const;
    bool fiq_line(unsigned cpu) const;
    bool virq_line(unsigned cpu) const;
    /// Virtual nFIQ: group 0 list registers while GICV_CTLR.FIQEn
    /// (GICH_VMCR.VFIQEn) is set.  A level read back, without listeners or
    /// a delay of its own: no model CPU takes virtual FIQs (docs/gic.md).
    bool vfiq_line(unsigned cpu) const;

    // --- inspection, free of side effects and cost (tests, invariants) -----
    bool is_pending(unsigned intid, unsigned cpu = 0) const;
    bool is_active(unsigned intid, unsigned cpu = 0) const;
    bool is_enabled(unsigned intid, unsigned cpu = 0) const;
    /// Whether the maintenance interrupt (PPI 25) is pending at `cpu`.
    bool maintenance_pending(unsigned cpu) const;
    /// The model keeps derived state for speed (the list registers' states
    /// as bit sets, each CPU interface's running priority, candidate set
    /// and the level its nVIRQ goes to).  This recomputes all of it from the
    /// registers: empty when it agrees, else what differs.  O(CPUs x IDs);
    /// for tests and invariants.
    std::string self_check() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace fwdsim::gic
