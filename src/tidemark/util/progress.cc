#include "tidemark/util/progress.h"

namespace tidemark::util {

Progress& NoProgress() {
  static Progress nothing;
  return nothing;
}

}  // namespace tidemark::util
