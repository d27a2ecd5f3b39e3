#include "tidemark/store/http_client.h"

namespace tidemark::store {

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

}  // namespace tidemark::store
