// HostBoard: the wiring of a host with KVM.  See include/fwdsim/machine/host_board.h.
#include <fwdsim/machine/host_board.h>

namespace fwdsim::machine {

HostBoard::HostBoard(sim::EventQueue& events, const sim::CostProfile& profile, const HostBoardParams& params)
    : host_costs(host::HostCosts::from_profile(profile))
{
    gic = std::make_unique<gic::Gic>(events, params.gic, gic::GicCosts::from_profile(profile));
    driver = std::make_unique<host::GicDriver>(*gic, this_cpu, params.driver);
    driver->init();
    irqs = std::make_unique<host::IrqLayer>(*driver, this_cpu);
    std::vector<host::Cpu*> raw;
    for (unsigned i = 0; i < params.gic.num_cpus; ++i) {
        cpus.push_back(std::make_unique<host::Cpu>(events, this_cpu, host_costs, i, params.tracer));
        cpus.back()->attach_irq_layer(*irqs);
        raw.push_back(cpus.back().get());
    }
    driver->wire_cpus(raw);
    kvm = std::make_unique<kvm::Kvm>(kvm::KvmEnv{events, *gic, *irqs, this_cpu, kvm::KvmCosts::from_profile(profile),
                                       arch::VgicCosts::from_profile(profile), params.tracer, nullptr, nullptr,
                                       host_costs},
                                raw, params.arch);
}

} // namespace fwdsim::machine
