#include "tidemark/config/config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tidemark/config/fields.h"
#include "tidemark/config/locations.h"
#include "tidemark/config/parser.h"
#include "tidemark/config/validate.h"
#include "tidemark/config/yaml_tree.h"
#include "tidemark/util/sha256.h"

namespace tidemark::config {

namespace {

template <typename T>
const T* FindByName(const std::vector<T>& objects, const std::string& name) {
  for (const T& object : objects) {
    if (object.name == name) return &object;
  }
  return nullptr;
}

// Lakes that do not name a layout are Hive-style directories.
void ApplyLayoutDefaults(Config& config) {
  for (Dataset& dataset : config.datasets) {
    for (Lifecycle& lifecycle : dataset.lifecycles) {
      for (Storage& storage : lifecycle.storages) {
        const Connection* connection = config.FindConnection(storage.connection);
        if (storage.layout == Layout::kNone && connection != nullptr &&
            KindOfScheme(UrlScheme(connection->url)) == SystemKind::kLake) {
          storage.layout = Layout::kHive;
        }
      }
    }
  }
}

}  // namespace

std::string Position::ToString() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const char* LayoutName(Layout layout) {
  switch (layout) {
    case Layout::kNone: return "none";
    case Layout::kHive: return "hive";
    case Layout::kDelta: return "delta";
  }
  return "none";
}

const char* StrategyName(Strategy strategy) {
  switch (strategy) {
    case Strategy::kTime: return "time";
    case Strategy::kId: return "id";
    case Strategy::kSequential: return "sequential";
  }
  return "time";
}

const char* OnExpireName(OnExpire on_expire) {
  switch (on_expire) {
    case OnExpire::kArchive: return "archive";
    case OnExpire::kDrop: return "drop";
    case OnExpire::kDetach: return "detach";
    case OnExpire::kKeep: return "keep";
  }
  return "drop";
}

const Connection* Config::FindConnection(const std::string& name) const {
  return FindByName(connections, name);
}

const Archive* Config::FindArchive(const std::string& name) const {
  return FindByName(archives, name);
}

const Dataset* Config::FindDataset(const std::string& name) const {
  return FindByName(datasets, name);
}

std::string Config::ResolvePath(const std::string& path) const {
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

util::Result<Config> ParseConfig(const std::string& text, const std::string& path) {
  Config config;
  config.path = path;
  config.base_dir = std::filesystem::absolute(path).parent_path().lexically_normal().string();
  config.sha256 = util::Sha256Hex(text);
  ParseContext context;
  auto tree = ParseYaml(text, path);
  if (!tree)
    return util::ConfigError(tree.error().position.ToString() + ": " + tree.error().message);
  ReadConfig(*tree, config, context);
  // Checks across objects run even after problems with single values, so that one
  // round of fixes suffices; the parser marked what they must not trust.
  Validate(config, context);
  if (!context.problems.empty()) return util::ConfigError(context.problems.Format());
  ApplyLayoutDefaults(config);
  return config;
}

util::Result<Config> LoadConfig(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return util::ConfigError(path + ": cannot read the config file (" +
                             std::error_code(errno, std::generic_category()).message() +
                             "); pass its path with -c PATH");
  }
  std::ostringstream text;
  text << file.rdbuf();
  return ParseConfig(text.str(), path);
}

}  // namespace tidemark::config
