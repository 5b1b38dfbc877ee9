#include <fwdsim/sim/errno_name.h>
#include <fwdsim/sim/number.h>
#include <fwdsim/vmm/script.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <istream>
#include <ostream>
#include <sstream>
#include <string_view>

namespace fwdsim::vmm {
namespace {

// uapi numbers (include/uapi/linux/vfio.h, kvm.h; the forwarding attributes
// as in the seed series) used to turn names into the values a C caller
// would pass.  Raw numbers are accepted as well.
struct Name {
    std::string_view name;
    std::uint64_t value;
};
constexpr Name kActions[] = {{"MASK", 1u << 3}, {"UNMASK", 1u << 4}, {"TRIGGER", 1u << 5}};
constexpr Name kData[] = {{"NONE", 1u << 0}, {"BOOL", 1u << 1}, {"EVENTFD", 1u << 2}};
// kvm-vfio's groups (virt/kvm/vfio.c) and the vgic's (arm64 uapi
// KVM_DEV_ARM_VGIC_GRP_*): numbers shared between devices, names per device.
constexpr Name kAttrGroups[] = {{"VFIO_GROUP", 1}, {"VFIO_DEVICE", 2}, {"ADDR", 0}, {"DIST_REGS", 1},
                                {"CPU_REGS", 2},   {"NR_IRQS", 3},     {"CTRL", 4}};
constexpr Name kGroupAttrs[] = {{"ADD", 1}, {"DEL", 2}};
constexpr Name kAddrAttrs[] = {{"DIST", 0}, {"CPU", 1}};
constexpr Name kCtrlAttrs[] = {{"INIT", 0}};
constexpr Name kDeviceAttrs[] = {{"FORWARD_IRQ", 1}, {"UNFORWARD_IRQ", 2}};
constexpr Name kDeviceTypes[] = {{"vfio", 4}, {"vgic-v2", 5}};
constexpr std::uint32_t kIrqfdResample = 1u << 1;
constexpr std::uint32_t kDataTypeMask = 0x7, kDataBool = 1u << 1;

class Malformed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::vector<std::string> tokenize(std::string_view line)
{
    if (const auto hash = line.find('#'); hash != std::string_view::npos) {
        line = line.substr(0, hash);
    }
    std::vector<std::string> tokens;
    std::istringstream in{std::string(line)};
    std::string t;
    while (in >> t) tokens.push_back(t);
    return tokens;
}

/// A well-formed number that does not fit the field it fills: the call is
/// not made and the line answers ERR EINVAL (what a C caller's compiler
/// would have truncated, the script refuses).
class DoesNotFit : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Decimal or 0x hex, with an optional '-', at full width (magnitude up to
/// 2^64 - 1); nullopt when it is no number.
std::optional<Number> parse_number(std::string_view s)
{
    Number n;
    if (!s.empty() && s[0] == '-') {
        n.negative = true;
        s.remove_prefix(1);
    }
    const auto magnitude = sim::parse_unsigned(s);
    if (!magnitude) return std::nullopt;
    n.magnitude = *magnitude;
    return n;
}

Number number(std::string_view what, std::string_view text)
{
    const auto v = parse_number(text);
    if (!v) throw Malformed(fmt::format("{} must be a number, got '{}'", what, text));
    return *v;
}

std::uint64_t unsigned_field(std::string_view what, const Number& v, unsigned bits)
{
    if (!v.fits_unsigned(bits)) throw DoesNotFit(fmt::format("{} does not fit {} bits", what, bits));
    return v.as_unsigned();
}

std::int64_t signed_field(std::string_view what, const Number& v, unsigned bits)
{
    if (!v.fits_signed(bits)) throw DoesNotFit(fmt::format("{} does not fit a signed {}-bit field", what, bits));
    return v.as_signed();
}

class Args {
public:
    Args(const std::vector<std::string>& tokens, std::size_t min, std::size_t max, const char* usage)
        : tokens_(tokens)
    {
        const std::size_t n = tokens.size() - 1;
        if (n < min || n > max) {
            throw Malformed(fmt::format("usage: {}", usage));
        }
    }
    std::size_t size() const { return tokens_.size() - 1; }
    const std::string& str(std::size_t i) const { return tokens_.at(i + 1); }

    Number num(std::size_t i, const char* what) const { return number(what, str(i)); }
    /// A file descriptor: a syscall's int.  The kernel answers for any int
    /// (EBADF when none is open there); beyond an int it does not fit.
    int fd(std::size_t i) const { return static_cast<int>(signed_field("a file descriptor", num(i, "a file descriptor"), 32)); }
    std::uint32_t u32(std::size_t i, const char* what) const
    {
        return static_cast<std::uint32_t>(unsigned_field(what, num(i, what), 32));
    }
    std::uint64_t u64(std::size_t i, const char* what) const { return unsigned_field(what, num(i, what), 64); }
    /// A name from `names`, or any number; `bits` is the field's width.
    template <std::size_t N>
    std::uint64_t named(std::size_t i, const Name (&names)[N], const char* what, unsigned bits) const
    {
        for (const auto& n : names) {
            if (str(i) == n.name) return n.value;
        }
        const auto v = parse_number(str(i));
        if (!v) {
            std::string valid;
            for (const auto& n : names) valid += fmt::format("{}{}", valid.empty() ? "" : "|", n.name);
            throw Malformed(fmt::format("{} must be {} or a number, got '{}'", what, valid, str(i)));
        }
        return unsigned_field(what, *v, bits);
    }
    /// key=value arguments from position `from` on.
    std::map<std::string, std::string> options(std::size_t from) const
    {
        std::map<std::string, std::string> kv;
        for (std::size_t i = from; i < size(); ++i) {
            const auto eq = str(i).find('=');
            if (eq == std::string::npos || eq == 0) throw Malformed(fmt::format("expected key=value, got '{}'", str(i)));
            if (!kv.emplace(str(i).substr(0, eq), str(i).substr(eq + 1)).second) {
                throw Malformed(fmt::format("'{}' given twice", str(i).substr(0, eq)));
            }
        }
        return kv;
    }

private:
    const std::vector<std::string>& tokens_;
};

Answer dispatch(const std::vector<std::string>& t, ScriptBackend& b, std::ostream& out)
{
    const std::string& cmd = t[0];
    if (cmd == "open_container") {
        Args a(t, 0, 0, "open_container");
        return b.open_container();
    }
    if (cmd == "open_group") {
        Args a(t, 1, 1, "open_group GROUP");
        return b.open_group(a.u32(0, "GROUP"));
    }
    if (cmd == "set_container") {
        Args a(t, 2, 2, "set_container GROUP_FD CONTAINER_FD");
        return b.set_container(a.fd(0), a.fd(1));
    }
    if (cmd == "set_iommu") {
        Args a(t, 1, 2, "set_iommu CONTAINER_FD [TYPE]");
        return b.set_iommu(a.fd(0), a.size() > 1 ? a.u32(1, "TYPE") : 1u);
    }
    if (cmd == "get_device") {
        Args a(t, 2, 2, "get_device GROUP_FD NAME");
        return b.get_device(a.fd(0), a.str(1));
    }
    if (cmd == "group_status") {
        Args a(t, 1, 1, "group_status GROUP_FD");
        return b.group_status(a.fd(0));
    }
    if (cmd == "unset_container") {
        Args a(t, 1, 1, "unset_container GROUP_FD");
        return b.unset_container(a.fd(0));
    }
    if (cmd == "check_extension") {
        Args a(t, 2, 2, "check_extension CONTAINER_FD EXTENSION");
        return b.check_extension(a.fd(0), a.u64(1, "EXTENSION")); // the ioctl's unsigned long
    }
    if (cmd == "irq_info") {
        Args a(t, 2, 2, "irq_info DEVICE_FD INDEX");
        return b.irq_info(a.fd(0), a.u32(1, "INDEX"));
    }
    if (cmd == "eventfd") {
        Args a(t, 0, 0, "eventfd");
        return b.eventfd();
    }
    if (cmd == "set_irqs") {
        Args a(t, 6, 1000, "set_irqs DEVICE_FD INDEX START COUNT ACTION DATA [VALUE...] [argsz=N]");
        SetIrqsArgs s;
        s.fd = a.fd(0);
        s.index = a.u32(1, "INDEX");
        s.start = a.u32(2, "START");
        s.count = a.u32(3, "COUNT");
        // vfio_irq_set.flags is a u32: ACTION and DATA together.
        const std::uint64_t flags = a.named(4, kActions, "ACTION", 32) | a.named(5, kData, "DATA", 32);
        s.flags = static_cast<std::uint32_t>(flags);
        // Each data entry is a u8 for DATA_BOOL, an s32 (a fd) otherwise.
        const bool bools = (s.flags & kDataTypeMask) == kDataBool;
        for (std::size_t i = 6; i < a.size(); ++i) {
            if (a.str(i).rfind("argsz=", 0) == 0) {
                s.argsz = static_cast<std::uint32_t>(unsigned_field("argsz", number("argsz", a.str(i).substr(6)), 32));
                continue;
            }
            const Number v = a.num(i, "a data value");
            s.data.push_back(bools ? static_cast<std::int32_t>(unsigned_field("a BOOL data value", v, 8))
                                   : static_cast<std::int32_t>(signed_field("an EVENTFD data value", v, 32)));
        }
        return b.set_irqs(s);
    }
    if (cmd == "create_vm") {
        Args a(t, 0, 0, "create_vm");
        return b.create_vm();
    }
    if (cmd == "create_vcpu") {
        Args a(t, 2, 2, "create_vcpu VM_FD ID");
        return b.create_vcpu(a.fd(0), a.u32(1, "ID"));
    }
    if (cmd == "create_device") {
        Args a(t, 2, 3, "create_device VM_FD vfio|vgic-v2|TYPE [test]");
        std::uint32_t flags = 0;
        if (a.size() > 2) {
            if (a.str(2) != "test") throw Malformed(fmt::format("expected 'test' (KVM_CREATE_DEVICE_TEST), got '{}'", a.str(2)));
            flags = 1; // KVM_CREATE_DEVICE_TEST
        }
        return b.create_device(a.fd(0), static_cast<std::uint32_t>(a.named(1, kDeviceTypes, "TYPE", 32)), flags);
    }
    if (cmd == "vcpu_init") {
        Args a(t, 1, 9, "vcpu_init VCPU_FD [target=N] [features=N] [features1=N ... features6=N]");
        VcpuInitArgs v;
        v.fd = a.fd(0);
        for (const auto& [k, val] : a.options(1)) {
            std::uint32_t* field = nullptr; // each a u32 of struct kvm_vcpu_init
            if (k == "target") field = &v.target;
            else if (k == "features") field = &v.features[0];
            else if (k.size() == 9 && k.rfind("features", 0) == 0 && k[8] >= '1' && k[8] <= '6') field = &v.features[k[8] - '0'];
            else throw Malformed(fmt::format("unknown option '{}'", k));
            *field = static_cast<std::uint32_t>(unsigned_field(k, number(k, val), 32));
        }
        return b.vcpu_init(v);
    }
    if (cmd == "run_vcpu") {
        Args a(t, 1, 1, "run_vcpu VCPU_FD");
        return b.run_vcpu(a.fd(0));
    }
    if (cmd == "set_attr" || cmd == "has_attr" || cmd == "get_attr") {
        Args a(t, 3, 100, "set_attr|get_attr|has_attr FD GROUP ATTR [key=value...]");
        AttrArgs s;
        s.fd = a.fd(0);
        // struct kvm_device_attr: group u32, attr u64.
        s.group = static_cast<std::uint32_t>(a.named(1, kAttrGroups, "GROUP", 32));
        switch (s.group) {
        case 0: s.attr = a.named(2, kAddrAttrs, "ATTR", 64); break;
        case 1: s.attr = a.named(2, kGroupAttrs, "ATTR", 64); break;
        case 2: s.attr = a.named(2, kDeviceAttrs, "ATTR", 64); break;
        case 4: s.attr = a.named(2, kCtrlAttrs, "ATTR", 64); break;
        default: s.attr = a.u64(2, "ATTR");
        }
        for (const auto& [k, v] : a.options(3)) {
            if (k == "addr" && v == "bad") {
                s.bad_address = true;
            } else {
                s.values[k] = number(k, v); // its width is the attribute's: the backend checks it
            }
        }
        if (cmd == "get_attr") return b.get_attr(s);
        return cmd == "set_attr" ? b.set_attr(s) : b.has_attr(s);
    }
    if (cmd == "irqfd") {
        Args a(t, 3, 5, "irqfd VM_FD EVENT_FD GSI [resample=FD] [flags=N]");
        // struct kvm_irqfd: fd, gsi, flags and resamplefd are u32 each; a
        // resamplefd not given is the zeroed struct's 0.
        int resample = 0;
        std::uint32_t flags = 0;
        for (const auto& [k, v] : a.options(3)) {
            if (k == "resample") {
                // The kernel reads the u32 back as an int fd (two's complement).
                resample = static_cast<int>(static_cast<std::uint32_t>(unsigned_field(k, number(k, v), 32)));
                flags |= kIrqfdResample;
            } else if (k == "flags") {
                flags = static_cast<std::uint32_t>(unsigned_field(k, number(k, v), 32));
            } else {
                throw Malformed(fmt::format("unknown option '{}'", k));
            }
        }
        return b.irqfd(a.fd(0), a.fd(1), a.u32(2, "GSI"), flags, resample);
    }
    if (cmd == "irqfd_deassign") {
        Args a(t, 3, 3, "irqfd_deassign VM_FD EVENT_FD GSI");
        return b.irqfd(a.fd(0), a.fd(1), a.u32(2, "GSI"), 1u /* KVM_IRQFD_FLAG_DEASSIGN */, 0);
    }
    if (cmd == "irq_line") {
        Args a(t, 3, 3, "irq_line VM_FD FIELD LEVEL");
        return b.irq_line(a.fd(0), a.u32(1, "FIELD"), a.u32(2, "LEVEL"));
    }
    if (cmd == "close") {
        Args a(t, 1, 1, "close FD");
        return b.close(a.fd(0));
    }
    if (cmd == "device_irq") {
        Args a(t, 3, 3, "device_irq NAME INDEX LEVEL");
        return b.device_irq(a.str(0), a.u32(1, "INDEX"), a.u32(2, "LEVEL"));
    }
    if (cmd == "signal") {
        Args a(t, 1, 2, "signal EVENT_FD [VALUE]");
        return b.signal(a.fd(0), a.size() > 1 ? a.u64(1, "VALUE") : 1u); // write(2) of a u64
    }
    if (cmd == "read") {
        Args a(t, 1, 1, "read EVENT_FD");
        return b.read(a.fd(0));
    }
    if (cmd == "run") {
        Args a(t, 1, 1, "run CYCLES");
        const Number v = a.num(0, "CYCLES");
        if (v.negative && v.magnitude != 0) throw Malformed("CYCLES must not be negative");
        return b.run(v.magnitude);
    }
    if (cmd == "kill") {
        Args a(t, 0, 0, "kill");
        return b.kill();
    }
    if (cmd == "refs") {
        Args a(t, 0, 0, "refs");
        const auto lines = b.refs();
        for (const auto& l : lines) out << l << '\n';
        return Answer::ok(fmt::format("refs={}", lines.size()));
    }
    if (cmd == "check") {
        Args a(t, 0, 0, "check");
        const auto broken = b.check();
        if (broken.empty()) return Answer::ok();
        std::string text;
        for (const auto& s : broken) text += fmt::format("{}{}", text.empty() ? "" : "; ", s);
        throw std::invalid_argument(text); // reported as ERR <broken invariants>
    }
    throw Malformed(fmt::format("unknown call '{}'", cmd));
}

} // namespace

void run_line(const std::string& line, std::ostream& out, ScriptBackend& backend, std::size_t* malformed)
{
    const auto tokens = tokenize(line);
    if (tokens.empty()) {
        return;
    }
    try {
        const Answer a = dispatch(tokens, backend, out);
        if (a.err != 0) {
            out << "ERR " << sim::errno_name(a.err) << '\n';
        } else if (a.text.empty()) {
            out << "OK\n";
        } else {
            out << "OK " << a.text << '\n';
        }
    } catch (const DoesNotFit&) {
        out << "ERR " << sim::errno_name(-EINVAL) << '\n';
    } catch (const Malformed& e) {
        if (malformed) ++*malformed;
        out << "ERR " << e.what() << '\n';
    } catch (const std::invalid_argument& e) {
        out << "ERR " << e.what() << '\n';
    }
}

std::size_t run_script(std::istream& in, std::ostream& out, ScriptBackend& backend)
{
    std::size_t malformed = 0;
    std::string line;
    while (std::getline(in, line)) {
        run_line(line, out, backend, &malformed);
        out.flush();
    }
    return malformed;
}

} // namespace fwdsim::vmm
