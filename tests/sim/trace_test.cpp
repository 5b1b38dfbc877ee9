#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/random.h>
#include <fwdsim/sim/trace.h>

#include <catch2/catch.hpp>

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
                tracer.span(raw->name, "fire", q.now(), Cycles{5});
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
    CHECK(a.find("\"ph\":\"X\"") != std::string::npos);
}

TEST_CASE("the Chrome trace is a closed JSON document with named tracks")
{
    std::ostringstream out;
    {
        ChromeTraceWriter w(out, Clock{2'000'000'000});
        w.span("cpu0", "handler", Cycles{2000}, Cycles{4000});
        w.instant("cpu1", "say \"hi\"", Cycles{10});
        w.counter("gic", "pending", Cycles{20}, 3);
    }
    const std::string s = out.str();
    CHECK(s.rfind("{\"displayTimeUnit\"", 0) == 0);
    CHECK(s.find("\"name\":\"cpu0\"") != std::string::npos);
    CHECK(s.find("\"ts\":1.000000,\"dur\":2.000000") != std::string::npos);
    CHECK(s.find("say \\\"hi\\\"") != std::string::npos);
    CHECK(s.substr(s.size() - 3) == "]}\n");
}

TEST_CASE("a tracer with no sink records nothing")
{
    Tracer t;
    CHECK_FALSE(t.enabled());
    t.span("x", "y", Cycles{1}, Cycles{1}); // must not crash
}
