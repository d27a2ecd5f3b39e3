// The tree of a config file read into the Config structs. This stage reports what is
// wrong with single mappings and values (unknown, duplicate and missing keys, types,
// durations, dates, names, the two forms of a dataset); checks across objects run
// afterwards on the structs (validate.h), using the positions recorded here.
//
// Thread-safety: used by one thread at a time.

#ifndef TIDEMARK_CONFIG_PARSER_H_
#define TIDEMARK_CONFIG_PARSER_H_

#include "tidemark/config/config.h"
#include "tidemark/config/fields.h"
#include "tidemark/config/yaml_tree.h"

namespace tidemark::config {

// Fills `config` (whose path and base_dir the caller has set) from `root`. Values that
// have problems keep their defaults.
void ReadConfig(const YamlNode& root, Config& config, ParseContext& context);

}  // namespace tidemark::config

#endif  // TIDEMARK_CONFIG_PARSER_H_
