#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "ops/helpers.hpp"
#include "ops/op_checks.hpp"

using namespace jute;
using jute_test::message_of;
using ops_test::check_second_order;
using ops_test::check_vjp;

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

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

  TEST_CASE("reduce: every axis layout agrees with a direct loop") {
    // Shapes that take each path: rows shorter and longer than a pairwise block (128), column
    // blocks of more than 8 rows, middle blocks, non-adjacent axes, size-1 axes in between.
    const std::vector<std::pair<Shape, std::vector<int>>> cases = {
        {{300}, {0}},         {{5, 300}, {1}},        {{300, 5}, {0}},        {{4, 37, 3}, {1}},
        {{4, 37, 3}, {0, 2}}, {{2, 3, 4, 5}, {0, 2}}, {{2, 3, 4, 5}, {1, 3}}, {{3, 1, 4}, {0, 2}},
        {{17, 19}, {0, 1}},   {{1, 7, 1}, {1}}};
    for (const auto& [shape, axes] : cases) {
      Array x = Array::from_vector(iota(shape, float64).to_vector<double>(), shape, float64);
      x = sin(x) * 10.0;  // distinct, mixed-sign values
      Array s = sum(x, axes);
      Array mx = max(x, axes);
      Array mn = min(x, axes);
      Array p = prod(x * 0.1 + 1.0, axes);
      // The reference: accumulate every element into its output slot.
      const auto v = x.to_vector<double>();
      const Shape& out_shape = s.shape();
      std::vector<double> rs(static_cast<std::size_t>(s.size()), 0.0), rp(rs.size(), 1.0),
          rmax(rs.size(), -1e300), rmin(rs.size(), 1e300);
      for (std::size_t flat = 0; flat < v.size(); ++flat) {
        std::size_t rem = flat, o = 0, stride = 1;
        Shape idx(shape.size());
        for (std::size_t d = shape.size(); d-- > 0;) {
          idx[d] = static_cast<std::int64_t>(rem % static_cast<std::size_t>(shape[d]));
          rem /= static_cast<std::size_t>(shape[d]);
        }
        for (std::size_t d = shape.size(); d-- > 0;) {
          if (std::find(axes.begin(), axes.end(), static_cast<int>(d)) != axes.end()) continue;
          o += static_cast<std::size_t>(idx[d]) * stride;
          stride *= static_cast<std::size_t>(shape[d]);
        }
        rs[o] += v[flat];
        rp[o] *= v[flat] * 0.1 + 1.0;  // a weak double keeps its full value in float64
        rmax[o] = std::max(rmax[o], v[flat]);
        rmin[o] = std::min(rmin[o], v[flat]);
      }
      INFO("shape " << x.type_string());
      CHECK(allclose(s, Array::from_vector(rs, out_shape, float64), 1e-12, 1e-12));
      CHECK(allclose(p, Array::from_vector(rp, out_shape, float64), 1e-12, 0));
      CHECK_ARRAY(mx, Array::from_vector(rmax, out_shape, float64));
      CHECK_ARRAY(mn, Array::from_vector(rmin, out_shape, float64));
    }
  }

  TEST_CASE("reduce: mean") {
    Array x = iota({2, 3});
    CHECK_ARRAY(mean(x), Array::scalar(2.5, float32));
    CHECK_ARRAY(mean(x, 0), Array({1.5f, 2.5f, 3.5f}));
    CHECK_ARRAY(mean(x, 1, true), Array({{1.f}, {4.f}}));
    CHECK_ARRAY(mean(Array({1, 2})), Array::scalar(1.5, float32));  // integers give float32
    CHECK_ARRAY(mean(Array({true, false, false, false})), Array::scalar(0.25, float32));
    CHECK_ARRAY(mean(Array({1., 2.}, float64)), Array::scalar(1.5, float64));
    CHECK_ARRAY(mean(zeros({0})), Array::scalar(kNaN, float32));  // 0/0, as NumPy
    // float32 mean of a million values stays accurate (pairwise summation).
    Array big = full({1000000}, 0.3, float32);
    CHECK(std::abs(mean(big).item<double>() - static_cast<double>(0.3f)) < 1e-7);
    CHECK_THROWS_AS(mean(x, 2), ShapeError);
  }

  TEST_CASE("reduce: prod") {
    CHECK_ARRAY(prod(Array({{1.f, 2.f}, {3.f, 4.f}})), Array::scalar(24, float32));
    CHECK_ARRAY(prod(Array({{1.f, 2.f}, {3.f, 4.f}}), 1), Array({2.f, 12.f}));
    CHECK_ARRAY(prod(Array({65536, 65536})), Array::scalar(0, int32));  // wraps
    CHECK_ARRAY(prod(Array({true, false})), Array::scalar(0, int32));
    CHECK_ARRAY(prod(Array({16, 16}, uint8)), Array::scalar(256, uint32));
    CHECK_ARRAY(prod(zeros({0})), Array::scalar(1, float32));
    CHECK_THROWS_AS(prod(Array()), ValueError);
  }

  TEST_CASE("reduce: max and min (NaN propagates; empty has no identity)") {
    Array x({{3.f, -1.f, 7.f}, {2.f, 9.f, -4.f}});
    CHECK_ARRAY(max(x), Array::scalar(9, float32));
    CHECK_ARRAY(min(x), Array::scalar(-4, float32));
    CHECK_ARRAY(max(x, 0), Array({3.f, 9.f, 7.f}));
    CHECK_ARRAY(min(x, 1, true), Array({{-1.f}, {-4.f}}));
    CHECK_ARRAY(max(Array({1.f, kNaN, 3.f})), Array::scalar(kNaN, float32));
    CHECK_ARRAY(min(Array({{kNaN, 1.f}, {0.f, 1.f}}), 0), Array({kNaN, 1.f}));
    CHECK_ARRAY(max(Array({-kInf, -kInf})), Array::scalar(-kInf, float32));
    CHECK_ARRAY(max(Array({-5, -2, -9})), Array::scalar(-2, int32));
    CHECK_ARRAY(min(Array({5u, 2u, 9u})), Array::scalar(2, uint32));
    CHECK_ARRAY(max(Array({false, true})), Array::scalar(1, bool_));
    CHECK(message_of([] { max(zeros({0})); }) ==
          "[max] Cannot reduce an array of shape (0,) over an empty axis: the operation has no "
          "identity; reduce over non-empty axes or use a reduction with an identity (sum, prod).");
    CHECK_THROWS_AS(min(zeros({0, 3}), 0), ValueError);
    CHECK(max(zeros({0, 3}), 1).shape() == Shape{0});  // nothing to reduce into: fine
    CHECK_THROWS_AS(max(x, 5), ShapeError);
  }

  TEST_CASE("reduce: var and std") {
    Array x({{1.f, 2.f, 3.f, 4.f}, {2.f, 2.f, 2.f, 2.f}});
    CHECK_ARRAY(var(x, 1), Array({1.25f, 0.f}));
    CHECK_ARRAY(var(x, 1, false, 1), Array({5.f / 3.f, 0.f}));
    CHECK_ARRAY(jute::std(x, 1, true), Array({{std::sqrt(1.25f)}, {0.f}}));
    CHECK_ARRAY(var(Array({1, 3})), Array::scalar(1, float32));
    CHECK_ARRAY(var(Array({1.f}), Axes{}, false, 1), Array::scalar(kNaN, float32));  // 0/0
    // Two passes: no catastrophic cancellation for a large mean.
    Array shifted = Array({1e4f + 1.f, 1e4f + 2.f, 1e4f + 3.f, 1e4f + 4.f});
    CHECK_ARRAY(var(shifted), Array::scalar(1.25, float32));
    CHECK_THROWS_AS(var(x, 2), ShapeError);
    CHECK_THROWS_AS(jute::std(x, {0, 0}), ShapeError);
  }

  TEST_CASE("reduce: logsumexp is stable") {
    Array x({{0.f, 0.f}, {1000.f, 1000.f}, {-kInf, -kInf}, {kInf, 0.f}});
    Array r = logsumexp(x, 1);
    CHECK(r.at<float>({0}) == doctest::Approx(std::log(2.f)));
    CHECK(r.at<float>({1}) == doctest::Approx(1000.f + std::log(2.f)));
    CHECK(r.at<float>({2}) == -kInf);
    CHECK(r.at<float>({3}) == kInf);
    CHECK(logsumexp(x, 1, true).shape() == Shape{4, 1});
    CHECK_ARRAY(logsumexp(zeros({0})), Array::scalar(-kInf, float32));
    CHECK(logsumexp(Array({1., 2., 3.}, float64)).item<double>() ==
          doctest::Approx(std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0))).epsilon(1e-15));
    CHECK(std::isnan(logsumexp(Array({1.f, kNaN})).item<float>()));
  }

  TEST_CASE("reduce: argmax and argmin (first occurrence, int32)") {
    Array x({{3.f, 9.f, 9.f}, {7.f, 1.f, 7.f}});
    CHECK_ARRAY(argmax(x), Array::scalar(1, int32));
    CHECK_ARRAY(argmin(x), Array::scalar(4, int32));
    CHECK_ARRAY(argmax(x, 1), Array({1, 0}));
    CHECK_ARRAY(argmax(x, 0), Array({1, 0, 0}));
    CHECK_ARRAY(argmin(x, -1), Array({0, 1}));
    CHECK_ARRAY(argmax(x, 0, true), Array({{1, 0, 0}}));
    CHECK(argmax(x, std::nullopt, true).shape() == Shape{1, 1});
    CHECK_ARRAY(argmax(Array({1.f, kNaN, 5.f, kNaN})), Array::scalar(1, int32));  // NaN wins
    CHECK_ARRAY(argmin(Array({4, -2, -2})), Array::scalar(1, int32));
    CHECK_ARRAY(argmax(Array({0u, 4u})), Array::scalar(1, int32));
    CHECK_ARRAY(argmax(Array({7.f}), 0), Array::scalar(0, int32));  // rank 1 with an axis
    CHECK(message_of([] { argmax(zeros({0})); }) ==
          "[argmax] Cannot take the argmax of an empty axis of an array of shape (0,); the result "
          "would be undefined.");
    CHECK_THROWS_AS(argmin(zeros({2, 0}), 1), ValueError);
    CHECK_THROWS_AS(argmax(x, 2), ShapeError);
    CHECK_ARRAY(grad([](const Array& v) { return sum(v * argmax(v, 0).astype(float64)); })(
                    Array({{1., 5.}, {3., 2.}}, float64)),
                Array({{1., 0.}, {1., 0.}}, float64));
  }

  TEST_CASE("reduce: any and all accept any dtype") {
    Array b({{true, false}, {false, false}});
    CHECK_ARRAY(any(b), Array::scalar(1, bool_));
    CHECK_ARRAY(all(b), Array::scalar(0, bool_));
    CHECK_ARRAY(any(b, 1), Array({true, false}));
    CHECK_ARRAY(all(b, 0, true), Array({{false, false}}));
    CHECK_ARRAY(any(Array({0.f, kNaN})), Array::scalar(1, bool_));
    CHECK_ARRAY(all(Array({1, 2, 0})), Array::scalar(0, bool_));
    CHECK_ARRAY(any(zeros({0})), Array::scalar(0, bool_));
    CHECK_ARRAY(all(zeros({0})), Array::scalar(1, bool_));
    CHECK_THROWS_AS(any(b, 3), ShapeError);
  }

  TEST_CASE("reduce: array_equal and allclose") {
    Array a({1.f, 2.f, kNaN});
    CHECK_FALSE(array_equal(a, a));
    CHECK(array_equal(a, a, true));
    CHECK_FALSE(array_equal(Array({1, 2}), Array({1.f, 2.f})));  // dtypes differ
    CHECK_FALSE(array_equal(Array({1, 2}), Array({{1, 2}})));    // shapes differ
    CHECK(allclose(Array({1.f, 2.f}), Array({1, 2})));
    CHECK(allclose(Array({1.f, kInf}), Array({1.f + 1e-6f, kInf})));
    CHECK_FALSE(allclose(Array({kInf}), Array({-kInf})));
    CHECK_FALSE(allclose(Array({1.f, kNaN}), Array({1.f, kNaN})));
    CHECK(allclose(Array({1.f, kNaN}), Array({1.f, kNaN}), 1e-5, 1e-8, true));
    CHECK_FALSE(allclose(Array({1.0}), Array({1.1})));
    CHECK(allclose(Array({1.0}), Array({1.1}), 0.1, 0));
    CHECK_FALSE(allclose(zeros({2}), zeros({3})));
    CHECK_THROWS_AS(array_equal(Array(), a), ValueError);
    CHECK_THROWS_AS(allclose(a, Array()), ValueError);
  }

  TEST_CASE("reduce: gradients of mean, prod, max, min, var, std, logsumexp") {
    Array x({{0.3, -1.2, 2.0}, {1.5, 0.7, -0.4}}, float64);
    check_vjp([](const Array& v) { return mean(v, 1); }, x);
    check_vjp([](const Array& v) { return prod(v, 0); }, x);
    check_vjp([](const Array& v) { return prod(v); }, x);
    check_vjp([](const Array& v) { return max(v, 1); }, x);
    check_vjp([](const Array& v) { return min(v); }, x);
    check_vjp([](const Array& v) { return var(v, 1, true, 1); }, x);
    check_vjp([](const Array& v) { return jute::std(v, 0); }, x);
    check_vjp([](const Array& v) { return logsumexp(v, 1); }, x);
    check_vjp([](const Array& v) { return logsumexp(v); }, x);
    check_second_order([](const Array& v) { return logsumexp(v, 1); }, x);
    check_second_order([](const Array& v) { return prod(v, 1); }, x);
    check_second_order([](const Array& v) { return max(v * v, 0); }, x);
    check_second_order([](const Array& v) { return var(v, 1); }, x);
  }

  TEST_CASE("reduce: prod gradient with zeros; max and min share ties") {
    auto g = [](const ArrayFn& f, const Array& x) { return grad(f)(x); };
    auto p = [](const Array& v) { return prod(v); };
    CHECK_ARRAY(g(p, Array({2., 3., 4.}, float64)), Array({12., 8., 6.}, float64));
    CHECK_ARRAY(g(p, Array({2., 0., 4.}, float64)), Array({0., 8., 0.}, float64));
    CHECK_ARRAY(g(p, Array({0., 3., 0.}, float64)), Array({0., 0., 0.}, float64));
    CHECK_ARRAY(g([](const Array& v) { return sum(max(v, 1)); },
                  Array({{1., 5., 5.}, {2., 2., 2.}}, float64)),
                Array({{0., 0.5, 0.5}, {1. / 3, 1. / 3, 1. / 3}}, float64));
    CHECK_ARRAY(g([](const Array& v) { return min(v); }, Array({4., 1., 1., 7.}, float64)),
                Array({0., 0.5, 0.5, 0.}, float64));
  }

  TEST_CASE("reduce: properties") {
    auto gen_array = [](int min_rank = 0) {
      const auto rank = *rc::gen::inRange(min_rank, 4);
      Shape shape;
      for (int d = 0; d < rank; ++d) shape.push_back(*rc::gen::inRange(1, 6));
      std::int64_t n = 1;
      for (auto d : shape) n *= d;
      const auto v = *rc::gen::container<std::vector<float>>(
          static_cast<std::size_t>(n),
          rc::gen::map(rc::gen::inRange(-10000, 10000), [](int i) { return i / 100.f; }));
      return Array::from_vector(v, shape);
    };
    CHECK(rc::check("sum over all axes equals the sum of the flattened array", [&] {
      Array x = gen_array();
      Array flat = Array::from_vector(x.to_vector<float>(), {x.size()});
      RC_ASSERT(allclose(sum(x), sum(flat), 1e-5, 1e-3));
      std::vector<int> all_axes;
      for (int d = 0; d < x.ndim(); ++d) all_axes.push_back(d);
      RC_ASSERT(allclose(sum(x, all_axes), sum(flat), 1e-5, 1e-3));
    }));
    CHECK(rc::check("mean times N equals sum", [&] {
      Array x = gen_array();
      RC_ASSERT(allclose(mean(x) * static_cast<float>(x.size()), sum(x), 1e-5, 1e-3));
    }));
    CHECK(rc::check("summing axis by axis equals summing at once", [&] {
      Array x = gen_array(2);
      RC_ASSERT(allclose(sum(sum(x, 1), 0), sum(x, {0, 1}), 1e-5, 1e-3));
    }));
  }

}  // TEST_SUITE
