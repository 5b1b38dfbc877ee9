#include <fwdsim/sim/trace.h>

#include <fmt/format.h>

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
    out_ << "{\"displayTimeUnit\":\"ns\",";
    if (!other_data.empty()) out_ << "\"otherData\":" << other_data << ",";
    out_ << "\"traceEvents\":[";
}

ChromeTraceWriter::~ChromeTraceWriter()
{
    flush();
}

void ChromeTraceWriter::begin_record()
{
    out_ << (first_ ? "\n" : ",\n");
    first_ = false;
}

int ChromeTraceWriter::tid_of(std::string_view track)
{
    auto it = tids_.find(track);
    if (it != tids_.end()) {
        return it->second;
    }
    const int tid = static_cast<int>(tids_.size()) + 1;
    tids_.emplace(std::string(track), tid);
    begin_record();
    out_ << fmt::format(R"({{"ph":"M","pid":1,"tid":{},"name":"thread_name","args":{{"name":"{}"}}}})", tid,
                        json_escape(track));
    return tid;
}

void ChromeTraceWriter::span(std::string_view track, std::string_view name, Cycles start, Cycles duration)
{
    const int tid = tid_of(track);
    begin_record();
    out_ << fmt::format(R"({{"ph":"X","pid":1,"tid":{},"name":"{}","ts":{:.6f},"dur":{:.6f}}})", tid,
                        json_escape(name), clock_.to_us(start), clock_.to_us(duration));
}

void ChromeTraceWriter::instant(std::string_view track, std::string_view name, Cycles at)
{
    const int tid = tid_of(track);
    begin_record();
    out_ << fmt::format(R"({{"ph":"i","s":"t","pid":1,"tid":{},"name":"{}","ts":{:.6f}}})", tid,
                        json_escape(name), clock_.to_us(at));
}

void ChromeTraceWriter::counter(std::string_view track, std::string_view name, Cycles at, std::int64_t value)
{
    begin_record();
    out_ << fmt::format(R"({{"ph":"C","pid":1,"name":"{}","ts":{:.6f},"args":{{"{}":{}}}}})",
                        json_escape(std::string(track) + "." + std::string(name)), clock_.to_us(at),
                        json_escape(name), value);
}

void ChromeTraceWriter::flush()
{
    if (!closed_) {
        out_ << "\n]}\n";
        out_.flush();
        closed_ = true;
    }
}

} // namespace fwdsim::sim
