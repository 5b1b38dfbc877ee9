#include <fwdsim/sim/errno_name.h>
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
constexpr Name kAttrGroups[] = {{"VFIO_GROUP", 1}, {"VFIO_DEVICE", 2}};
constexpr Name kGroupAttrs[] = {{"ADD", 1}, {"DEL", 2}};
constexpr Name kDeviceAttrs[] = {{"FORWARD_IRQ", 1}, {"UNFORWARD_IRQ", 2}};
constexpr Name kDeviceTypes[] = {{"vfio", 4}, {"vgic-v2", 5}};
constexpr std::uint32_t kIrqfdResample = 1u << 1;

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

std::optional<std::int64_t> parse_int(std::string_view s)
{
    bool negative = false;
    if (!s.empty() && s[0] == '-') {
        negative = true;
        s.remove_prefix(1);
    }
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    }
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size() || v > (std::uint64_t{1} << 62)) {
        return std::nullopt;
    }
    return negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
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

    std::int64_t integer(std::size_t i, const char* what) const
    {
        const auto v = parse_int(str(i));
        if (!v) throw Malformed(fmt::format("{} must be a number, got '{}'", what, str(i)));
        return *v;
    }
    int fd(std::size_t i) const
    {
        const auto v = integer(i, "a file descriptor");
        if (v < -1 || v > 1'000'000) throw Malformed(fmt::format("'{}' is not a file descriptor", str(i)));
        return static_cast<int>(v);
    }
    std::uint32_t u32(std::size_t i, const char* what) const
    {
        const auto v = integer(i, what);
        if (v < 0 || v > 0xFFFF'FFFFll) throw Malformed(fmt::format("{} must fit in 32 bits, got '{}'", what, str(i)));
        return static_cast<std::uint32_t>(v);
    }
    template <std::size_t N>
    std::uint64_t named(std::size_t i, const Name (&names)[N], const char* what) const
    {
        for (const auto& n : names) {
            if (str(i) == n.name) return n.value;
        }
        const auto v = parse_int(str(i));
        if (!v || *v < 0) {
            std::string valid;
            for (const auto& n : names) valid += fmt::format("{}{}", valid.empty() ? "" : "|", n.name);
            throw Malformed(fmt::format("{} must be {} or a number, got '{}'", what, valid, str(i)));
        }
        return static_cast<std::uint64_t>(*v);
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

std::int64_t option_int(const std::string& key, const std::string& value)
{
    const auto v = parse_int(value);
    if (!v) throw Malformed(fmt::format("{} must be a number, got '{}'", key, value));
    return *v;
}

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
        s.flags = static_cast<std::uint32_t>(a.named(4, kActions, "ACTION") | a.named(5, kData, "DATA"));
        for (std::size_t i = 6; i < a.size(); ++i) {
            if (a.str(i).rfind("argsz=", 0) == 0) {
                const auto v = option_int("argsz", a.str(i).substr(6));
                if (v < 0 || v > 0xFFFF'FFFFll) throw Malformed("argsz must fit in 32 bits");
                s.argsz = static_cast<std::uint32_t>(v);
                continue;
            }
            const auto v = a.integer(i, "a data value");
            if (v < -1 || v > 0x7FFF'FFFF) throw Malformed(fmt::format("data value '{}' out of range", a.str(i)));
            s.data.push_back(static_cast<std::int32_t>(v));
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
        Args a(t, 2, 2, "create_device VM_FD vfio|vgic-v2|TYPE");
        return b.create_device(a.fd(0), static_cast<std::uint32_t>(a.named(1, kDeviceTypes, "TYPE")));
    }
    if (cmd == "set_attr" || cmd == "has_attr") {
        Args a(t, 3, 100, "set_attr FD GROUP ATTR [key=value...]");
        AttrArgs s;
        s.fd = a.fd(0);
        s.group = static_cast<std::uint32_t>(a.named(1, kAttrGroups, "GROUP"));
        s.attr = s.group == 1   ? a.named(2, kGroupAttrs, "ATTR")
                 : s.group == 2 ? a.named(2, kDeviceAttrs, "ATTR")
                                : static_cast<std::uint64_t>(a.integer(2, "ATTR"));
        for (const auto& [k, v] : a.options(3)) {
            if (k == "addr" && v == "bad") {
                s.bad_address = true;
            } else {
                s.values[k] = option_int(k, v);
            }
        }
        return cmd == "set_attr" ? b.set_attr(s) : b.has_attr(s);
    }
    if (cmd == "irqfd") {
        Args a(t, 3, 5, "irqfd VM_FD EVENT_FD GSI [resample=FD] [flags=N]");
        int resample = -1;
        std::uint32_t flags = 0;
        for (const auto& [k, v] : a.options(3)) {
            if (k == "resample") {
                resample = static_cast<int>(option_int(k, v));
                flags |= kIrqfdResample;
            } else if (k == "flags") {
                flags = static_cast<std::uint32_t>(option_int(k, v));
            } else {
                throw Malformed(fmt::format("unknown option '{}'", k));
            }
        }
        return b.irqfd(a.fd(0), a.fd(1), a.u32(2, "GSI"), flags, resample);
    }
    if (cmd == "irqfd_deassign") {
        Args a(t, 3, 3, "irqfd_deassign VM_FD EVENT_FD GSI");
        return b.irqfd(a.fd(0), a.fd(1), a.u32(2, "GSI"), 1u /* KVM_IRQFD_FLAG_DEASSIGN */, -1);
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
        return b.signal(a.fd(0), a.size() > 1 ? static_cast<std::uint64_t>(a.u32(1, "VALUE")) : 1u);
    }
    if (cmd == "read") {
        Args a(t, 1, 1, "read EVENT_FD");
        return b.read(a.fd(0));
    }
    if (cmd == "run") {
        Args a(t, 1, 1, "run CYCLES");
        const auto v = a.integer(0, "CYCLES");
        if (v < 0) throw Malformed("CYCLES must not be negative");
        return b.run(static_cast<std::uint64_t>(v));
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
