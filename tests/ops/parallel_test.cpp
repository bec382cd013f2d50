// detail::parallel_for and the threaded kernels: every element covered once, exceptions carried
// to the caller, and the same bits whatever the thread count (OpenBLAS's, which jute follows).
#include <doctest/doctest.h>

#include <cblas.h>
#include <omp.h>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/onednn.hpp"
#include "core/parallel.hpp"
#include "jute/autodiff.hpp"
#include "jute/ops.hpp"

using namespace jute;

namespace {

/// Runs f with OpenBLAS (and so jute) set to `threads` threads, restoring the count after.
template <class F>
auto with_threads(int threads, F&& f) {
  const int before = openblas_get_num_threads();
  openblas_set_num_threads(threads);
  struct Restore {
    int n;
    ~Restore() { openblas_set_num_threads(n); }
  } restore{before};
  return f();
}

/// Deterministic mixed-sign float32 values of the given shape.
Array values(const Shape& shape, std::uint32_t seed) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& e : v) {
    seed = seed * 1664525u + 1013904223u;
    e = static_cast<float>(seed >> 8) / static_cast<float>(1u << 23) - 1.0f;
  }
  return Array::from_vector(v, shape);
}

/// The results of jute's own threaded loops on inputs large enough to be split.
std::vector<Array> loop_results() {
  const Array big = values({128, 28, 28, 8}, 1);  // 802,816 elements
  const Array row = values({1 << 20}, 2);
  const Array bias = values({8}, 3);
  const Array w = values({3, 3, 8, 16}, 4);
  std::vector<Array> r;
  r.push_back(sum(row));                       // one long row, split in subtrees
  r.push_back(sum(big, {0, 1, 2}));            // few columns, split in subtrees
  r.push_back(sum(values({64, 4096}, 5), 0));  // many column tiles
  r.push_back(sum(big, 3));                    // many short rows
  r.push_back(mean(big, {0, 1, 2}, true));
  r.push_back(max(big, {0, 1, 2}));
  r.push_back(big * 2.0f + bias);  // broadcast rows
  r.push_back(exp(row));           // libmvec blocks
  r.push_back(abs(row));           // the unary loop
  r.push_back(reduce_window(big, ReduceOp::Sum, {1, 2, 2, 1}, {1, 2, 2, 1}));
  r.push_back(reduce_window(big, ReduceOp::Max, {1, 3, 3, 1}, {1, 2, 2, 1}, Padding::same()));
  auto [y, pullback] = vjp(
      [&](const Array& x) {
        return reduce_window(x, ReduceOp::Max, {1, 2, 2, 1}, {1, 2, 2, 1});
      },
      big);
  r.push_back(pullback(values(y.shape(), 6)));
  r.push_back(grad([&](const Array& x) {
    return sum(
        square(reduce_window(x, ReduceOp::Sum, {1, 3, 3, 1}, {1, 1, 1, 1}, Padding::same())));
  })(big));
  return r;
}

/// The results of the convolution kernels (im2col and col2im on jute's threads, GEMMs on
/// oneDNN's).
std::vector<Array> conv_results() {
  const Array big = values({128, 28, 28, 8}, 1);
  const Array w = values({3, 3, 8, 16}, 4);
  std::vector<Array> r;
  auto [y, pullback] = vjp(
      [&](const Array& x) {
        return conv_general_dilated(x, w, {1, 1}, Padding::same());
      },
      big);
  r.push_back(y);
  r.push_back(pullback(values(y.shape(), 6)));
  r.push_back(grad([&](const Array& k) {
    return sum(square(conv_general_dilated(big, k, {1, 1}, Padding::same())));
  })(w));
  return r;
}

/// float32 matmuls and their gradients at the shapes jute's models use: an MLP layer (forward,
/// input and kernel gradients), a long contraction (a kernel gradient over many rows), a batched
/// product, a small deep-MLP layer, odd sizes, and single rows and columns.
std::vector<Array> matmul_results() {
  std::vector<Array> r;
  const auto layer = [&](std::int64_t batch, std::int64_t in, std::int64_t out, std::uint32_t s) {
    const Array x = values({batch, in}, s);
    const Array w = values({in, out}, s + 1);
    auto [y, pullback] =
        vjp(ArraysFn([](const std::vector<Array>& a) { return matmul(a[0], a[1]); }), {x, w});
    r.push_back(y);
    for (const Array& g : pullback(values(y.shape(), s + 2))) r.push_back(g);
  };
  layer(128, 784, 512, 10);
  layer(128, 512, 10, 20);
  layer(32, 64, 64, 30);
  layer(8192, 96, 64, 40);
  layer(77, 131, 45, 50);
  // Shapes for which oneDNN's own threading gave other bits at 2 threads than at 1: one row,
  // few rows against a transposed operand, one column, a long dot product.
  layer(1, 784, 512, 70);
  layer(16, 784, 512, 80);
  layer(33, 784, 1, 90);
  r.push_back(matmul(values({20000}, 100), values({20000}, 101)));
  r.push_back(matmul(values({4, 96, 200}, 60), values({4, 200, 72}, 61)));
  return r;
}

/// The float32 convolutions of the MNIST CNN at batch 16 (oneDNN's primitives): forward, input
/// gradient and kernel gradient of each layer.
std::vector<Array> cnn_conv_results() {
  std::vector<Array> r;
  const Shape inputs[] = {{16, 28, 28, 1}, {16, 14, 14, 32}};
  const Shape kernels[] = {{3, 3, 1, 32}, {3, 3, 32, 64}};
  for (int layer = 0; layer < 2; ++layer) {
    const Array x = values(inputs[layer], 7), w = values(kernels[layer], 8);
    auto [y, pullback] = vjp(
        [](const std::vector<Array>& a) {
          return conv_general_dilated(a[0], a[1], {1, 1}, Padding::same());
        },
        {x, w});
    r.push_back(y);
    for (const Array& g : pullback(values(y.shape(), 9))) r.push_back(g);
  }
  return r;
}

/// Runs `results` with 1 thread, then twice with 2: each result must have the same bits all
/// three times (independent of the thread count, and run to run).
template <class F>
void check_same_bits_1_2_2(F results) {
  const std::vector<Array> one = with_threads(1, results);
  const std::vector<Array> two = with_threads(2, results);
  const std::vector<Array> again = with_threads(2, results);
  REQUIRE(one.size() == two.size());
  REQUIRE(two.size() == again.size());
  for (std::size_t i = 0; i < one.size(); ++i) {
    INFO("result " << i);
    CHECK(array_equal(one[i], two[i]));
    CHECK(array_equal(two[i], again[i]));
  }
}

}  // namespace

TEST_SUITE("ops.parallel") {
  TEST_CASE("parallel_for: contiguous chunks cover every index once") {
    for (const std::int64_t n : {std::int64_t{0}, std::int64_t{1}, std::int64_t{100},
                                 detail::kParallelGrain * 2 + 1, std::int64_t{1} << 20}) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
      std::atomic<int> chunks{0};
      detail::parallel_for(n, detail::kParallelGrain, [&](std::int64_t b, std::int64_t e) {
        CHECK(b < e);
        ++chunks;
        for (std::int64_t i = b; i < e; ++i) ++hits[static_cast<std::size_t>(i)];
      });
      std::int64_t wrong = 0;
      for (const auto& h : hits) wrong += h.load() != 1;
      CHECK(wrong == 0);
      CHECK(chunks.load() <= detail::num_threads());
      if (n < 2 * detail::kParallelGrain) CHECK(chunks.load() == (n > 0 ? 1 : 0));
    }
  }

  TEST_CASE("parallel_for: nested loops run inline, exceptions reach the caller") {
    const std::int64_t n = std::int64_t{1} << 18;
    std::vector<int> hits(static_cast<std::size_t>(n), 0);
    detail::parallel_for(n, 1024, [&](std::int64_t b, std::int64_t e) {
      detail::parallel_for(e - b, 1, [&](std::int64_t ib, std::int64_t ie) {
        for (std::int64_t i = b + ib; i < b + ie; ++i) ++hits[static_cast<std::size_t>(i)];
      });
    });
    std::int64_t wrong = 0;
    for (int h : hits) wrong += h != 1;
    CHECK(wrong == 0);
    // Each chunk throws its first index: the lowest chunk's exception is the one rethrown.
    with_threads(2, [&] {
      try {
        detail::parallel_for(n, 1024, [&](std::int64_t b, std::int64_t) {
          throw std::runtime_error(std::to_string(b));
        });
        FAIL("no exception");
      } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) == "0");
      }
      return 0;
    });
    // The pool is usable after an exception.
    std::atomic<std::int64_t> total{0};
    detail::parallel_for(n, 1024, [&](std::int64_t b, std::int64_t e) { total += e - b; });
    CHECK(total.load() == n);
  }

  TEST_CASE("parallel_for: follows OpenBLAS's thread count") {
    with_threads(1, [] {
      CHECK(detail::num_threads() == 1);
      return 0;
    });
    with_threads(2, [] {
      CHECK(detail::num_threads() == 2);
      return 0;
    });
  }

  TEST_CASE("OneDnnThreads: oneDNN's OpenMP team follows jute's count, then is put back") {
    const int outside = omp_get_max_threads();
    for (int threads : {1, 2}) {
      with_threads(threads, [&] {
        {
          const detail::OneDnnThreads scope;
          CHECK(omp_get_max_threads() == threads);
        }
        CHECK(omp_get_max_threads() == outside);
        return 0;
      });
    }
  }

  TEST_CASE("threaded kernels give the same bits with 1 and 2 threads") {
    const std::vector<Array> one = with_threads(1, loop_results);
    const std::vector<Array> two = with_threads(2, loop_results);
    REQUIRE(one.size() == two.size());
    // (matmul has its own case below.)
    for (std::size_t i = 0; i < one.size(); ++i) {
      INFO("result " << i);
      CHECK(array_equal(one[i], two[i]));
    }
  }

  TEST_CASE("float32 matmul and its gradients give the same bits with 1 and 2 threads") {
    check_same_bits_1_2_2(matmul_results);
  }

  TEST_CASE("threaded convolutions give the same bits run to run") {
    const std::vector<Array> first = with_threads(2, conv_results);
    const std::vector<Array> second = with_threads(2, conv_results);
    for (std::size_t i = 0; i < first.size(); ++i) {
      INFO("result " << i);
      CHECK(array_equal(first[i], second[i]));
    }
  }

  TEST_CASE("oneDNN's convolutions give the same bits run to run and with 1 and 2 threads") {
    check_same_bits_1_2_2(cnn_conv_results);
  }

  TEST_CASE("integer power errors from inside a threaded loop") {
    const Array base = full({1 << 17}, 2, int32);
    const Array exponent = concatenate({full({(1 << 17) - 1}, 1, int32), full({1}, -1, int32)});
    with_threads(2, [&] {
      CHECK_THROWS_AS(power(base, exponent), ValueError);
      return 0;
    });
  }
}
