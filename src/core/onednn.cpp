#include "core/onednn.hpp"

#include <omp.h>

#include "core/parallel.hpp"

namespace jute::detail {

// omp_set_num_threads changes only the calling thread's setting (its nthreads ICV), so the
// scope is safe to use from any thread.
OneDnnThreads::OneDnnThreads() : OneDnnThreads(num_threads()) {}

OneDnnThreads::OneDnnThreads(int threads) : previous_(omp_get_max_threads()) {
  const int wanted = threads < 1 ? 1 : threads;
  if (wanted != previous_) omp_set_num_threads(wanted);
}

OneDnnThreads::~OneDnnThreads() {
  if (omp_get_max_threads() != previous_) omp_set_num_threads(previous_);
}

}  // namespace jute::detail
