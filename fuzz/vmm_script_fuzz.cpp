// Fuzz target: the vmm-script front end's parsing and argument checking,
// over a backend that accepts every well-formed call.  (When the VMM model
// lands, this target should drive the real backend.)
#include <fwdsim/vmm/script.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

namespace {

struct AcceptAll final : fwdsim::vmm::ScriptBackend {
    using Answer = fwdsim::vmm::Answer;
    Answer open_container() override { return Answer::ok("fd=3"); }
    Answer open_group(std::uint32_t) override { return Answer::ok("fd=4"); }
    Answer set_container(int, int) override { return Answer::ok(); }
    Answer set_iommu(int, std::uint32_t) override { return Answer::ok(); }
    Answer get_device(int, const std::string&) override { return Answer::ok("fd=5"); }
    Answer group_status(int) override { return Answer::ok("flags=VIABLE"); }
    Answer unset_container(int) override { return Answer::ok(); }
    Answer check_extension(int, std::uint64_t) override { return Answer::ok("value=1"); }
    Answer irq_info(int, std::uint32_t) override { return Answer::ok("count=1 flags=EVENTFD"); }
    Answer eventfd() override { return Answer::ok("fd=6"); }
    Answer set_irqs(const fwdsim::vmm::SetIrqsArgs&) override { return Answer::ok(); }
    Answer create_vm() override { return Answer::ok("fd=7"); }
    Answer create_vcpu(int, std::uint32_t) override { return Answer::ok("fd=8"); }
    Answer create_device(int, std::uint32_t, std::uint32_t) override { return Answer::ok("fd=9"); }
    Answer set_attr(const fwdsim::vmm::AttrArgs&) override { return Answer::ok(); }
    Answer get_attr(const fwdsim::vmm::AttrArgs&) override { return Answer::ok("value=0x0"); }
    Answer vcpu_init(const fwdsim::vmm::VcpuInitArgs&) override { return Answer::ok(); }
    Answer run_vcpu(int) override { return Answer::ok(); }
    Answer has_attr(const fwdsim::vmm::AttrArgs&) override { return Answer::ok(); }
    Answer irqfd(int, int, std::uint32_t, std::uint32_t, int) override { return Answer::ok(); }
    Answer irq_line(int, std::uint32_t, std::uint32_t) override { return Answer::ok(); }
    Answer close(int) override { return Answer::ok(); }
    Answer device_irq(const std::string&, std::uint32_t, std::uint32_t) override { return Answer::ok(); }
    Answer signal(int, std::uint64_t) override { return Answer::ok(); }
    Answer read(int) override { return Answer::ok("value=1"); }
    Answer run(std::uint64_t) override { return Answer::ok(); }
    Answer kill() override { return Answer::ok(); }
    std::vector<std::string> refs() override { return {}; }
    std::vector<std::string> check() override { return {}; }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    AcceptAll backend;
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    std::ostringstream out;
    fwdsim::vmm::run_script(in, out, backend);
    return 0;
}
