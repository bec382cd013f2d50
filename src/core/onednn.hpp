// Internal: calling oneDNN with jute's thread count.
//
// Debian's oneDNN threads with OpenMP, whose default team is every hardware thread. Every oneDNN
// call runs inside a `OneDnnThreads` scope, which sets the calling thread's OpenMP team size and
// puts the previous value back when it ends, leaving the caller's own OpenMP code as it was.
// jute's GEMMs and convolutions use `OneDnnThreads(1)` and spread fixed parts of the work over
// jute's own pool instead (src/ops/blas.cpp, src/ops/onednn_conv.cpp): oneDNN's own threading
// changes the bits with the thread count and leaves libgomp workers spinning.
#pragma once

namespace jute::detail {

class OneDnnThreads {
 public:
  /// A team of jute's thread count (`num_threads()`, parallel.hpp).
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
