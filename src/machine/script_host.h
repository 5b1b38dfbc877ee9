// The host a vmm-script's calls reach (ScriptMachine's state): the host
// board, vfio-platform "plat0" and vfio-pci "pci0" on their device lines, the
// script's process and its files, the guests its KVM_RUNs start, and which
// device interrupt each guest handler services -- followed, as Linux does,
// through kvm-vfio's forwarded entries and the irqfds' trigger eventfds.
// Private to src/machine/script_machine.cpp, whose calls are the front end.
#pragma once

#include <fwdsim/machine/script_machine.h>

#include <fwdsim/machine/devices.h>

#include <fwdsim/dev/interrupt_source.h>
#include <fwdsim/dev/traffic.h>
#include <fwdsim/gic/gic.h>
#include <fwdsim/guest/guest.h>
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/irq_layer.h>
#include <fwdsim/host/process.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/kvm/vm.h>
#include <fwdsim/kvm_vfio/kvm_vfio.h>
#include <fwdsim/machine/host_board.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/errno_name.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/random.h>
#include <fwdsim/vfio/vfio.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace fwdsim::machine {

/// One device IRQ's physical line: the device model driving a GIC SPI.
struct DeviceLine {
    std::string device; ///< plat0, pci0
    unsigned index = 0, subindex = 0;
    unsigned host_irq = 0;
    bool level = true;
    std::unique_ptr<dev::IrqLine> line;
    std::unique_ptr<dev::InterruptSource> source;
    vfio::IrqContext* context = nullptr;
    std::uint64_t serviced = 0;  ///< by a guest handler
    std::uint64_t withdrawn = 0; ///< events the device dropped (device_irq ... 0)
    sim::Cycles last_raised{};
    /// Events that had left the host for a VM (in its vgic, or on their way
    /// there) when the VM was destroyed: gone with the guest, not lost.
    /// Valid while the source has not been serviced since (delivered()).
    std::uint64_t dropped_with_vm = 0;
    std::uint64_t dropped_mark = 0;
    std::string name() const { return fmt::format("{} index={} subindex={}", device, index, subindex); }
};

/// The standard streams a process starts with, so that the script's fds
/// are numbered as a real VMM's are (the first file it opens is fd 3).
class StdioFile final : public host::File {
public:
    std::string_view kind() const override { return "stdio"; }
};

/// An irqfd the script assigned, remembered to route guest handlers.
struct IrqfdRecord {
    kvm::Vm* vm = nullptr;
    host::EventfdCtxRef ctx;
    std::uint32_t gsi = 0;
    bool resample = false;
};

/// The guest driver's handler for one INTID of one VM.
struct GuestIrq final : guest::IrqHandler {
    std::function<void()> serve; ///< services the device IRQ the GSI leads to now
    sim::Cycles work{};
    sim::Cycles service_time() override { return work; }
    void service(sim::Cycles) override { serve(); }
};

struct GuestState {
    kvm::Vm* vm = nullptr;
    std::unique_ptr<guest::Guest> guest;
    std::vector<std::unique_ptr<GuestIrq>> handlers;
};

struct ScriptMachine::Impl {
    ScriptMachineConfig cfg;
    sim::CostProfile profile;
    sim::EventQueue events;
    std::unique_ptr<machine::HostBoard> hw; ///< GIC, host IRQ layer and CPUs, KVM (built once the config is checked)
    std::unique_ptr<vfio::IrqContextEnv> ctx_env;
    vfio::Vfio vfio;
    std::vector<std::unique_ptr<DeviceLine>> lines;
    std::vector<IrqfdRecord> irqfds;
    std::vector<int> pending_vcpu_fds; ///< created, not yet in KVM_RUN
    std::vector<GuestState> guests;
    std::set<kvm::Vm*> handlers_installed;
    sim::Rng kill_rng;
    host::Process proc{"vmm"}; // after KVM and VFIO: its files close first

    explicit Impl(const ScriptMachineConfig& c)
        : cfg(c),
          profile(c.profile == "default" ? sim::CostProfile::builtin_default() : sim::CostProfile::load(c.profile)),
          kill_rng(c.kill_seed)
    {
        validate_script_config(cfg); // the options' ranges and what they owe each other
        const std::string& origin = cfg.origin;
        arch::ArchKind arch_kind{};
        if (arch::parse_arch(cfg.arch, arch_kind) < 0) throw sim::ConfigError(origin, 0, "arch", "unknown arch '" + cfg.arch + "'");

        // The wiring of scenario::System: GIC, driver, IRQ layer, CPUs, KVM.
        const unsigned ncpus = cfg.max_vcpus + 1;
        machine::HostBoardParams hp;
        hp.gic.num_irqs = cfg.gic_irqs;
        hp.gic.num_cpus = ncpus;
        hp.gic.num_lrs = cfg.gic_lrs;
        hp.arch = arch_kind;
        hw = std::make_unique<machine::HostBoard>(events, profile, hp);
        if (hw->kvm->init() < 0) throw sim::ConfigError(origin, 0, "gic", "KVM cannot request its interrupts");
        kvm_vfio::register_device(*hw->kvm);
        // vCPU i on CPU i + 1; beyond max_vcpus no CPU: KVM_CREATE_VCPU -EINVAL.
        hw->kvm->set_pinning([ncpus](unsigned id) { return id + 1 < ncpus ? id + 1 : ncpus; });

        ctx_env = std::make_unique<vfio::IrqContextEnv>(vfio::IrqContextEnv{*hw->irqs, hw->this_cpu, hw->host_costs});
        // The two devices as a scenario would list them, wired by the same
        // code (machine/devices.h).
        const auto irq = [](unsigned index, unsigned sub, unsigned host_irq, bool level) {
            DeviceIrqConfig c;
            c.index = index;
            c.subindex = sub;
            c.host_irq = host_irq;
            c.trigger = level ? TriggerKind::level : TriggerKind::edge;
            return c;
        };
        DeviceConfig plat0{"plat0", DeviceKind::platform, "", cfg.plat0_group, {irq(0, 0, cfg.plat0_irq0, true), irq(1, 0, cfg.plat0_irq1, false)}, 0};
        DeviceConfig pci0{"pci0", DeviceKind::pci, "", cfg.pci0_group, {irq(vfio::VFIO_PCI_INTX_IRQ_INDEX, 0, cfg.pci0_intx, true)}, 0};
        for (unsigned v = 0; v < cfg.pci0_msix_vectors; ++v)
            pci0.irqs.push_back(irq(vfio::VFIO_PCI_MSIX_IRQ_INDEX, v, cfg.pci0_msix_base + v, false));
        for (const DeviceConfig* d : {&plat0, &pci0}) {
            for (const DeviceIrqConfig& ic : d->irqs) add_line(d->name, ic);
            vfio.add_device(d->iommu_group, make_vfio_device(*d, *ctx_env));
        }
        for (auto& l : lines) l->context = vfio.device(l->device)->irq_context(l->index, l->subindex);
        for (int i = 0; i < 3; ++i) (void)proc.install(host::make_file<StdioFile>());
    }

    ~Impl()
    {
        guests.clear(); // before their vCPUs go
        irqfds.clear();
        if (proc.alive()) {
            std::vector<int> none;
            proc.kill(none); // files close ascending: the VMs, then VFIO's files
        }
    }

    void add_line(const std::string& device, const DeviceIrqConfig& ic)
    {
        auto l = std::make_unique<DeviceLine>();
        l->device = device;
        l->index = ic.index;
        l->subindex = ic.subindex;
        l->host_irq = ic.host_irq;
        l->level = ic.trigger == TriggerKind::level;
        IrqWire w = wire_irq(*hw, events, DeviceKind::pci, ic, 0, l->name(), dev::trace_traffic({}), sim::Rng(1));
        l->line = std::move(w.line);
        l->source = std::move(w.source);
        lines.push_back(std::move(l));
    }

    DeviceLine* find_line(const std::string& device, unsigned index, unsigned sub)
    {
        for (auto& l : lines) {
            if (l->device == device && l->index == index && l->subindex == sub) return l.get();
        }
        return nullptr;
    }

    kvm_vfio::KvmVfioDevice* kvm_vfio_of(kvm::Vm& vm)
    {
        for (kvm::KvmDevice* d : vm.devices()) {
            if (auto* kv = dynamic_cast<kvm_vfio::KvmVfioDevice*>(d)) return kv;
        }
        return nullptr;
    }

    bool vm_alive(const kvm::Vm* vm) const
    {
        const auto vms = hw->kvm->vms();
        return std::find(vms.begin(), vms.end(), vm) != vms.end();
    }

    /// The device IRQ `gsi` of `vm` leads to now, or null.
    DeviceLine* route(kvm::Vm* vm, std::uint32_t gsi)
    {
        if (!vm_alive(vm)) return nullptr;
        if (auto* kv = kvm_vfio_of(*vm)) {
            for (const auto& e : kv->forwarded()) {
                if (e.gsi() == gsi) return find_line(e.device().name(), e.index(), e.subindex());
            }
        }
        for (const auto& r : irqfds) {
            if (r.vm != vm || r.gsi != gsi || r.ctx->hung_up()) continue;
            for (auto& l : lines) {
                if (l->context != nullptr && l->context->trigger() == r.ctx.get()) return l.get();
            }
        }
        return nullptr;
    }

    void service(kvm::Vm* vm, std::uint32_t gsi)
    {
        if (DeviceLine* l = route(vm, gsi)) {
            if (l->source->service().consumed > 0) ++l->serviced;
        }
    }

    /// Guests of VMs that are about to go lose their vCPUs: drop them first.
    /// Device events neither the device line nor the physical GIC's pending
    /// state holds -- in the host's handler, an eventfd, a vgic, on their
    /// way to the dying VM -- go with it (Linux: free_irq lets a running
    /// handler finish; what it signals has no reader).
    /// `whole_process`: the VMM dies, and its eventfds with it, so every
    /// line's events are concerned; else only lines routed into `dying`.
    void drop_guests_of(const std::set<kvm::Vm*>& dying, bool whole_process)
    {
        for (auto& l : lines) {
            if (!whole_process && !routed_into(*l, dying)) continue;
            if (l->source->outstanding() > 0 && !l->source->line_level() && !hw->gic->is_pending(l->host_irq)) {
                l->dropped_with_vm = l->source->outstanding();
                l->dropped_mark = l->source->delivered();
            }
        }
        std::erase_if(guests, [&](const GuestState& g) { return dying.count(g.vm) != 0; });
    }

    bool routed_into(const DeviceLine& l, const std::set<kvm::Vm*>& vms)
    {
        for (kvm::Vm* vm : vms) {
            const arch::Vgic* vgic = vm->arch().vgic();
            const unsigned n = vgic != nullptr ? vgic->nr_irqs() : 1020;
            for (std::uint32_t gsi = 0; kvm::spi_intid(gsi) < n; ++gsi) {
                if (route(vm, gsi) == &l) return true;
            }
        }
        return false;
    }

    /// Forget what belonged to VMs that no longer exist.
    void prune_dead_vms()
    {
        std::erase_if(guests, [&](const GuestState& g) { return !vm_alive(g.vm); });
        std::erase_if(irqfds, [&](const IrqfdRecord& r) { return !vm_alive(r.vm); });
        std::erase_if(handlers_installed, [&](kvm::Vm* vm) { return !vm_alive(vm); });
    }

    /// The VM a file keeps alive, if closing it would put the last reference.
    kvm::Vm* vm_dying_with(int fd)
    {
        host::File* f = proc.peek(fd);
        if (f == nullptr || f->refcount() != 1) return nullptr;
        kvm::Vm* vm = nullptr;
        if (auto* v = host::file_cast<kvm::VmFile>(f)) vm = &v->vm();
        else if (auto* c = host::file_cast<kvm::VcpuFile>(f)) vm = &c->vcpu().vm();
        else if (auto* d = host::file_cast<kvm::DeviceFile>(f)) vm = &d->vm();
        return vm != nullptr && vm->refcount() == 1 ? vm : nullptr;
    }

    /// KVM_RUN for one vCPU with a guest: 0 or KVM_RUN's errno (the guest
    /// goes again then).  -EBUSY when the vCPU's thread is in KVM_RUN
    /// already (Linux would block that second caller on the vCPU's mutex).
    int start_vcpu(int fd)
    {
        std::erase(pending_vcpu_fds, fd);
        auto* f = host::file_cast<kvm::VcpuFile>(proc.peek(fd));
        if (f == nullptr) return hw->kvm->run(proc, fd); // the kernel's answer: EBADF, ENOTTY, EIO
        kvm::Vcpu* vcpu = &f->vcpu();
        if (vcpu->guest() != nullptr) return -EBUSY;
        const guest::GuestCosts gc = guest::GuestCosts::from_profile(profile);
        GuestState g;
        g.vm = &vcpu->vm();
        g.guest = std::make_unique<guest::Guest>(*vcpu, gc, guest::GuestParams{});
        const bool first_in_vm = handlers_installed.count(g.vm) == 0;
        if (first_in_vm) install_handlers(g);
        if (const int err = hw->kvm->run(proc, fd); err < 0) {
            // The guest goes with its handlers, and with the boot segment it
            // left waiting for the first entry.
            g.guest.reset();
            (void)vcpu->guest_preempt();
            return err;
        }
        if (first_in_vm) handlers_installed.insert(g.vm);
        guests.push_back(std::move(g));
        return 0;
    }

    /// KVM_RUN for every vCPU created since the last run, by id; the
    /// failures, "fd:ERRNO" each.
    std::string start_vcpus()
    {
        std::vector<std::pair<unsigned, int>> starting;
        for (int fd : pending_vcpu_fds) {
            auto* f = host::file_cast<kvm::VcpuFile>(proc.peek(fd));
            if (f == nullptr || f->vcpu().guest() != nullptr) continue;
            starting.emplace_back(f->vcpu().id(), fd);
        }
        pending_vcpu_fds.clear();
        std::sort(starting.begin(), starting.end());
        std::string failed;
        for (const auto& [id, fd] : starting) {
            if (const int err = start_vcpu(fd); err < 0)
                failed += fmt::format("{}{}:{}", failed.empty() ? "" : ",", fd, sim::errno_name(err));
        }
        return failed;
    }

    void install_handlers(GuestState& g)
    {
        std::map<std::uint32_t, bool> edge_by_gsi;
        if (auto* kv = kvm_vfio_of(*g.vm)) {
            for (const auto& e : kv->forwarded()) {
                const DeviceLine* l = find_line(e.device().name(), e.index(), e.subindex());
                edge_by_gsi[e.gsi()] = l != nullptr && !l->level;
            }
        }
        for (const auto& r : irqfds) {
            if (r.vm != g.vm || r.ctx->hung_up() || edge_by_gsi.count(r.gsi)) continue;
            const DeviceLine* l = route(g.vm, r.gsi);
            edge_by_gsi[r.gsi] = l != nullptr ? !l->level : !r.resample;
        }
        for (const auto& [gsi, edge] : edge_by_gsi) {
            if (kvm::spi_intid(gsi) >= 1020) continue;
            auto h = std::make_unique<GuestIrq>();
            h->serve = [this, vm = g.vm, gsi = gsi] { service(vm, gsi); };
            h->work = sim::Cycles{cfg.handler_cycles};
            g.guest->add_irq(kvm::spi_intid(gsi), edge, *h);
            g.handlers.push_back(std::move(h));
        }
    }

    /// Outstanding events of `l` not known to have gone with a VM.
    std::uint64_t unaccounted(const DeviceLine& l) const
    {
        const std::uint64_t n = l.source->outstanding();
        const std::uint64_t dropped = l.source->delivered() == l.dropped_mark ? l.dropped_with_vm : 0;
        return n > dropped ? n - dropped : 0;
    }

    /// The device line, the physical GIC, or the trigger eventfd holds it.
    bool visible_on_host(const DeviceLine& l) const
    {
        if (l.source->line_level()) return true;
        if (hw->gic->is_pending(l.host_irq) || hw->gic->is_active(l.host_irq)) return true;
        return l.context != nullptr && l.context->trigger() != nullptr && l.context->trigger()->count() > 0;
    }

    /// Whether an outstanding event of `l` is still visible somewhere.
    bool visible(const DeviceLine& l)
    {
        if (visible_on_host(l)) return true;
        for (kvm::Vm* vm : hw->kvm->vms()) {
            const arch::Vgic* vgic = vm->arch().vgic();
            if (vgic == nullptr) continue;
            for (std::uint32_t gsi = 0; kvm::spi_intid(gsi) < vgic->nr_irqs(); ++gsi) {
                if (route(vm, gsi) != &l) continue;
                const arch::VirtualIrq* v = vgic->irq(0, kvm::spi_intid(gsi));
                if (v != nullptr && (v->pending() || v->active)) return true;
            }
        }
        return false;
    }
};

} // namespace fwdsim::machine
