// Internal: calling oneDNN with jute's thread count.
//
// Debian's oneDNN threads with OpenMP, whose default team is every hardware thread. jute's
// kernels follow one thread count (`num_threads()`, parallel.hpp), so every oneDNN call runs
// inside a `OneDnnThreads` scope: it sets the calling thread's OpenMP team size to jute's count
// and puts the previous value back when it ends, leaving the caller's own OpenMP code as it was.
#pragma once

namespace jute::detail {

class OneDnnThreads {
 public:
  OneDnnThreads();
  /// A team of `threads` (at least 1) instead of jute's count.
  explicit OneDnnThreads(int threads);
  ~OneDnnThreads();
  OneDnnThreads(const OneDnnThreads&) = delete;
  OneDnnThreads& operator=(const OneDnnThreads&) = delete;

 private:
  int previous_;
};

}  // namespace jute::detail
