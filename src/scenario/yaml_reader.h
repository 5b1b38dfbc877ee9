// YamlReader: strict, position-aware reading of one YAML mapping.
//
// Private to the scenario layer.  Every key read is remembered; finish()
// rejects the keys nobody asked for, so a typo in a scenario file is an
// error naming the file, the line and the misspelt key -- never a silently
// ignored setting.
#pragma once

#include "yaml_syntax.h"

#include <fwdsim/sim/config_error.h>

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fwdsim::scenario::detail {

inline int line_of(const YAML::Node& node)
{
    return node.Mark().line + 1;
}

/// Parses `text` as exactly one YAML document whose mappings hold each key
/// once.  yaml-cpp keeps the first of two equal keys and YAML::Load ignores
/// the rest of a stream after its first document; both would silently drop
/// what the user wrote, so both are refused, located.  Aliases are shared, not copied,
/// so a few lines can describe an exponentially large tree: the walk counts
/// nodes and refuses a document that expands past a bound.
inline YAML::Node load_document(const std::string& text, const std::string& origin)
{
    check_yaml_syntax(text, origin); // never YAML::LoadAll: yaml_syntax.h says why
    YAML::Node doc;
    try {
        doc = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw sim::ConfigError(origin, e.mark.line + 1, "(syntax)", e.msg);
    }
    constexpr std::size_t kMaxNodes = 1'000'000;
    std::size_t visited = 0;
    const auto walk = [&](const auto& self, const YAML::Node& n, const std::string& path) -> void {
        if (++visited > kMaxNodes) {
            throw sim::ConfigError(origin, line_of(n), path.empty() ? "(top level)" : path,
                                   "the document expands to more than a million nodes (aliases of aliases?)");
        }
        if (n.IsSequence()) {
            std::size_t k = 0;
            for (const auto& item : n) self(self, item, path.empty() ? std::to_string(k) : path + "." + std::to_string(k)), ++k;
        } else if (n.IsMap()) {
            std::map<std::string, int> seen;
            for (const auto& kv : n) {
                if (!kv.first.IsScalar()) continue; // YamlReader names it where it matters
                const std::string key = kv.first.Scalar();
                const std::string sub = path.empty() ? key : path + "." + key;
                if (const auto [it, fresh] = seen.emplace(key, line_of(kv.first)); !fresh) {
                    throw sim::ConfigError(origin, line_of(kv.first), sub,
                                           "duplicate key (also on line " + std::to_string(it->second) + ")");
                }
                self(self, kv.second, sub);
            }
        }
    };
    walk(walk, doc, "");
    return doc;
}

class YamlReader {
public:
    YamlReader(const YAML::Node& node, std::string origin, std::string path)
        : node_(node), origin_(std::move(origin)), path_(std::move(path))
    {
        if (!node_.IsMap()) {
            throw sim::ConfigError(origin_, line_of(node_), path_.empty() ? "(top level)" : path_,
                                   "expected a mapping of keys to values");
        }
    }

    const std::string& origin() const { return origin_; }
    std::string path_of(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

    bool has(const std::string& key)
    {
        used_.insert(key);
        return static_cast<bool>(lookup(key));
    }

    YAML::Node child(const std::string& key)
    {
        used_.insert(key);
        return lookup(key);
    }

    [[noreturn]] void fail(const std::string& key, const std::string& what) const
    {
        const YAML::Node n = lookup(key);
        throw sim::ConfigError(origin_, n ? line_of(n) : line_of(node_), path_of(key), what);
    }

    template <class T>
    void get(const std::string& key, T& out)
    {
        const YAML::Node n = child(key);
        if (!n) {
            return;
        }
        if (!n.IsScalar()) {
            fail(key, "expected a single value");
        }
        try {
            out = n.as<T>();
        } catch (const YAML::BadConversion&) {
            fail(key, std::string("cannot read '") + n.Scalar() + "' as " + kind_name<T>());
        }
    }

    template <class T>
    void require(const std::string& key, T& out)
    {
        if (!has(key)) {
            throw sim::ConfigError(origin_, line_of(node_), path_of(key), "required key is missing");
        }
        get(key, out);
    }

    /// Reads a value that must be one of `names`; returns its position.
    template <class E>
    void get_enum(const std::string& key, E& out, std::initializer_list<std::pair<const char*, E>> names)
    {
        std::string text;
        get(key, text);
        if (!has(key)) {
            return;
        }
        std::string valid;
        for (const auto& [name, value] : names) {
            if (text == name) {
                out = value;
                return;
            }
            valid += valid.empty() ? name : std::string(", ") + name;
        }
        fail(key, "'" + text + "' is not one of: " + valid);
    }

    /// Rejects every key that was not read.
    void finish() const
    {
        for (const auto& kv : node_) {
            if (!kv.first.IsScalar()) {
                throw sim::ConfigError(origin_, line_of(kv.first), path_.empty() ? "(key)" : path_,
                                       "a key must be a plain name");
            }
            const std::string key = kv.first.Scalar();
            if (used_.count(key) == 0) {
                throw sim::ConfigError(origin_, line_of(kv.first), path_of(key), "unknown key");
            }
        }
    }

private:
    // Through a const node: operator[] on a mutable one may add the key.
    YAML::Node lookup(const std::string& key) const
    {
        const YAML::Node& n = node_;
        return n[key];
    }

    template <class T>
    static const char* kind_name()
    {
        if constexpr (std::is_same_v<T, bool>) {
            return "true or false";
        } else if constexpr (std::is_floating_point_v<T>) {
            return "a number";
        } else if constexpr (std::is_unsigned_v<T>) {
            return "a non-negative integer";
        } else if constexpr (std::is_integral_v<T>) {
            return "an integer";
        } else {
            return "text";
        }
    }

    YAML::Node node_;
    std::string origin_;
    std::string path_;
    std::set<std::string> used_;
};

} // namespace fwdsim::scenario::detail
