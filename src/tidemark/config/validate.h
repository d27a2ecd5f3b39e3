// Checks that look across the parsed structs: names that refer to other objects, URLs
// and secrets, time zones, time ranges of storages, the policy's numbers, and where
// data and archives live. Each problem is reported at the position the parser recorded
// for the value that needs the fix.
//
// Thread-safety: used by one thread at a time.

#ifndef TIDEMARK_CONFIG_VALIDATE_H_
#define TIDEMARK_CONFIG_VALIDATE_H_

#include <string>
#include <vector>

#include "tidemark/config/config.h"
#include "tidemark/config/fields.h"

namespace tidemark::config {

// Reports every problem of `config` into context.problems.
void Validate(const Config& config, ParseContext& context);

// The parts of Validate that concern storages (validate_storage.cc).
void ValidateStorages(const Config& config, ParseContext& context);
void ValidateLocations(const Config& config, ParseContext& context);

// The names of connections, archives or datasets, for NotDefined.
template <typename T>
std::vector<std::string> NamesOf(const std::vector<T>& objects) {
  std::vector<std::string> names;
  for (const T& object : objects) names.push_back(object.name);
  return names;
}

// "which is not defined; known connections: app, lake" for a name that refers to nothing.
std::string NotDefined(const std::string& kind_plural, const std::vector<std::string>& known);

}  // namespace tidemark::config

#endif  // TIDEMARK_CONFIG_VALIDATE_H_
