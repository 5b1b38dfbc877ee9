# Default cost profile: KVM on ARMv8.0 (split mode, non-VHE) with a GICv2.
#
# One primitive a line:  key = cycles | description | source
# Every end-to-end figure fwdsim reports is simulated from these; none is
# stored here.  Sources: "estimate" marks a placeholder not pinned by any
# measurement; "calibrated: ..." names the Dall et al. ISCA 2016 KVM ARM
# microbenchmark it was fitted to ([V] verified, [R] recalled and unchecked),
# see docs/calibration.md for each path; anything else names its source.
# A fourth field, where present, states the evidence class and the range
# `fwdsim sensitivity` explores (docs/sensitivity.md); without it the class
# is read off the source and the range is the class's default.  The ranges
# stated below are wider than their class's default because the benchmark
# they were fitted to times something else than the model's path
# (docs/published-figures.md, section 4).
profile = kvm-arm-v8.0-gicv2

# --- physical GIC (cycle-approximate) ---------------------------------------
gic.line_to_distributor = 8 | input line change reaching the distributor's pending logic | estimate
gic.distributor_to_cpuif = 12 | distributor forwarding the highest-priority interrupt to a CPU interface | estimate
gic.cpuif_to_irq = 4 | CPU interface asserting or deasserting nIRQ/nVIRQ | estimate
gic.gicd_access = 40 | one GICD register access from a CPU, over the interconnect | estimate
gic.gicc_access = 30 | one GICC register access from a CPU | estimate
gic.gich_access = 30 | one GICH register access from the hypervisor | estimate
gic.gicv_access = 36 | one GICV register access from a guest (no trap) | calibrated: Dall ISCA'16 virtual IRQ completion [R] = IAR + EOIR, 71 / 2 | recalled 18..80
gic.lr_update_to_virq = 6 | list-register write reaching the virtual CPU interface's nVIRQ | estimate

# --- host kernel (src/host) -------------------------------------------------
host.irq_entry = 150 | IRQ exception entry: vector, save general registers, enter handle_arch_irq | estimate
host.irq_dispatch = 120 | generic IRQ layer: irq_desc lookup and handle_fasteoi_irq around the handler | estimate
host.irq_exit = 150 | irq_exit (softirq check) and register restore, eret | estimate
host.eventfd_signal = 100 | eventfd_signal: counter update under the wait-queue lock, wake_up of the entries | estimate
host.sched_wakeup = 1380 | try_to_wake_up of a sleeping user thread and the context switch to it | calibrated: Dall ISCA'16 I/O latency out [R] minus the exit, its decode, the ioeventfd signal, the return to user and the read(2) | recalled 500..3000
host.return_to_user = 300 | return from the kernel to user space (ret_to_user) | estimate
host.syscall = 400 | one ioctl/read/write syscall: entry, file lookup, return | estimate
host.workqueue_dispatch = 600 | queue_work plus the kworker picking the item up (virqfd's unmask) | estimate
host.request_irq = 4000 | request_irq beyond the syscall (vfio_set_trigger, a forwarding switch): irqaction allocation, __setup_irq under the descriptor lock, irq_startup (a GICD enable), register_handler_proc | estimate | estimate 1000..12000
host.free_irq = 3000 | free_irq beyond the syscall: the action unlinked, synchronize_irq with no handler running, irq_shutdown (a GICD disable), unregister_handler_proc, kfree | estimate | estimate 1000..12000
host.context_switch = 3367 | __schedule switching between the vCPU threads of two VMs: pick_next_task, switch_mm (another QEMU's page tables, ASID), FP/SIMD and TLS state, finish_task_switch | calibrated: Dall ISCA'16 VM switch [R] minus the exit and entry paths and kvm.vcpu_put/vcpu_load | recalled ±50%
host.ttwu_remote = 400 | try_to_wake_up from another CPU: select_task_rq, ttwu_queue_wakelist (llist add) before the reschedule IPI | estimate
host.sched_ipi = 300 | the reschedule IPI's handler with threads on the wake list: sched_ttwu_pending, ttwu_do_activate (enqueue, check_preempt_curr), set need_resched | estimate
host.idle_exit = 7845 | a CPU in the idle task leaving it before it takes the IRQ that woke it: WFI exit, cpuidle exit path, tick_nohz_idle_exit, rcu idle exit | calibrated: Dall ISCA'16 I/O latency in [R] minus every other step of the path; the residual (docs/calibration.md) | recalled ±50%
host.idle_to_task = 800 | schedule() from the idle task into the woken thread: pick_next_task, context_switch without switch_mm (the idle task kept the thread's mm), finish_task_switch | estimate
host.sched_slice = 1800000 | a duration, not a cost: how long a thread keeps its CPU against another runnable one before the tick preempts it | Linux sysctl_sched_min_granularity 0.75 ms (commit 0bf377bbb0be, "sched: Improve latencies under load by decreasing minimum scheduling granularity") at the 2.4 GHz reference clock

# --- arch: the vgic-v2 ----------------------------------------------------------
arch.vgic_mmio_emulate = 500 | decoding and emulating one trapped guest GICD access (vgic-mmio dispatch), beyond the trap | calibrated: Dall ISCA'16 interrupt controller trap [R] minus the hypercall path, shared with kvm.mmio_abort (split: estimate)
arch.vgic_sort_ap_list = 60 | sorting a vCPU's ap_list before filling the list registers | estimate

# --- kvm: vCPUs and the world switch (src/kvm) --------------------------------
kvm.world_switch_enter = 2535 | __kvm_vcpu_run entry half beyond the vgic: save host context, restore guest GPRs, system registers, stage-2, timer, eret to EL1 | calibrated: Dall ISCA'16 hypercall [V] and virtual IPI [R] (split with kvm.world_switch_exit)
kvm.world_switch_exit = 1315 | trap to EL2, save guest GPRs, system registers and timer, restore host context, back to the host kernel (the vgic is kvm.vgic_save) | calibrated: Dall ISCA'16 hypercall [V] and virtual IPI [R] (split with kvm.world_switch_enter)
kvm.handle_exit = 150 | handle_exit: decode ESR/exit code and dispatch to the exit handler | estimate
kvm.run_loop = 200 | one kvm_arch_vcpu_ioctl_run iteration before entry: pending requests, signals, preemption check | estimate
kvm.vcpu_block = 300 | kvm_vcpu_block on WFI: check for pending interrupts, mark the vCPU blocked, schedule out | estimate
kvm.hypercall = 200 | handling one HVC in the host (kvm_hvc_call_handler) | estimate
kvm.irq_line = 150 | KVM_IRQ_LINE beyond the syscall: decode, kvm_vgic_inject_irq | estimate
kvm.vgic_save = 1780 | exit: the rest of vgic_v2_save_state the vgic does not access register by register (GICH_MISR, EISR, ELRSR reads, all LRs; reads stall, writes are posted) | calibrated: Dall ISCA'16 virtual IPI [R] (two exits, one entry) against the hypercall (one each)
kvm.vgic_restore = 200 | entry: the rest of vgic_v2_restore_state beyond the vgic's own GICH writes (posted writes) | calibrated with kvm.vgic_save (the split of the world switch)
kvm.irqfd_inject = 250 | irqfd wake-up: irqfd_wakeup and the inject work running kvm_set_irq | estimate
kvm.mmio_abort = 570 | stage-2 data abort on emulated MMIO: decode ESR/HPFAR, no memslot, kvm_io_bus dispatch (ioeventfd or vgic) | calibrated: Dall ISCA'16 interrupt controller trap [R] minus the hypercall path, shared with arch.vgic_mmio_emulate (split: estimate)
kvm.vcpu_put = 300 | kvm_arch_vcpu_put from the preempt notifier when a vCPU thread is scheduled out: vgic and timer state kept across the switch, running-vCPU pointer | estimate
kvm.vgic_inject = 150 | kvm_vgic_inject_irq of a forwarded (mapped) SPI from its host handler: vgic_get_irq, irq lock, pending latch, vgic_queue_irq_unlock onto the ap_list | estimate
kvm.memslot_update = 20000 | KVM_SET_USER_MEMORY_REGION deleting or re-adding a slot, beyond the syscall: stage-2 unmap and TLB flush, memslot array swap, synchronize_srcu_expedited | estimate | estimate 2000..40000
kvm.vcpu_load = 300 | kvm_arch_vcpu_load when a vCPU thread is scheduled in: host context pointer, running vCPU, vgic and timer state back | estimate

# --- the VMM (src/vmm, QEMU's role) -------------------------------------------
vmm.mmio_dispatch = 600 | QEMU's vCPU thread handling KVM_EXIT_MMIO beyond the pread/pwrite syscall: kvm_cpu_exec, address_space_rw to the region's ops (vfio_region_read/write), vfio_eoi's bookkeeping | estimate

# --- guest OS model (src/guest) -----------------------------------------------
guest.irq_entry = 200 | guest IRQ exception entry and gic_handle_irq prologue | estimate
guest.irq_exit = 150 | guest IRQ return: restore and eret | estimate
guest.idle_loop = 120 | one pass of the guest idle loop between WFIs | estimate
guest.device_access = 100 | one guest MMIO access to a passed-through device (stage-2 mapped, no trap) | estimate
