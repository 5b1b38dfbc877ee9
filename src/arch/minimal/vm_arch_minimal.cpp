// arch/minimal: the vgic-v2 without mapped interrupts -- an arch that
// cannot forward.  Generic code is built and tested against it too, and
// kvm-vfio reports the forwarding attributes as unsupported (-ENXIO) so a
// VMM falls back to irqfd.
#include <fwdsim/arch/vm_arch.h>

#include <fwdsim/arch/vgic.h>

#include <cerrno>

namespace fwdsim::arch {
namespace {

class MinimalVmArch final : public VmArch {
public:
    using VmArch::VmArch;
    std::string_view name() const override { return "minimal"; }
    bool can_forward() const override { return false; }
    int forward_irq(unsigned, unsigned) override { return -ENOSYS; }
    void unforward_irq(unsigned, unsigned) override {}
    int inject_forwarded(unsigned) override { return -ENOENT; }
    int forwarded_to(unsigned) const override { return -1; }
};

} // namespace

std::unique_ptr<VmArch> create_minimal_vm_arch(const ArchEnv& env)
{
    return std::make_unique<MinimalVmArch>(env);
}

} // namespace fwdsim::arch
