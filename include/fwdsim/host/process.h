// Process: a host user process -- a name, a file-descriptor table, and a
// life that can end at any moment.
//
// install() puts a file in the lowest free descriptor, as fd_install after
// get_unused_fd does; fget() takes a reference on the file of a descriptor
// (-EBADF if none); close() drops the table's reference.  kill() ends the
// process the way the kernel does after SIGKILL: every descriptor is closed,
// in an order the host chooses -- here drawn from a seeded sim::Rng, or given
// explicitly -- so tests can show that no order matters.  A dead process
// holds no files; further calls through it fail with -ESRCH.  It touches
// only its files (through put()).
#pragma once

#include <fwdsim/host/file.h>
#include <fwdsim/sim/random.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace fwdsim::host {

class Process {
public:
    explicit Process(std::string name, unsigned max_fds = 1024);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    const std::string& name() const { return name_; }
    bool alive() const { return alive_; }

    /// Installs `file` (taking over the reference) at the lowest free fd.
    /// -EMFILE when the table is full; -ESRCH when dead.
    int install(FileRef file);
    /// A new reference to the file at `fd` in `out`; -EBADF if not open.
    int fget(int fd, FileRef& out) const;
    /// The file at `fd` without a reference (valid while the fd stays open).
    File* peek(int fd) const;
    int close(int fd);

    /// The open descriptors, ascending.
    std::vector<int> open_fds() const;
    std::size_t open_count() const;

    /// SIGKILL: closes every fd in an order drawn from `rng`.
    void kill(sim::Rng& rng);
    /// SIGKILL with the given close order; fds not listed close afterwards,
    /// ascending; listed fds that are not open are skipped.
    void kill(std::span<const int> order);

private:
    std::string name_;
    unsigned max_fds_;
    bool alive_ = true;
    std::vector<File*> fds_;  ///< each non-null slot holds one reference
};

} // namespace fwdsim::host
