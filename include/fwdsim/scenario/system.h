// System: a whole simulated machine built from a ScenarioConfig -- the
// physical GIC and CPUs, the host kernel (IRQ layer, VFIO, KVM with the
// kvm-vfio device), the physical devices and their traffic, one VMM per VM
// and a guest per vCPU -- and the measurements of one run.
//
// This is the system-builder interface: fill a ScenarioConfig (or load one
// from a file), construct a System, start() it, run_for() as long as you
// like, and report().  start() has each VMM set its VM up and every device
// IRQ up for its delivery mode with the real call sequences, then starts
// the vCPUs and the traffic; the VMM's mode switches and its kill are
// scheduled at their times.  Everything runs on one event queue, so the
// same configuration and seed give the same run, bit for bit.
#pragma once

#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/results.h>
#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/trace.h>

#include <memory>
#include <string>
#include <vector>

namespace fwdsim::scenario {

class System {
public:
    /// Builds the machine.  Throws sim::ConfigError naming the field for a
    /// configuration it cannot build (an unknown VM, a bad IRQ number).
    System(const ScenarioConfig& config, const sim::CostProfile& profile, sim::Tracer* tracer = nullptr);
    ~System();
    System(const System&) = delete;
    System& operator=(const System&) = delete;

    /// Sets everything up and starts it (at the current time).
    void start();
    /// Runs the simulation for `duration` more cycles.
    void run_for(sim::Cycles duration);
    /// Microseconds of simulated time in cycles of this system's clock.
    sim::Cycles us(double micros) const;

    /// SIGKILL to VM `vm`'s VMM now; its files close in an order drawn
    /// from the seed.
    void kill_vmm(const std::string& vm, std::uint64_t close_order_seed = 0);
    /// A fresh VMM for `vm` (after a kill): the same devices, delivery
    /// modes and a freshly booted guest.
    void restart_vmm(const std::string& vm);
    /// The VMM switches "<device>.<irq>" to `mode` now (the real teardown
    /// and set-up calls, on a running interrupt).
    void set_delivery(const std::string& irq, DeliveryMode mode);
    /// Guest handler runs that found the device with nothing to service:
    /// one device assertion handled twice.
    std::uint64_t spurious_services(const std::string& irq) const;
    /// The device behind "<device>.<irq>" raises one event now (scripted
    /// stimulus, beside or instead of its traffic).
    void raise(const std::string& irq);
    /// Where interrupt "<device>.<irq>" is right now, in one line: the
    /// device line, the physical GIC (pending/active/enabled), VFIO's mask,
    /// whether a trigger eventfd is set and whether VFIO's mode is forwarded,
    /// the virtual interrupt (pending/active), the first vCPU's state and its
    /// exits by reason -- for event-by-event tests and debugging.
    std::string observe(const std::string& irq) const;
    /// The guest on vCPU `vcpu` of VM `vm` writes `value` to its
    /// distributor's register at `offset` (GICD_*: a trapped access, emulated
    /// by the vgic now -- as its exit would, halting a vCPU that holds an
    /// interrupt it changes).  Scripted stimulus for tests, beside the
    /// guest model's own boot writes.  Returns false when the VM or its
    /// vgic is not there.
    bool guest_gicd_write(const std::string& vm, unsigned vcpu, std::uint32_t offset, std::uint32_t value);
    /// Interrupts of "<device>.<irq>" the guest has serviced since start.
    std::uint64_t delivered(const std::string& irq) const;

    sim::EventQueue& events();
    /// Measurements since the warm-up ended (or since start without one).
    RunResult report() const;
    /// design.md §5's invariants that are broken now; empty when all hold.
    std::vector<std::string> check() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Refuses (sim::ConfigError naming the file, line and key) a scenario
/// whose machine cannot be wired: interrupts a device kind cannot have, two
/// devices on one host IRQ or one guest IRQ, INTx beside MSI-X on one PCI
/// device, a timer on the vgic maintenance PPI, a switch of an interrupt
/// that is not there, an unreadable traffic trace.  System's constructor
/// calls it; a sweep calls it for every point before running any.
void validate_system(const ScenarioConfig& config);

/// Builds, runs for the configured duration and reports one scenario.
RunResult run_scenario(const ScenarioConfig& config, sim::Tracer* tracer = nullptr);
/// The same under a given cost profile instead of the one the scenario names.
RunResult run_scenario(const ScenarioConfig& config, const sim::CostProfile& profile, sim::Tracer* tracer = nullptr);

/// The cost profile a scenario names ("default", or a file path); a key the
/// model does not read (a misspelt primitive) is refused, naming its line.
sim::CostProfile load_profile(const ScenarioConfig& config);

} // namespace fwdsim::scenario
