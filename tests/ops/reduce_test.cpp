#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "ops/helpers.hpp"

using namespace jute;
using ops_test::check_second_order;
using ops_test::check_vjp;

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

/// 0, 1, ..., n-1 as float32 in `shape`.
Array iota(const Shape& shape, DType dtype = float32) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  return Array::from_vector(v, shape, dtype);
}
}  // namespace

TEST_SUITE("ops.reduce") {
  TEST_CASE("reduce: sum over all axes, given axes, keepdims") {
    Array x = iota({2, 3, 4});  // x[i,j,k] = 12i + 4j + k
    CHECK_ARRAY(sum(x), Array::scalar(276, float32));
    CHECK_ARRAY(
        sum(x, 0),
        Array({{12.f, 14.f, 16.f, 18.f}, {20.f, 22.f, 24.f, 26.f}, {28.f, 30.f, 32.f, 34.f}}));
    CHECK_ARRAY(sum(x, 1), Array({{12.f, 15.f, 18.f, 21.f}, {48.f, 51.f, 54.f, 57.f}}));
    CHECK_ARRAY(sum(x, -1), Array({{6.f, 22.f, 38.f}, {54.f, 70.f, 86.f}}));
    CHECK_ARRAY(sum(x, {0, 2}), Array({60.f, 92.f, 124.f}));
    CHECK_ARRAY(sum(x, {0, 1}), Array({60.f, 66.f, 72.f, 78.f}));
    CHECK_ARRAY(sum(x, {1, 2}), Array({66.f, 210.f}));
    CHECK(sum(x, {0, 2}, true).shape() == Shape{1, 3, 1});
    CHECK(sum(x, Axes{}, true).shape() == Shape{1, 1, 1});
    CHECK(sum(x, 1, true).shape() == Shape{2, 1, 4});
    CHECK_ARRAY(sum(x, std::vector<int>{}), x);  // no axes: the array itself
    CHECK_ARRAY(sum(Array::scalar(3, float32)), Array::scalar(3, float32));
  }

  TEST_CASE("reduce: sum dtypes follow JAX (bool and uint8 accumulate wider)") {
    CHECK_ARRAY(sum(Array({true, true, false})), Array::scalar(2, int32));
    CHECK_ARRAY(sum(Array({200, 100}, uint8)), Array::scalar(300, uint32));
    CHECK_ARRAY(sum(Array({std::numeric_limits<std::int32_t>::max(), 1})),
                Array::scalar(std::numeric_limits<std::int32_t>::min(), int32));
    CHECK_ARRAY(sum(Array({1., 2.}, float64)), Array::scalar(3, float64));
    CHECK(sum(Array(2.f)).weak_type());
  }

  TEST_CASE("reduce: sum of empty is 0; axis errors") {
    CHECK_ARRAY(sum(zeros({0})), Array::scalar(0, float32));
    CHECK_ARRAY(sum(zeros({0, 3}), 0), zeros({3}));
    CHECK_ARRAY(sum(zeros({3, 0}), 0), zeros({0}));
    CHECK(message_of([] {
            sum(zeros({2, 3}), 2);
          }) ==
          "[sum] Axis 2 is out of range for an array with 2 dimensions; use an axis in [-2, 2).");
    CHECK(message_of([] {
            sum(zeros({2, 3}), {1, -1});
          }) == "[sum] Axis 1 appears more than once in the axes; list each axis once.");
    CHECK_THROWS_AS(sum(Array()), ValueError);
  }

  TEST_CASE("reduce: float32 sums are pairwise (accurate over a million elements)") {
    // 0.1f a million times: a naive float32 loop drifts to ~100958; pairwise stays within a few
    // ulps of the exact sum of the float32 values.
    Array x = full({1 << 20}, 0.1, float32);
    const double exact = static_cast<double>(0.1f) * (1 << 20);
    CHECK(std::abs(sum(x).item<double>() - exact) / exact < 1e-6);
    Array m = full({1 << 10, 1 << 10}, 0.1, float32);
    CHECK(std::abs(sum(sum(m, 0)).item<double>() - exact) / exact < 1e-6);
    CHECK(std::abs(sum(m, 0).at<float>({5}) - 0.1f * 1024) < 1e-3f);
  }

  TEST_CASE("reduce: gradients of sum") {
    Array x({{1., 2., 3.}, {4., 5., 6.}}, float64);
    CHECK_ARRAY(grad([](const Array& v) { return sum(v); })(x), ones({2, 3}, float64));
    check_vjp([](const Array& v) { return sum(v, 0); }, x);
    check_vjp([](const Array& v) { return sum(v * v, 1, true); }, x);
    check_vjp([](const Array& v) { return sum(v, {0, 1}); }, x);
    check_second_order([](const Array& v) { return square(sum(v * v, 1)); }, x);
  }

}  // TEST_SUITE
