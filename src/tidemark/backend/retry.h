// Retrying work that waits for locks: DDL on a busy table gives up its lock wait after
// a short time, sleeps with backoff and tries again, instead of queueing every other
// session of the table behind it for long. Shared by the database backends.
//
// Thread-safety: WithRetries may run on any thread; it only sleeps between attempts.

#ifndef TIDEMARK_BACKEND_RETRY_H_
#define TIDEMARK_BACKEND_RETRY_H_

#include <functional>
#include <string>

#include "tidemark/util/error.h"

namespace tidemark::backend {

struct RetryPolicy {
  int wait_ms = 2000;    // each attempt waits this long for its locks (for the message)
  int attempts = 6;      // then gives up (the step fails, resumably)
  int backoff_ms = 250;  // doubled after each failed attempt, with jitter, up to 8 s
};

// Calls `attempt` until it succeeds or fails with an error that is not retryable, at
// most `policy.attempts` times. When the attempts are used up, the error is a kStep
// error that is no longer retryable, naming `what` and the last error.
util::Status WithRetries(const RetryPolicy& policy, const std::string& what,
                         const std::function<util::Status()>& attempt);

}  // namespace tidemark::backend

#endif  // TIDEMARK_BACKEND_RETRY_H_
