// Processes and files: fd table, reference counts, release, kill in any order.
#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/process.h>
#include <fwdsim/sim/random.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <set>
#include <string>
#include <vector>

using namespace fwdsim;

namespace {
/// A file whose release records its name, and which may hold another file
/// (as a VFIO device file holds its group file).
struct Recorder final : host::File {
    Recorder(std::vector<std::string>& log, std::string name, host::FileRef held = {})
        : log_(log), name_(std::move(name)), held_(std::move(held)) {}
    std::string_view kind() const override { return "recorder"; }
    void release() override
    {
        log_.push_back(name_);
        held_.reset();
    }
    std::vector<std::string>& log_;
    std::string name_;
    host::FileRef held_;
};
} // namespace

TEST_CASE("install uses the lowest free fd; closing a closed fd fails with EBADF")
{
    std::vector<std::string> log;
    host::Process p("vmm");
    CHECK(p.install(host::make_file<Recorder>(log, "a")) == 0);
    CHECK(p.install(host::make_file<Recorder>(log, "b")) == 1);
    CHECK(p.install(host::make_file<Recorder>(log, "c")) == 2);
    REQUIRE(p.close(1) == 0);
    CHECK(log == std::vector<std::string>{"b"});
    CHECK(p.close(1) == -EBADF);
    CHECK(p.close(-1) == -EBADF);
    CHECK(p.install(host::make_file<Recorder>(log, "d")) == 1);
    host::FileRef f;
    CHECK(p.fget(9, f) == -EBADF);
    CHECK_FALSE(f);
}

TEST_CASE("a file's release runs on the last put, not on close while another reference is held")
{
    std::vector<std::string> log;
    host::Process p("vmm");
    int fd = p.install(host::make_file<Recorder>(log, "a"));
    host::FileRef f;
    REQUIRE(p.fget(fd, f) == 0);
    CHECK(f->refcount() == 2);
    REQUIRE(p.close(fd) == 0);
    CHECK(log.empty());
    CHECK(f->refcount() == 1);
    f.reset();
    CHECK(log == std::vector<std::string>{"a"});
}

TEST_CASE("a table full of files refuses one more with EMFILE")
{
    std::vector<std::string> log;
    host::Process p("vmm", 2);
    CHECK(p.install(host::make_file<Recorder>(log, "a")) == 0);
    CHECK(p.install(host::make_file<Recorder>(log, "b")) == 1);
    CHECK(p.install(host::make_file<Recorder>(log, "c")) == -EMFILE);
    CHECK(log == std::vector<std::string>{"c"}); // the refused file was dropped
}

TEST_CASE("every order of closing a small set of files leaves the same final state")
{
    // Files: an eventfd with a kernel waiter, a group-like file, a device-like
    // file holding the group, and an unrelated file.
    std::vector<int> order{0, 1, 2, 3};
    std::set<std::string> first_final;
    int permutations = 0;
    do {
        std::vector<std::string> log;
        host::Process p("vmm");
        int efd = host::eventfd_create(p);
        host::EventfdCtxRef ctx;
        REQUIRE(host::eventfd_ctx_fdget(p, efd, ctx) == 0);
        unsigned hup = 0;
        host::WaitQueueEntry w([&](host::EventfdCtx& c, unsigned e) {
            if (e & host::pollhup) { ++hup; c.remove_wait(w); }
        });
        ctx->add_wait(w);
        int gfd = p.install(host::make_file<Recorder>(log, "group"));
        host::FileRef group;
        REQUIRE(p.fget(gfd, group) == 0);
        int dfd = p.install(host::make_file<Recorder>(log, "device", group));
        group.reset();
        int ofd = p.install(host::make_file<Recorder>(log, "other"));
        const std::vector<int> fds{efd, gfd, dfd, ofd};
        std::vector<int> close_order;
        for (int i : order) close_order.push_back(fds[static_cast<std::size_t>(i)]);
        p.kill(close_order);

        CHECK(p.open_count() == 0);
        CHECK(hup == 1);
        CHECK(ctx->waiters() == 0);
        CHECK(ctx->refcount() == 1); // only ours
        // The device holds the group: the group is always released after it.
        auto dev_at = std::find(log.begin(), log.end(), "device");
        auto grp_at = std::find(log.begin(), log.end(), "group");
        CHECK(dev_at < grp_at);
        std::set<std::string> final_state(log.begin(), log.end());
        final_state.insert("hup=" + std::to_string(hup));
        if (permutations == 0) first_final = final_state;
        CHECK(final_state == first_final);
        ++permutations;
    } while (std::next_permutation(order.begin(), order.end()));
    CHECK(permutations == 24);
}

TEST_CASE("kill with the same seed closes in the same order, and a dead process answers ESRCH")
{
    auto run = [](std::uint64_t seed) {
        std::vector<std::string> log;
        host::Process p("vmm");
        for (int i = 0; i < 8; ++i) p.install(host::make_file<Recorder>(log, std::to_string(i)));
        sim::Rng rng(seed);
        p.kill(rng);
        CHECK_FALSE(p.alive());
        std::vector<std::string> l2;
        CHECK(p.install(host::make_file<Recorder>(l2, "late")) == -ESRCH);
        CHECK(p.close(0) == -ESRCH);
        return log;
    };
    auto a = run(1), b = run(1), c = run(2);
    CHECK(a == b);
    CHECK(a.size() == 8);
    CHECK(a != c);
}
