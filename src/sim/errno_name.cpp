#include <fwdsim/sim/errno_name.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

namespace fwdsim::sim {
namespace {

constexpr std::array<std::pair<int, std::string_view>, 26> kNames{{
    {EPERM, "EPERM"},   {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"},   {EINTR, "EINTR"},
    {EIO, "EIO"},       {ENXIO, "ENXIO"},   {E2BIG, "E2BIG"},   {EBADF, "EBADF"},
    {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"}, {EFAULT, "EFAULT"},
    {EBUSY, "EBUSY"},   {EEXIST, "EEXIST"}, {ENODEV, "ENODEV"}, {ENOTDIR, "ENOTDIR"},
    {EINVAL, "EINVAL"}, {ENFILE, "ENFILE"}, {EMFILE, "EMFILE"}, {ENOTTY, "ENOTTY"},
    {ENOSPC, "ENOSPC"}, {ERANGE, "ERANGE"}, {ENOSYS, "ENOSYS"}, {EOPNOTSUPP, "EOPNOTSUPP"},
    {ENOEXEC, "ENOEXEC"}, {EBADFD, "EBADFD"},
}};

} // namespace

std::string_view errno_name(int err)
{
    const int e = err < 0 ? -err : err;
    for (const auto& [value, name] : kNames) {
        if (value == e) {
            return name;
        }
    }
    // Unknown values are rare enough that a small static cache is fine.
    static thread_local std::string unknown;
    // Built by appending: GCC 12's -Wrestrict misfires on "E" + string at -O3.
    unknown.assign(1, 'E');
    unknown.append(std::to_string(e));
    return unknown;
}

std::optional<int> errno_from_name(std::string_view name)
{
    for (const auto& [value, n] : kNames) {
        if (n == name) {
            return value;
        }
    }
    return std::nullopt;
}

} // namespace fwdsim::sim
