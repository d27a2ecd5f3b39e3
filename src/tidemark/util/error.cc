#include "tidemark/util/error.h"

namespace tidemark::util {

int ExitCodeFor(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kStep: return 1;
    case ErrorCategory::kConfig: return 2;
    case ErrorCategory::kConnect: return 3;
    case ErrorCategory::kConflict: return 4;
    case ErrorCategory::kVerify: return 5;
  }
  return 1;
}

const char* CategoryName(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::kStep: return "step";
    case ErrorCategory::kConfig: return "config";
    case ErrorCategory::kConnect: return "connect";
    case ErrorCategory::kConflict: return "conflict";
    case ErrorCategory::kVerify: return "verify";
  }
  return "step";
}

}  // namespace tidemark::util
