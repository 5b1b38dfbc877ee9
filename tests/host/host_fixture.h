// A one-CPU host on the fake irqchip: what most host and VFIO tests need.
#pragma once

#include "fake_irqchip.h"

#include <fwdsim/host/cpu.h>
#include <fwdsim/host/host_costs.h>
#include <fwdsim/host/irq_layer.h>
#include <fwdsim/host/this_cpu.h>
#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/event_queue.h>

namespace fwdsim::test {

struct HostFixture {
    explicit HostFixture(bool split = true)
        : costs(host::HostCosts::from_profile(sim::CostProfile::builtin_default())),
          chip(this_cpu, 64, split), irqs(chip, this_cpu), cpu(queue, this_cpu, costs, 0)
    {
        cpu.attach_irq_layer(irqs);
        chip.attach(cpu);
    }

    sim::EventQueue queue;
    host::ThisCpu this_cpu;
    host::HostCosts costs;
    FakeIrqchip chip;
    host::IrqLayer irqs;
    host::Cpu cpu;
};

} // namespace fwdsim::test
