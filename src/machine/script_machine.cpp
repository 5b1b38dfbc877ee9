// ScriptMachine: the vmm-script back end over the real layers.  See
// include/fwdsim/machine/script_machine.h.
#include <fwdsim/machine/script_machine.h>

#include "script_host.h"

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
#include <fwdsim/machine/host_board.h>
#include <fwdsim/kvm/vgic_device.h>
#include <fwdsim/kvm_vfio/kvm_vfio.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/random.h>
#include <fwdsim/sim/errno_name.h>
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
