// The vgic-v2 kvm device (KVM_DEV_TYPE_ARM_VGIC_V2; arch/arm64/kvm/vgic/
// vgic-kvm-device.c): creating it gives the VM its in-kernel irqchip, and
// its attributes place and size it and reach the emulated distributor.
//
// Groups (Linux 6.18's checks and order; docs/linux-conformance.md):
// ADDR (the guest-physical bases of the distributor and the CPU interface:
// set once -> -EEXIST, 4 KiB aligned, inside the VM's 40-bit IPA space ->
// -E2BIG; KVM_RUN checks they were set and do not overlap), DIST_REGS and
// CPU_REGS (a register of a vCPU's view of the distributor or of its saved
// CPU interface: attr = vcpu id (8 bits) << 32 | offset), NR_IRQS (set
// once), CTRL/INIT.
#pragma once

#include <fwdsim/kvm/device.h>

namespace fwdsim::kvm {

// include/uapi/asm/kvm.h (arm64)
constexpr std::uint32_t kVgicGrpAddr = 0;
constexpr std::uint32_t kVgicGrpDistRegs = 1;
constexpr std::uint32_t kVgicGrpCpuRegs = 2;
constexpr std::uint32_t kVgicGrpNrIrqs = 3;
constexpr std::uint32_t kVgicGrpCtrl = 4;
constexpr std::uint64_t kVgicV2AddrTypeDist = 0;
constexpr std::uint64_t kVgicV2AddrTypeCpu = 1;
constexpr std::uint64_t kVgicCtrlInit = 0;

/// The factory registered for kDevTypeArmVgicV2: -EBUSY once a vCPU has
/// run, -EEXIST for a second one.
int create_vgic_device(Vm& vm, std::unique_ptr<KvmDevice>& out);

} // namespace fwdsim::kvm
