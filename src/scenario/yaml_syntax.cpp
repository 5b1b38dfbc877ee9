#include "yaml_syntax.h"

#include <fwdsim/sim/config_error.h>

#include <yaml.h>

#include <memory>
#include <string>

namespace fwdsim::scenario::detail {

namespace {

struct ParserDeleter {
    void operator()(yaml_parser_t* p) const
    {
        yaml_parser_delete(p);
        delete p;
    }
};

struct Event {
    yaml_event_t e{};
    bool live = false;
    ~Event()
    {
        if (live) yaml_event_delete(&e);
    }
};

} // namespace

void check_yaml_syntax(const std::string& text, const std::string& origin)
{
    std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t{});
    if (yaml_parser_initialize(parser.get()) == 0) {
        throw sim::ConfigError(origin, 0, "(syntax)", "the YAML parser could not start (out of memory)");
    }
    yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()), text.size());
    unsigned documents = 0;
    for (;;) {
        Event ev;
        if (yaml_parser_parse(parser.get(), &ev.e) == 0) {
            const yaml_parser_t& p = *parser;
            const std::string why = p.problem != nullptr ? p.problem : "malformed YAML";
            const std::string context = p.context != nullptr ? std::string(" ") + p.context : std::string();
            throw sim::ConfigError(origin, static_cast<int>(p.problem_mark.line) + 1, "(syntax)", why + context);
        }
        ev.live = true;
        if (ev.e.type == YAML_DOCUMENT_START_EVENT && ++documents == 2) {
            throw sim::ConfigError(origin, static_cast<int>(ev.e.start_mark.line) + 1, "(document)",
                                   "a second YAML document: a scenario file holds one (remove the '---' or '...')");
        }
        if (ev.e.type == YAML_STREAM_END_EVENT) return;
    }
}

} // namespace fwdsim::scenario::detail
