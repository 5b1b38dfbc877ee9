// ThisCpu: which physical CPU is executing kernel code right now, and where
// the cycles that code costs are charged (Linux's `current` / this_cpu).
//
// Kernel services (the IRQ layer, the GIC driver, VFIO's handlers, KVM's
// irqfd callbacks) run inside a step of some host::Cpu.  They call charge()
// for the work they do (a GIC register access, an eventfd signal); the Cpu
// executing the step adds it to the step, so later work on that CPU is
// delayed by it.  Code run outside any CPU (a test, a setup phase) charges
// nothing to a CPU: the cycles are kept in unattributed() so they are still
// visible.  It touches nothing else.
#pragma once

#include <fwdsim/sim/cycles.h>

namespace fwdsim::host {

class Cpu;

class ThisCpu {
public:
    /// The CPU executing now, or null outside any CPU step.
    Cpu* current() const { return current_; }
    /// Charges `c` to the step now executing (or to unattributed()).
    void charge(sim::Cycles c)
    {
        if (current_) step_charge_ += c;
        else unattributed_ += c;
    }
    sim::Cycles unattributed() const { return unattributed_; }
    /// What the step now executing has charged so far: an effect of the
    /// code running now takes place this long after the step's start
    /// (charge, then act: Cpu::after_charged).  Zero outside any CPU.
    sim::Cycles charged() const { return current_ ? step_charge_ : sim::Cycles{}; }

    // --- used by host::Cpu only --------------------------------------------
    /// Makes `cpu` current; returns what was current before, for restore().
    struct Saved {
        Cpu* cpu;
        sim::Cycles charge;
    };
    Saved enter(Cpu* cpu)
    {
        Saved s{current_, step_charge_};
        current_ = cpu;
        step_charge_ = sim::Cycles{};
        return s;
    }
    /// Leaves the CPU's step; returns what the step was charged.
    sim::Cycles leave(Saved s)
    {
        sim::Cycles c = step_charge_;
        current_ = s.cpu;
        step_charge_ = s.charge;
        return c;
    }

private:
    Cpu* current_ = nullptr;
    sim::Cycles step_charge_{};
    sim::Cycles unattributed_{};
};

} // namespace fwdsim::host
