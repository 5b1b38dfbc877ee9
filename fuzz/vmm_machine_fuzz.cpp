// Fuzz target: vmm-script lines against the real machine (VFIO, KVM,
// kvm-vfio, the vgic, guests and devices).  Any sequence of calls a careless
// or malicious VMM makes must leave the kernel side correct: after the
// script the VMM is killed, and every invariant of design.md §5 must hold
// -- a broken one aborts, so libFuzzer records the input as a crash.
#include <fwdsim/vmm/script.h>
#include <fwdsim/machine/script_machine.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

namespace {

/// The real machine, with `run` bounded so an input cannot stall the fuzzer.
struct Bounded final : fwdsim::vmm::ScriptBackend {
    using Answer = fwdsim::vmm::Answer;
    fwdsim::machine::ScriptMachine m;
    std::uint64_t budget = 2'000'000; // simulated cycles per input
    Answer open_container() override { return m.open_container(); }
    Answer open_group(std::uint32_t g) override { return m.open_group(g); }
    Answer set_container(int g, int c) override { return m.set_container(g, c); }
    Answer set_iommu(int c, std::uint32_t t) override { return m.set_iommu(c, t); }
    Answer get_device(int g, const std::string& n) override { return m.get_device(g, n); }
    Answer group_status(int g) override { return m.group_status(g); }
    Answer unset_container(int g) override { return m.unset_container(g); }
    Answer check_extension(int c, std::uint64_t e) override { return m.check_extension(c, e); }
    Answer irq_info(int d, std::uint32_t i) override { return m.irq_info(d, i); }
    Answer eventfd() override { return m.eventfd(); }
    Answer set_irqs(const fwdsim::vmm::SetIrqsArgs& a) override { return m.set_irqs(a); }
    Answer create_vm() override { return m.create_vm(); }
    Answer create_vcpu(int vm, std::uint32_t id) override { return m.create_vcpu(vm, id); }
    Answer create_device(int vm, std::uint32_t t, std::uint32_t f) override { return m.create_device(vm, t, f); }
    Answer set_attr(const fwdsim::vmm::AttrArgs& a) override { return m.set_attr(a); }
    Answer get_attr(const fwdsim::vmm::AttrArgs& a) override { return m.get_attr(a); }
    Answer vcpu_init(const fwdsim::vmm::VcpuInitArgs& a) override { return m.vcpu_init(a); }
    Answer run_vcpu(int fd) override { return m.run_vcpu(fd); }
    Answer has_attr(const fwdsim::vmm::AttrArgs& a) override { return m.has_attr(a); }
    Answer irqfd(int vm, int e, std::uint32_t g, std::uint32_t f, int r) override { return m.irqfd(vm, e, g, f, r); }
    Answer irq_line(int vm, std::uint32_t f, std::uint32_t l) override { return m.irq_line(vm, f, l); }
    Answer close(int fd) override { return m.close(fd); }
    Answer device_irq(const std::string& d, std::uint32_t i, std::uint32_t l) override { return m.device_irq(d, i, l); }
    Answer signal(int e, std::uint64_t v) override { return m.signal(e, v); }
    Answer read(int e) override { return m.read(e); }
    Answer run(std::uint64_t cycles) override
    {
        const std::uint64_t n = std::min(cycles, budget);
        budget -= n;
        return m.run(n);
    }
    Answer kill() override { return m.kill(); }
    std::vector<std::string> refs() override { return m.refs(); }
    std::vector<std::string> check() override { return m.check(); }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size > 4096) return 0; // long scripts add time, not coverage
    Bounded backend;
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    std::ostringstream out;
    fwdsim::vmm::run_script(in, out, backend);
    // Whatever the script did, killing the VMM must return everything to
    // the correct state once in-flight work has settled.
    (void)backend.m.kill();
    (void)backend.m.run(200'000);
    const auto broken = backend.m.check();
    if (!broken.empty()) {
        for (const auto& b : broken) std::fprintf(stderr, "invariant broken: %s\n", b.c_str());
        std::abort();
    }
    return 0;
}
