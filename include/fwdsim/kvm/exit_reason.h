// ExitReason: why a vCPU left the guest, as KVM/arm tells exits apart
// (ARM_EXCEPTION_IRQ, the ESR exception class of a trap).  A host interrupt
// is split by what raised it: the vgic's maintenance interrupt, or anything
// else (a device, a kick IPI).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace fwdsim::kvm {

// mmio: an emulated MMIO access handled in the kernel (an ioeventfd).
enum class ExitReason { irq, maintenance, gicd_trap, wfi, hypercall, mmio_user, mmio };

constexpr std::size_t kExitReasons = 7;

constexpr std::array<std::string_view, kExitReasons> kExitReasonNames{
    "irq", "maintenance", "gicd_trap", "wfi", "hypercall", "mmio_user", "mmio"};

constexpr std::string_view exit_reason_name(ExitReason r) { return kExitReasonNames[static_cast<std::size_t>(r)]; }

} // namespace fwdsim::kvm
