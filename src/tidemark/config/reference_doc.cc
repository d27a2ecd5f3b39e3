// RenderConfigurationReference: docs/configuration.md from the key table, so the
// reference cannot drift from what the parser accepts.

#include <string>

#include "tidemark/config/keys.h"

namespace tidemark::config {

namespace {

constexpr std::string_view kHeader = R"(# Configuration reference

<!-- Generated from src/tidemark/config/keys.cc; do not edit by hand. A unit test fails
when this file and the key table differ. To regenerate:
TIDEMARK_UPDATE_DOCS=1 build/tidemark_unit_tests --gtest_filter='ConfigurationReference.*' -->

tidemark reads one YAML file (`tidemark.yaml`, or `-c PATH`) that describes the datasets
it manages. This page lists every key; a key not listed here is an error.

## Values

- **Durations**: `N unit` with unit `hour`, `day`, `week`, `month` or `year`, singular or
  plural: `1 day`, `90 days`, `2 months`. `interval` also takes a bare integer when
  `strategy: id`.
- **Dates**: `YYYY-MM-DD`.
- **Environment**: `${VAR}` in any value is replaced by the environment variable `VAR`;
  an unset variable is an error. `$${` stands for a literal `${`.
- **Paths**: relative paths (`state: sqlite:PATH`, `runs_dir`, `password_file`,
  `access_key_file`, `secret_key_file`, `ca_file`, and `file:relative/path` URLs) are
  relative to the directory of the config file.
- **Names** of datasets, lifecycles and storages use only letters, digits, `_` and `-`.
- **Secrets** never appear in the file, only where to find them. Keys named `password`,
  `secret_key`, `access_key` or `session_token`, and URLs with a password, are refused.
  tidemark never prints a secret, in messages or logs.

## Errors

tidemark reports every problem of the file at once, one per line, each as
`file:line:col: what is wrong; what to do`, and exits with code 2. Unknown keys come
with the closest known key (`did you mean 'retention'?`); a key given twice in one
mapping is an error.

Besides each key's type, these are checked:

- a dataset has `storage` or `lifecycles`, not both; `retention` and `archive_before`
  are not both given;
- connections and archives that a dataset names exist;
- URL schemes are `file`, `s3`, `postgres`, `postgresql`, `mariadb` or `mysql`;
- a lake storage (`file:`, `s3:`) has `path` and no `table`; a database storage has
  `table` and neither `path` nor `layout`;
- `from` is before `until`, and the storages of one lifecycle do not overlap in time;
- two lifecycles, in any datasets, never use one location (the same table of one
  connection, or the same lake directory);
- an archive's location (its path up to the first `{`) is neither inside a lake storage's
  location nor contains one;
- an archive path uses only `{dataset}`, `{lifecycle}`, `{storage}` and `{partition}`,
  and uses `{partition}`;
- `on_expire: archive` has an `archive_to`;
- `retention` is at least `premake` × `interval`;
- `strategy: id` has an integer `interval`; `time` and `sequential` have a duration;
- `timezone` is a known IANA zone; `state` is `sqlite:PATH` or a `postgres://` URL;
- a connection gives at most one of `password_env` and `password_file`, and only `s3:`
  connections take `access_key_env`, `access_key_file`, `secret_key_env`,
  `secret_key_file`, `session_token_env`, `profile`, `region`, `endpoint`, `addressing`
  and `ca_file`;
- an `s3:` connection gives its access key and secret key together, each from one place
  (`_env` or `_file`), and `session_token_env` only with them;
- lake paths and archive paths stay below the connection's root (relative, no `..`);
- `tablespace` and `tablespace_after` are given together;
- the file is one YAML document, indented with spaces.
)";

std::string_view TypeText(const KeyInfo& key) {
  switch (key.type) {
    case KeyType::kString: return "string";
    case KeyType::kInteger: return "integer";
    case KeyType::kDuration: return "duration";
    case KeyType::kInterval: return "duration or integer";
    case KeyType::kDate: return "date";
    case KeyType::kChoice: return "";  // the choices themselves
    case KeyType::kStringOrList: return "string or list of strings";
    case KeyType::kStringList: return "list of strings";
    case KeyType::kMapping: return "mapping";
    case KeyType::kNamedMappings: return "mapping of names";
  }
  return "";
}

// "`archive`, `drop`, `detach` or `keep`"
std::string ChoicesText(std::string_view choices) {
  std::string text;
  while (!choices.empty()) {
    size_t comma = choices.find(", ");
    std::string_view choice = choices.substr(0, comma);
    choices = comma == std::string_view::npos ? "" : choices.substr(comma + 2);
    if (!text.empty()) text += choices.empty() ? " or " : ", ";
    text += "`" + std::string(choice) + "`";
  }
  return text;
}

std::string RenderSection(const SectionInfo& section) {
  std::string text = "\n## " + std::string(section.title) + "\n\n";
  text += "Written " + std::string(section.where) + ". " + std::string(section.about) + "\n\n";
  text += "| Key | Type | Required | Default | Meaning |\n";
  text += "|---|---|---|---|---|\n";
  for (const KeyInfo& key : section.keys) {
    std::string type =
        key.type == KeyType::kChoice ? ChoicesText(key.choices) : std::string(TypeText(key));
    text += "| `" + std::string(key.name) + "` | " + type + " | " + (key.required ? "yes" : "no") +
            " | " + std::string(key.default_text) + " | " + std::string(key.doc) + " |\n";
  }
  return text;
}

}  // namespace

std::string RenderConfigurationReference() {
  std::string text(kHeader);
  text += "\n## Example\n\n```yaml\n" + std::string(ExampleConfig()) + "```\n";
  for (const SectionInfo& section : AllSections()) text += RenderSection(section);
  return text;
}

std::string_view ExampleConfig() {
  return R"(state: sqlite:.tidemark/state.db         # or postgres://… shared by many workers
runs_dir: .tidemark/runs
timezone: UTC                            # partition boundaries are computed here

connections:
  app:   { url: "postgres://tidemark@db1:5432/app", password_env: APP_PG_PASSWORD }
  logs:  { url: "mariadb://tidemark@db2:3306/logs", password_file: /etc/tidemark/logs.pw }
  lake:  { url: "s3://datalake?region=eu-west-1", access_key_env: AWS_ACCESS_KEY_ID,
           secret_key_env: AWS_SECRET_ACCESS_KEY }
  disk:  { url: "file:///var/lib/lake" }

archives:
  cold: { connection: lake, path: "archive/{dataset}/{lifecycle}/{storage}/{partition}/" }

datasets:
  events:                                # short form: one lifecycle with one storage
    storage: { connection: app, table: public.events }
    partition_by: created_at
    interval: 1 day
    premake: 7
    retention: 90 days
    on_expire: archive
    archive_to: cold
    recycle_days: 7

  access_log:
    storage: { connection: logs, table: logs.access_log }
    partition_by: id
    strategy: sequential
    interval: 7 days                     # the period one partition should cover
    premake: 2                           # empty partitions kept ahead
    retention: 60 days

  devices:
    storage: { connection: disk, path: devices, layout: delta }
    partition_by: event_time
    retention: 30 days
    archive_to: cold
    late_data: { consumers: [devices_loader] }

  orders:                                # full form (seed 003)
    archive_before: 2 months
    archive_to: cold
    lifecycles:
      raw:
        order: 1
        storages:
          landing: { connection: lake, path: landing/orders, layout: hive,
                     from: 2019-01-01, until: 2020-02-21 }
      bronze:
        order: 2
        storages:
          pg: { connection: app, table: bronze.orders, from: 2019-01-01 }
)";
}

}  // namespace tidemark::config
