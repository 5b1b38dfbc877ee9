// The check the front-end tests share: running `read` must throw a
// sim::ConfigError that names file "t.yaml", `line` and `field`, with
// `words` in its message.
#pragma once

#include <fwdsim/sim/config_error.h>

#include <catch2/catch.hpp>

#include <functional>
#include <string>

namespace fwdsim::test {

inline void expect_refused(const std::function<void()>& read, const std::string& field, int line,
                           const std::string& words = "")
{
    try {
        read();
        FAIL("accepted");
    } catch (const sim::ConfigError& e) {
        INFO(e.what());
        CHECK(e.origin() == "t.yaml");
        CHECK(e.line() == line);
        CHECK(e.field() == field);
        CHECK(std::string(e.what()).find(field) != std::string::npos);
        CHECK(e.message().find(words) != std::string::npos);
    }
}

} // namespace fwdsim::test
