// Entry of the bare-metal GIC agent (agent.c): every CPU, the first at
// reset and the others when CPU 0 powers them on through PSCI, takes its
// own stack and runs agent_main(cpu).  Interrupts stay masked (DAIF at
// reset): the agent only reads the GIC's registers and ISR_EL1.
    .section .text.boot, "ax"
    .global _start
_start:
    mrs     x0, mpidr_el1
    and     x0, x0, #0xff
    ldr     x1, =stack_top
    lsl     x2, x0, #12
    sub     sp, x1, x2
    bl      agent_main
1:  wfe
    b       1b
