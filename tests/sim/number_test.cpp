// sim::parse_decimal / parse_unsigned: the one number reader of the front ends.
#include <fwdsim/sim/number.h>

#include <catch2/catch.hpp>

using fwdsim::sim::parse_decimal;
using fwdsim::sim::parse_unsigned;

TEST_CASE("number: decimal and 0x hex, the whole text, up to 2^64 - 1", "[sim][number]")
{
    CHECK(parse_decimal("0") == 0u);
    CHECK(parse_decimal("42") == 42u);
    CHECK(parse_decimal("18446744073709551615") == UINT64_MAX);
    CHECK(parse_unsigned("0x1f") == 0x1fu);
    CHECK(parse_unsigned("0XFFFFFFFFFFFFFFFF") == UINT64_MAX);
    CHECK(parse_unsigned("017") == 17u); // no octal: a leading zero is decimal
}

TEST_CASE("number: what is not a whole unsigned number is refused", "[sim][number]")
{
    for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1x", "0x", "0x-1", "18446744073709551616", "0x10000000000000000", "1e3", "١"}) {
        INFO("'" << bad << "'");
        CHECK_FALSE(parse_unsigned(bad).has_value());
        CHECK_FALSE(parse_decimal(bad).has_value());
    }
    CHECK_FALSE(parse_decimal("0x10").has_value()); // hex only where asked for
}
