// Conformance cases D01-D13 and S01-S05 (reference/conformance-cases.md).
#include "gic_fixture.h"

#include <catch2/catch.hpp>

using namespace fwdsim::gic;

TEST_CASE("D01 TYPER reports ITLinesNumber and CPUNumber; writes are ignored")
{
    GicFixture g(96, 4);
    CHECK((g.dist(gicd::typer) & 0x1F) == 2);
    CHECK(((g.dist(gicd::typer) >> 5) & 7) == 3);
    const auto before = g.dist(gicd::typer);
    g.dist_w(gicd::typer, 0);
    CHECK(g.dist(gicd::typer) == before);
}

TEST_CASE("D02 IIDR is read-only and stable")
{
    GicFixture g;
    const auto v = g.dist(gicd::iidr);
    CHECK(v == 0x0200143B);
    g.dist_w(gicd::iidr, 0x12345678);
    CHECK(g.dist(gicd::iidr) == v);
}

TEST_CASE("D03 CTLR's group enables read back; other bits read as zero")
{
    // IHI 0048B GICD_CTLR, GICv2 without Security Extensions: EnableGrp0 [0] and
    // EnableGrp1 [1] (QEMU agrees; reference/gic-spec.md listed only bit 0).
    GicFixture g;
    g.dist_w(gicd::ctlr, 0xFFFFFFFF);
    CHECK(g.dist(gicd::ctlr) == 3);
    g.dist_w(gicd::ctlr, 0);
    CHECK(g.dist(gicd::ctlr) == 0);
}

TEST_CASE("D04 ISENABLER/ICENABLER set and clear exactly the written bits")
{
    GicFixture g;
    g.dist_w(gicd::isenabler + 4, 0x00F0);
    CHECK(g.dist(gicd::isenabler + 4) == 0x00F0);
    g.dist_w(gicd::isenabler + 4, 0x0000); // zeros change nothing
    CHECK(g.dist(gicd::icenabler + 4) == 0x00F0);
    g.dist_w(gicd::icenabler + 4, 0x0030);
    CHECK(g.dist(gicd::isenabler + 4) == 0x00C0);
}

TEST_CASE("D05 ISPENDR/ICPENDR and ISACTIVER/ICACTIVER likewise")
{
    GicFixture g;
    g.dist_w(gicd::ispendr + 4, 0x5);
    CHECK(g.dist(gicd::ispendr + 4) == 0x5);
    g.dist_w(gicd::icpendr + 4, 0x1);
    CHECK(g.dist(gicd::icpendr + 4) == 0x4);
    g.dist_w(gicd::isactiver + 4, 0x300);
    CHECK(g.dist(gicd::isactiver + 4) == 0x300);
    g.dist_w(gicd::icactiver + 4, 0x100);
    CHECK(g.dist(gicd::icactiver + 4) == 0x200);
}

TEST_CASE("D06 IPRIORITYR is byte-accessible; unimplemented low bits read 0")
{
    GicFixture g;
    g.dist_w(gicd::ipriorityr + 32, 0xFFA8'5310);
    CHECK(g.dist(gicd::ipriorityr + 32) == 0xF8A8'5010);
    g.gic->write(Block::gicd, 0, gicd::ipriorityr + 34, 0x77, 1);
    CHECK(g.gic->read(Block::gicd, 0, gicd::ipriorityr + 34, 1) == 0x70);
    CHECK(g.dist(gicd::ipriorityr + 32) == 0xF870'5010);
}

TEST_CASE("D07 ITARGETSR of SPIs holds only implemented CPUs' bits")
{
    GicFixture g(256, 2);
    g.gic->write(Block::gicd, 0, gicd::itargetsr + 40, 0xFF, 1);
    CHECK(g.gic->read(Block::gicd, 0, gicd::itargetsr + 40, 1) == 0x03);
}

TEST_CASE("D08 ITARGETSR of IDs 0-31 reads the accessing CPU's bit and ignores writes")
{
    GicFixture g(256, 4);
    CHECK(g.dist(gicd::itargetsr, 0) == 0x01010101);
    CHECK(g.dist(gicd::itargetsr + 28, 2) == 0x04040404);
    g.dist_w(gicd::itargetsr, 0x0F0F0F0F, 2);
    CHECK(g.dist(gicd::itargetsr, 2) == 0x04040404);
}

TEST_CASE("D09 ICFGR0 reads all-edge and ignores writes; SPI fields toggle")
{
    GicFixture g;
    CHECK(g.dist(gicd::icfgr) == 0xAAAAAAAA);
    g.dist_w(gicd::icfgr, 0);
    CHECK(g.dist(gicd::icfgr) == 0xAAAAAAAA);
    g.dist_w(gicd::icfgr + 8, 0x2);
    CHECK(g.dist(gicd::icfgr + 8) == 0x2);
    g.dist_w(gicd::icfgr + 8, 0x0);
    CHECK(g.dist(gicd::icfgr + 8) == 0x0);
}

TEST_CASE("D10 registers beyond the implemented IDs read as zero and ignore writes")
{
    GicFixture g(64);
    g.dist_w(gicd::isenabler + 8, 0xFFFFFFFF); // IDs 64..95 do not exist
    CHECK(g.dist(gicd::isenabler + 8) == 0);
    g.dist_w(gicd::ipriorityr + 64, 0xFFFFFFFF);
    CHECK(g.dist(gicd::ipriorityr + 64) == 0);
}

TEST_CASE("D11 word 0 is banked per CPU")
{
    GicFixture g(256, 2);
    g.dist_w(gicd::isenabler, 1u << 27, 1);
    g.dist_w(gicd::ipriorityr + 24, 0x80808080, 1);
    CHECK((g.dist(gicd::isenabler, 0) & (1u << 27)) == 0);
    CHECK((g.dist(gicd::isenabler, 1) & (1u << 27)) != 0);
    CHECK(g.dist(gicd::ipriorityr + 24, 0) == 0);
    CHECK(g.dist(gicd::ipriorityr + 24, 1) == 0x80808080);
}

TEST_CASE("D12 SGIR is write-only")
{
    GicFixture g;
    g.dist_w(gicd::sgir, 0x02000003);
    CHECK(g.dist(gicd::sgir) == 0);
}

TEST_CASE("D13 an SGI pending from two sources is acknowledged once per source")
{
    GicFixture g(256, 2);
    g.enable_all(2);
    g.dist_w(gicd::sgir, (2u << 16) | 5, 0); // from CPU 0 to CPU 1 (target list bit 1)
    g.dist_w(gicd::sgir, (2u << 24) | 5, 1); // CPU 1 to itself
    CHECK(g.gic->read(Block::gicd, 1, gicd::spendsgir + 5, 1) == 0x03);
    const auto first = g.ack(1);
    CHECK((first & 0x3FF) == 5);
    CHECK(((first >> 10) & 7) == 0);
    g.eoi(first, 1);
    const auto second = g.ack(1);
    CHECK((second & 0x3FF) == 5);
    CHECK(((second >> 10) & 7) == 1);
    g.eoi(second, 1);
    CHECK(g.ack(1) == spurious_intid);
    // CPENDSGIR clears per source
    g.gic->write(Block::gicd, 1, gicd::spendsgir + 7, 0x3, 1);
    g.gic->write(Block::gicd, 1, gicd::cpendsgir + 7, 0x1, 1);
    CHECK(g.gic->read(Block::gicd, 1, gicd::spendsgir + 7, 1) == 0x2);
}

TEST_CASE("S01 SGIR with a target list reaches exactly the listed CPUs")
{
    GicFixture g(256, 4);
    g.enable_all(4);
    g.dist_w(gicd::sgir, (0b1010u << 16) | 2, 0);
    CHECK_FALSE(g.pending(2, 0));
    CHECK(g.pending(2, 1));
    CHECK_FALSE(g.pending(2, 2));
    CHECK(g.pending(2, 3));
}

TEST_CASE("S02 filter 'all but self' and 'self'")
{
    GicFixture g(256, 3);
    g.dist_w(gicd::sgir, (1u << 24) | 4, 1);
    CHECK(g.pending(4, 0));
    CHECK_FALSE(g.pending(4, 1));
    CHECK(g.pending(4, 2));
    g.dist_w(gicd::sgir, (2u << 24) | 6, 2);
    CHECK_FALSE(g.pending(6, 0));
    CHECK(g.pending(6, 2));
}

TEST_CASE("S03 an SPI targeted at two CPUs is acknowledged by one")
{
    GicFixture g(256, 2);
    g.enable_all(2);
    g.enable(40);
    g.target(40, 0x3);
    g.set_pending(40);
    CHECK(g.ack(1) == 40);
    CHECK(g.ack(0) == spurious_intid);
}

TEST_CASE("S04 retargeting a pending SPI moves it")
{
    GicFixture g(256, 2);
    g.enable_all(2);
    g.enable(41);
    g.target(41, 0x1);
    g.set_pending(41);
    CHECK(g.irq(0));
    CHECK_FALSE(g.irq(1));
    g.target(41, 0x2);
    CHECK_FALSE(g.irq(0));
    CHECK(g.irq(1));
    CHECK(g.ack(1) == 41);
}

TEST_CASE("S05 PPIs are per CPU")
{
    GicFixture g(256, 2);
    g.enable_all(2);
    g.enable(27, 1);
    g.gic->set_ppi_level(1, 27, true);
    CHECK(g.pending(27, 1));
    CHECK_FALSE(g.pending(27, 0));
    CHECK(g.irq(1));
    CHECK_FALSE(g.irq(0));
}

TEST_CASE("group 1 interrupts need both group 1 enables and are acknowledged only with AckCtl")
{
    GicFixture g;
    g.enable_all();
    g.enable(50);
    g.dist_w(gicd::igroupr + 4, 1u << 18); // SPI 50 in group 1
    CHECK(g.dist(gicd::igroupr + 4) == 1u << 18);
    g.set_pending(50);
    CHECK_FALSE(g.irq()); // group 1 disabled at the distributor and CPU interface
    g.dist_w(gicd::ctlr, 3);
    g.cpuif_w(gicc::ctlr, 3);
    CHECK(g.irq());
    CHECK(g.ack() == 1022); // IAR without AckCtl does not take a group 1 interrupt
    CHECK_FALSE(g.active(50));
    g.cpuif_w(gicc::ctlr, 3 | 4); // AckCtl
    CHECK(g.ack() == 50);
    g.eoi(50);
    CHECK_FALSE(g.active(50));
    // The group 1 alias takes it without AckCtl.
    g.cpuif_w(gicc::ctlr, 3);
    g.set_pending(50);
    CHECK(g.cpuif(gicc::aiar) == 50);
    CHECK(g.active(50));
}
