// Internal: the thread pool behind jute's own loops and the blocks of its float32 GEMMs (float64
// GEMMs thread inside OpenBLAS).
//
// `parallel_for(n, min_chunk, f)` calls `f(begin, end)` on contiguous chunks of [0, n): chunk c
// of k is [n·c/k, n·(c+1)/k), the calling thread runs chunk 0 and the pool's threads the others,
// and the call returns when all are done. The partition depends only on n, min_chunk and the
// thread count, never on timing, and callers write disjoint outputs whose values do not depend
// on the partition, so results are the same bits for any thread count.
//
// The thread count follows OpenBLAS's (`openblas_get_num_threads()`: OPENBLAS_NUM_THREADS=1 or
// `openblas_set_num_threads(1)` make jute single-threaded too); with another BLAS, the number of
// hardware threads. Work of fewer than 2·min_chunk items, calls made from inside a chunk and
// calls made while another thread's loop occupies the pool run inline on the calling thread.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace jute::detail {

/// The number of threads jute's loops use (at least 1).
int num_threads();

/// Elements of elementwise work per chunk at least: a loop over fewer than twice this many runs
/// inline. Waking a sleeping worker costs ~10-50 µs; 256K floats take ~20-40 µs to stream, so
/// smaller loops gain nothing (an MLP's (128, 512) activations stay on the calling thread).
constexpr std::int64_t kParallelGrain = std::int64_t{1} << 17;

using ChunkFn = void (*)(void* context, std::int64_t begin, std::int64_t end);

/// The non-template part of `parallel_for`.
void parallel_for_impl(std::int64_t n, std::int64_t min_chunk, ChunkFn fn, void* context);

/// Calls `f(begin, end)` for contiguous chunks of [0, n) of at least `min_chunk` items each,
/// in parallel (see the header comment). If chunks throw, the lowest chunk's exception is
/// rethrown after all chunks have finished.
template <class F>
void parallel_for(std::int64_t n, std::int64_t min_chunk, F&& f) {
  if (n < 2 * min_chunk) {
    if (n > 0) f(std::int64_t{0}, n);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  parallel_for_impl(
      n, min_chunk,
      [](void* context, std::int64_t begin, std::int64_t end) {
        (*static_cast<Fn*>(context))(begin, end);
      },
      const_cast<void*>(static_cast<const void*>(&f)));
}

/// `min_chunk` for items of `cost` elements each: enough items to make kParallelGrain elements.
constexpr std::int64_t grain_for(std::int64_t cost) {
  return cost <= 0 ? kParallelGrain : (kParallelGrain + cost - 1) / cost;
}

}  // namespace jute::detail
