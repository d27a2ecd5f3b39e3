#include "tidemark/util/failpoint.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

namespace tidemark::util {

namespace {

struct Point {
  std::string name;
  long remaining = 1;  // hits left before it triggers
  bool hang = false;   // sleep until killed instead of exiting
};

std::mutex points_mutex;
std::vector<Point> points;
std::atomic<bool> loaded{false};
std::atomic<bool> any{false};

void LoadLocked() {
  points.clear();
  const char* spec = std::getenv("TIDEMARK_FAILPOINT");
  std::string text = spec == nullptr ? "" : spec;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    Point point;
    size_t colon = item.find(':');
    point.name = item.substr(0, colon);
    if (colon != std::string::npos) {
      point.remaining = std::atol(item.c_str() + colon + 1);
      point.hang = item.find(":hang", colon) != std::string::npos;
    }
    if (point.remaining < 1) point.remaining = 1;
    points.push_back(point);
  }
  any.store(!points.empty());
  loaded.store(true);
}

}  // namespace

void ReloadFailpoints() {
  std::lock_guard<std::mutex> lock(points_mutex);
  LoadLocked();
}

void Failpoint(std::string_view name) {
  if (!loaded.load(std::memory_order_acquire)) {
    // Two threads may get here at once: the second must not load again, which would
    // reset the counts the first has begun.
    std::lock_guard<std::mutex> lock(points_mutex);
    if (!loaded.load(std::memory_order_relaxed)) LoadLocked();
  }
  if (!any.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lock(points_mutex);
  for (Point& point : points) {
    if (point.name != name) continue;
    if (--point.remaining > 0) continue;
    std::fprintf(stderr, "tidemark: failpoint %s reached; %s\n", point.name.c_str(),
                 point.hang ? "hanging until killed" : "exiting");
    std::fflush(stderr);
    while (point.hang) pause();
    _exit(kFailpointExitCode);
  }
}

}  // namespace tidemark::util
