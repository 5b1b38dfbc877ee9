// Names of Linux errno values, as the uapi front ends print them ("EBUSY").
//
// fwdsim returns errors the way the kernel does: 0 or a negative errno,
// propagated from where the error is found.  These helpers turn them into
// the symbolic names a user compares against the kernel sources.
#pragma once

#include <optional>
#include <string_view>

namespace fwdsim::sim {

/// "EBUSY" for EBUSY (sign ignored); "E<number>" for an unknown value.
std::string_view errno_name(int err);
/// The errno value for a name such as "EBUSY", if known.
std::optional<int> errno_from_name(std::string_view name);

} // namespace fwdsim::sim
