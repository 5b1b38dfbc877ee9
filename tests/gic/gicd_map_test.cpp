// The one GICD register map (gicd_map.h): every range decodes to itself over
// its whole length, the gaps decode to nothing, and each per-interrupt range
// finds the INTID of the field at an offset.
#include <fwdsim/gic/gicd_map.h>
#include <fwdsim/gic/registers.h>

#include <catch2/catch.hpp>

using namespace fwdsim::gic;

TEST_CASE("every GICD range decodes to itself over its length, and the ranges are disjoint and ascending")
{
    std::uint32_t end = 0;
    for (const GicdRange& r : gicd_ranges) {
        INFO(r.name);
        CHECK(r.offset >= end);
        CHECK(r.offset % 4 == 0);
        for (std::uint32_t off = r.offset; off < r.offset + r.length; ++off) REQUIRE(gicd_decode(off) == &r);
        end = r.offset + r.length;
    }
    CHECK(end <= gicd_frame_size);
}

TEST_CASE("reserved GICD offsets and offsets past the frame decode to nothing")
{
    for (std::uint32_t off : {0x00Cu, 0x07Cu, 0x7FCu, 0xBFCu, 0xD00u, 0xF04u, 0xF30u, 0xFCCu, 0x1000u, 0xFFFFFFFFu}) {
        INFO(off);
        CHECK(gicd_decode(off) == nullptr);
    }
}

TEST_CASE("a per-interrupt range names the INTID of the field at an offset, by its field width")
{
    CHECK(gicd_decode(gicd::isenabler + 4)->intid_at(gicd::isenabler + 4) == 32);
    CHECK(gicd_decode(gicd::icactiver + 0x7C)->intid_at(gicd::icactiver + 0x7C) == 992);
    CHECK(gicd_decode(gicd::ipriorityr + 48)->intid_at(gicd::ipriorityr + 48) == 48);
    CHECK(gicd_decode(gicd::icfgr + 12)->intid_at(gicd::icfgr + 12) == 48);
    CHECK(gicd_decode(gicd::spendsgir + 5)->intid_at(gicd::spendsgir + 5) == 5);
    CHECK(gicd_range(GicdRegister::igroupr).bits_per_irq == 1);
    CHECK(gicd_range(GicdRegister::itargetsr).bits_per_irq == 8);
    CHECK(gicd_range(GicdRegister::icfgr).bits_per_irq == 2);
    CHECK(gicd_range(GicdRegister::sgir).bits_per_irq == 0);
}

TEST_CASE("registers.h's GICD offsets are the table's (IHI 0048B Table 4-1)")
{
    CHECK(gicd::ctlr == 0x000);
    CHECK(gicd::igroupr == 0x080);
    CHECK(gicd::isenabler == 0x100);
    CHECK(gicd::icactiver == 0x380);
    CHECK(gicd::ipriorityr == 0x400);
    CHECK(gicd::itargetsr == 0x800);
    CHECK(gicd::icfgr == 0xC00);
    CHECK(gicd::sgir == 0xF00);
    CHECK(gicd::spendsgir == 0xF20);
}
