#include "tidemark/backend/retry.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

namespace tidemark::backend {

util::Status WithRetries(const RetryPolicy& policy, const std::string& what,
                         const std::function<util::Status()>& attempt) {
  std::mt19937 random(std::random_device{}());
  int backoff = policy.backoff_ms;
  for (int i = 1;; ++i) {
    auto status = attempt();
    if (status || !status.error().retryable()) return status;
    if (i >= policy.attempts) {
      // Not retryable any more: the attempts were made here.
      return util::StepError(
          what + ": gave up after " + std::to_string(i) + " attempts, each waiting up to " +
          std::to_string(policy.wait_ms) +
          " ms for its locks (a long transaction holds them?): " + status.error().message());
    }
    const int jitter = std::uniform_int_distribution<int>(0, backoff)(random);
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff + jitter));
    backoff = std::min(backoff * 2, 8000);
  }
}

}  // namespace tidemark::backend
