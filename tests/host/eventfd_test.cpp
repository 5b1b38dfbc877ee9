// eventfd: counter semantics, wait-queue entries, release with POLLHUP.
#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/process.h>
#include <fwdsim/host/user_thread.h>

#include "host_fixture.h"

#include <catch2/catch.hpp>

#include <cerrno>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::sim::literals;

TEST_CASE("eventfd signals add up, a read returns the sum and clears it, an empty read is EAGAIN")
{
    host::Process p("vmm");
    int fd = host::eventfd_create(p, 2);
    REQUIRE(fd >= 0);
    host::EventfdCtxRef ctx;
    REQUIRE(host::eventfd_ctx_fdget(p, fd, ctx) == 0);
    ctx->signal();
    ctx->signal(3);
    std::uint64_t v = 0;
    REQUIRE(ctx->read(v) == 0);
    CHECK(v == 6);
    CHECK(ctx->read(v) == -EAGAIN);
    CHECK(v == 6);
    CHECK(ctx->write(~std::uint64_t{0}) == -EINVAL);
    CHECK(ctx->count() == 0);
}

TEST_CASE("eventfd_ctx_fdget fails with EBADF for a closed fd and EINVAL for another kind of file")
{
    struct Other final : host::File {
        std::string_view kind() const override { return "other"; }
    };
    host::Process p("vmm");
    int other = p.install(host::make_file<Other>());
    host::EventfdCtxRef ctx;
    CHECK(host::eventfd_ctx_fdget(p, 7, ctx) == -EBADF);
    CHECK(host::eventfd_ctx_fdget(p, other, ctx) == -EINVAL);
    CHECK_FALSE(ctx);
}

TEST_CASE("wait-queue entries run at signal time with POLLIN, and at release with POLLHUP")
{
    host::Process p("vmm");
    int fd = host::eventfd_create(p);
    host::EventfdCtxRef ctx;
    REQUIRE(host::eventfd_ctx_fdget(p, fd, ctx) == 0);
    std::vector<unsigned> a_events, b_events;
    host::WaitQueueEntry a([&](host::EventfdCtx&, unsigned e) { a_events.push_back(e); });
    host::WaitQueueEntry b([&](host::EventfdCtx& c, unsigned e) {
        b_events.push_back(e);
        c.remove_wait(b); // irqfd removes itself on POLLHUP; any entry may
    });
    CHECK(ctx->add_wait(a) == 0);
    CHECK(ctx->add_wait(b) == 0);
    ctx->signal();
    CHECK(a_events == std::vector<unsigned>{host::pollin});
    CHECK(b_events == std::vector<unsigned>{host::pollin});
    CHECK(ctx->waiters() == 1);
    ctx->signal();
    CHECK(b_events.size() == 1);

    REQUIRE(p.close(fd) == 0);
    CHECK(a_events.back() == host::pollhup);
    CHECK(ctx->hung_up());
    // The kernel user's reference keeps the counter alive after the file.
    ctx->signal();
    CHECK(ctx->count() == 3);
    CHECK(ctx->add_wait(a) == (host::pollin | host::pollhup));
    ctx->remove_wait(a);
}

TEST_CASE("remove_wait with a counter reads and clears it, as irqfd's shutdown does")
{
    host::Process p("vmm");
    int fd = host::eventfd_create(p);
    host::EventfdCtxRef ctx;
    REQUIRE(host::eventfd_ctx_fdget(p, fd, ctx) == 0);
    host::WaitQueueEntry e([](host::EventfdCtx&, unsigned) {});
    ctx->add_wait(e);
    ctx->signal(4);
    std::uint64_t cnt = 0;
    ctx->remove_wait(e, &cnt);
    CHECK(cnt == 4);
    CHECK(ctx->count() == 0);
    CHECK_FALSE(e.queued());
}

TEST_CASE("a user thread waiting on an eventfd runs after the wake-up cost and reads coalesced signals")
{
    fwdsim::test::HostFixture h;
    host::Process p("vmm");
    int fd = host::eventfd_create(p);
    host::EventfdCtxRef ctx;
    REQUIRE(host::eventfd_ctx_fdget(p, fd, ctx) == 0);
    host::UserThread t(h.cpu, h.costs, "vmm-io");
    std::vector<std::pair<std::uint64_t, std::uint64_t>> reads; // (time, value)
    t.wait(ctx, [&](std::uint64_t v) { reads.emplace_back(h.queue.now().count(), v); });
    ctx->signal();
    ctx->signal();
    h.queue.run_until_idle();
    REQUIRE(reads.size() == 1);
    CHECK(reads[0].second == 2);
    // Woken, back in user space, and the read(2) done: then the value.
    CHECK(reads[0].first == (h.costs.sched_wakeup + h.costs.return_to_user + h.costs.syscall).count());
    CHECK(t.wakeups() == 1);
    ctx->signal();
    h.queue.run_until_idle();
    CHECK(reads.size() == 2);
    REQUIRE(p.close(fd) == 0);
    CHECK_FALSE(t.waiting());
}
