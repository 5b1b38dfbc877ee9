// The vgic-v2 kvm device (KVM_DEV_TYPE_ARM_VGIC_V2; arch/arm64/kvm/vgic/
// vgic-kvm-device.c): creating it gives the VM its in-kernel irqchip, and
// its attributes place and size it and reach the emulated distributor.
//
// Groups: ADDR (the guest-physical bases of the distributor and the CPU
// interface: 4 KiB aligned, each set once -> -EEXIST), DIST_REGS (a
// distributor register of a vCPU's view: attr = vcpu << 32 | offset),
// NR_IRQS (before init), CTRL/INIT.  CPU_REGS is not modelled (-ENXIO).
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

/// The factory registered for kDevTypeArmVgicV2: -EEXIST for a second one.
int create_vgic_device(Vm& vm, std::unique_ptr<KvmDevice>& out);

} // namespace fwdsim::kvm
