// Tracing: what happened, when, on which track.
//
// Models talk to a Tracer, which forwards to a TraceSink when one is
// attached and does nothing otherwise: the disabled path is one pointer
// test, and callers build no strings unless enabled() is true.
//
// A track is one timeline, named "group/timeline": the part before the
// first '/' groups tracks (the host, one VM, the devices), the rest names
// the timeline (a physical CPU, a vCPU, a device interrupt).  Spans on one
// track must nest -- never overlap partly -- as a call stack does.  A step
// is one moment of something that crosses tracks (a device interrupt on its
// way to the guest): steps that share a flow id are joined, in time order,
// by arrows in the viewer; the step that ends the flow says so.
//
// ChromeTraceWriter turns groups into processes and timelines into threads
// of the Chrome/Perfetto trace-event JSON format (docs/traces.md).
#pragma once

#include <fwdsim/sim/cycles.h>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fwdsim::sim {

class TraceSink {
public:
    virtual ~TraceSink() = default;
    /// Names a track before anything happens on it, so tracks list in the
    /// order they are declared rather than the order they are first used.
    virtual void declare(std::string_view track) { (void)track; }
    /// A span of work on `track` from `start` lasting `duration`.
    virtual void span(std::string_view track, std::string_view name, Cycles start, Cycles duration) = 0;
    /// A point event.
    virtual void instant(std::string_view track, std::string_view name, Cycles at) = 0;
    /// A sampled value (a queue depth, a line level).
    virtual void counter(std::string_view track, std::string_view name, Cycles at, std::int64_t value) = 0;
    /// One moment of flow `flow` (never 0) on `track`; `last`: the flow ends here.
    virtual void step(std::string_view track, std::string_view name, Cycles at, std::uint64_t flow, bool last) = 0;
    virtual void flush() {}
};

class Tracer {
public:
    void attach(TraceSink* sink) { sink_ = sink; }
    bool enabled() const { return sink_ != nullptr; }

    void declare(std::string_view track)
    {
        if (sink_) sink_->declare(track);
    }
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
    void step(std::string_view track, std::string_view name, Cycles at, std::uint64_t flow, bool last)
    {
        if (sink_) sink_->step(track, name, at, flow, last);
    }

private:
    TraceSink* sink_ = nullptr;
};

/// Writes the Chrome trace-event JSON format (loads in ui.perfetto.dev,
/// chrome://tracing and speedscope).  It keeps the events and writes them
/// sorted when flushed, so the bytes depend only on the events:
/// * a group is a process and a timeline a thread, each named by a
///   metadata event; spans are begin/end pairs (a span of no time, one
///   zero-length slice);
/// * timestamps are microseconds of simulated time on a grid of whole
///   nanoseconds, each written half a nanosecond late ("1.0015" is the
///   1001st ns): viewers that read them as floating point and truncate to
///   whole nanoseconds (Perfetto) land exactly on the grid, the others see
///   every event shifted alike;
/// * a step is a zero-length slice (Perfetto draws it as an instant) with
///   args {cycle, flow}; the steps of a flow that ended are bound into one
///   chain of arrows (flow_out, flow_in: Perfetto's v2 flows); a flow
///   still open when the trace ends gets no arrows.
class ChromeTraceWriter final : public TraceSink {
public:
    /// `other_data`, when given, is a JSON object whose members join the
    /// trace's "otherData" (what produced it: the format's place for
    /// metadata), after clock_hz and what add_metadata() adds.
    ChromeTraceWriter(std::ostream& out, Clock clock, std::string_view other_data = {});
    ~ChromeTraceWriter() override;

    void declare(std::string_view track) override;
    void span(std::string_view track, std::string_view name, Cycles start, Cycles duration) override;
    void instant(std::string_view track, std::string_view name, Cycles at) override;
    void counter(std::string_view track, std::string_view name, Cycles at, std::int64_t value) override;
    void step(std::string_view track, std::string_view name, Cycles at, std::uint64_t flow, bool last) override;
    /// Adds `"key": value` (value: JSON text) to the document's metadata
    /// object ("otherData"); a key given twice keeps its last value.
    void add_metadata(std::string key, std::string json_value);
    /// Writes the document; called by the destructor if not before.  Later
    /// events are ignored.
    void flush() override;

private:
    enum class Kind : std::uint8_t { span, instant, counter, step };
    struct Record {
        std::uint64_t at = 0;
        std::uint64_t extra = 0; ///< span: duration; counter: value; step: flow
        std::uint32_t track = 0;
        std::uint32_t name = 0;
        Kind kind = Kind::span;
        bool last = false;
    };
    struct Track {
        std::uint32_t process = 0; ///< index into processes_
        std::string thread;
    };
    std::uint32_t track_of(std::string_view track);
    std::uint32_t name_of(std::string_view name);
    /// The metadata object, the one place the document's metadata is written.
    void write_metadata();
    void write_events();
    std::string ts(std::uint64_t cycles) const;

    std::ostream& out_;
    Clock clock_;
    std::vector<std::string> processes_;
    std::vector<Track> tracks_;
    std::map<std::string, std::uint32_t, std::less<>> track_ids_;
    std::vector<std::string> names_;
    std::map<std::string, std::uint32_t, std::less<>> name_ids_;
    std::vector<Record> records_;
    std::map<std::string, std::string> metadata_;
    std::string other_members_; ///< the constructor's other_data, without its braces
    bool closed_ = false;
};

/// Escapes a string for inclusion in a JSON string literal.
std::string json_escape(std::string_view s);

} // namespace fwdsim::sim
