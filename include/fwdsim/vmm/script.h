// The vmm-script front end: one kernel-interface call a line, one answer a
// line, for experiments at the level of the Linux uapi.
//
// A script line names a call and its arguments the way a C program would
// make it ("set_irqs 5 0 0 1 TRIGGER EVENTFD 6").  Symbolic values (ACTION,
// DATA, GROUP, ATTR names) may also be given as raw numbers, so that
// unknown flags and attributes can be tried and their errno observed.  This
// file owns only the syntax: ScriptBackend receives typed calls and returns
// the kernel's answer; the VMM process model implements it.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fwdsim::vmm {

/// A call's outcome: err is 0 or a negative errno; text is what follows OK.
struct Answer {
    int err = 0;
    std::string text;
    static Answer ok(std::string t = {}) { return Answer{0, std::move(t)}; }
    static Answer error(int e) { return Answer{e, {}}; }
};

struct SetIrqsArgs {
    int fd = -1;
    std::uint32_t index = 0, start = 0, count = 0;
    std::uint32_t flags = 0;                ///< VFIO_IRQ_SET_DATA_* | VFIO_IRQ_SET_ACTION_*
    std::vector<std::int32_t> data;         ///< bools (0/1) or fds, per DATA type
    std::optional<std::uint32_t> argsz;     ///< override, to try short structures
};

struct AttrArgs {
    int fd = -1;
    std::uint32_t group = 0;
    std::uint64_t attr = 0;
    std::map<std::string, std::int64_t> values; ///< key=value arguments of the attribute
    bool bad_address = false;                  ///< addr=bad: the argument cannot be read (EFAULT)
};

/// What a script can ask of the simulated machine.  Contract: every method
/// either completes the call and returns Answer::ok, or returns the errno
/// Linux would, having changed nothing.
class ScriptBackend {
public:
    virtual ~ScriptBackend() = default;
    virtual Answer open_container() = 0;
    virtual Answer open_group(std::uint32_t group) = 0;
    virtual Answer set_container(int group_fd, int container_fd) = 0;
    virtual Answer set_iommu(int container_fd, std::uint32_t type) = 0;
    virtual Answer get_device(int group_fd, const std::string& name) = 0;
    virtual Answer irq_info(int device_fd, std::uint32_t index) = 0;
    virtual Answer eventfd() = 0;
    virtual Answer set_irqs(const SetIrqsArgs& args) = 0;
    virtual Answer create_vm() = 0;
    virtual Answer create_vcpu(int vm_fd, std::uint32_t id) = 0;
    virtual Answer create_device(int vm_fd, std::uint32_t type) = 0;
    virtual Answer set_attr(const AttrArgs& args) = 0;
    virtual Answer has_attr(const AttrArgs& args) = 0;
    virtual Answer irqfd(int vm_fd, int event_fd, std::uint32_t gsi, std::uint32_t flags, int resample_fd) = 0;
    virtual Answer irq_line(int vm_fd, std::uint32_t field, std::uint32_t level) = 0;
    virtual Answer close(int fd) = 0;
    virtual Answer device_irq(const std::string& device, std::uint32_t index, std::uint32_t level) = 0;
    virtual Answer signal(int event_fd, std::uint64_t value) = 0;
    virtual Answer read(int event_fd) = 0;
    virtual Answer run(std::uint64_t cycles) = 0;
    virtual Answer kill() = 0;
    /// Lines describing every reference and forwarded entry held.
    virtual std::vector<std::string> refs() = 0;
    /// Every broken invariant (design.md §5); empty when all hold.
    virtual std::vector<std::string> check() = 0;
};

/// Reads lines from `in` until end of input, writing one answer line per
/// command (refs: its lines, then the answer) and flushing after each, so a
/// program can drive it interactively through a pipe.  Returns the number
/// of lines answered with ERR because they were malformed.
std::size_t run_script(std::istream& in, std::ostream& out, ScriptBackend& backend);

/// Executes one line; appends the answer line(s) to `out`.  Blank and
/// comment lines produce nothing.
void run_line(const std::string& line, std::ostream& out, ScriptBackend& backend, std::size_t* malformed = nullptr);

} // namespace fwdsim::vmm
