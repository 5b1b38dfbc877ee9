#include "trace_check.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace fwdsim::test {

namespace {

// --- a strict JSON reader (RFC 8259), enough for traces -------------------------------

struct Json {
    enum class Type { null, boolean, number, string, array, object } type = Type::null;
    bool boolean = false;
    std::string text; ///< string: its value; number: its digits as written
    std::vector<Json> items;
    std::vector<std::pair<std::string, Json>> members;

    const Json* get(std::string_view key) const
    {
        for (const auto& [k, v] : members) {
            if (k == key) return &v;
        }
        return nullptr;
    }
};

class Reader {
public:
    explicit Reader(std::string_view s) : s_(s) {}

    Json document()
    {
        Json v = value(0);
        space();
        if (i_ != s_.size()) fail("text after the document");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& what) const
    {
        throw std::runtime_error("not JSON at byte " + std::to_string(i_) + ": " + what);
    }
    void space()
    {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
    }
    bool eat(char c)
    {
        space();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    void expect(char c)
    {
        if (!eat(c)) fail(std::string("expected '") + c + "'");
    }
    Json value(int depth)
    {
        if (depth > 64) fail("nested too deep");
        space();
        if (i_ >= s_.size()) fail("unexpected end");
        Json v;
        const char c = s_[i_];
        if (c == '{') {
            ++i_;
            v.type = Json::Type::object;
            if (eat('}')) return v;
            do {
                space();
                if (i_ >= s_.size() || s_[i_] != '"') fail("expected a key");
                std::string key = string();
                expect(':');
                v.members.emplace_back(std::move(key), value(depth + 1));
            } while (eat(','));
            expect('}');
        } else if (c == '[') {
            ++i_;
            v.type = Json::Type::array;
            if (eat(']')) return v;
            do v.items.push_back(value(depth + 1));
            while (eat(','));
            expect(']');
        } else if (c == '"') {
            v.type = Json::Type::string;
            v.text = string();
        } else if (s_.substr(i_, 4) == "true" || s_.substr(i_, 5) == "false") {
            v.type = Json::Type::boolean;
            v.boolean = c == 't';
            i_ += v.boolean ? 4 : 5;
        } else if (s_.substr(i_, 4) == "null") {
            i_ += 4;
        } else {
            v.type = Json::Type::number;
            v.text = number();
        }
        return v;
    }
    std::string string()
    {
        ++i_; // the quote
        std::string out;
        while (i_ < s_.size() && s_[i_] != '"') {
            const char c = s_[i_++];
            if (static_cast<unsigned char>(c) < 0x20) fail("a control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= s_.size()) break;
            const char e = s_[i_++];
            switch (e) {
            case '"': case '\\': case '/': out += e; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u':
                if (i_ + 4 > s_.size() || !std::all_of(s_.begin() + static_cast<std::ptrdiff_t>(i_),
                                                       s_.begin() + static_cast<std::ptrdiff_t>(i_ + 4),
                                                       [](char h) { return std::isxdigit(static_cast<unsigned char>(h)); }))
                    fail("a bad \\u escape");
                out += '?';
                i_ += 4;
                break;
            default: fail("a bad escape");
            }
        }
        if (i_ >= s_.size()) fail("an unterminated string");
        ++i_;
        return out;
    }
    std::string number()
    {
        const std::size_t start = i_;
        const auto digits = [&] {
            const std::size_t d = i_;
            while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
            if (i_ == d) fail("a malformed number");
        };
        if (i_ < s_.size() && s_[i_] == '-') ++i_;
        if (i_ < s_.size() && s_[i_] == '0') ++i_;
        else digits();
        if (i_ < s_.size() && s_[i_] == '.') {
            ++i_;
            digits();
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
            digits();
        }
        return std::string(s_.substr(start, i_ - start));
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

/// A non-negative decimal number of microseconds, exactly, in picoseconds
/// (no rounding through floating point: nesting is judged on the digits).
std::optional<std::int64_t> picoseconds(const Json* v)
{
    if (v == nullptr || v->type != Json::Type::number || v->text.find_first_of("eE-") != std::string::npos) return std::nullopt;
    const std::size_t dot = v->text.find('.');
    std::int64_t whole = std::stoll(v->text.substr(0, dot));
    std::string frac = dot == std::string::npos ? "" : v->text.substr(dot + 1);
    frac = (frac + "000000").substr(0, 6);
    return whole * 1'000'000 + std::stoll(frac);
}

std::optional<std::uint64_t> unsigned_of(const Json* v)
{
    if (v == nullptr || v->type != Json::Type::number || v->text.find_first_of(".eE-") != std::string::npos) return std::nullopt;
    return std::stoull(v->text);
}

struct Span {
    std::int64_t begin, end;
    std::string name;
};

} // namespace

TraceCheck check_trace(const std::string& text)
{
    TraceCheck r;
    Json doc;
    try {
        doc = Reader(text).document();
    } catch (const std::exception& e) {
        r.problems.push_back(e.what());
        return r;
    }
    const Json* events = doc.type == Json::Type::object ? doc.get("traceEvents") : nullptr;
    if (events == nullptr || events->type != Json::Type::array) {
        r.problems.push_back("no traceEvents array");
        return r;
    }
    std::map<std::uint64_t, std::string> processes;
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> threads;
    for (const Json& e : events->items) {
        const Json* ph = e.get("ph");
        const Json* name = e.get("name");
        const Json* args = e.get("args");
        if (ph == nullptr || ph->text != "M" || name == nullptr || args == nullptr || args->get("name") == nullptr) continue;
        const auto pid = unsigned_of(e.get("pid"));
        const auto tid = unsigned_of(e.get("tid"));
        if (name->text == "process_name" && pid) processes[*pid] = args->get("name")->text;
        if (name->text == "thread_name" && pid && tid) threads[{*pid, *tid}] = args->get("name")->text;
    }
    for (const auto& [key, t] : threads) r.tracks.push_back(processes[key.first] + "/" + t);

    // Per thread: (time, position) of each begin/end/slice, to replay them
    // as a viewer that sorts stably by time does.
    struct Mark {
        std::int64_t at;
        std::size_t pos;
        char ph;
        std::int64_t dur;
        std::string name;
    };
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<Mark>> marks;
    struct FlowEnd {
        std::int64_t at;
        std::size_t pos;
        bool in, out;
    };
    std::map<std::uint64_t, std::vector<FlowEnd>> flows;
    std::set<std::string> reported;
    const auto problem = [&](const std::string& p) {
        if (reported.insert(p).second && r.problems.size() < 50) r.problems.push_back(p);
    };
    for (std::size_t pos = 0; pos < events->items.size(); ++pos) {
        const Json& e = events->items[pos];
        const Json* ph = e.get("ph");
        if (ph == nullptr || ph->type != Json::Type::string) {
            problem("event " + std::to_string(pos) + " has no ph");
            continue;
        }
        if (ph->text == "M") continue;
        ++r.events;
        const Json* name = e.get("name");
        const std::string nm = name != nullptr ? name->text : "";
        if (!nm.empty()) ++r.names[nm];
        const auto pid = unsigned_of(e.get("pid"));
        const auto tid = unsigned_of(e.get("tid"));
        const Json* scope = e.get("s");
        const bool global = ph->text == "i" && scope != nullptr && scope->text == "g";
        if (!global && (!pid || processes.count(*pid) == 0)) {
            problem("event '" + nm + "' (" + ph->text + ") is in a process with no process_name");
            continue;
        }
        const bool per_thread = ph->text != "C" && !global;
        if (per_thread && (!tid || threads.count({*pid, *tid}) == 0)) {
            problem("event '" + nm + "' (" + ph->text + ") is on a thread with no thread_name");
            continue;
        }
        const auto at = picoseconds(e.get("ts"));
        if (!at) {
            problem("event '" + nm + "' has no non-negative ts");
            continue;
        }
        if (!per_thread) continue;
        const std::string track = processes[*pid] + "/" + threads[{*pid, *tid}];
        if (ph->text == "B" || ph->text == "E") {
            marks[{*pid, *tid}].push_back({*at, pos, ph->text[0], 0, nm});
        } else if (ph->text == "X") {
            const auto dur = picoseconds(e.get("dur"));
            if (!dur) {
                problem("slice '" + nm + "' has no non-negative dur");
                continue;
            }
            marks[{*pid, *tid}].push_back({*at, pos, 'X', *dur, nm});
            const Json* args = e.get("args");
            if (*dur == 0 && args != nullptr && args->get("flow") != nullptr) {
                r.steps.push_back({track, nm, unsigned_of(args->get("cycle")).value_or(0),
                                   unsigned_of(args->get("flow")).value_or(0), *at});
            }
            if (const auto id = unsigned_of(e.get("bind_id"))) {
                const Json* in = e.get("flow_in");
                const Json* out = e.get("flow_out");
                flows[*id].push_back({*at, pos, in != nullptr && in->boolean, out != nullptr && out->boolean});
            }
        }
    }

    for (auto& [key, list] : marks) {
        const std::string track = processes[key.first] + "/" + threads[key];
        std::stable_sort(list.begin(), list.end(), [](const Mark& a, const Mark& b) { return a.at < b.at; });
        std::vector<Span> spans;
        std::vector<std::pair<std::int64_t, std::string>> open;
        for (const Mark& m : list) {
            if (m.ph == 'B') {
                open.emplace_back(m.at, m.name);
            } else if (m.ph == 'E') {
                if (open.empty()) {
                    problem(track + ": '" + m.name + "' ends but nothing is open");
                    continue;
                }
                if (!m.name.empty() && m.name != open.back().second)
                    problem(track + ": '" + m.name + "' ends while '" + open.back().second + "' (opened inside it) is open");
                spans.push_back({open.back().first, m.at, open.back().second});
                open.pop_back();
            } else {
                spans.push_back({m.at, m.at + m.dur, m.name});
            }
        }
        for (const auto& [at, name] : open) problem(track + ": '" + name + "' never ends");
        r.spans += spans.size();
        // Laminar: sorted by begin (longest first), each span lies inside
        // the innermost one still open or begins after it ends.
        std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
            return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
        });
        std::vector<const Span*> stack;
        for (const Span& s : spans) {
            while (!stack.empty() && stack.back()->end <= s.begin) stack.pop_back();
            if (!stack.empty() && s.end > stack.back()->end) {
                problem(track + ": '" + s.name + "' [" + std::to_string(s.begin) + ", " + std::to_string(s.end) +
                        "] ps overlaps '" + stack.back()->name + "' [" + std::to_string(stack.back()->begin) + ", " +
                        std::to_string(stack.back()->end) + "] partly");
                continue;
            }
            stack.push_back(&s);
        }
    }

    for (auto& [id, ends] : flows) {
        std::stable_sort(ends.begin(), ends.end(), [](const FlowEnd& a, const FlowEnd& b) { return a.at < b.at; });
        const std::string f = "flow " + std::to_string(id);
        std::size_t starts = 0, finishes = 0;
        for (const FlowEnd& e : ends) {
            if (!e.in && !e.out) problem(f + ": a slice bound with neither flow_in nor flow_out");
            if (e.out && !e.in) ++starts;
            if (e.in && !e.out) ++finishes;
        }
        if (starts != 1 || finishes != 1) {
            problem(f + ": " + std::to_string(starts) + " start(s) and " + std::to_string(finishes) + " finish(es), not one of each");
            continue;
        }
        if (!(ends.front().out && !ends.front().in) || !(ends.back().in && !ends.back().out))
            problem(f + ": does not start at its earliest step and finish at its latest");
        ++r.flows;
    }
    return r;
}

} // namespace fwdsim::test
