// The bare-metal GIC agent for the multi-CPU differential run
// (docs/gic-differential.md): on a QEMU virt machine (gic-version=2), CPU 0
// reads one request a line from the PL011 UART and has it performed by the
// CPU it names, so that every GIC access is made from that CPU (banking,
// SGI targeting, routing).  The other CPUs poll a mailbox each.
//
//   request:  OP CPU ADDR [VALUE]   (hex; OP: R readl, r readb, W writel,
//                                    w writeb, S read ISR_EL1)
//   answer:   VALUE                 (hex; 0 for writes)
//
// CPU 0 first powers the others on through PSCI CPU_ON and prints
// "READY N" once N CPUs answer.  No MMU: every access is Device-nGnRnE, so
// the mailboxes need no cache maintenance, only ordering barriers.
#include <stdint.h>

#define UART_BASE 0x09000000ul
#define UART_DR 0x00
#define UART_FR 0x18
#define UART_FR_RXFE (1u << 4)
#define UART_FR_TXFF (1u << 5)
#define MAX_CPUS 8
#define PSCI_CPU_ON_64 0xC4000003ul

extern void _start(void);

static inline void dmb(void) { __asm__ volatile("dmb sy" ::: "memory"); }
static inline uint32_t rd32(uint64_t a) { return *(volatile uint32_t*)a; }
static inline void wr32(uint64_t a, uint32_t v) { *(volatile uint32_t*)a = v; }
static inline uint8_t rd8(uint64_t a) { return *(volatile uint8_t*)a; }
static inline void wr8(uint64_t a, uint8_t v) { *(volatile uint8_t*)a = v; }

static void put_char(char c)
{
    while (rd32(UART_BASE + UART_FR) & UART_FR_TXFF) {
    }
    wr32(UART_BASE + UART_DR, (uint32_t)c);
}
static char get_char(void)
{
    while (rd32(UART_BASE + UART_FR) & UART_FR_RXFE) {
    }
    return (char)(rd32(UART_BASE + UART_DR) & 0xFF);
}
static void put_str(const char* s)
{
    while (*s) put_char(*s++);
}
static void put_hex(uint64_t v)
{
    char buf[17];
    int n = 0;
    do {
        const unsigned d = (unsigned)(v & 0xF);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v >>= 4;
    } while (v != 0);
    while (n > 0) put_char(buf[--n]);
}

struct mailbox {
    volatile uint64_t seq;  // CPU 0 raises it to post a request
    volatile uint64_t done; // the CPU copies seq here when its answer is in
    volatile uint32_t op, addr, value, answer;
    volatile uint32_t alive;
} __attribute__((aligned(64)));

static struct mailbox boxes[MAX_CPUS];

static uint32_t perform(uint32_t op, uint32_t addr, uint32_t value)
{
    switch (op) {
    case 'R': return rd32(addr);
    case 'r': return rd8(addr);
    case 'W': wr32(addr, value); return 0;
    case 'w': wr8(addr, (uint8_t)value); return 0;
    case 'S': {
        uint64_t isr;
        __asm__ volatile("mrs %0, isr_el1" : "=r"(isr));
        return (uint32_t)isr;
    }
    default: return 0xFFFFFFFFu;
    }
}

static long psci_cpu_on(uint64_t mpidr, uint64_t entry)
{
    register uint64_t x0 __asm__("x0") = PSCI_CPU_ON_64;
    register uint64_t x1 __asm__("x1") = mpidr;
    register uint64_t x2 __asm__("x2") = entry;
    register uint64_t x3 __asm__("x3") = 0;
    __asm__ volatile("smc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3) : "memory");
    return (long)x0;
}

static void worker(unsigned cpu)
{
    struct mailbox* b = &boxes[cpu];
    b->alive = 1;
    dmb();
    for (;;) {
        const uint64_t s = b->seq;
        if (s == b->done) continue;
        dmb();
        b->answer = perform(b->op, b->addr, b->value);
        dmb();
        b->done = s;
    }
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void agent_main(uint64_t cpu)
{
    if (cpu != 0) worker((unsigned)cpu);
    unsigned cpus = 1;
    for (unsigned c = 1; c < MAX_CPUS; ++c) {
        if (psci_cpu_on(c, (uint64_t)&_start) != 0) break;
        while (!boxes[c].alive) {
        }
        ++cpus;
    }
    put_str("READY ");
    put_hex(cpus);
    put_char('\n');
    for (;;) {
        // OP CPU ADDR [VALUE]
        uint64_t field[3] = {0, 0, 0};
        unsigned nfield = 0;
        int in_field = 0;
        char op = get_char();
        for (char c = get_char(); c != '\n'; c = get_char()) {
            const int d = hex_digit(c);
            if (d < 0) {
                if (in_field) ++nfield;
                in_field = 0;
                continue;
            }
            if (!in_field && nfield >= 3) continue;
            in_field = 1;
            field[nfield] = field[nfield] * 16 + (uint64_t)d;
        }
        const unsigned target = (unsigned)field[0];
        uint32_t answer;
        if (target == 0) {
            answer = perform((uint32_t)op, (uint32_t)field[1], (uint32_t)field[2]);
        } else if (target < cpus) {
            struct mailbox* b = &boxes[target];
            b->op = (uint32_t)op;
            b->addr = (uint32_t)field[1];
            b->value = (uint32_t)field[2];
            dmb();
            const uint64_t s = b->seq + 1;
            b->seq = s;
            while (b->done != s) {
            }
            dmb();
            answer = b->answer;
        } else {
            answer = 0xFFFFFFFFu;
        }
        put_hex(answer);
        put_char('\n');
    }
}
