// Time zones read from the system's TZif database (/usr/share/zoneinfo, or $TZDIR),
// including the POSIX rule in the file's footer for instants past its last transition.
// Partition boundaries are civil times in the configured zone; this class turns them
// into instants and back, correctly across DST changes.
//
// Thread-safety: immutable after Load; safe to share between threads.

#ifndef TIDEMARK_UTIL_TIMEZONE_H_
#define TIDEMARK_UTIL_TIMEZONE_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "tidemark/util/error.h"
#include "tidemark/util/time.h"

namespace tidemark::util {

class TimeZone {
 public:
  // Loads a zone by IANA name ("UTC", "Europe/Berlin"). "UTC" works without tzdata.
  // Fails with a config error naming the zone when it is unknown or unreadable.
  static Result<TimeZone> Load(std::string_view name);
  static TimeZone Utc();

  const std::string& name() const;

  // The UTC offset in force at instant t.
  std::chrono::seconds OffsetAt(Instant t) const;

  LocalTime ToLocal(Instant t) const;

  // The instant of a civil time. A civil time skipped by a forward DST change maps to
  // the instant the change happened plus the amount past it (02:30 in a 02:00->03:00
  // gap gives 03:30 local); a repeated civil time maps to its first occurrence.
  Instant FromLocal(LocalTime t) const;

 private:
  struct Data;
  explicit TimeZone(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
  std::shared_ptr<const Data> data_;
};

}  // namespace tidemark::util

#endif  // TIDEMARK_UTIL_TIMEZONE_H_
