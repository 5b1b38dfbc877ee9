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

/// A number as a script line wrote it, at its full width (sign and
/// magnitude up to 2^64 - 1), so that the field it fills can say whether it
/// fits: a value that does not answers ERR EINVAL, never a truncation.
struct Number {
    bool negative = false;
    std::uint64_t magnitude = 0;

    static Number of(std::int64_t v)
    {
        return v < 0 ? Number{true, 0 - static_cast<std::uint64_t>(v)} : Number{false, static_cast<std::uint64_t>(v)};
    }
    /// Fits an unsigned field of `bits` bits (1..64).
    bool fits_unsigned(unsigned bits) const
    {
        if (negative && magnitude != 0) return false;
        return bits >= 64 || magnitude < (std::uint64_t{1} << bits);
    }
    /// Fits a two's-complement field of `bits` bits (2..64).
    bool fits_signed(unsigned bits) const
    {
        const std::uint64_t limit = std::uint64_t{1} << (bits - 1); // |min|
        return negative ? magnitude <= limit : magnitude < limit;
    }
    /// The value as the field holds it; call only when it fits.
    std::uint64_t as_unsigned() const { return magnitude; }
    std::int64_t as_signed() const
    {
        return negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
    }
    bool operator==(std::int64_t v) const { return *this == of(v); }
    bool operator==(const Number& o) const
    {
        return magnitude == o.magnitude && (negative == o.negative || magnitude == 0);
    }
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
    std::map<std::string, Number> values;      ///< key=value arguments of the attribute, at full width
    bool bad_address = false;                  ///< addr=bad: the argument cannot be read (EFAULT)
};

/// struct kvm_vcpu_init: the target and seven feature words.
struct VcpuInitArgs {
    int fd = -1;
    std::uint32_t target = 5;               ///< KVM_ARM_TARGET_GENERIC_V8, what KVM_ARM_PREFERRED_TARGET answers
    std::uint32_t features[7] = {0, 0, 0, 0, 0, 0, 0};
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
    /// VFIO_GROUP_GET_STATUS: OK flags=VIABLE|CONTAINER_SET (or 0).
    virtual Answer group_status(int group_fd) = 0;
    /// VFIO_GROUP_UNSET_CONTAINER.
    virtual Answer unset_container(int group_fd) = 0;
    /// VFIO_CHECK_EXTENSION: OK value=N.
    virtual Answer check_extension(int container_fd, std::uint64_t extension) = 0;
    virtual Answer irq_info(int device_fd, std::uint32_t index) = 0;
    virtual Answer eventfd() = 0;
    virtual Answer set_irqs(const SetIrqsArgs& args) = 0;
    virtual Answer create_vm() = 0;
    virtual Answer create_vcpu(int vm_fd, std::uint32_t id) = 0;
    /// KVM_CREATE_DEVICE; flags may hold KVM_CREATE_DEVICE_TEST (1).
    virtual Answer create_device(int vm_fd, std::uint32_t type, std::uint32_t flags) = 0;
    virtual Answer set_attr(const AttrArgs& args) = 0;
    /// KVM_GET_DEVICE_ATTR: OK value=<hex> with what the device wrote.
    virtual Answer get_attr(const AttrArgs& args) = 0;
    virtual Answer has_attr(const AttrArgs& args) = 0;
    /// KVM_ARM_VCPU_INIT.
    virtual Answer vcpu_init(const VcpuInitArgs& args) = 0;
    /// KVM_RUN on one vCPU now, with its errno.
    virtual Answer run_vcpu(int vcpu_fd) = 0;
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
