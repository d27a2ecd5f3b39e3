// The user's contract: tidemark.yaml read into plain structs. Every member has a
// default and a comment; the keys, their types and their documentation live in one
// table (keys.h) that the parser, the suggestions for misspelt keys and
// docs/configuration.md all use.
//
// LoadConfig reads, expands ${VAR}, parses and validates; it reports every problem at
// once, each as "file:line:col: what is wrong; what to do", in one config Error.
//
// Thread-safety: a Config is an immutable value once loaded.

#ifndef TIDEMARK_CONFIG_CONFIG_H_
#define TIDEMARK_CONFIG_CONFIG_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tidemark/core/span.h"
#include "tidemark/util/error.h"

namespace tidemark::config {

// Where a value was written, for messages.
struct Position {
  std::string file;  // as given on the command line
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based

  // "tidemark.yaml:12:5"
  std::string ToString() const;
};

enum class Layout { kNone, kHive, kDelta };
enum class Strategy { kTime, kId, kSequential };
enum class OnExpire { kArchive, kDrop, kDetach, kKeep };

const char* LayoutName(Layout layout);
const char* StrategyName(Strategy strategy);
const char* OnExpireName(OnExpire on_expire);

struct Connection {
  std::string name;             // the key under `connections`
  std::string url;              // the scheme picks the backend: file, s3, postgres, mariadb, mysql
  std::string password_env;     // environment variable holding the password
  std::string password_file;    // file holding the password (first line)
  std::string access_key_env;   // S3: environment variable holding the access key id
  std::string access_key_file;  // S3: file holding the access key id (first line)
  std::string secret_key_env;   // S3: environment variable holding the secret key
  std::string secret_key_file;  // S3: file holding the secret key (first line)
  std::string session_token_env;  // S3: environment variable holding a session token
  std::string profile;            // S3: a profile of the AWS shared config/credentials files
  std::string region;             // S3: the region, when the URL's ?region= does not give it
  std::string endpoint;           // S3: an S3-compatible endpoint URL instead of AWS
  std::string addressing;         // S3: "path", "virtual", or "" (virtual on AWS, else path)
  std::string ca_file;            // S3: PEM file of CAs for the endpoint; "" for the system's
  int part_size_mib = 0;            // S3: multipart part size; 0 for the default
  int multipart_threshold_mib = 0;  // S3: larger objects are multipart uploads; 0 for the default
  int parts_in_flight = 0;          // S3: parts of one upload sent at once; 0 for the default
  int lock_timeout_ms = 2000;     // databases: wait for locks per DDL attempt
  int ddl_attempts = 6;           // databases: attempts of a DDL that timed out on locks
  Position position;
};

struct Archive {
  std::string name;        // the key under `archives`
  std::string connection;  // a key of `connections`
  // Location template below the connection's root; may use {dataset}, {lifecycle},
  // {storage} and {partition}. Default "{dataset}/{lifecycle}/{storage}/{partition}/".
  std::string path = "{dataset}/{lifecycle}/{storage}/{partition}/";
  Position position;
};

struct Storage {
  std::string name;               // the key under `storages`; "main" in the short form
  std::string connection;         // a key of `connections`
  std::string table;              // databases: [schema.]table
  std::string path;               // lakes: the dataset root below the connection's root
  Layout layout = Layout::kNone;  // lakes: hive or delta (hive when a lake omits it)
  std::optional<std::chrono::year_month_day> from;   // first day this storage holds
  std::optional<std::chrono::year_month_day> until;  // first day it no longer holds
  Position position;
};

struct Lifecycle {
  std::string name;  // the key under `lifecycles`; "main" in the short form
  int order = 1;     // lower orders are handled first; equal orders are independent
  std::vector<Storage> storages;
  Position position;
};

struct LateData {
  std::vector<std::string> consumers;  // downstream jobs that process partitions
};

struct Dataset {
  std::string name;                              // the key under `datasets`
  std::vector<std::string> partition_by;         // the partition key column(s) or directory key(s)
  core::Span interval{1, core::SpanUnit::kDay};  // width of one partition
  bool interval_given = false;                   // whether `interval` was written
  int premake = 0;                               // partitions kept ahead of now
  std::optional<core::Span> retention;           // `retention` or `archive_before`: age at which
                                                 // a partition expires, by partition value
  OnExpire on_expire = OnExpire::kDrop;          // default: archive when archive_to is set
  std::string archive_to;                        // a key of `archives`
  int recycle_days = 7;                          // days a removed partition stays restorable
  Strategy strategy = Strategy::kTime;           // time, id, or sequential (predicted fill rate)
  LateData late_data;
  std::optional<core::Span> tablespace_after;  // age after which partitions move to
                                               // `tablespace` (databases that have them)
  std::string tablespace;                      // the tablespace old partitions move to
  std::string partition_name = "{table}_p{start}";  // template for created partitions
  std::string dated_by;  // strategies id and sequential: the column that dates the rows
  std::vector<Lifecycle> lifecycles;           // the short form gives one, "main"
  bool short_form = false;                     // written with `storage:` rather than
                                               // `lifecycles:`; messages then omit "main"
  Position position;
};

struct Config {
  std::string path;      // the file as given
  std::string base_dir;  // absolute directory of the file; relative paths resolve here
  std::string sha256;    // of the file's bytes, recorded in run files
  std::string state = "sqlite:.tidemark/state.db";  // state store URL
  std::string runs_dir = ".tidemark/runs";          // where run files are written
  std::string metrics_dir;                          // Prometheus textfiles; "" for none
  std::string timezone = "UTC";                     // partition boundaries are civil times here
  std::vector<Connection> connections;
  std::vector<Archive> archives;
  std::vector<Dataset> datasets;

  const Connection* FindConnection(const std::string& name) const;
  const Archive* FindArchive(const std::string& name) const;
  const Dataset* FindDataset(const std::string& name) const;
  // A path from the file made absolute against base_dir.
  std::string ResolvePath(const std::string& path) const;
};

// Reads and validates the file at `path`. Errors are of category kConfig.
util::Result<Config> LoadConfig(const std::string& path);

// Parses and validates `text` as if read from `path` (which is only used for messages
// and for resolving relative paths).
util::Result<Config> ParseConfig(const std::string& text, const std::string& path);

}  // namespace tidemark::config

#endif  // TIDEMARK_CONFIG_CONFIG_H_
