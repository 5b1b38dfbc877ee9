// Tracing: what happened, when, on which track.
//
// Models talk to a Tracer, which forwards to a TraceSink when one is
// attached and does nothing otherwise: the disabled path is one pointer
// test, and callers build no strings unless enabled() is true.  A track is a
// timeline (a physical CPU, a vCPU, a device); ChromeTraceWriter turns each
// into a thread of the Chrome/Perfetto trace-event JSON format.
#pragma once

#include <fwdsim/sim/cycles.h>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>

namespace fwdsim::sim {

class TraceSink {
public:
    virtual ~TraceSink() = default;
    /// A span of work on `track` from `start` lasting `duration`.
    virtual void span(std::string_view track, std::string_view name, Cycles start, Cycles duration) = 0;
    /// A point event.
    virtual void instant(std::string_view track, std::string_view name, Cycles at) = 0;
    /// A sampled value (a queue depth, a line level).
    virtual void counter(std::string_view track, std::string_view name, Cycles at, std::int64_t value) = 0;
    virtual void flush() {}
};

class Tracer {
public:
    void attach(TraceSink* sink) { sink_ = sink; }
    bool enabled() const { return sink_ != nullptr; }

    void span(std::string_view track, std::string_view name, Cycles start, Cycles duration)
    {
        if (sink_) sink_->span(track, name, start, duration);
    }
    void instant(std::string_view track, std::string_view name, Cycles at)
    {
        if (sink_) sink_->instant(track, name, at);
    }
    void counter(std::string_view track, std::string_view name, Cycles at, std::int64_t value)
    {
        if (sink_) sink_->counter(track, name, at, value);
    }

private:
    TraceSink* sink_ = nullptr;
};

/// Writes the Chrome trace-event JSON format (loads in ui.perfetto.dev and
/// chrome://tracing).  Timestamps are microseconds of the given clock, with
/// fixed formatting so the bytes depend only on the events.
class ChromeTraceWriter final : public TraceSink {
public:
    /// `other_data`, when given, is a JSON object written as the trace's
    /// "otherData" (what produced it: the format's place for metadata).
    ChromeTraceWriter(std::ostream& out, Clock clock, std::string_view other_data = {});
    ~ChromeTraceWriter() override;

    void span(std::string_view track, std::string_view name, Cycles start, Cycles duration) override;
    void instant(std::string_view track, std::string_view name, Cycles at) override;
    void counter(std::string_view track, std::string_view name, Cycles at, std::int64_t value) override;
    /// Closes the JSON document; called by the destructor if not before.
    void flush() override;

private:
    int tid_of(std::string_view track);
    void begin_record();

    std::ostream& out_;
    Clock clock_;
    std::map<std::string, int, std::less<>> tids_;
    bool first_ = true;
    bool closed_ = false;
};

/// Escapes a string for inclusion in a JSON string literal.
std::string json_escape(std::string_view s);

} // namespace fwdsim::sim
