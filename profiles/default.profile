# Default cost profile: KVM on ARMv8.0 (split mode, non-VHE) with a GICv2.
#
# One primitive a line:  key = cycles | description | source
# Every end-to-end figure fwdsim reports is simulated from these; none is
# stored here.  Sources: "estimate" marks a placeholder awaiting calibration
# (docs/calibration.md); anything else names where the number comes from.
profile = kvm-arm-v8.0-gicv2

# --- physical GIC (cycle-approximate) ---------------------------------------
gic.line_to_distributor = 8 | input line change reaching the distributor's pending logic | estimate
gic.distributor_to_cpuif = 12 | distributor forwarding the highest-priority interrupt to a CPU interface | estimate
gic.cpuif_to_irq = 4 | CPU interface asserting or deasserting nIRQ/nVIRQ | estimate
gic.gicd_access = 40 | one GICD register access from a CPU, over the interconnect | estimate
gic.gicc_access = 30 | one GICC register access from a CPU | estimate
gic.gich_access = 30 | one GICH register access from the hypervisor | estimate
gic.gicv_access = 30 | one GICV register access from a guest (no trap) | estimate
gic.lr_update_to_virq = 6 | list-register write reaching the virtual CPU interface's nVIRQ | estimate
