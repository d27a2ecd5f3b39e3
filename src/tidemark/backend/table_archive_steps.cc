#include "tidemark/backend/table_archive_steps.h"

#include "tidemark/archive/table_archive.h"
#include "tidemark/util/time.h"

namespace tidemark::backend {

util::Result<ArchiveAt> OpenStepArchive(const core::Step& step, const config::Config* config) {
  const std::string url = step.Param("archive");
  if (url.empty()) return util::StepError("the step names no archive");
  ArchiveAt at;
  TM_TRY_ASSIGN(at.store, store::OpenStore(url, config));
  at.location = archive::TreeLocation{at.store.get(), ""};
  return at;
}

util::Status CheckArchiveWritable(const core::Step& step, const config::Config& config) {
  TM_TRY_ASSIGN(auto archive, store::OpenStore(step.Param("archive"), &config));
  auto probed = archive->ProbeWritable("");
  if (!probed) {
    return util::StepError("the archive " + step.Param("archive") +
                           " cannot be written: " + probed.error().message());
  }
  return {};
}

archive::Manifest TableArchiveHeader(const core::Step& step, const std::string& run_id) {
  archive::Manifest header;
  header.tool_version = std::string("tidemark ") + TIDEMARK_VERSION;
  header.dataset = step.Param("dataset");
  header.lifecycle = step.lifecycle;
  header.storage = step.storage;
  header.partition = step.partition;
  header.source = step.Param("location");
  header.range_start = step.Param("range_start");
  header.range_end = step.Param("range_end");
  header.run_id = run_id;
  header.created_at = util::FormatInstant(util::Now());
  return header;
}

util::Result<archive::Manifest> ArchiveBeforeDrop(const ArchiveAt& at, const core::Step& step,
                                                  const std::string& bin) {
  auto manifest = archive::ReadTableManifest(at.location);
  if (!manifest || !*manifest) {
    return util::Fail(
        util::ErrorCategory::kVerify,
        "refusing to drop " + bin + ": its archive " + step.Param("archive") +
            (manifest ? " is missing" : " is unreadable: " + manifest.error().message()));
  }
  const archive::Manifest& m = **manifest;
  for (const archive::ManifestFile& file : m.files) {
    TM_TRY_ASSIGN(auto info, at.store->Stat(file.path));
    if (!info || info->size != file.size) {
      return util::Fail(util::ErrorCategory::kVerify, "refusing to drop " + bin + ": " + file.path +
                                                          " of its archive " +
                                                          (info ? "changed size" : "is missing"));
    }
  }
  if (!m.table) {
    return util::Fail(util::ErrorCategory::kVerify,
                      "refusing to drop " + bin + ": its archive is not a table archive");
  }
  return m;
}

}  // namespace tidemark::backend
