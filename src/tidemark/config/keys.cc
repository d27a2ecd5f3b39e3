#include "tidemark/config/keys.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace tidemark::config {

namespace {

// Dataset keys shared by the short and the full form.
constexpr KeyInfo kPartitionBy{"partition_by", KeyType::kStringOrList, false, "",
                               "The partition key column(s) of a table, or the directory "
                               "key(s) of a lake."};
constexpr KeyInfo kInterval{"interval", KeyType::kInterval, false, "`1 day`",
                            "Width of one partition: a duration, or an integer for strategy "
                            "`id`. For `sequential`, the period one partition should cover."};
constexpr KeyInfo kPremake{"premake", KeyType::kInteger, false, "`0`",
                           "Empty partitions kept ahead of now."};
constexpr KeyInfo kRetention{"retention", KeyType::kDuration, false, "none (never expires)",
                             "Age, by partition value, at which a partition expires."};
constexpr KeyInfo kArchiveBefore{"archive_before", KeyType::kDuration, false, "",
                                 "The same as `retention` (seed 003's name); give one of the "
                                 "two."};
constexpr KeyInfo kOnExpire{"on_expire",
                            KeyType::kChoice,
                            false,
                            "`archive` with `archive_to`, else `drop`",
                            "What happens to an expired partition: archive it (copy, verify, "
                            "then remove), drop it, detach it and keep it detached, or keep "
                            "it in place.",
                            "archive, drop, detach, keep"};
constexpr KeyInfo kArchiveTo{"archive_to", KeyType::kString, false, "",
                             "The name of an archive; required by `on_expire: archive`."};
constexpr KeyInfo kRecycleDays{"recycle_days", KeyType::kInteger, false, "`7`",
                               "Days a removed partition stays restorable from the recycle "
                               "bin before it is purged."};
constexpr KeyInfo kStrategy{"strategy",
                            KeyType::kChoice,
                            false,
                            "`time`",
                            "`time`: ranges of time; `id`: integer ranges `interval` wide; "
                            "`sequential`: id ranges sized by the predicted fill rate so that "
                            "each covers `interval` of time.",
                            "time, id, sequential"};
constexpr KeyInfo kLateDataKey{"late_data", KeyType::kMapping, false, "",
                               "Late-data tracking; see [Late data](#late-data)."};
constexpr KeyInfo kTablespaceAfter{"tablespace_after", KeyType::kDuration, false, "",
                                   "Age after which partitions move to `tablespace` "
                                   "(databases with tablespaces); give both or neither."};
constexpr KeyInfo kTablespace{"tablespace", KeyType::kString, false, "",
                              "The tablespace old partitions move to."};

constexpr KeyInfo kPartitionName{
    "partition_name", KeyType::kString, false, "`{table}_p{start}`",
    "Name of a partition tidemark creates in a database: `{table}` is the table's name, "
    "`{start}` the start of the range (`%Y` for yearly, `%Y%m` monthly, `%Y%m%d` daily or "
    "weekly, `%Y%m%d_%H` hourly partitions, in `timezone`; the first id for `id`), "
    "`{start:FORMAT}` and `{end:FORMAT}` with `%Y %m %d %H %M %S`. Names too long for the "
    "database keep their suffix and shorten the table part. Partitions made by others "
    "(pg_partman included) keep their names: tidemark reads bounds from the catalog."};

constexpr KeyInfo kDatedBy{
    "dated_by", KeyType::kString, false, "",
    "For strategies `id` and `sequential`: the column that dates a partition's rows (e.g. "
    "`created_at`). Retention then expires a partition once its newest row is older than "
    "`retention`, and `sequential` takes when each partition began to fill from its oldest "
    "row instead of from its name."};

constexpr KeyInfo kTopKeys[] = {
    {"state", KeyType::kString, false, "`sqlite:.tidemark/state.db`",
     "Where the journal, locks and fingerprints live: `sqlite:PATH` (relative to the config "
     "file's directory) or a `postgres://` URL shared by many workers."},
    {"runs_dir", KeyType::kString, false, "`.tidemark/runs`",
     "Directory for run files, relative to the config file's directory."},
    {"metrics_dir", KeyType::kString, false, "",
     "Where `apply` writes metrics in Prometheus's text format, one file per dataset "
     "(`tidemark_DATASET.prom`, replaced atomically): point node_exporter's textfile "
     "collector at it. Relative to the config file's directory. Unset: no metrics."},
    {"timezone", KeyType::kString, false, "`UTC`",
     "IANA time zone in which partition boundaries are civil times."},
    {"connections", KeyType::kNamedMappings, false, "",
     "The systems tidemark talks to, by name; see [Connection](#connection)."},
    {"archives", KeyType::kNamedMappings, false, "",
     "Archive locations, by name; see [Archive](#archive)."},
    {"datasets", KeyType::kNamedMappings, false, "",
     "The datasets tidemark manages, by name; may be empty. See [Dataset](#dataset-short-form)."},
};

constexpr KeyInfo kConnectionKeys[] = {
    {"url", KeyType::kString, true, "",
     "The system; its scheme picks the backend: `file:///abs/path`, `file:rel/path`, "
     "`s3://bucket/prefix`, `postgres://user@host:5432/db` (or `postgresql://`), "
     "`mariadb://user@host:3306/db`, `mysql://…`. Never with a password."},
    {"password_env", KeyType::kString, false, "", "Environment variable holding the password."},
    {"password_file", KeyType::kString, false, "",
     "File whose first line is the password (relative to the config file's directory)."},
    {"access_key_env", KeyType::kString, false, "",
     "S3: environment variable holding the access key id. Without the connection's own "
     "keys or `profile`, credentials come from `AWS_ACCESS_KEY_ID`, "
     "`AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, else from the shared files "
     "(`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`, then `AWS_CONFIG_FILE` or "
     "`~/.aws/config`) with the profile `AWS_PROFILE` or `default`."},
    {"access_key_file", KeyType::kString, false, "",
     "S3: file whose first line is the access key id (relative to the config file's "
     "directory)."},
    {"secret_key_env", KeyType::kString, false, "",
     "S3: environment variable holding the secret access key; given with an access key."},
    {"secret_key_file", KeyType::kString, false, "",
     "S3: file whose first line is the secret access key (relative to the config file's "
     "directory)."},
    {"session_token_env", KeyType::kString, false, "",
     "S3: environment variable holding a session token (temporary credentials), sent with "
     "the connection's access and secret keys."},
    {"profile", KeyType::kString, false, "`AWS_PROFILE`, else `default`",
     "S3: a profile of the AWS shared credentials and config files. Named here, it is used "
     "before the `AWS_*` environment variables."},
    {"region", KeyType::kString, false,
     "`AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's, else `us-east-1`",
     "S3: the region (also accepted as `?region=` in the URL)."},
    {"endpoint", KeyType::kString, false, "",
     "S3: the endpoint URL of an S3-compatible server, instead of AWS (also accepted as "
     "`?endpoint=` in the URL)."},
    {"addressing", KeyType::kChoice, false, "`virtual` on AWS, `path` with an `endpoint`",
     "S3: `path` (`https://endpoint/bucket/key`) or `virtual` "
     "(`https://bucket.endpoint/key`). Buckets whose names hold dots are addressed `path` "
     "by default, as TLS certificates do not cover them.",
     "path, virtual"},
    {"ca_file", KeyType::kString, false, "the system's",
     "S3: a PEM file of certificate authorities to verify the endpoint with (relative to "
     "the config file's directory). TLS is always verified."},
    {"multipart_threshold_mib", KeyType::kInteger, false, "`100`",
     "S3: objects up to this many MiB are written with one PUT (a local file being "
     "archived is streamed; other objects are held in memory until sent); larger ones are "
     "multipart uploads, and are held in memory up to this size before their first part "
     "goes. 5 to 5120 (S3's limit for one PUT)."},
    {"part_size_mib", KeyType::kInteger, false, "`16`",
     "S3: the part size of multipart uploads, in MiB: 5 (S3's minimum) to 5120. An object "
     "may have 10,000 parts, so the largest object is 10,000 times this."},
    {"parts_in_flight", KeyType::kInteger, false, "`4`",
     "S3: parts of one multipart upload sent at once, each over a connection of its own "
     "(1 to 64). One connection rarely carries more than some tens of MiB/s; memory "
     "grows by a part for each."},
    {"lock_timeout_ms", KeyType::kInteger, false, "`2000`",
     "Databases: how long one attempt of a DDL statement waits for its locks before it "
     "gives up and tries again later, so that other sessions never queue behind tidemark "
     "for longer."},
    {"ddl_attempts", KeyType::kInteger, false, "`6`",
     "Databases: attempts of a DDL statement that timed out waiting for locks, with "
     "backoff doubling from 250 ms, before the step fails (resumably)."},
};

constexpr KeyInfo kArchiveKeys[] = {
    {"connection", KeyType::kString, true, "",
     "The `file:` or `s3:` connection the archive is written to."},
    {"path", KeyType::kString, false, "`{dataset}/{lifecycle}/{storage}/{partition}/`",
     "Location of one archived partition below the connection's root; may use `{dataset}`, "
     "`{lifecycle}`, `{storage}` and must use `{partition}`."},
};

constexpr KeyInfo kDatasetShortKeys[] = {
    {"storage", KeyType::kMapping, true, "",
     "The one storage of the dataset's one lifecycle; see [Storage](#storage)."},
    kPartitionBy,
    kInterval,
    kPremake,
    kRetention,
    kOnExpire,
    kArchiveTo,
    kRecycleDays,
    kStrategy,
    kLateDataKey,
    kTablespaceAfter,
    kTablespace,
    kPartitionName,
    kDatedBy,
};

constexpr KeyInfo kDatasetFullKeys[] = {
    {"lifecycles", KeyType::kNamedMappings, true, "",
     "The dataset's lifecycles, by name; see [Lifecycle](#lifecycle)."},
    kPartitionBy,
    kInterval,
    kPremake,
    kRetention,
    kArchiveBefore,
    kOnExpire,
    kArchiveTo,
    kRecycleDays,
    kStrategy,
    kLateDataKey,
    kTablespaceAfter,
    kTablespace,
    kPartitionName,
    kDatedBy,
};

constexpr KeyInfo kLifecycleKeys[] = {
    {"order", KeyType::kInteger, false, "`1`",
     "A positive integer: lower orders are handled first; equal orders are independent."},
    {"storages", KeyType::kNamedMappings, true, "",
     "Where the lifecycle's partitions live over time, by name; see [Storage](#storage)."},
};

constexpr KeyInfo kStorageKeys[] = {
    {"connection", KeyType::kString, true, "", "The name of a connection."},
    {"table", KeyType::kString, false, "",
     "Databases (required there): the partitioned table, `[schema.]table`."},
    {"path", KeyType::kString, false, "",
     "Lakes (required there): the dataset's root, relative to the connection's root."},
    {"layout", KeyType::kChoice, false, "`hive` for lakes",
     "Lakes: `hive` (key=value directories) or `delta` (a Delta Lake table).", "hive, delta"},
    {"from", KeyType::kDate, false, "since ever", "The first day this storage holds."},
    {"until", KeyType::kDate, false, "from then on",
     "The first day this storage no longer holds; after `from`."},
};

constexpr KeyInfo kLateDataKeys[] = {
    {"consumers", KeyType::kStringList, true, "",
     "Downstream jobs whose processed partitions are fingerprinted; a changed fingerprint "
     "is late data."},
};

constexpr SectionInfo kSections[] = {
    {Section::kTop, "Top level", "at the top of the file", "The file is one YAML mapping.",
     kTopKeys},
    {Section::kConnection, "Connection", "under `connections: NAME:`",
     "A system tidemark reads and changes. Secrets never appear in the file, only where to "
     "find them: `*_env`, `*_file`, or the client's own mechanisms such as `~/.pgpass`.",
     kConnectionKeys},
    {Section::kArchive, "Archive", "under `archives: NAME:`",
     "Where archived partitions go: data files plus `manifest.json`. An archive may not lie "
     "inside a lake storage's location, nor a storage inside an archive's.",
     kArchiveKeys},
    {Section::kDatasetShort, "Dataset (short form)", "under `datasets: NAME:` with `storage:`",
     "A dataset with one lifecycle (named `main`) in one storage (named `main`).",
     kDatasetShortKeys},
    {Section::kDatasetFull, "Dataset (full form)", "under `datasets: NAME:` with `lifecycles:`",
     "A dataset whose stages (raw, bronze, silver…) each live in storages that change over "
     "time (seed 003). A dataset has `storage` or `lifecycles`, never both.",
     kDatasetFullKeys},
    {Section::kLifecycle, "Lifecycle", "under `lifecycles: NAME:`",
     "A stage of a dataset. Two lifecycles, in any datasets, may never use one location.",
     kLifecycleKeys},
    {Section::kStorage, "Storage", "under `storage:` or `storages: NAME:`",
     "Where partitions physically live for a range of days: a partitioned table (PostgreSQL, "
     "Greenplum, MySQL, MariaDB) or a lake location (`file:`, `s3:`). The storages of one "
     "lifecycle may not overlap in time.",
     kStorageKeys},
    {Section::kLateData, "Late data", "under `late_data:`",
     "Noticing late data in partitions that downstream jobs already processed (seed 004).",
     kLateDataKeys},
};

}  // namespace

std::span<const SectionInfo> AllSections() { return kSections; }

const SectionInfo& SectionOf(Section section) {
  for (const SectionInfo& info : kSections) {
    if (info.section == section) return info;
  }
  return kSections[0];
}

const KeyInfo* FindKey(Section section, std::string_view name) {
  for (const KeyInfo& key : SectionOf(section).keys) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus swaps of adjacent characters.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::optional<std::string_view> SuggestKey(Section section, std::string_view name) {
  // Short keys tolerate fewer edits, or every three-letter typo would match something.
  const size_t limit = name.size() <= 4 ? 1 : name.size() <= 8 ? 2 : 3;
  std::optional<std::string_view> best;
  size_t best_distance = limit + 1;
  for (const KeyInfo& key : SectionOf(section).keys) {
    size_t distance = EditDistance(name, key.name);
    if (distance < best_distance) {
      best = key.name;
      best_distance = distance;
    }
  }
  return best;
}

std::optional<std::string> SecretKeyHint(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  const std::string prefix = "secrets never go in the file; use ";
  if (lower == "password" || lower == "passwd" || lower == "pass") {
    return prefix + "password_env or password_file";
  }
  if (lower == "secret_key" || lower == "secret_access_key") {
    return prefix + "secret_key_env or secret_key_file";
  }
  if (lower == "access_key" || lower == "access_key_id") {
    return prefix + "access_key_env or access_key_file";
  }
  if (lower == "session_token" || lower == "security_token") return prefix + "session_token_env";
  return std::nullopt;
}

}  // namespace tidemark::config
