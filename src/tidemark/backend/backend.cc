#include "tidemark/backend/backend.h"

#include "tidemark/backend/lake/lake_backend.h"
#include "tidemark/backend/mariadb/md_backend.h"
#include "tidemark/backend/postgres/pg_backend.h"
#include "tidemark/util/strings.h"

namespace tidemark::backend {

namespace {

struct Registration {
  const char* scheme;  // URL prefix up to and including ':'
  const char* system;
  util::Result<std::unique_ptr<Backend>> (*open)(const config::Config&, const config::Connection&);
};

// The registry: one row per URL scheme. Database backends join it in their own issues.
constexpr Registration kBackends[] = {
    {"file:", "lake", &lake::OpenLakeBackend},
    {"s3:", "lake", &lake::OpenLakeBackend},
    {"postgres:", "postgres", &postgres::OpenPostgresBackend},
    {"postgresql:", "postgres", &postgres::OpenPostgresBackend},
    {"mariadb:", "mariadb", &mariadb::OpenMariaDbBackend},
    {"mysql:", "mariadb", &mariadb::OpenMariaDbBackend},
};

const Registration* Find(const std::string& url) {
  for (const Registration& r : kBackends) {
    if (util::StartsWith(url, r.scheme)) return &r;
  }
  return nullptr;
}

}  // namespace

util::Result<std::vector<util::Result<core::ObservedStorage>>> Backend::ObserveMany(
    const std::vector<StorageRef>& refs, const util::TimeZone& zone) {
  std::vector<util::Result<core::ObservedStorage>> out;
  out.reserve(refs.size());
  for (const StorageRef& ref : refs) {
    out.push_back(Observe(*ref.dataset, *ref.lifecycle, *ref.storage, zone));
  }
  return out;
}

util::Result<core::ObservedStorage> BatchBackend::Observe(const config::Dataset& dataset,
                                                         const config::Lifecycle& lifecycle,
                                                         const config::Storage& storage,
                                                         const util::TimeZone& zone) {
  TM_TRY_ASSIGN(auto all, ObserveMany({{&dataset, &lifecycle, &storage}}, zone));
  return std::move(all.front());
}

std::string SystemOf(const std::string& url) {
  const Registration* r = Find(url);
  return r == nullptr ? "" : r->system;
}

util::Result<std::unique_ptr<Backend>> OpenBackend(const config::Config& config,
                                                   const config::Connection& connection) {
  const Registration* r = Find(connection.url);
  if (r == nullptr) {
    return util::ConfigError("connection " + connection.name + ": no backend for \"" +
                             connection.url + "\"");
  }
  if (r->open == nullptr) {
    return util::ConfigError("connection " + connection.name + ": the " + r->system +
                             " backend is not part of this build yet");
  }
  return r->open(config, connection);
}

}  // namespace tidemark::backend
