// The buffer cache. Written here rather than taken from a library because it is small and has
// to know about jute's size classes and statistics; glibc's malloc returns large blocks to the
// system (mmap/munmap), which costs a page fault per 4 KiB on every reuse.
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/array_impl.hpp"
#include "jute/memory.hpp"

namespace jute {
namespace {

constexpr std::size_t kAlign = 64;

/// Rounds a request up to its size class: multiples of 64 bytes up to 4 KiB, then four classes
/// per power of two (at most 25% slack), so buffers of nearby sizes share a class.
std::size_t size_class(std::size_t n) {
  if (n <= 4096) return n == 0 ? kAlign : (n + kAlign - 1) / kAlign * kAlign;
  std::size_t p = 4096;
  while (p * 2 < n) p *= 2;  // p < n <= 2p
  std::size_t step = p / 4;
  return (n + step - 1) / step * step;
}

struct Cache {
  std::mutex mu;
  std::unordered_map<std::size_t, std::vector<void*>> free_lists;
  memory::CacheStats stats;
  std::size_t limit = std::size_t{2} << 30;

  void* take(std::size_t cls) {
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = free_lists.find(cls);
      if (it != free_lists.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        stats.cached_bytes -= cls;
        stats.live_bytes += cls;
        ++stats.hits;
        return p;
      }
      ++stats.misses;
      stats.live_bytes += cls;
    }
    void* p = std::aligned_alloc(kAlign, cls);
    if (!p) {
      std::lock_guard<std::mutex> lock(mu);
      stats.live_bytes -= cls;
      throw std::bad_alloc();
    }
    return p;
  }

  void give(void* p, std::size_t cls) {
    {
      std::lock_guard<std::mutex> lock(mu);
      stats.live_bytes -= cls;
      if (stats.cached_bytes + cls <= limit) {
        free_lists[cls].push_back(p);
        stats.cached_bytes += cls;
        return;
      }
    }
    std::free(p);
  }

  void clear() {
    std::unordered_map<std::size_t, std::vector<void*>> lists;
    {
      std::lock_guard<std::mutex> lock(mu);
      lists.swap(free_lists);
      stats.cached_bytes = 0;
    }
    for (auto& [cls, ptrs] : lists)
      for (void* p : ptrs) std::free(p);
  }

  ~Cache() { clear(); }
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: buffers may be freed during static teardown
  return *c;
}

}  // namespace

namespace detail {
Buffer::Buffer(std::size_t nbytes) : data_(cache().take(size_class(nbytes))), nbytes_(nbytes) {}
Buffer::~Buffer() { cache().give(data_, size_class(nbytes_)); }
}  // namespace detail

namespace memory {
CacheStats cache_stats() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().stats;
}
void clear_cache() { cache().clear(); }
void set_cache_limit(std::size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(cache().mu);
    cache().limit = bytes;
  }
  if (cache_stats().cached_bytes > bytes) clear_cache();
}
}  // namespace memory

}  // namespace jute
