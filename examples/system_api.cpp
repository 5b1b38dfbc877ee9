// The headline system through the C++ API: one level-triggered vfio-platform
// device at 20 k/s, run under each delivery mode, latency and cost printed.
#include <fwdsim/scenario/system.h>

#include <cstdio>

using namespace fwdsim::scenario;

int main()
{
    for (DeliveryMode mode : {DeliveryMode::userspace, DeliveryMode::irqfd, DeliveryMode::forwarded}) {
        ScenarioConfig c;                       // 2 host CPUs, GICv2 with 256 IDs, 4 LRs
        c.name = "api-example";
        c.duration_us = 10'000;
        c.warmup_us = 1'000;
        c.vms = {VmConfig{"vm0", 1, {1}}};      // one vCPU, pinned to CPU 1
        DeviceIrqConfig irq;
        irq.trigger = TriggerKind::level;
        irq.host_irq = 48;                      // wired to SPI 48 ...
        irq.guest_irq = 48;                     // ... and seen by the guest as INTID 48
        irq.delivery = mode;
        irq.traffic.kind = TrafficConfig::Kind::poisson;
        irq.traffic.rate_per_s = 20'000;
        c.devices = {DeviceConfig{"plat0", DeviceKind::platform, "vm0", 1, {irq}}}; // IOMMU group 1

        System sys(c, load_profile(c));
        sys.start();
        sys.run_for(sys.us(c.duration_us));
        const IrqResult r = sys.report().irqs.at(0);
        std::printf("%-9s delivered %5llu  assert->EOI p50 %6llu cy  irq+maintenance exits/irq %.2f  host cy/irq %.0f\n",
                    std::string(to_string(mode)).c_str(), static_cast<unsigned long long>(r.delivered),
                    static_cast<unsigned long long>(r.to_eoi.percentile(50)),
                    r.per_irq(r.exits.at("irq") + r.exits.at("maintenance")), r.per_irq(r.host_cycles));
    }
}
