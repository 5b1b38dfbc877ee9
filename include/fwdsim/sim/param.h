// Param: one configuration key -- its name, unit, default, range and a line
// saying what it is for.
//
// A component declares the keys it takes beside its own parameter struct
// (as gem5's Param.* and Ramulator 2's param<>() do): gic::kParamIrqs next to
// GicParams, arch::kParamVgicIrqs next to the vgic.  machine::param_table()
// lists them all, in the order a scenario file gives them.  The scenario
// reader, the vmm-script options and the command line's overrides fill
// values; machine::validate() holds each value to its Param once, and
// `fwdsim params` and docs/scenario-format.md print the table.  A Param
// holds the range a value has on its own; what a value owes another key (an
// SPI below gic.irqs) is the validator's, and `rule` says it in words.
#pragma once

#include <limits>
#include <string>
#include <string_view>

namespace fwdsim::sim {

struct Param {
    std::string_view key{};       ///< the scenario path: gic.irqs, vms[].irqs, devices[].irqs[].host_irq
    std::string_view unit{};      ///< empty for a count, a name or a choice; else cycles, us, Hz, per s
    std::string_view fallback{};  ///< the default as written, or "required"
    std::string_view description{}; ///< one line
    bool ranged = false;          ///< a number held to min..max (below)
    bool real = false;            ///< a real number (else an integer)
    double min = 0;
    double max = std::numeric_limits<double>::infinity();
    bool above_min = false;       ///< min itself is refused
    unsigned multiple_of = 0;     ///< 0: any value in the range
    double exception = -1;        ///< one more value allowed though no multiple (1020); < 0: none
    std::string_view note{};      ///< why the range is what it is, said with a refusal
    std::string_view rule{};      ///< what the value owes other keys, checked by the validator

    /// What is wrong with `value` by its own range (empty: nothing).
    std::string problem(double value) const;
    /// The range in words: "1..64", "a multiple of 32 in 32..1020, or 1020".
    std::string range() const;
};

/// `value` as a person writes it: an integer without a fraction, 2^N for
/// a large power of two, else the shortest decimal form.
std::string param_number(double value);

} // namespace fwdsim::sim
