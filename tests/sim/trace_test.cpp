#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/random.h>
#include <fwdsim/sim/trace.h>

#include <catch2/catch.hpp>

#include "trace_check.h"

#include <sstream>

using namespace fwdsim::sim;

namespace {

// A small stochastic model: a few sources fire at random intervals and trace
// each firing.  Its trace bytes must depend only on the seed.
std::string run_model(std::uint64_t seed)
{
    std::ostringstream out;
    {
        ChromeTraceWriter writer(out, Clock{1'000'000'000});
        Tracer tracer;
        tracer.attach(&writer);
        EventQueue q;
        RandomStreams streams(seed);
        struct Source {
            std::string name;
            Rng rng;
            int left = 20;
            std::unique_ptr<FunctionEvent> ev;
        };
        std::vector<std::unique_ptr<Source>> sources;
        for (int i = 0; i < 3; ++i) {
            auto s = std::make_unique<Source>(Source{"src" + std::to_string(i), streams.stream("src" + std::to_string(i)), 20, nullptr});
            Source* raw = s.get();
            s->ev = std::make_unique<FunctionEvent>([raw, &q, &tracer] {
                tracer.span("sources/" + raw->name, "fire", q.now(), Cycles{5});
                if (--raw->left > 0) {
                    q.schedule_after(*raw->ev, Cycles{1 + raw->rng.uniform(5000)});
                }
            });
            q.schedule(*s->ev, Cycles{s->rng.uniform(100)});
            sources.push_back(std::move(s));
        }
        q.run_until_idle();
    }
    return out.str();
}

} // namespace

TEST_CASE("the same seed gives the same trace bytes; another seed does not")
{
    const std::string a = run_model(1);
    const std::string b = run_model(1);
    const std::string c = run_model(2);
    CHECK(a == b);
    CHECK(a != c);
    CHECK(a.find("\"ph\":\"B\"") != std::string::npos);
    CHECK(fwdsim::test::check_trace(a).problems.empty());
}

TEST_CASE("the Chrome trace is a closed JSON document with named processes and threads")
{
    std::ostringstream out;
    {
        ChromeTraceWriter w(out, Clock{2'000'000'000});
        w.span("host/cpu0", "handler", Cycles{2000}, Cycles{4000});
        w.instant("vm0/vcpu1", "say \"hi\"", Cycles{10});
        w.counter("host/gic", "pending", Cycles{20}, 3);
    }
    const std::string s = out.str();
    CHECK(s.rfind("{\"otherData\":{\"clock_hz\":2000000000}", 0) == 0);
    CHECK(s.find(R"("name":"process_name","args":{"name":"host"})") != std::string::npos);
    CHECK(s.find(R"("name":"process_name","args":{"name":"vm0"})") != std::string::npos);
    CHECK(s.find(R"("name":"thread_name","args":{"name":"cpu0"})") != std::string::npos);
    // A span is a begin and an end on the nanosecond grid, half a ns late.
    CHECK(s.find(R"("ph":"B","pid":1,"tid":1001,"name":"handler","ts":1.0005})") != std::string::npos);
    CHECK(s.find(R"("ph":"E","pid":1,"tid":1001,"name":"handler","ts":3.0005})") != std::string::npos);
    CHECK(s.find("say \\\"hi\\\"") != std::string::npos);
    CHECK(s.substr(s.size() - 3) == "]}\n");
    const fwdsim::test::TraceCheck c = fwdsim::test::check_trace(s);
    CHECK(c.problems.empty());
    CHECK(c.spans == 1);
}

TEST_CASE("spans written in any order come out nested, ends before begins at one time")
{
    std::ostringstream out;
    {
        ChromeTraceWriter w(out, Clock{1'000'000'000});
        // Emitted as a model does: children before their parent, a later sibling first.
        w.span("host/cpu0", "b", Cycles{100}, Cycles{50});
        w.span("host/cpu0", "a: phase 1", Cycles{0}, Cycles{40});
        w.span("host/cpu0", "a: phase 2", Cycles{40}, Cycles{60});
        w.span("host/cpu0", "a", Cycles{0}, Cycles{100});
        w.span("host/cpu0", "same as a, emitted later", Cycles{0}, Cycles{100});
        w.step("host/cpu0", "mark", Cycles{100}, 7, false);
    }
    const std::string s = out.str();
    const fwdsim::test::TraceCheck c = fwdsim::test::check_trace(s);
    INFO(s);
    CHECK(c.problems.empty());
    CHECK(c.spans == 6);
    // At t = 100: a's phase 2 ends, then the copy of a, then a, then b begins.
    const auto at = [&](const char* what) { return s.find(what); };
    CHECK(at(R"("ph":"E","pid":1,"tid":1001,"name":"a: phase 2")") < at(R"("ph":"E","pid":1,"tid":1001,"name":"same as a)"));
    CHECK(at(R"("ph":"E","pid":1,"tid":1001,"name":"same as a)") < at(R"("ph":"E","pid":1,"tid":1001,"name":"a","ts")"));
    CHECK(at(R"("ph":"E","pid":1,"tid":1001,"name":"a","ts")") < at(R"("ph":"B","pid":1,"tid":1001,"name":"b")"));
    CHECK(at(R"("ph":"B","pid":1,"tid":1001,"name":"b")") < at(R"("name":"mark")"));
}

TEST_CASE("a flow's steps are joined in time order once it ends; one still open gets no arrows")
{
    std::ostringstream out;
    {
        ChromeTraceWriter w(out, Clock{1'000'000'000});
        w.step("devices/plat0.0", "assert", Cycles{10}, 1, false);
        w.step("vm0/vcpu0", "EOI (guest)", Cycles{90}, 1, true);
        w.step("host/cpu0", "IAR (host)", Cycles{30}, 1, false);
        w.step("devices/plat0.0", "assert", Cycles{100}, 2, false); // the run ends before its EOI
    }
    const std::string s = out.str();
    const fwdsim::test::TraceCheck c = fwdsim::test::check_trace(s);
    INFO(s);
    CHECK(c.problems.empty());
    CHECK(c.flows == 1);
    CHECK(s.find(R"("args":{"cycle":10,"flow":1},"bind_id":1,"flow_out":true})") != std::string::npos);
    CHECK(s.find(R"("args":{"cycle":30,"flow":1},"bind_id":1,"flow_out":true,"flow_in":true})") != std::string::npos);
    CHECK(s.find(R"("args":{"cycle":90,"flow":1},"bind_id":1,"flow_in":true})") != std::string::npos);
    CHECK(s.find(R"("args":{"cycle":100,"flow":2}})") != std::string::npos);
}

TEST_CASE("metadata goes into one object at the top of the document")
{
    std::ostringstream out;
    {
        ChromeTraceWriter w(out, Clock{1'000'000'000});
        w.add_metadata("scenario", "\"headline\"");
    }
    CHECK(out.str().rfind(R"({"otherData":{"clock_hz":1000000000,"scenario":"headline"},)", 0) == 0);
}

// The checker itself must fail what a viewer cannot read.
TEST_CASE("the trace checker finds overlaps, unnamed tracks, open spans, broken flows and bad JSON")
{
    using fwdsim::test::check_trace;
    const std::string names = R"({"ph":"M","pid":1,"name":"process_name","args":{"name":"host"}},)"
                              R"({"ph":"M","pid":1,"tid":2,"name":"thread_name","args":{"name":"cpu0"}},)";
    const auto doc = [&](const std::string& events) { return R"({"traceEvents":[)" + names + events + "]}"; };
    CHECK(check_trace(doc(R"({"ph":"X","pid":1,"tid":2,"name":"a","ts":0,"dur":10},)"
                          R"({"ph":"X","pid":1,"tid":2,"name":"b","ts":5,"dur":2})"))
              .problems.empty());
    const auto first = [](const fwdsim::test::TraceCheck& c) { return c.problems.empty() ? std::string() : c.problems.front(); };
    CHECK_THAT(first(check_trace(doc(R"({"ph":"X","pid":1,"tid":2,"name":"a","ts":0,"dur":10},)"
                                     R"({"ph":"X","pid":1,"tid":2,"name":"b","ts":5,"dur":10})"))),
               Catch::Contains("'b'") && Catch::Contains("overlaps 'a'"));
    CHECK_THAT(first(check_trace(doc(R"({"ph":"B","pid":1,"tid":2,"name":"a","ts":0},)"
                                     R"({"ph":"B","pid":1,"tid":2,"name":"b","ts":1},)"
                                     R"({"ph":"E","pid":1,"tid":2,"name":"a","ts":2},)"
                                     R"({"ph":"E","pid":1,"tid":2,"name":"b","ts":3})"))),
               Catch::Contains("'a' ends while 'b'"));
    CHECK_THAT(first(check_trace(doc(R"({"ph":"B","pid":1,"tid":2,"name":"a","ts":0})"))), Catch::Contains("never ends"));
    CHECK_THAT(first(check_trace(doc(R"({"ph":"X","pid":1,"tid":3,"name":"a","ts":0,"dur":1})"))),
               Catch::Contains("no thread_name"));
    CHECK_THAT(first(check_trace(doc(R"({"ph":"X","pid":2,"tid":2,"name":"a","ts":0,"dur":1})"))),
               Catch::Contains("no process_name"));
    CHECK_THAT(first(check_trace(doc(R"({"ph":"X","pid":1,"tid":2,"name":"a","ts":0,"dur":0,"bind_id":4,"flow_out":true})"))),
               Catch::Contains("flow 4: 1 start(s) and 0 finish(es)"));
    CHECK_THAT(first(check_trace(doc(R"({"ph":"X","pid":1,"tid":2,"name":"a","ts":5,"dur":0,"bind_id":4,"flow_out":true},)"
                                     R"({"ph":"X","pid":1,"tid":2,"name":"b","ts":1,"dur":0,"bind_id":4,"flow_in":true})"))),
               Catch::Contains("does not start at its earliest step"));
    CHECK_THAT(first(check_trace(doc(R"({"ph":"X","pid":1,"tid":2,"name":"a","ts":0,"dur":1},)"))),
               Catch::Contains("not JSON"));
    CHECK_THAT(first(check_trace("{\"traceEvents\":[]} x")), Catch::Contains("not JSON"));
}

TEST_CASE("a tracer with no sink records nothing")
{
    Tracer t;
    CHECK_FALSE(t.enabled());
    t.span("x", "y", Cycles{1}, Cycles{1}); // must not crash
}
