// Fuzz target: the Thrift compact protocol reader walking arbitrary bytes as a struct
// (as the Parquet reader skips fields it does not know) and as each kind of value.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tidemark/backend/lake/thrift_compact.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tidemark::backend::lake::ThriftReader;
  using tidemark::backend::lake::ThriftType;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (uint8_t type = 1; type <= 12; ++type) {
    ThriftReader reader(bytes, "input");
    // Values one after another while each one reads something (a bool field's value
    // takes no bytes).
    for (size_t before = reader.position();
         reader.remaining() > 0 && reader.Skip(static_cast<ThriftType>(type)) &&
         reader.position() > before;
         before = reader.position()) {
    }
  }
  return 0;
}
