#include "tidemark/backend/postgres/pg_steps.h"

namespace tidemark::backend::postgres {

util::Status CopyToArchive(const StepEnv& env) {
  (void)env;
  return util::StepError("not yet");
}
util::Status VerifyArchive(const StepEnv& env) {
  (void)env;
  return util::StepError("not yet");
}
util::Status RestoreFromArchive(const StepEnv& env) {
  (void)env;
  return util::StepError("not yet");
}

}  // namespace tidemark::backend::postgres
