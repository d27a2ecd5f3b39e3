// ${VAR} in config values: replaced by the environment variable VAR, so that files can
// be shared between environments. "$${" stands for a literal "${"; any other '$' is
// kept as it is. Expansion happens on scalar values after YAML parsing, never on the
// raw text, so a variable's value cannot change the file's structure.
//
// Thread-safety: pure, given a pure lookup.

#ifndef TIDEMARK_CONFIG_EXPAND_H_
#define TIDEMARK_CONFIG_EXPAND_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace tidemark::config {

// The value of an environment variable, or nullopt when it is not set.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
EnvironmentLookup ProcessEnvironment();

// `text` with every ${NAME} replaced. Fails with a message naming the variable when it
// is not set, or when a "${" is not a well-formed reference.
tl::expected<std::string, std::string> ExpandEnvironment(std::string_view text,
                                                         const EnvironmentLookup& lookup);

}  // namespace tidemark::config

#endif  // TIDEMARK_CONFIG_EXPAND_H_
