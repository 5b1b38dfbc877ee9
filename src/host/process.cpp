// Process: the fd table (fs/file.c: alloc_fd, fd_install, close_fd) and
// the close-everything of a dying process (exit_files), any order.
#include <fwdsim/host/process.h>

#include <algorithm>
#include <cerrno>

namespace fwdsim::host {

Process::Process(std::string name, unsigned max_fds) : name_(std::move(name)), max_fds_(max_fds) {}

Process::~Process()
{
    std::vector<int> order = open_fds();
    kill(order);
}

int Process::install(FileRef file)
{
    if (!alive_) return -ESRCH;
    if (!file) return -EINVAL;
    auto it = std::find(fds_.begin(), fds_.end(), nullptr);
    if (it == fds_.end()) {
        if (fds_.size() >= max_fds_) return -EMFILE;
        fds_.push_back(nullptr);
        it = fds_.end() - 1;
    }
    *it = file.release();
    return static_cast<int>(it - fds_.begin());
}

File* Process::peek(int fd) const
{
    if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return nullptr;
    return fds_[static_cast<std::size_t>(fd)];
}

int Process::fget(int fd, FileRef& out) const
{
    File* f = peek(fd);
    if (!f) return -EBADF;
    out = FileRef::acquire(f);
    return 0;
}

int Process::close(int fd)
{
    if (!alive_) return -ESRCH;
    File* f = peek(fd);
    if (!f) return -EBADF;
    fds_[static_cast<std::size_t>(fd)] = nullptr; // unpublish first, then fput
    f->put();
    return 0;
}

std::vector<int> Process::open_fds() const
{
    std::vector<int> v;
    for (std::size_t i = 0; i < fds_.size(); ++i)
        if (fds_[i]) v.push_back(static_cast<int>(i));
    return v;
}

std::size_t Process::open_count() const
{
    return static_cast<std::size_t>(std::count_if(fds_.begin(), fds_.end(), [](File* f) { return f != nullptr; }));
}

void Process::kill(sim::Rng& rng)
{
    std::vector<int> order = open_fds();
    // Fisher-Yates with the simulation's own generator (no std:: distributions).
    for (std::size_t i = order.size(); i > 1; --i) {
        std::size_t j = static_cast<std::size_t>(rng.uniform(i));
        std::swap(order[i - 1], order[j]);
    }
    kill(order);
}

void Process::kill(std::span<const int> order)
{
    alive_ = false;
    auto drop = [this](int fd) {
        File* f = peek(fd);
        if (!f) return;
        fds_[static_cast<std::size_t>(fd)] = nullptr;
        f->put(); // may run a release that closes nothing of ours: we are dead
    };
    for (int fd : order) drop(fd);
    for (std::size_t i = 0; i < fds_.size(); ++i) drop(static_cast<int>(i));
}

} // namespace fwdsim::host
