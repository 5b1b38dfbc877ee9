// KvmHost: the wiring of a host with KVM.  See include/fwdsim/kvm/kvm_host.h.
#include <fwdsim/kvm/kvm_host.h>

namespace fwdsim::kvm {

KvmHost::KvmHost(sim::EventQueue& events, const sim::CostProfile& profile, const KvmHostParams& params)
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
    kvm = std::make_unique<Kvm>(KvmEnv{events, *gic, *irqs, this_cpu, KvmCosts::from_profile(profile),
                                       arch::VgicCosts::from_profile(profile), params.tracer, nullptr, nullptr,
                                       host_costs},
                                raw, params.arch);
}

} // namespace fwdsim::kvm
