// Fuzz target: every S3 XML reader on arbitrary bytes. None may crash, hang or read out
// of bounds; what they accept must also survive being read by the others.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tidemark/store/s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace tidemark::store;
  (void)ParseXml(body);
  (void)ParseS3Error(body);
  (void)ParseListObjectsV2(body);
  (void)ParseInitiateMultipartUpload(body);
  (void)ParseCompleteOrCopy(body);
  (void)ParseDeleteResult(body);
  return 0;
}
