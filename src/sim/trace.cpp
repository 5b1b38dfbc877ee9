#include <fwdsim/sim/trace.h>

#include <fmt/format.h>

#include <algorithm>
#include <ostream>

namespace fwdsim::sim {

std::string json_escape(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
            } else {
                out += c;
            }
        }
    }
    return out;
}

ChromeTraceWriter::ChromeTraceWriter(std::ostream& out, Clock clock, std::string_view other_data)
    : out_(out), clock_(clock)
{
    add_metadata("clock_hz", std::to_string(clock.hz()));
    // The object's members join the metadata, after the keyed ones.
    const auto open = other_data.find('{');
    const auto close = other_data.rfind('}');
    if (open != std::string_view::npos && close != std::string_view::npos && close > open + 1)
        other_members_ = std::string(other_data.substr(open + 1, close - open - 1));
}

ChromeTraceWriter::~ChromeTraceWriter()
{
    flush();
}

std::uint32_t ChromeTraceWriter::track_of(std::string_view track)
{
    if (const auto it = track_ids_.find(track); it != track_ids_.end()) return it->second;
    const std::size_t slash = track.find('/');
    const std::string_view group = slash == std::string_view::npos ? std::string_view("fwdsim") : track.substr(0, slash);
    const std::string_view thread = slash == std::string_view::npos ? track : track.substr(slash + 1);
    auto p = std::find(processes_.begin(), processes_.end(), group);
    if (p == processes_.end()) p = processes_.insert(processes_.end(), std::string(group));
    const auto id = static_cast<std::uint32_t>(tracks_.size());
    tracks_.push_back({static_cast<std::uint32_t>(p - processes_.begin()), std::string(thread)});
    track_ids_.emplace(std::string(track), id);
    return id;
}

std::uint32_t ChromeTraceWriter::name_of(std::string_view name)
{
    if (const auto it = name_ids_.find(name); it != name_ids_.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(names_.size());
    names_.emplace_back(name);
    name_ids_.emplace(std::string(name), id);
    return id;
}

void ChromeTraceWriter::declare(std::string_view track)
{
    if (!closed_) (void)track_of(track);
}

void ChromeTraceWriter::span(std::string_view track, std::string_view name, Cycles start, Cycles duration)
{
    if (closed_) return;
    records_.push_back({start.count(), duration.count(), track_of(track), name_of(name), Kind::span, false});
}

void ChromeTraceWriter::instant(std::string_view track, std::string_view name, Cycles at)
{
    if (closed_) return;
    records_.push_back({at.count(), 0, track_of(track), name_of(name), Kind::instant, false});
}

void ChromeTraceWriter::counter(std::string_view track, std::string_view name, Cycles at, std::int64_t value)
{
    if (closed_) return;
    records_.push_back({at.count(), static_cast<std::uint64_t>(value), track_of(track), name_of(name), Kind::counter, false});
}

void ChromeTraceWriter::step(std::string_view track, std::string_view name, Cycles at, std::uint64_t flow, bool last)
{
    if (closed_) return;
    records_.push_back({at.count(), flow, track_of(track), name_of(name), Kind::step, last});
}

void ChromeTraceWriter::add_metadata(std::string key, std::string json_value)
{
    metadata_[std::move(key)] = std::move(json_value);
}

std::string ChromeTraceWriter::ts(std::uint64_t cycles) const
{
    // Whole nanoseconds, rounded, without overflow for any cycle count the
    // queue holds; then half a nanosecond on (see the header).
    const std::uint64_t hz = clock_.hz();
    const std::uint64_t ns = cycles / hz * 1'000'000'000 + (cycles % hz * 1'000'000'000 + hz / 2) / hz;
    return fmt::format("{}.{:03}5", ns / 1000, ns % 1000);
}

void ChromeTraceWriter::write_metadata()
{
    out_ << "\"otherData\":{";
    bool first = true;
    for (const auto& [key, value] : metadata_) {
        out_ << (first ? "" : ",") << '"' << json_escape(key) << "\":" << value;
        first = false;
    }
    if (!other_members_.empty()) out_ << (first ? "" : ",") << other_members_;
    out_ << "},\n";
}

void ChromeTraceWriter::write_events()
{
    // Each span becomes a begin and an end.  Order at one time: ends
    // first (the innermost first), then begins (the outermost first), then
    // the instants, steps and counters -- so every viewer that sorts
    // stably by time rebuilds exactly the nesting of the simulation.
    struct Event {
        std::uint64_t at;
        int order;             ///< 0 end, 1 begin, 2 point
        std::uint64_t tiebreak; ///< end: later begin first; begin: longer first
        std::size_t record;
    };
    std::vector<Event> events;
    events.reserve(records_.size() * 2);
    for (std::size_t i = 0; i < records_.size(); ++i) {
        const Record& r = records_[i];
        if (r.kind == Kind::span && r.extra != 0) {
            events.push_back({r.at, 1, ~r.extra, i});
            events.push_back({r.at + r.extra, 0, ~r.at, i});
        } else {
            events.push_back({r.at, 2, 0, i});
        }
    }
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
        if (a.at != b.at) return a.at < b.at;
        if (a.order != b.order) return a.order < b.order;
        return a.tiebreak < b.tiebreak;
    });
    // Ends of spans with the same begin and end: the one begun last ends first.
    for (std::size_t i = 0; i < events.size();) {
        std::size_t j = i + 1;
        while (j < events.size() && events[i].order == 0 && events[j].order == 0 && events[j].at == events[i].at &&
               events[j].tiebreak == events[i].tiebreak)
            ++j;
        std::reverse(events.begin() + static_cast<std::ptrdiff_t>(i), events.begin() + static_cast<std::ptrdiff_t>(j));
        i = j;
    }

    // Flows: which have ended, and each step's place in its chain.
    std::map<std::uint64_t, std::pair<std::size_t, std::size_t>> flows; // flow -> (steps, steps written)
    std::map<std::uint64_t, bool> ended;
    for (const Record& r : records_) {
        if (r.kind != Kind::step) continue;
        ++flows[r.extra].first;
        if (r.last) ended[r.extra] = true;
    }

    const auto pid = [&](std::uint32_t track) { return tracks_[track].process + 1; };
    const auto tid = [&](std::uint32_t track) { return 1000 * pid(track) + track + 1; };
    bool first = true;
    const auto record = [&](const std::string& text) {
        out_ << (first ? "\n" : ",\n") << text;
        first = false;
    };
    for (std::size_t p = 0; p < processes_.size(); ++p) {
        record(fmt::format(R"({{"ph":"M","pid":{},"name":"process_name","args":{{"name":"{}"}}}})", p + 1,
                           json_escape(processes_[p])));
        record(fmt::format(R"({{"ph":"M","pid":{},"name":"process_sort_index","args":{{"sort_index":{}}}}})", p + 1, p + 1));
    }
    for (std::uint32_t t = 0; t < tracks_.size(); ++t) {
        record(fmt::format(R"({{"ph":"M","pid":{},"tid":{},"name":"thread_name","args":{{"name":"{}"}}}})", pid(t), tid(t),
                           json_escape(tracks_[t].thread)));
        record(fmt::format(R"({{"ph":"M","pid":{},"tid":{},"name":"thread_sort_index","args":{{"sort_index":{}}}}})",
                           pid(t), tid(t), t + 1));
    }
    for (const Event& e : events) {
        const Record& r = records_[e.record];
        const std::string name = json_escape(names_[r.name]);
        switch (r.kind) {
        case Kind::span:
            if (r.extra == 0) { // no time: one zero-length slice, not an end before its begin
                record(fmt::format(R"({{"ph":"X","pid":{},"tid":{},"name":"{}","ts":{},"dur":0}})", pid(r.track),
                                   tid(r.track), name, ts(e.at)));
                break;
            }
            record(fmt::format(R"({{"ph":"{}","pid":{},"tid":{},"name":"{}","ts":{}}})", e.order == 1 ? "B" : "E",
                               pid(r.track), tid(r.track), name, ts(e.at)));
            break;
        case Kind::instant:
            record(fmt::format(R"({{"ph":"i","s":"t","pid":{},"tid":{},"name":"{}","ts":{}}})", pid(r.track),
                               tid(r.track), name, ts(r.at)));
            break;
        case Kind::counter:
            record(fmt::format(R"({{"ph":"C","pid":{},"name":"{}","ts":{},"args":{{"{}":{}}}}})", pid(r.track),
                               json_escape(tracks_[r.track].thread + "." + names_[r.name]), ts(r.at), name,
                               static_cast<std::int64_t>(r.extra)));
            break;
        case Kind::step: {
            auto& [count, written] = flows[r.extra];
            std::string bind;
            if (ended.count(r.extra) != 0 && count > 1) {
                // The chain in time order: out from the first, in to the last.
                const bool in = written > 0, out = written + 1 < count;
                bind = fmt::format(R"(,"bind_id":{}{}{})", r.extra, out ? R"(,"flow_out":true)" : "",
                                   in ? R"(,"flow_in":true)" : "");
            }
            ++written;
            record(fmt::format(R"({{"ph":"X","cat":"irq","pid":{},"tid":{},"name":"{}","ts":{},"dur":0,"args":{{"cycle":{},"flow":{}}}{}}})",
                               pid(r.track), tid(r.track), name, ts(r.at), r.at, r.extra, bind));
            break;
        }
        }
    }
}

void ChromeTraceWriter::flush()
{
    if (closed_) return;
    closed_ = true;
    out_ << "{";
    write_metadata();
    out_ << "\"traceEvents\":[";
    write_events();
    out_ << "\n]}\n";
    out_.flush();
}

} // namespace fwdsim::sim
