// jute/memory.hpp — the buffer cache behind every Array.
//
// Freed buffers are kept and handed out again for requests of the same size class, so a training
// loop that allocates the same shapes every step stops page-faulting after the first step. The
// cache never changes a result; it only trades memory for speed. Its size is bounded
// (`set_cache_limit`), and `clear_cache` returns everything to the system.
#pragma once

#include <cstddef>

namespace jute::memory {

struct CacheStats {
  std::size_t cached_bytes = 0;  // held in the cache, ready for reuse
  std::size_t live_bytes = 0;    // handed out to live buffers
  std::size_t hits = 0;          // requests served from the cache
  std::size_t misses = 0;        // requests that went to the system allocator
};

CacheStats cache_stats();
/// Frees every cached (unused) buffer.
void clear_cache();
/// Upper bound on cached bytes (default 2 GiB); buffers freed beyond it go back to the system.
void set_cache_limit(std::size_t bytes);

}  // namespace jute::memory
