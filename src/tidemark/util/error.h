// Errors that tidemark expects and reports: bad input, an unreachable system, a step
// that failed. Every fallible function returns Result<T>; exceptions are kept for
// programming errors and caught once in main.
//
// An Error carries a category, which decides the process exit code, a message that
// says what failed, on which object and what to do, and whether retrying may help.
//
// Thread-safety: values; safe to copy between threads.

#ifndef TIDEMARK_UTIL_ERROR_H_
#define TIDEMARK_UTIL_ERROR_H_

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace tidemark::util {

enum class ErrorCategory {
  kStep,      // an action failed; the run can be resumed (exit 1)
  kConfig,    // bad configuration or usage (exit 2)
  kConnect,   // a system could not be reached (exit 3)
  kConflict,  // another run holds the lock (exit 4)
  kVerify,    // a verification found a difference (exit 5)
};

class [[nodiscard]] Error {
 public:
  Error(ErrorCategory category, std::string message, bool retryable = false)
      : category_(category), message_(std::move(message)), retryable_(retryable) {}

  ErrorCategory category() const { return category_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return retryable_; }

  // Returns a copy whose message is prefixed with `context: `.
  Error WithContext(const std::string& context) const {
    return Error(category_, context + ": " + message_, retryable_);
  }

 private:
  ErrorCategory category_;
  std::string message_;
  bool retryable_;
};

template <typename T>
using Result = tl::expected<T, Error>;

// Result of a function that returns nothing but may fail.
using Status = tl::expected<void, Error>;

// The process exit code for an error of this category (see README, "Exit codes").
int ExitCodeFor(ErrorCategory category);
const char* CategoryName(ErrorCategory category);

inline tl::unexpected<Error> Fail(ErrorCategory category, std::string message,
                                  bool retryable = false) {
  return tl::unexpected<Error>(Error(category, std::move(message), retryable));
}
inline tl::unexpected<Error> ConfigError(std::string message) {
  return Fail(ErrorCategory::kConfig, std::move(message));
}
inline tl::unexpected<Error> StepError(std::string message, bool retryable = false) {
  return Fail(ErrorCategory::kStep, std::move(message), retryable);
}

}  // namespace tidemark::util

#define TM_CONCAT_INNER(a, b) a##b
#define TM_CONCAT(a, b) TM_CONCAT_INNER(a, b)

// Returns the error of `expr` from the enclosing function, which must return a Result.
#define TM_TRY(expr)                                                  \
  do {                                                                \
    auto&& tm_try_result = (expr);                                    \
    if (!tm_try_result) return tl::unexpected(tm_try_result.error()); \
  } while (0)

// Declares `lhs` from the value of `expr`, or returns its error.
#define TM_TRY_ASSIGN(lhs, expr) TM_TRY_ASSIGN_IMPL(TM_CONCAT(tm_try_, __LINE__), lhs, expr)
#define TM_TRY_ASSIGN_IMPL(tmp, lhs, expr)                 \
  auto tmp = (expr);                                       \
  if (!tmp) return tl::unexpected(std::move(tmp).error()); \
  lhs = std::move(*tmp)

#endif  // TIDEMARK_UTIL_ERROR_H_
