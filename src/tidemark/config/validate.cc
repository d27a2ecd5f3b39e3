#include "tidemark/config/validate.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "tidemark/config/keys.h"
#include "tidemark/config/locations.h"
#include "tidemark/util/strings.h"
#include "tidemark/util/timezone.h"

namespace tidemark::config {

namespace {

std::string Quote(const std::string& text) { return "\"" + text + "\""; }

void ValidateTimezone(const Config& config, ParseContext& context) {
  if (util::TimeZone::Load(config.timezone)) return;
  context.problems.Add(context.sources.Find("timezone", {config.path, 1, 1}),
                       "unknown timezone " + Quote(config.timezone) +
                           "; use an IANA name such as UTC or Europe/Berlin");
}

void ValidateState(const Config& config, ParseContext& context) {
  const Position where = context.sources.Find("state", {config.path, 1, 1});
  if (UrlHasSecret(config.state)) {
    context.problems.Add(where,
                         "state has a password in its URL; secrets never go in the file; use "
                         "~/.pgpass or PGPASSWORD");
    return;
  }
  const std::string scheme = UrlScheme(config.state);
  const bool sqlite =
      scheme == "sqlite" && config.state.size() > std::string_view("sqlite:").size();
  if (!sqlite && scheme != "postgres" && scheme != "postgresql") {
    context.problems.Add(
        where, "state must be sqlite:PATH or a postgres:// URL, not " + Quote(config.state));
  }
}

// An S3 connection's own credentials: each secret from one place, and the access key
// and the secret key together (half from the connection, half from elsewhere would mix
// two identities).
void ValidateS3Credentials(const Connection& connection, ParseContext& context) {
  const std::string path = "connections." + connection.name;
  const std::string what = "connection '" + connection.name + "'";
  auto report = [&](const char* key, const std::string& message) {
    context.problems.Add(context.sources.Find(path + "." + key, connection.position),
                         what + message);
  };
  const bool access_env = !connection.access_key_env.empty();
  const bool access_file = !connection.access_key_file.empty();
  const bool secret_env = !connection.secret_key_env.empty();
  const bool secret_file = !connection.secret_key_file.empty();
  if (access_env && access_file) {
    report("access_key_file", " gives both access_key_env and access_key_file; keep one");
  }
  if (secret_env && secret_file) {
    report("secret_key_file", " gives both secret_key_env and secret_key_file; keep one");
  }
  const bool access = access_env || access_file;
  const bool secret = secret_env || secret_file;
  if (access && !secret) {
    report(access_env ? "access_key_env" : "access_key_file",
           " gives an access key but no secret key; add secret_key_env or secret_key_file");
  } else if (secret && !access) {
    report(secret_env ? "secret_key_env" : "secret_key_file",
           " gives a secret key but no access key; add access_key_env or access_key_file");
  } else if (!connection.session_token_env.empty() && !access) {
    report("session_token_env",
           " gives session_token_env without its access and secret keys; add access_key_env "
           "and secret_key_env (or their _file forms)");
  }
}

void ValidateConnectionKeys(const Connection& connection, const std::string& scheme,
                            ParseContext& context) {
  const std::string path = "connections." + connection.name;
  const std::string what = "connection '" + connection.name + "'";
  if (!connection.password_env.empty() && !connection.password_file.empty()) {
    context.problems.Add(context.sources.Find(path + ".password_file", connection.position),
                         what + " gives both password_env and password_file; keep one");
  }
  if (scheme == "s3") ValidateS3Credentials(connection, context);
  if (KindOfScheme(scheme) != SystemKind::kDatabase) {
    for (const char* key : {"lock_timeout_ms", "ddl_attempts"}) {
      if (!context.sources.Has(path + "." + key)) continue;
      context.problems.Add(context.sources.Find(path + "." + key, connection.position),
                           what + " is " + scheme + ", and " + key +
                               " applies to database connections only; remove it");
    }
  }
  if (scheme == "s3" || KindOfScheme(scheme) == SystemKind::kUnknown) return;
  const std::pair<const char*, const std::string*> s3_only[] = {
      {"access_key_env", &connection.access_key_env},
      {"access_key_file", &connection.access_key_file},
      {"secret_key_env", &connection.secret_key_env},
      {"secret_key_file", &connection.secret_key_file},
      {"session_token_env", &connection.session_token_env},
      {"profile", &connection.profile},
      {"region", &connection.region},
      {"endpoint", &connection.endpoint},
      {"addressing", &connection.addressing},
      {"ca_file", &connection.ca_file}};
  auto refuse = [&](const char* key) {
    context.problems.Add(
        context.sources.Find(path + "." + key, connection.position),
        what + " is " + scheme + ", and " + key + " applies to s3 connections only; remove it");
  };
  for (const auto& [key, value] : s3_only) {
    if (!value->empty()) refuse(key);
  }
  for (const char* key : {"part_size_mib", "multipart_threshold_mib", "parts_in_flight"}) {
    if (context.sources.Has(path + "." + key)) refuse(key);
  }
}

void ValidateConnection(const Connection& connection, const Config& config, ParseContext& context) {
  const Position where =
      context.sources.Find("connections." + connection.name + ".url", connection.position);
  const std::string what = "connection '" + connection.name + "'";
  if (connection.url.empty()) return;  // reported as missing
  const std::string scheme = UrlScheme(connection.url);
  if (UrlHasSecret(connection.url)) {
    context.problems.Add(where, what + " has a password in its URL; " + *SecretKeyHint("password"));
  } else if (scheme.empty()) {
    context.problems.Add(where, what +
                                    " has a URL without a scheme; write scheme:..., with "
                                    "scheme one of " +
                                    KnownSchemes());
  } else if (KindOfScheme(scheme) == SystemKind::kUnknown) {
    context.problems.Add(
        where, what + " has unknown URL scheme '" + scheme + "'; use one of " + KnownSchemes());
  } else if (KindOfScheme(scheme) == SystemKind::kLake) {
    auto root = LakeRoot(connection.url, config);
    if (!root) context.problems.Add(where, what + ": " + root.error());
  }
  ValidateConnectionKeys(connection, scheme, context);
}

// The names between braces in `path`, or nullopt when a '{' is not closed.
std::optional<std::vector<std::string>> Placeholders(const std::string& path) {
  std::vector<std::string> names;
  for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open)) {
    size_t close = path.find('}', open);
    if (close == std::string::npos) return std::nullopt;
    names.push_back(path.substr(open + 1, close - open - 1));
    open = close;
  }
  return names;
}

// Reports a path that leaves the root, placeholders other than the four, and a template
// without {partition}.
void ValidateArchivePath(const Archive& archive, ParseContext& context) {
  const Position where =
      context.sources.Find("archives." + archive.name + ".path", archive.position);
  const std::string what = "archive '" + archive.name + "' path";
  if (!IsRelativeBelow(archive.path)) {
    context.problems.Add(where, what +
                                    " must stay below the connection's root: no leading "
                                    "'/' and no '..'");
  }
  auto names = Placeholders(archive.path);
  if (!names) {
    context.problems.Add(where, what + " has a '{' without a closing '}'");
    return;
  }
  for (const std::string& name : *names) {
    if (name != "dataset" && name != "lifecycle" && name != "storage" && name != "partition") {
      context.problems.Add(where, what + " uses unknown placeholder {" + name +
                                      "}; use only {dataset}, {lifecycle}, {storage} and "
                                      "{partition}");
    }
  }
  if (std::find(names->begin(), names->end(), "partition") == names->end()) {
    context.problems.Add(where, what +
                                    " has no {partition}, so every partition would be "
                                    "archived to one place; add {partition}");
  }
}

void ValidateArchive(const Archive& archive, const Config& config, ParseContext& context) {
  ValidateArchivePath(archive, context);
  const Position where =
      context.sources.Find("archives." + archive.name + ".connection", archive.position);
  const std::string what = "archive '" + archive.name + "'";
  const Connection* connection = config.FindConnection(archive.connection);
  if (archive.connection.empty()) return;  // reported as missing
  if (connection == nullptr) {
    context.problems.Add(where, what + " names connection '" + archive.connection + "', " +
                                    NotDefined("connections", NamesOf(config.connections)));
  } else if (KindOfScheme(UrlScheme(connection->url)) == SystemKind::kDatabase) {
    context.problems.Add(where, what + " is on database connection '" + archive.connection +
                                    "'; archives are written to a file: or s3: connection");
  }
}

void ValidateStrategy(const Dataset& dataset, ParseContext& context) {
  const std::string path = DatasetPath(dataset);
  if (!context.IsValid(path + ".interval") || !context.IsValid(path + ".strategy")) return;
  const Position where = context.sources.Find(
      path + (dataset.interval_given ? ".interval" : ".strategy"), dataset.position);
  const std::string what = "dataset '" + dataset.name + "'";
  if (dataset.strategy == Strategy::kId && dataset.interval.IsTime()) {
    context.problems.Add(where, what +
                                    " has strategy id, which needs an integer interval "
                                    "(the width of one id range), e.g. interval: 1000000");
  } else if (dataset.strategy == Strategy::kSequential && !dataset.interval.IsTime()) {
    context.problems.Add(where, what +
                                    " has strategy sequential, which needs a duration as "
                                    "interval (the period one partition should cover), "
                                    "e.g. interval: 7 days");
  }
  if (!dataset.dated_by.empty() && dataset.strategy == Strategy::kTime) {
    context.problems.Add(
        context.sources.Find(path + ".dated_by", dataset.position),
        what + " names dated_by, which is for strategies id and sequential: with strategy "
               "time the partition key itself dates the rows");
  }
}

// A span's rough length in seconds, in floating point so that no count overflows.
double Seconds(const core::Span& span) {
  return static_cast<double>(span.count) *
         static_cast<double>(core::ApproximateSeconds({1, span.unit}));
}

// Retention must keep at least the partitions made ahead; REQUIRES: both are set.
std::string RetentionMessage(const Dataset& dataset) {
  core::Span ahead{0, dataset.interval.unit};
  if (__builtin_mul_overflow(dataset.interval.count, dataset.premake, &ahead.count)) {
    ahead.count = INT64_MAX;
  }
  return "retention " + core::FormatSpan(*dataset.retention) + " of dataset '" + dataset.name +
         "' is shorter than premake × interval (" + std::to_string(dataset.premake) + " × " +
         core::FormatSpan(dataset.interval) + " = " + core::FormatSpan(ahead) +
         "); raise retention to at least " + core::FormatSpan(ahead) + " or lower premake";
}

void ValidateRetention(const Dataset& dataset, ParseContext& context) {
  if (!dataset.retention || !dataset.interval.IsTime() || dataset.premake == 0) return;
  const std::string path = DatasetPath(dataset);
  for (const char* key : {".interval", ".premake", ".strategy"}) {
    if (!context.IsValid(path + key)) return;
  }
  if (Seconds(*dataset.retention) >= dataset.premake * Seconds(dataset.interval)) return;
  // The full form may have written it as archive_before.
  const char* key = context.sources.Has(path + ".retention") ? ".retention" : ".archive_before";
  context.problems.Add(context.sources.Find(path + key, dataset.position),
                       RetentionMessage(dataset));
}

void ValidateExpiry(const Dataset& dataset, const Config& config, ParseContext& context) {
  const std::string path = DatasetPath(dataset);
  const std::string what = "dataset '" + dataset.name + "'";
  if (!dataset.archive_to.empty() && config.FindArchive(dataset.archive_to) == nullptr) {
    context.problems.Add(context.sources.Find(path + ".archive_to", dataset.position),
                         what + " archives to '" + dataset.archive_to + "', " +
                             NotDefined("archives", NamesOf(config.archives)));
  }
  if (dataset.on_expire == OnExpire::kArchive && dataset.archive_to.empty() &&
      context.IsValid(path + ".archive_to")) {
    context.problems.Add(context.sources.Find(path + ".on_expire", dataset.position),
                         what +
                             " has on_expire: archive but no archive_to; add archive_to: "
                             "with the name of an archive, or choose on_expire: drop");
  }
  if (dataset.tablespace_after.has_value() != !dataset.tablespace.empty() &&
      context.IsValid(path + ".tablespace_after") && context.IsValid(path + ".tablespace")) {
    const bool has_after = dataset.tablespace_after.has_value();
    context.problems.Add(
        context.sources.Find(path + (has_after ? ".tablespace_after" : ".tablespace"),
                             dataset.position),
        what +
            (has_after ? " has tablespace_after but no tablespace; add tablespace:"
                       : " has tablespace but no tablespace_after; add tablespace_after:") +
            ", or remove it");
  }
}

// The naming template: known placeholders only, and {start} (or {start:…}) so that
// partitions get distinct names.
void ValidatePartitionName(const Dataset& dataset, ParseContext& context) {
  const std::string path = DatasetPath(dataset) + ".partition_name";
  if (!context.sources.Has(path) || !context.IsValid(path)) return;
  const Position where = context.sources.Find(path, dataset.position);
  const std::string what = "partition_name of dataset '" + dataset.name + "'";
  auto names = Placeholders(dataset.partition_name);
  if (!names) {
    context.problems.Add(where, what + " has a '{' without a closing '}'");
    return;
  }
  bool has_start = false;
  for (const std::string& name : *names) {
    const std::string base = name.substr(0, name.find(':'));
    if (base == "start") has_start = true;
    if (base != "table" && base != "start" && base != "end") {
      context.problems.Add(where, what + " uses unknown placeholder {" + name +
                                      "}; use {table}, {start}, {end}, {start:FORMAT} or "
                                      "{end:FORMAT}");
    }
  }
  if (!has_start) {
    context.problems.Add(where, what +
                                    " has no {start}, so every partition would get the same "
                                    "name; add {start} or {start:FORMAT}");
  }
}

}  // namespace

std::string NotDefined(const std::string& kind_plural, const std::vector<std::string>& known) {
  if (known.empty())
    return "which is not defined, and no " + kind_plural + " are; define it under " + kind_plural +
           ":";
  return "which is not defined; known " + kind_plural + ": " + util::Join(known, ", ");
}

void Validate(const Config& config, ParseContext& context) {
  ValidateTimezone(config, context);
  ValidateState(config, context);
  for (const Connection& connection : config.connections) {
    ValidateConnection(connection, config, context);
  }
  for (const Archive& archive : config.archives) ValidateArchive(archive, config, context);
  for (const Dataset& dataset : config.datasets) {
    ValidateStrategy(dataset, context);
    ValidateRetention(dataset, context);
    ValidateExpiry(dataset, config, context);
    ValidatePartitionName(dataset, context);
  }
  ValidateStorages(config, context);
  ValidateLocations(config, context);
}

}  // namespace tidemark::config
