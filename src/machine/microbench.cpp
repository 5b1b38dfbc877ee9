// The microbenchmarks' machines.  See include/fwdsim/machine/microbench.h
// and docs/calibration.md.
#include <fwdsim/machine/microbench.h>

#include <fwdsim/gic/registers.h>
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/process.h>
#include <fwdsim/host/user_thread.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/kvm/vgic_device.h>
#include <fwdsim/kvm/vm.h>
#include <fwdsim/machine/host_board.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <stdexcept>

namespace fwdsim::machine {

namespace {

constexpr sim::Cycles kSettle = guest::MicrobenchGuest::kSettle;
constexpr sim::Cycles kLongGap = guest::MicrobenchGuest::kLongGap;
constexpr sim::Cycles kChunk = guest::MicrobenchGuest::kChunk;
constexpr unsigned kSpi = 48;                 ///< the I/O benchmarks' interrupt (GSI 16)
constexpr std::uint64_t kNotifyAddr = 0x0a003050; ///< a virtio-mmio QueueNotify register

/// A host with a GIC, `ncpus` CPUs, the IRQ layer and KVM, and a VMM
/// process to hold the files.  Members are destroyed in reverse: the
/// process's files close (VMs go) before KVM and the CPUs.
struct Machine {
    Machine(const sim::CostProfile& profile, unsigned ncpus) : hw(events, profile, params(ncpus))
    {
        check(hw.kvm->init(), "kvm init");
    }

    static machine::HostBoardParams params(unsigned ncpus)
    {
        machine::HostBoardParams p;
        p.gic.num_cpus = ncpus;
        p.gic.num_irqs = 96;
        return p;
    }

    static void check(int err, const char* what)
    {
        if (err < 0) throw std::runtime_error(std::string("microbench: ") + what + " failed: errno " + std::to_string(-err));
    }

    /// A VM with a vgic-v2 and `nvcpus` vCPUs; returns its VM fd.
    int make_vm(unsigned nvcpus, std::vector<int>& vcpu_fds)
    {
        const int vm_fd = hw.kvm->create_vm(vmm);
        check(vm_fd, "KVM_CREATE_VM");
        const int vgic_fd = hw.kvm->create_device(vmm, vm_fd, kvm::kDevTypeArmVgicV2);
        check(vgic_fd, "KVM_CREATE_DEVICE");
        std::uint32_t n = 96;
        check(hw.kvm->set_device_attr(vmm, vgic_fd, kvm::DeviceAttr{0, kvm::kVgicGrpNrIrqs, 0, {reinterpret_cast<std::uint8_t*>(&n), sizeof n}}),
              "vgic nr_irqs");
        // The virt board's GIC frames (KVM_RUN needs both bases set).
        for (auto [type, base] : {std::pair{kvm::kVgicV2AddrTypeDist, std::uint64_t{0x08000000}},
                                  std::pair{kvm::kVgicV2AddrTypeCpu, std::uint64_t{0x08010000}}}) {
            check(hw.kvm->set_device_attr(vmm, vgic_fd, kvm::DeviceAttr{0, kvm::kVgicGrpAddr, type, {reinterpret_cast<std::uint8_t*>(&base), sizeof base}}),
                  "vgic address");
        }
        for (unsigned id = 0; id < nvcpus; ++id) {
            const int fd = hw.kvm->create_vcpu(vmm, vm_fd, id);
            check(fd, "KVM_CREATE_VCPU");
            vcpu_fds.push_back(fd);
            const std::uint32_t features[7] = {1u << 2, 0, 0, 0, 0, 0, 0}; // PSCI 0.2
            check(hw.kvm->vcpu_init(vmm, fd, 5 /* KVM_ARM_TARGET_GENERIC_V8 */, features), "KVM_ARM_VCPU_INIT");
        }
        check(hw.kvm->set_device_attr(vmm, vgic_fd, kvm::DeviceAttr{0, kvm::kVgicGrpCtrl, kvm::kVgicCtrlInit, {}}), "vgic init");
        return vm_fd;
    }
    kvm::Vm& vm(int vm_fd) { return host::file_cast<kvm::VmFile>(vmm.peek(vm_fd))->vm(); }
    kvm::Vcpu& vcpu(int fd) { return host::file_cast<kvm::VcpuFile>(vmm.peek(fd))->vcpu(); }

    /// Runs until `done` or `limit` cycles have passed.
    template <class Done>
    void run(Done done, sim::Cycles limit = sim::Cycles{400'000'000})
    {
        const sim::Cycles end = events.now() + limit;
        while (!done() && events.now() < end) events.run_until(events.now() + sim::Cycles{100'000});
    }

    sim::EventQueue events;
    machine::HostBoard hw;
    host::Process vmm{"microbench-vmm"};
};

using guest::MicrobenchGuest;
using Role = MicrobenchGuest::Role;
using BootWrite = MicrobenchGuest::BootWrite;

std::vector<BootWrite> dist_on() { return {{gic::gicd::ctlr, 1u}}; }

/// The I/O benchmarks' SPI: edge (an irqfd without resampling), targeted at
/// vCPU 0, enabled; then the distributor on.
std::vector<BootWrite> spi_boot()
{
    namespace d = gic::gicd;
    return {{d::icfgr + 4 * (kSpi / 16), 2u << (2 * (kSpi % 16))},
            {d::itargetsr + kSpi, 1u},
            {d::isenabler + 4 * (kSpi / 32), 1u << (kSpi % 32)},
            {d::ctlr, 1u}};
}

} // namespace

double MicrobenchResult::mean() const
{
    if (samples.empty()) return 0.0;
    return static_cast<double>(std::accumulate(samples.begin(), samples.end(), std::uint64_t{0})) / static_cast<double>(samples.size());
}
std::uint64_t MicrobenchResult::min() const { return samples.empty() ? 0 : *std::min_element(samples.begin(), samples.end()); }
std::uint64_t MicrobenchResult::max() const { return samples.empty() ? 0 : *std::max_element(samples.begin(), samples.end()); }

MicrobenchResult run_microbench(Microbench kind, const sim::CostProfile& profile, unsigned iterations)
{
    MicrobenchResult r;
    r.kind = kind;
    MicrobenchGuest::Shared shared;
    shared.samples = &r.samples;
    shared.wanted = iterations;
    const guest::GuestCosts gc = guest::GuestCosts::from_profile(profile);
    const bool two_vcpus = kind == Microbench::virtual_ipi;
    Machine m(profile, two_vcpus ? 3 : 2);
    if (kind == Microbench::vm_switch) m.hw.kvm->set_pinning([](unsigned) { return 1u; });
    std::vector<int> fds;
    const int vm_fd = m.make_vm(two_vcpus ? 2 : 1, fds);
    std::vector<std::unique_ptr<MicrobenchGuest>> guests;
    auto add = [&](int fd, Role role, std::vector<BootWrite> boot, std::uint64_t addr = 0) {
        guests.push_back(std::make_unique<MicrobenchGuest>(m.vcpu(fd), gc, role, shared, std::move(boot), addr));
    };
    std::unique_ptr<host::UserThread> thread;
    host::EventfdCtxRef ctx;
    // The back end (a host thread on CPU 0) signals the irqfd's eventfd:
    // eventfd_signal's work, then the wake-up of the irqfd (charge, then act).
    host::Work signal_work("microbench: eventfd_signal", [&] { ctx->signal(); });
    sim::FunctionEvent signal_event([&] {
        shared.t0 = m.events.now();
        (void)m.hw.cpus[0]->submit(signal_work, m.hw.host_costs.eventfd_signal);
    }, "microbench.signal");

    switch (kind) {
    case Microbench::hypercall: add(fds[0], Role::hypercall, dist_on()); break;
    case Microbench::gicd_trap: add(fds[0], Role::gicd_read, dist_on()); break;
    case Microbench::virq_completion: add(fds[0], Role::self_sgi, dist_on()); break;
    case Microbench::virtual_ipi:
        add(fds[0], Role::ipi_sender, dist_on());
        add(fds[1], Role::irq_busy, {});
        break;
    case Microbench::io_out: {
        const int efd = host::eventfd_create(m.vmm);
        Machine::check(efd, "eventfd");
        Machine::check(m.vm(vm_fd).ioeventfd(m.vmm, efd, kNotifyAddr), "KVM_IOEVENTFD");
        Machine::check(host::eventfd_ctx_fdget(m.vmm, efd, ctx), "eventfd_ctx_fdget");
        // The back end's thread on CPU 0, asleep on the eventfd (vhost's worker).
        thread = std::make_unique<host::UserThread>(*m.hw.cpus[0], host::HostCosts::from_profile(profile), "io back end");
        thread->wait(ctx, [&](std::uint64_t) { shared.record(m.events.now() - shared.t0); });
        add(fds[0], Role::mmio_notify, dist_on(), kNotifyAddr);
        break;
    }
    case Microbench::io_in:
    case Microbench::io_in_running: {
        const int efd = host::eventfd_create(m.vmm);
        Machine::check(efd, "eventfd");
        Machine::check(m.hw.kvm->irqfd(m.vmm, vm_fd, efd, kSpi - kvm::spi_intid(0), 0, -1), "KVM_IRQFD");
        Machine::check(host::eventfd_ctx_fdget(m.vmm, efd, ctx), "eventfd_ctx_fdget");
        add(fds[0], kind == Microbench::io_in ? Role::irq_idle : Role::irq_busy, spi_boot());
        shared.after_sample = [&] {
            if (!shared.done()) m.events.schedule(signal_event, m.events.now() + kLongGap);
        };
        m.events.schedule(signal_event, kSettle);
        break;
    }
    case Microbench::vm_switch: {
        // A second VM whose one vCPU shares physical CPU 1 with the first;
        // both loop on the counter and the host's time slice alternates them.
        (void)m.make_vm(1, fds);
        add(fds[0], Role::counter_loop, dist_on());
        add(fds[1], Role::counter_loop, dist_on());
        guests[0]->watch_peer(m.vcpu(fds[1]));
        guests[1]->watch_peer(m.vcpu(fds[0]));
        break;
    }
    }
    for (int fd : fds) Machine::check(m.hw.kvm->run(m.vmm, fd), "KVM_RUN");
    // One sample per switch, one switch per time slice.
    const sim::Cycles slice = profile.get("host.sched_slice") + kChunk;
    const sim::Cycles limit{std::max<std::uint64_t>(400'000'000, 2 * (iterations + 4) * slice.count())};
    m.run([&] { return shared.done(); }, limit);
    for (const auto& g : guests) r.exits_in_window += g->exits_in_window();
    for (const auto& cpu : m.hw.cpus) r.context_switches += cpu->context_switches();
    r.elapsed = m.events.now().count();
    if (signal_event.scheduled()) m.events.deschedule(signal_event);
    if (thread) thread->stop();
    guests.clear();
    if (!shared.done()) r.note = "did not complete its iterations";
    return r;
}

} // namespace fwdsim::machine
