// The persistent pool behind `detail::parallel_for` (see core/parallel.hpp).
//
// One loop at a time: the caller that takes `busy` publishes the loop (a generation number, the
// chunk count and the function), wakes the workers, runs chunk 0 itself and waits until the
// other chunks are reported done. Worker i runs chunk i of every loop with more than i chunks.
// Workers sleep on a condition variable between loops: waking one costs ~10-50 µs (hence the
// 64K-element grain), but an idle pool takes no CPU from OpenBLAS's threads, which run every GEMM
// in between. (Polling for the next loop for 200 µs before sleeping was tried: on the 2-core
// machine it made convolutions, whose im2col loops and GEMMs alternate, up to 2x slower.)
// Workers are started on first need, up to the thread count; after fork() the child has none,
// and its loops run inline.
#include "core/parallel.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#ifdef JUTE_HAVE_OPENBLAS  // (set by CMake when the BLAS found has this function)
extern "C" int openblas_get_num_threads(void);
#endif

namespace jute::detail {

namespace {

constexpr int kMaxThreads = 64;

class Pool {
 public:
  Pool() {
    pthread_atfork(nullptr, nullptr, [] { forked_child() = true; });
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  /// Runs the loop on `chunks` threads, or returns false (the caller runs it inline) when the
  /// pool is busy with another thread's loop or this is a forked child. An exception thrown by a
  /// chunk is rethrown here once every chunk has finished (the lowest chunk's, if several).
  bool run(int chunks, std::int64_t n, ChunkFn fn, void* context) {
    if (forked_child() || busy_.exchange(true, std::memory_order_acquire)) return false;
    try {
      while (static_cast<int>(workers_.size()) < chunks - 1) {
        const int index = static_cast<int>(workers_.size()) + 1;
        // Only the busy thread publishes loops, so generation_ is stable here.
        workers_.emplace_back([this, index, seen = generation_] { work(index, seen); });
      }
    } catch (...) {  // no more threads to be had: use those there are
      chunks = static_cast<int>(workers_.size()) + 1;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      chunks_ = chunks;
      n_ = n;
      fn_ = fn;
      context_ = context;
      pending_ = chunks - 1;
      error_ = nullptr;
      error_chunk_ = chunks;
      ++generation_;
    }
    wake_.notify_all();
    std::exception_ptr error;
    try {
      fn(context, 0, n / chunks);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait(lock, [this] { return pending_ == 0; });
      if (!error) error = error_;
      error_ = nullptr;
    }
    busy_.store(false, std::memory_order_release);
    if (error) std::rethrow_exception(error);
    return true;
  }

 private:
  static bool& forked_child() {
    static bool forked = false;
    return forked;
  }

  /// Worker `index`'s life: run chunk `index` of each loop published after generation `seen`.
  void work(int index, std::uint64_t seen) {
    for (;;) {
      int chunks = 0;
      std::int64_t n = 0;
      ChunkFn fn = nullptr;
      void* context = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (index >= chunks_) continue;
        chunks = chunks_;
        n = n_;
        fn = fn_;
        context = context_;
      }
      std::exception_ptr error;
      try {
        fn(context, n * index / chunks, n * (index + 1) / chunks);
      } catch (...) {
        error = std::current_exception();
      }
      bool last = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (error && index < error_chunk_) {
          error_ = error;
          error_chunk_ = index;
        }
        last = --pending_ == 0;
      }
      if (last) done_.notify_one();
    }
  }

  std::atomic<bool> busy_{false};  // set by the thread whose loop runs (not a mutex: a chunk that
                                   // calls parallel_for again must see it taken, not deadlock)
  std::mutex mu_;                  // guards everything below
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  std::uint64_t generation_ = 0;
  int chunks_ = 0;
  std::int64_t n_ = 0;
  ChunkFn fn_ = nullptr;
  void* context_ = nullptr;
  int pending_ = 0;
  std::exception_ptr error_;  // the lowest failed worker chunk's exception, and its index
  int error_chunk_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

int num_threads() {
#ifdef JUTE_HAVE_OPENBLAS
  return std::clamp(openblas_get_num_threads(), 1, kMaxThreads);
#else
  static const int n =
      std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, kMaxThreads);
  return n;
#endif
}

void parallel_for_impl(std::int64_t n, std::int64_t min_chunk, ChunkFn fn, void* context) {
  const std::int64_t most = n / std::max<std::int64_t>(min_chunk, 1);
  const int chunks = static_cast<int>(std::min<std::int64_t>(num_threads(), most));
  if (chunks <= 1 || !pool().run(chunks, n, fn, context)) fn(context, 0, n);
}

}  // namespace jute::detail
