// ScriptMachine: the vmm-script back end over the real layers.  See
// include/fwdsim/machine/script_machine.h.
#include <fwdsim/machine/script_machine.h>

#include <fwdsim/dev/gic_lines.h>
#include <fwdsim/dev/interrupt_source.h>
#include <fwdsim/dev/traffic.h>
#include <fwdsim/gic/gic.h>
#include <fwdsim/guest/guest.h>
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/gic_driver.h>
#include <fwdsim/host/irq_layer.h>
#include <fwdsim/host/process.h>
#include <fwdsim/host/this_cpu.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/kvm/kvm_host.h>
#include <fwdsim/kvm/vgic_device.h>
#include <fwdsim/kvm_vfio/kvm_vfio.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/random.h>
#include <fwdsim/sim/errno_name.h>
#include <fwdsim/vfio/pci/pci_device.h>
#include <fwdsim/vfio/platform/platform_device.h>
#include <fwdsim/vfio/vfio.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <istream>
#include <set>
#include <stdexcept>

namespace fwdsim::machine {

using namespace fwdsim::vmm; // the script's calls and answers

// --- the machine -----------------------------------------------------------------------

namespace {

constexpr std::uint32_t kTypeNames[] = {vfio::VFIO_IRQ_INFO_EVENTFD, vfio::VFIO_IRQ_INFO_MASKABLE,
                                        vfio::VFIO_IRQ_INFO_AUTOMASKED, vfio::VFIO_IRQ_INFO_NORESIZE};
constexpr const char* kFlagNames[] = {"EVENTFD", "MASKABLE", "AUTOMASKED", "NORESIZE"};

std::string irq_flags(std::uint32_t flags)
{
    std::string s;
    for (std::size_t i = 0; i < std::size(kTypeNames); ++i) {
        if (flags & kTypeNames[i]) {
            s += fmt::format("{}{}", s.empty() ? "" : "|", kFlagNames[i]);
            flags &= ~kTypeNames[i];
        }
    }
    if (flags != 0) s += fmt::format("{}{:#x}", s.empty() ? "" : "|", flags);
    return s.empty() ? "0" : s;
}

Answer fd_answer(int fd)
{
    return fd < 0 ? Answer::error(fd) : Answer::ok(fmt::format("fd={}", fd));
}

Answer status(int err)
{
    return err < 0 ? Answer::error(err) : Answer::ok();
}

} // namespace

/// One device IRQ's physical line: the device model driving a GIC SPI.
struct DeviceLine {
    std::string device; ///< plat0, pci0
    unsigned index = 0, subindex = 0;
    unsigned host_irq = 0;
    bool level = true;
    std::unique_ptr<dev::GicSpiLine> line;
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
    std::unique_ptr<kvm::KvmHost> hw; ///< GIC, host IRQ layer and CPUs, KVM (built once the config is checked)
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
        kvm::KvmHostParams hp;
        hp.gic.num_irqs = cfg.gic_irqs;
        hp.gic.num_cpus = ncpus;
        hp.gic.num_lrs = cfg.gic_lrs;
        hp.arch = arch_kind;
        hw = std::make_unique<kvm::KvmHost>(events, profile, hp);
        if (hw->kvm->init() < 0) throw sim::ConfigError(origin, 0, "gic", "KVM cannot request its interrupts");
        kvm_vfio::register_device(*hw->kvm);
        // vCPU i on CPU i + 1; beyond max_vcpus no CPU: KVM_CREATE_VCPU -EINVAL.
        hw->kvm->set_pinning([ncpus](unsigned id) { return id + 1 < ncpus ? id + 1 : ncpus; });

        ctx_env = std::make_unique<vfio::IrqContextEnv>(vfio::IrqContextEnv{*hw->irqs, hw->this_cpu, hw->host_costs});
        add_line("plat0", 0, 0, cfg.plat0_irq0, true);
        add_line("plat0", 1, 0, cfg.plat0_irq1, false);
        vfio.add_device(cfg.plat0_group, std::make_unique<vfio::platform::PlatformDevice>(
                                             "plat0", *ctx_env,
                                             std::vector<vfio::platform::PlatformIrq>{{cfg.plat0_irq0, true},
                                                                                      {cfg.plat0_irq1, false}}));
        vfio::pci::PciConfig pc;
        pc.intx_irq = cfg.pci0_intx;
        add_line("pci0", vfio::VFIO_PCI_INTX_IRQ_INDEX, 0, cfg.pci0_intx, true);
        for (unsigned v = 0; v < cfg.pci0_msix_vectors; ++v) {
            pc.msix_irqs.push_back(cfg.pci0_msix_base + v);
            add_line("pci0", vfio::VFIO_PCI_MSIX_IRQ_INDEX, v, cfg.pci0_msix_base + v, false);
        }
        vfio.add_device(cfg.pci0_group, std::make_unique<vfio::pci::PciDevice>("pci0", *ctx_env, pc));
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

    void add_line(const std::string& device, unsigned index, unsigned sub, unsigned host_irq, bool level)
    {
        auto l = std::make_unique<DeviceLine>();
        l->device = device;
        l->index = index;
        l->subindex = sub;
        l->host_irq = host_irq;
        l->level = level;
        (void)hw->irqs->irq_set_irq_type(host_irq, level ? host::IrqTrigger::level : host::IrqTrigger::edge);
        l->line = std::make_unique<dev::GicSpiLine>(*hw->gic, host_irq);
        l->source = std::make_unique<dev::InterruptSource>(events, l->name(), level ? dev::Trigger::level : dev::Trigger::edge,
                                                           *l->line, dev::trace_traffic({}), sim::Rng(1));
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
            for (std::uint32_t gsi = 0; gsi + 32 < n; ++gsi) {
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
            if (gsi + 32 >= 1020) continue;
            auto h = std::make_unique<GuestIrq>();
            h->serve = [this, vm = g.vm, gsi = gsi] { service(vm, gsi); };
            h->work = sim::Cycles{cfg.handler_cycles};
            g.guest->add_irq(gsi + 32, edge, *h);
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
            for (std::uint32_t gsi = 0; gsi + 32 < vgic->nr_irqs(); ++gsi) {
                if (route(vm, gsi) != &l) continue;
                const arch::VirtualIrq* v = vgic->irq(0, gsi + 32);
                if (v != nullptr && (v->pending() || v->active)) return true;
            }
        }
        return false;
    }
};

ScriptMachine::ScriptMachine(const ScriptMachineConfig& config) : impl_(std::make_unique<Impl>(config)) {}
ScriptMachine::~ScriptMachine() = default;

std::uint64_t ScriptMachine::serviced() const
{
    std::uint64_t n = 0;
    for (const auto& l : impl_->lines) n += l->serviced;
    return n;
}

// --- VFIO ------------------------------------------------------------------------------

Answer ScriptMachine::open_container()
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    return fd_answer(impl_->vfio.open_container(impl_->proc));
}

Answer ScriptMachine::open_group(std::uint32_t group)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    return fd_answer(impl_->vfio.open_group(impl_->proc, group));
}

Answer ScriptMachine::set_container(int group_fd, int container_fd)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    return status(impl_->vfio.group_set_container(impl_->proc, group_fd, container_fd));
}

Answer ScriptMachine::set_iommu(int container_fd, std::uint32_t type)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    return status(impl_->vfio.set_iommu(impl_->proc, container_fd, type));
}

Answer ScriptMachine::get_device(int group_fd, const std::string& name)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    return fd_answer(impl_->vfio.group_get_device_fd(impl_->proc, group_fd, name));
}

Answer ScriptMachine::group_status(int group_fd)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    vfio::VfioGroupStatus s;
    if (const int err = impl_->vfio.group_get_status(impl_->proc, group_fd, s); err < 0) return Answer::error(err);
    std::string flags;
    if (s.flags & vfio::VFIO_GROUP_FLAGS_VIABLE) flags = "VIABLE";
    if (s.flags & vfio::VFIO_GROUP_FLAGS_CONTAINER_SET) flags += flags.empty() ? "CONTAINER_SET" : "|CONTAINER_SET";
    return Answer::ok("flags=" + (flags.empty() ? std::string("0") : flags));
}

Answer ScriptMachine::unset_container(int group_fd)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    return status(impl_->vfio.group_unset_container(impl_->proc, group_fd));
}

Answer ScriptMachine::check_extension(int container_fd, std::uint64_t extension)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    const int r = impl_->vfio.check_extension(impl_->proc, container_fd, static_cast<unsigned long>(extension));
    return r < 0 ? Answer::error(r) : Answer::ok(fmt::format("value={}", r));
}

Answer ScriptMachine::irq_info(int device_fd, std::uint32_t index)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    vfio::VfioIrqInfo info;
    info.index = index;
    if (const int err = impl_->vfio.device_get_irq_info(impl_->proc, device_fd, info); err < 0) return Answer::error(err);
    return Answer::ok(fmt::format("count={} flags={}", info.count, irq_flags(info.flags)));
}

Answer ScriptMachine::set_irqs(const SetIrqsArgs& a)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    vfio::VfioIrqSet s;
    s.flags = a.flags;
    s.index = a.index;
    s.start = a.start;
    s.count = a.count;
    const std::uint32_t type = a.flags & vfio::VFIO_IRQ_SET_DATA_TYPE_MASK;
    for (std::int32_t v : a.data) {
        if (type == vfio::VFIO_IRQ_SET_DATA_BOOL) {
            s.data.push_back(static_cast<std::uint8_t>(v));
        } else {
            // EVENTFD, or a data type the kernel will refuse: s32 entries.
            std::uint8_t b[sizeof v];
            std::memcpy(b, &v, sizeof v);
            s.data.insert(s.data.end(), b, b + sizeof v);
        }
    }
    s.argsz = a.argsz.value_or(vfio::VfioIrqSet::kMinsz + static_cast<std::uint32_t>(s.data.size()));
    return status(impl_->vfio.device_set_irqs(impl_->proc, a.fd, s));
}

// --- eventfds ------------------------------------------------------------------------------

Answer ScriptMachine::eventfd()
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    return fd_answer(host::eventfd_create(impl_->proc));
}

Answer ScriptMachine::signal(int event_fd, std::uint64_t value)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    host::EventfdCtxRef ctx;
    if (const int err = host::eventfd_ctx_fdget(impl_->proc, event_fd, ctx); err < 0) return Answer::error(err);
    return status(ctx->write(value));
}

Answer ScriptMachine::read(int event_fd)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    host::EventfdCtxRef ctx;
    if (const int err = host::eventfd_ctx_fdget(impl_->proc, event_fd, ctx); err < 0) return Answer::error(err);
    std::uint64_t v = 0;
    if (const int err = ctx->read(v); err < 0) return Answer::error(err);
    return Answer::ok(fmt::format("value={}", v));
}

// --- KVM -------------------------------------------------------------------------------------

Answer ScriptMachine::create_vm()
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    return fd_answer(impl_->hw->kvm->create_vm(impl_->proc));
}

Answer ScriptMachine::create_vcpu(int vm_fd, std::uint32_t id)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    const int fd = impl_->hw->kvm->create_vcpu(impl_->proc, vm_fd, id);
    if (fd >= 0) impl_->pending_vcpu_fds.push_back(fd);
    return fd_answer(fd);
}

Answer ScriptMachine::create_device(int vm_fd, std::uint32_t type, std::uint32_t flags)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    const int fd = impl_->hw->kvm->create_device(impl_->proc, vm_fd, type, flags);
    if (fd == 0 && (flags & kvm::kCreateDeviceTest) != 0) return Answer::ok(); // TEST: nothing created
    return fd_answer(fd);
}

Answer ScriptMachine::vcpu_init(const VcpuInitArgs& a)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    return status(impl_->hw->kvm->vcpu_init(impl_->proc, a.fd, a.target, std::span<const std::uint32_t, 7>(a.features)));
}

Answer ScriptMachine::run_vcpu(int vcpu_fd)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    return status(impl_->start_vcpu(vcpu_fd));
}

namespace {

/// The attribute's argument in user memory, laid out from key=value pairs
/// as the device behind the fd reads it.  False when a value does not fit
/// its field (the call answers EINVAL and is not made).
bool attr_memory(host::Process& proc, const AttrArgs& a, std::vector<std::uint8_t>& mem)
{
    mem.clear();
    if (a.bad_address || a.values.empty()) return true; // nothing readable: EFAULT if it is read
    auto unknown = [&](const char* valid) {
        for (const auto& [k, v] : a.values) {
            if (std::string_view(valid).find(" " + k + " ") == std::string_view::npos)
                throw std::invalid_argument(fmt::format("unknown key '{}' (this attribute takes:{})", k, valid));
        }
    };
    bool fits = true;
    auto get = [&](const char* key) {
        const auto it = a.values.find(key);
        return it == a.values.end() ? Number{} : it->second;
    };
    auto u = [&](const char* key, unsigned bits) {
        const Number v = get(key);
        fits = fits && v.fits_unsigned(bits);
        return v.as_unsigned();
    };
    auto* df = host::file_cast<kvm::DeviceFile>(proc.peek(a.fd));
    const bool is_kvm_vfio = df != nullptr && dynamic_cast<kvm_vfio::KvmVfioDevice*>(&df->device()) != nullptr;
    auto put = [&](const auto& v) {
        mem.resize(sizeof v);
        std::memcpy(mem.data(), &v, sizeof v);
    };
    if (df != nullptr && !is_kvm_vfio) {
        // vgic-v2: one value, a u64 for ADDR (group 0), else a u32.
        unknown(" value ");
        if (a.group == 0) put(u("value", 64));
        else put(static_cast<std::uint32_t>(u("value", 32)));
    } else if (a.group == kvm_vfio::kDevVfioGroup) {
        // kvm-vfio (or a fd that is none: the kernel answers for it): get_user of an s32.
        if (is_kvm_vfio) unknown(" fd ");
        const Number fd = get("fd");
        fits = fd.fits_signed(32);
        put(static_cast<std::int32_t>(fits ? fd.as_signed() : 0));
    } else {
        if (is_kvm_vfio) unknown(" fd index subindex gsi ");
        const kvm_vfio::ForwardedIrqArg arg{static_cast<std::uint32_t>(u("fd", 32)), static_cast<std::uint32_t>(u("index", 32)),
                                            static_cast<std::uint32_t>(u("subindex", 32)), static_cast<std::uint32_t>(u("gsi", 32))};
        put(arg);
    }
    return fits;
}

} // namespace

Answer ScriptMachine::set_attr(const AttrArgs& a)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    std::vector<std::uint8_t> mem;
    if (!attr_memory(impl_->proc, a, mem)) return Answer::error(-EINVAL);
    const kvm::DeviceAttr attr{0, a.group, a.attr, mem};
    return status(impl_->hw->kvm->set_device_attr(impl_->proc, a.fd, attr));
}

Answer ScriptMachine::get_attr(const AttrArgs& a)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    // Room for what the device writes: the vgic's ADDR a u64, else a u32;
    // addr=bad, memory it cannot write (EFAULT).
    auto* df = host::file_cast<kvm::DeviceFile>(impl_->proc.peek(a.fd));
    const bool wide = df != nullptr && df->device().name() == "vgic-v2" && a.group == kvm::kVgicGrpAddr;
    if (!a.values.empty()) throw std::invalid_argument("get_attr takes no key=value arguments but addr=bad");
    std::vector<std::uint8_t> mem(a.bad_address ? 0 : wide ? 8 : 4, 0);
    const kvm::DeviceAttr attr{0, a.group, a.attr, mem};
    if (const int err = impl_->hw->kvm->get_device_attr(impl_->proc, a.fd, attr); err < 0) return Answer::error(err);
    std::uint64_t v = 0;
    if (!mem.empty()) std::memcpy(&v, mem.data(), mem.size());
    return Answer::ok(fmt::format("value={:#x}", v));
}

Answer ScriptMachine::has_attr(const AttrArgs& a)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    std::vector<std::uint8_t> mem;
    if (!attr_memory(impl_->proc, a, mem)) return Answer::error(-EINVAL);
    const kvm::DeviceAttr attr{0, a.group, a.attr, mem};
    return status(impl_->hw->kvm->has_device_attr(impl_->proc, a.fd, attr));
}

Answer ScriptMachine::irqfd(int vm_fd, int event_fd, std::uint32_t gsi, std::uint32_t flags, int resample_fd)
{
    Impl& m = *impl_;
    if (!m.proc.alive()) return Answer::error(-ESRCH);
    const int err = m.hw->kvm->irqfd(m.proc, vm_fd, event_fd, gsi, flags, resample_fd);
    if (err < 0) return Answer::error(err);
    auto* vf = host::file_cast<kvm::VmFile>(m.proc.peek(vm_fd));
    host::EventfdCtxRef ctx;
    if (vf != nullptr && host::eventfd_ctx_fdget(m.proc, event_fd, ctx) == 0) {
        kvm::Vm* vm = &vf->vm();
        std::erase_if(m.irqfds, [&](const IrqfdRecord& r) { return r.vm == vm && r.ctx.get() == ctx.get() && r.gsi == gsi; });
        if ((flags & kvm::kIrqfdFlagDeassign) == 0)
            m.irqfds.push_back(IrqfdRecord{vm, std::move(ctx), gsi, (flags & kvm::kIrqfdFlagResample) != 0});
    }
    return Answer::ok();
}

Answer ScriptMachine::irq_line(int vm_fd, std::uint32_t field, std::uint32_t level)
{
    if (!impl_->proc.alive()) return Answer::error(-ESRCH);
    return status(impl_->hw->kvm->irq_line(impl_->proc, vm_fd, field, level));
}

// --- the process ------------------------------------------------------------------------------

Answer ScriptMachine::close(int fd)
{
    Impl& m = *impl_;
    if (!m.proc.alive()) return Answer::error(-ESRCH);
    if (kvm::Vm* vm = m.vm_dying_with(fd)) m.drop_guests_of({vm}, false);
    const int err = m.proc.close(fd);
    m.prune_dead_vms();
    return status(err);
}

Answer ScriptMachine::kill()
{
    Impl& m = *impl_;
    if (!m.proc.alive()) return Answer::error(-ESRCH);
    const auto vms = m.hw->kvm->vms();
    m.drop_guests_of({vms.begin(), vms.end()}, true); // every VM goes with the process's files
    m.pending_vcpu_fds.clear();
    m.proc.kill(m.kill_rng);
    m.prune_dead_vms();
    return Answer::ok();
}

// --- the machine ------------------------------------------------------------------------------

Answer ScriptMachine::device_irq(const std::string& device, std::uint32_t index, std::uint32_t level)
{
    std::string name = device;
    unsigned sub = 0;
    if (const auto colon = device.find(':'); colon != std::string::npos) {
        name = device.substr(0, colon);
        const std::string s = device.substr(colon + 1);
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), sub);
        if (s.empty() || ec != std::errc{} || p != s.data() + s.size())
            throw std::invalid_argument(fmt::format("bad subindex '{}' (NAME:SUBINDEX)", s));
    }
    DeviceLine* l = impl_->find_line(name, index, sub);
    if (l == nullptr) {
        std::string known;
        for (const auto& x : impl_->lines) known += fmt::format("{}{}", known.empty() ? "" : ", ", x->name());
        throw std::invalid_argument(fmt::format("no line {} index={} subindex={} (lines: {})", name, index, sub, known));
    }
    if (level > 1) throw std::invalid_argument("LEVEL must be 0 or 1");
    if (level == 1) {
        l->last_raised = impl_->events.now();
        l->source->raise_now();
    } else if (l->level && l->source->line_level()) {
        // The device drops its request: its events are withdrawn, not delivered.
        l->withdrawn += l->source->outstanding();
        (void)l->source->service();
    }
    return Answer::ok(fmt::format("outstanding={}", l->source->outstanding()));
}

Answer ScriptMachine::run(std::uint64_t cycles)
{
    Impl& m = *impl_;
    // Simulated time is a 64-bit cycle count: a run past its end would wrap
    // to the past: EINVAL, as timerfd_settime answers a time it cannot hold.
    constexpr std::uint64_t kEnd = std::uint64_t{1} << 63;
    if (cycles > kEnd - m.events.now().count()) return Answer::error(EINVAL);
    const std::string failed = m.proc.alive() ? m.start_vcpus() : std::string{};
    m.events.run_until(m.events.now() + sim::Cycles{cycles});
    return Answer::ok(fmt::format("now={} serviced={}{}{}", m.events.now().count(), serviced(),
                                  failed.empty() ? "" : " kvm_run_failed=", failed));
}

std::vector<std::string> ScriptMachine::refs()
{
    Impl& m = *impl_;
    std::vector<std::string> out;
    if (m.proc.alive()) {
        std::string fds;
        for (int fd : m.proc.open_fds())
            fds += fmt::format("{}{}:{}", fds.empty() ? "" : " ", fd, m.proc.peek(fd)->kind());
        out.push_back(fmt::format("process vmm fds={}{}{}", m.proc.open_count(), fds.empty() ? "" : " ", fds));
    } else {
        out.push_back("process vmm dead");
    }
    for (vfio::Device* d : m.vfio.devices())
        out.push_back(fmt::format("device {} refcount={} open={}", d->name(), d->refcount(), d->open_count()));
    for (vfio::Group* g : m.vfio.groups()) out.push_back(fmt::format("group {} refcount={}", g->id(), g->refcount()));
    unsigned n = 0;
    for (kvm::Vm* vm : m.hw->kvm->vms()) {
        auto* kv = m.kvm_vfio_of(*vm);
        out.push_back(fmt::format("vm {} refcount={} vcpus={} irqfds={} kvm-vfio-groups={}", n, vm->refcount(),
                                  vm->vcpu_count(), vm->irqfd_count(), kv != nullptr ? kv->groups().size() + kv->device_files().size() : 0));
        if (kv != nullptr) {
            for (const auto& e : kv->forwarded())
                out.push_back(fmt::format("forwarded {} index={} subindex={} gsi={} host_irq={}", e.device().name(), e.index(),
                                          e.subindex(), e.gsi(), e.host_irq()));
        }
        ++n;
    }
    return out;
}

std::vector<std::string> ScriptMachine::check()
{
    Impl& m = *impl_;
    std::vector<std::string> broken;
    auto add = [&](std::string s) {
        if (std::find(broken.begin(), broken.end(), s) == broken.end()) broken.push_back(std::move(s));
    };
    // No device interrupt lost: each event is serviced, withdrawn, or still
    // outstanding and visible (line high, pending/active in the GIC or a
    // vgic, counted in an eventfd) -- or young enough to be in flight.
    for (const auto& l : m.lines) {
        const auto& s = *l->source;
        if (s.raised() != s.delivered() + s.coalesced() + s.outstanding())
            add(fmt::format("{}: device events unaccounted for", l->name()));
        const std::uint64_t open = m.unaccounted(*l);
        if (open > 0 && m.events.now() - l->last_raised >= sim::Cycles{m.cfg.settle_cycles} && !m.visible(*l))
            add(fmt::format("{}: an interrupt was lost ({} outstanding, visible nowhere)", l->name(), open));
        // A host IRQ nobody holds is as free_irq leaves it.
        if (l->context != nullptr && !l->context->requested()) {
            for (auto& v : m.hw->irqs->released_state_violations(l->host_irq)) add(fmt::format("{}: {}", l->name(), v));
        }
    }
    if (!m.proc.alive()) {
        for (kvm::Vm* vm : m.hw->kvm->vms()) add(fmt::format("a VM outlived its VMM (refcount={})", vm->refcount()));
        for (auto& v : m.vfio.released_state_violations()) add(v);
    }
    return broken;
}

} // namespace fwdsim::machine
