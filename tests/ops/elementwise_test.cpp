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
constexpr double kPi = 3.141592653589793;
}  // namespace

TEST_SUITE("ops.elementwise") {
  // ---- arithmetic
  // ------------------------------------------------------------------------------------

  TEST_CASE("elementwise: add, subtract, multiply, divide on float32") {
    Array a({1.f, 2.f, 3.f});
    Array b({10.f, 20.f, 0.5f});
    CHECK_ARRAY(add(a, b), Array({11.f, 22.f, 3.5f}));
    CHECK_ARRAY(subtract(a, b), Array({-9.f, -18.f, 2.5f}));
    CHECK_ARRAY(multiply(a, b), Array({10.f, 40.f, 1.5f}));
    CHECK_ARRAY(divide(a, b), Array({0.1f, 0.1f, 6.f}));
    CHECK_ARRAY(a + b, add(a, b));
    CHECK_ARRAY(a - b, subtract(a, b));
    CHECK_ARRAY(a * b, multiply(a, b));
    CHECK_ARRAY(a / b, divide(a, b));
    CHECK_ARRAY(-a, Array({-1.f, -2.f, -3.f}));
  }

  TEST_CASE("elementwise: broadcasting (3,1)+(1,4), rank mismatch, scalars, empty") {
    Array col({{0.f}, {10.f}, {20.f}});
    Array row({{1.f, 2.f, 3.f, 4.f}});
    CHECK_ARRAY(col + row,
                Array({{1.f, 2.f, 3.f, 4.f}, {11.f, 12.f, 13.f, 14.f}, {21.f, 22.f, 23.f, 24.f}}));
    CHECK_ARRAY(row + col, col + row);
    Array m({{1, 2, 3}, {4, 5, 6}});
    CHECK_ARRAY(m * Array({10, 100, 1000}), Array({{10, 200, 3000}, {40, 500, 6000}}));
    CHECK_ARRAY(m - 1, Array({{0, 1, 2}, {3, 4, 5}}));
    CHECK_ARRAY(1 - m, Array({{0, -1, -2}, {-3, -4, -5}}));
    // (2,1,3) with (4,1): (2,4,3)
    Array x({{{0.f, 1.f, 2.f}}, {{3.f, 4.f, 5.f}}});
    Array y = Array({{0.f}, {100.f}, {200.f}, {300.f}});
    Array z = x + y;
    CHECK(z.shape() == Shape{2, 4, 3});
    CHECK(z.at<float>({1, 2, 0}) == 203.f);
    CHECK(z.at<float>({0, 3, 2}) == 302.f);
    // A size-0 axis broadcasts like any other size.
    CHECK((zeros({0, 3}) + ones({1, 3})).shape() == Shape{0, 3});
    CHECK((zeros({0}) + 1.f).shape() == Shape{0});
    CHECK((zeros({2, 0}) * zeros({1})).shape() == Shape{2, 0});
    // Scalar (rank 0) with scalar.
    CHECK_ARRAY(Array::scalar(2, float32) * Array::scalar(3, float32), Array::scalar(6, float32));
  }

  TEST_CASE("elementwise: broadcast errors name the op and both shapes") {
    CHECK(message_of([] {
            add(zeros({2, 3}), zeros({4}));
          }) == "[add] Shapes (2,3) and (4,) cannot be broadcast together.");
    CHECK(message_of([] {
            multiply(zeros({2, 3}), zeros({3, 2}));
          }) == "[multiply] Shapes (2,3) and (3,2) cannot be broadcast together.");
    CHECK(message_of([] { where(zeros({2}, bool_), zeros({3}), zeros({1})); }) ==
          "[where] Shapes (2,), (3,) and (1,) cannot be broadcast together.");
    CHECK(message_of([] { clip(zeros({2}), zeros({3}), 1.f); }) ==
          "[clip] Shapes (2,), (3,) and () cannot be broadcast together.");
    CHECK_THROWS_AS(subtract(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(divide(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(power(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(maximum(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(minimum(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(equal(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(not_equal(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(less(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(less_equal(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(greater(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(greater_equal(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(logical_and(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(logical_or(zeros({2}), zeros({3})), ShapeError);
    CHECK_THROWS_AS(logical_xor(zeros({2}), zeros({3})), ShapeError);
  }

  TEST_CASE("elementwise: null operands throw ValueError naming the op") {
    CHECK(message_of([] { add(Array(), 1.f); }).rfind("[add]", 0) == 0);
    CHECK_THROWS_AS(multiply(1.f, Array()), ValueError);
    CHECK_THROWS_AS(divide(Array(), 1.f), ValueError);
    CHECK_THROWS_AS(exp(Array()), ValueError);
    CHECK_THROWS_AS(negative(Array()), ValueError);
    CHECK_THROWS_AS(equal(Array(), 1), ValueError);
    CHECK_THROWS_AS(logical_not(Array()), ValueError);
    CHECK_THROWS_AS(isnan(Array()), ValueError);
    CHECK_THROWS_AS(where(Array(), 1.f, 2.f), ValueError);
    CHECK_THROWS_AS(clip(Array(), 0.f, 1.f), ValueError);
  }

  TEST_CASE("elementwise: integer arithmetic wraps around") {
    const std::int32_t imax = std::numeric_limits<std::int32_t>::max();
    const std::int32_t imin = std::numeric_limits<std::int32_t>::min();
    CHECK_ARRAY(Array({imax}) + Array({1}), Array({imin}));
    CHECK_ARRAY(Array({imin}) - Array({1}), Array({imax}));
    CHECK_ARRAY(Array({65536}) * Array({65536}), Array({0}));
    CHECK_ARRAY(Array({imax}) * Array({2}), Array({-2}));
    CHECK_ARRAY(-Array({imin}), Array({imin}));
    CHECK_ARRAY(Array({0u}) - Array({1u}), Array({4294967295u}));
    CHECK_ARRAY(Array({200, 255}, uint8) + Array({100, 1}, uint8), Array({44, 0}, uint8));
    CHECK_ARRAY(Array({16}, uint8) * Array({17}, uint8), Array({16}, uint8));
    CHECK_ARRAY(-Array({1}, uint8), Array({255}, uint8));
    CHECK_ARRAY(square(Array({46341})), Array({-2147479015}));
  }

  TEST_CASE("elementwise: bool arithmetic") {
    Array t({true, false, true, false});
    Array u({true, true, false, false});
    CHECK_ARRAY(t + u, Array({true, true, true, false}));    // logical or
    CHECK_ARRAY(t * u, Array({true, false, false, false}));  // logical and
    CHECK_ARRAY(t / u, Array({1.f, 0.f, kInf, kNaN}));       // true division in float32
    CHECK_ARRAY(t + 1, Array({2, 1, 2, 1}));                 // a weak int makes it int32
    CHECK(message_of([&] { subtract(t, u); }).rfind("[subtract] Subtracting bool arrays", 0) == 0);
    CHECK_THROWS_AS(negative(t), DtypeError);
    CHECK_THROWS_AS(sign(t), DtypeError);
    CHECK_THROWS_AS(power(t, u), DtypeError);
  }

  TEST_CASE("elementwise: divide gives float; division by zero follows IEEE") {
    Array q = divide(Array({1, 2, -3, 0}), Array({2, 2, 0, 0}));
    CHECK_ARRAY(q, Array({0.5f, 1.f, -kInf, kNaN}));
    CHECK_ARRAY(Array({7u}) / Array({2u}), Array({3.5f}));
    CHECK_ARRAY(Array({3}, uint8) / 2, Array({1.5f}));
    CHECK_ARRAY(Array({1., 2.}, float64) / 4, Array({0.25, 0.5}, float64));
    CHECK_ARRAY(Array({1.f}) / 0.f, Array({kInf}));
  }

  TEST_CASE("elementwise: power on floats and integers") {
    CHECK_ARRAY(power(Array({2.f, 4.f, 0.f, -8.f}), Array({3.f, 0.5f, 0.f, 1.f / 3.f})),
                Array({8.f, 2.f, 1.f, kNaN}));
    CHECK_ARRAY(power(Array({2, 3, -2, 0, 5}), Array({10, 0, 3, 0, 1})),
                Array({1024, 1, -8, 1, 5}));
    CHECK_ARRAY(power(Array({2}), Array({31})), Array({std::numeric_limits<std::int32_t>::min()}));
    CHECK_ARRAY(power(Array({2}), Array({32})), Array({0}));
    CHECK_ARRAY(power(Array({3u}), Array({4u})), Array({81u}));
    CHECK_ARRAY(power(Array({2}, uint8), Array({9}, uint8)), Array({0}, uint8));
    CHECK_ARRAY(power(Array({2, 3}), 2), Array({4, 9}));
    Array root = power(Array({2, 3}), 0.5f);  // a weak float makes it float32
    CHECK(root.dtype() == float32);
    CHECK(allclose(root, Array({std::sqrt(2.f), std::sqrt(3.f)}), 1e-7, 0));
    CHECK(message_of([] { power(Array({2}), Array({-1})); }) ==
          "[power] Integers to negative integer powers are not allowed; convert the base to a "
          "float dtype first.");
  }

  TEST_CASE("elementwise: maximum and minimum propagate NaN") {
    Array a({1.f, 5.f, kNaN, 2.f, -0.f});
    Array b({3.f, 4.f, 1.f, kNaN, 0.f});
    CHECK_ARRAY(maximum(a, b), Array({3.f, 5.f, kNaN, kNaN, 0.f}));
    CHECK_ARRAY(minimum(a, b), Array({1.f, 4.f, kNaN, kNaN, 0.f}));
    CHECK_ARRAY(maximum(Array({-3, 7}), 0), Array({0, 7}));
    CHECK_ARRAY(minimum(Array({3u, 9u}), Array({5u})), Array({3u, 5u}));
    CHECK_ARRAY(maximum(Array({true, false}), Array({false, false})), Array({true, false}));
  }

  // ---- unary
  // ------------------------------------------------------------------------------------------

  TEST_CASE("elementwise: negative, abs, sign, square") {
    Array x({-2.5f, -0.f, 0.f, 3.f, kNaN, -kInf});
    CHECK_ARRAY(negative(x), Array({2.5f, 0.f, -0.f, -3.f, kNaN, kInf}));
    CHECK_ARRAY(abs(x), Array({2.5f, 0.f, 0.f, 3.f, kNaN, kInf}));
    CHECK(std::signbit(abs(x).at<float>({1})) == false);
    CHECK_ARRAY(sign(x), Array({-1.f, 0.f, 0.f, 1.f, kNaN, -1.f}));
    CHECK_ARRAY(square(Array({-3.f, 0.5f})), Array({9.f, 0.25f}));
    Array i({-7, 0, 4, std::numeric_limits<std::int32_t>::min()});
    CHECK_ARRAY(abs(i), Array({7, 0, 4, std::numeric_limits<std::int32_t>::min()}));
    CHECK_ARRAY(sign(i), Array({-1, 0, 1, -1}));
    CHECK_ARRAY(square(Array({-3, 4})), Array({9, 16}));
    CHECK_ARRAY(abs(Array({0u, 5u})), Array({0u, 5u}));
    CHECK_ARRAY(sign(Array({0u, 5u})), Array({0u, 1u}));
    CHECK_ARRAY(abs(Array({true, false})), Array({true, false}));
  }

  TEST_CASE("elementwise: exp, log, log1p, expm1, sqrt, rsqrt, reciprocal") {
    CHECK_ARRAY(exp(Array({0.f, -kInf, kInf})), Array({1.f, 0.f, kInf}));
    CHECK(exp(Array({1.})).item<double>() == doctest::Approx(2.718281828459045).epsilon(1e-7));
    CHECK_ARRAY(log(Array({1.f, 0.f, -1.f, kInf})), Array({0.f, -kInf, kNaN, kInf}));
    CHECK(allclose(log(Array({8., 1024.}, float64)),
                   Array({3., 10.}, float64) * Array::scalar(std::log(2.0), float64), 1e-15, 0));
    CHECK_ARRAY(log1p(Array({0.f, -1.f})), Array({0.f, -kInf}));
    CHECK(log1p(Array({1e-10}, float64)).item<double>() == doctest::Approx(1e-10).epsilon(1e-12));
    CHECK_ARRAY(expm1(Array({0.f, -kInf})), Array({0.f, -1.f}));
    CHECK(expm1(Array({1e-10}, float64)).item<double>() == doctest::Approx(1e-10).epsilon(1e-12));
    CHECK_ARRAY(sqrt(Array({4.f, 0.f, 2.25f, -1.f})), Array({2.f, 0.f, 1.5f, kNaN}));
    CHECK_ARRAY(rsqrt(Array({4.f, 0.25f, 0.f})), Array({0.5f, 2.f, kInf}));
    CHECK_ARRAY(reciprocal(Array({4.f, -0.5f, 0.f})), Array({0.25f, -2.f, kInf}));
  }

  TEST_CASE("elementwise: tanh, sigmoid, erf, sin, cos") {
    CHECK_ARRAY(tanh(Array({0.f, kInf, -kInf, 100.f})), Array({0.f, 1.f, -1.f, 1.f}));
    CHECK_ARRAY(sigmoid(Array({0.f, 1000.f, -1000.f})), Array({0.5f, 1.f, 0.f}));
    CHECK(sigmoid(Array({2.}, float64)).item<double>() ==
          doctest::Approx(1 / (1 + std::exp(-2.0))).epsilon(1e-15));
    CHECK_ARRAY(erf(Array({0.f, kInf, -kInf})), Array({0.f, 1.f, -1.f}));
    CHECK(erf(Array({1.}, float64)).item<double>() ==
          doctest::Approx(0.8427007929497149).epsilon(1e-14));
    CHECK_ARRAY(sin(Array({0.f})), Array({0.f}));
    CHECK_ARRAY(cos(Array({0.f})), Array({1.f}));
    CHECK(sin(Array({kPi / 2}, float64)).item<double>() == 1.0);
    CHECK(cos(Array({kPi}, float64)).item<double>() == -1.0);
  }

  TEST_CASE("elementwise: floor, ceil, round (half to even)") {
    Array x({-1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.4f, -2.6f, kNaN});
    CHECK_ARRAY(floor(x), Array({-2.f, -1.f, 0.f, 1.f, 2.f, 2.f, -3.f, kNaN}));
    CHECK_ARRAY(ceil(x), Array({-1.f, -0.f, 1.f, 2.f, 3.f, 3.f, -2.f, kNaN}));
    CHECK_ARRAY(round(x), Array({-2.f, -0.f, 0.f, 2.f, 2.f, 2.f, -3.f, kNaN}));
    CHECK(std::signbit(round(x).at<float>({1})));
    // Integers and bools are already integral: unchanged, same dtype.
    CHECK_ARRAY(floor(Array({-3, 4})), Array({-3, 4}));
    CHECK_ARRAY(round(Array({7u})), Array({7u}));
    CHECK_ARRAY(ceil(Array({true})), Array({true}));
  }

  TEST_CASE("elementwise: float math on integers and bools computes in float32") {
    CHECK_ARRAY(exp(Array({0, 0})), Array({1.f, 1.f}));
    CHECK_ARRAY(sqrt(Array({4u, 9u})), Array({2.f, 3.f}));
    CHECK_ARRAY(reciprocal(Array({2, 0})), Array({0.5f, kInf}));
    CHECK_ARRAY(log(Array({true, false})), Array({0.f, -kInf}));
    CHECK_ARRAY(sigmoid(Array({0}, uint8)), Array({0.5f}));
    CHECK(tanh(Array({1., 2.}, float64)).dtype() == float64);
  }

  // ---- comparisons and logic ------------------------------------------------------------------

  TEST_CASE("elementwise: comparisons give bool and promote their operands") {
    Array a({1.f, 2.f, 3.f, kNaN});
    Array b({3.f, 2.f, 1.f, kNaN});
    CHECK_ARRAY(equal(a, b), Array({false, true, false, false}));
    CHECK_ARRAY(not_equal(a, b), Array({true, false, true, true}));
    CHECK_ARRAY(less(a, b), Array({true, false, false, false}));
    CHECK_ARRAY(less_equal(a, b), Array({true, true, false, false}));
    CHECK_ARRAY(greater(a, b), Array({false, false, true, false}));
    CHECK_ARRAY(greater_equal(a, b), Array({false, true, true, false}));
    CHECK_ARRAY(a == b, equal(a, b));
    CHECK_ARRAY(a != b, not_equal(a, b));
    CHECK_ARRAY(a < b, less(a, b));
    CHECK_ARRAY(a <= b, less_equal(a, b));
    CHECK_ARRAY(a > b, greater(a, b));
    CHECK_ARRAY(a >= b, greater_equal(a, b));
    CHECK_ARRAY(Array({1, 2}) == Array({1.f, 2.5f}), Array({true, false}));
    CHECK_ARRAY(Array({1, 2}) > 1.5, Array({false, true}));  // weak float: compared in float32
    CHECK_ARRAY(Array({-1, 3}) < Array({0u, 0u}), Array({true, false}));  // int32 ⊕ uint32 = int32
    CHECK_ARRAY(Array({{1}, {2}}) < Array({1, 2, 3}),
                Array({{false, true, true}, {false, false, true}}));
  }

  TEST_CASE("elementwise: logical ops accept any dtype (nonzero is true)") {
    Array t({true, true, false, false});
    Array u({true, false, true, false});
    CHECK_ARRAY(logical_and(t, u), Array({true, false, false, false}));
    CHECK_ARRAY(logical_or(t, u), Array({true, true, true, false}));
    CHECK_ARRAY(logical_xor(t, u), Array({false, true, true, false}));
    CHECK_ARRAY(logical_not(t), Array({false, false, true, true}));
    CHECK_ARRAY(t & u, logical_and(t, u));
    CHECK_ARRAY(t | u, logical_or(t, u));
    CHECK_ARRAY(!t, logical_not(t));
    CHECK_ARRAY(logical_and(Array({0.f, 2.f, kNaN}), Array({1, 1, 1})), Array({false, true, true}));
    CHECK_ARRAY(logical_not(Array({0u, 7u})), Array({true, false}));
    CHECK_ARRAY(logical_or(Array({0.f, 0.f}), false), Array({false, false}));
  }

  TEST_CASE("elementwise: isfinite and isnan") {
    Array x({1.f, kInf, -kInf, kNaN});
    CHECK_ARRAY(isfinite(x), Array({true, false, false, false}));
    CHECK_ARRAY(isnan(x), Array({false, false, false, true}));
    CHECK_ARRAY(isfinite(Array({1, 2})), Array({true, true}));
    CHECK_ARRAY(isnan(Array({1u})), Array({false}));
    CHECK(isnan(Array(1.f)).weak_type() == false);
  }

  // ---- clip and where ---------------------------------------------------------------------------

  TEST_CASE("elementwise: clip") {
    Array x({-2.f, 0.f, 0.5f, 1.f, 3.f, kNaN});
    CHECK_ARRAY(clip(x, 0.f, 1.f), Array({0.f, 0.f, 0.5f, 1.f, 1.f, kNaN}));
    CHECK_ARRAY(clip(Array({-5, 5, 50}), 0, 10), Array({0, 5, 10}));
    // Bounds broadcast.
    CHECK_ARRAY(clip(Array({{1.f, 5.f}, {1.f, 5.f}}), Array({{2.f}, {0.f}}), Array({4.f, 3.f})),
                Array({{2.f, 3.f}, {1.f, 3.f}}));
    // lo > hi gives hi (as NumPy's minimum(maximum(x, lo), hi)).
    CHECK_ARRAY(clip(Array({0.f, 5.f}), 3.f, 1.f), Array({1.f, 1.f}));
  }

  TEST_CASE("elementwise: where") {
    Array c({true, false, true});
    CHECK_ARRAY(where(c, Array({1.f, 2.f, 3.f}), Array({10.f, 20.f, 30.f})),
                Array({1.f, 20.f, 3.f}));
    CHECK_ARRAY(where(c, 1, 0), Array({1, 0, 1}));
    CHECK(where(c, 1, 0).weak_type());
    CHECK_ARRAY(where(c, Array({1.f, 2.f, 3.f}), 0), Array({1.f, 0.f, 3.f}));
    CHECK_ARRAY(where(Array({{true}, {false}}), Array({1, 2}), Array({7})),
                Array({{1, 2}, {7, 7}}));
    CHECK(message_of([] {
            where(Array({1, 0}), 1.f, 2.f);
          }) ==
          "[where] The condition must be bool, got int32; compare it (e.g. x > 0) or use "
          "astype(bool_).");
  }

  // ---- buffer reuse -----------------------------------------------------------------------------

  TEST_CASE("elementwise: temporaries are reused, shared buffers never written") {
    Array x = arange(0.0, 8.0, 1.0, float32);
    Array y = x * 2;  // x is held: a new buffer
    CHECK(y.raw_data() != x.raw_data());
    const void* p = y.raw_data();
    Array z = maximum(std::move(y) + 1, 0);  // the temporary's buffer carries the result
    CHECK(z.raw_data() == p);
    CHECK_ARRAY(z, Array({1.f, 3.f, 5.f, 7.f, 9.f, 11.f, 13.f, 15.f}));
    CHECK_ARRAY(x, arange(0.0, 8.0, 1.0, float32));
    // A temporary of the other dtype or shape is not reused.
    Array w = Array({1, 2}) + Array({0.5f, 0.5f});
    CHECK_ARRAY(w, Array({1.5f, 2.5f}));
    Array copy = x;
    Array v = exp(copy);
    CHECK(v.raw_data() != x.raw_data());
    CHECK_ARRAY(x, arange(0.0, 8.0, 1.0, float32));
  }

  TEST_CASE("elementwise: traced temporaries are not overwritten before the rule reads them") {
    // (x+1)*(x+2): each factor is a traced temporary the multiply rule needs.
    auto f = [](const Array& x) { return sum(multiply(x + 1, x + 2) * exp(x * 0)); };
    Array g = grad(f)(Array({0., 1., 2.}, float64));
    CHECK_ARRAY(g, Array({3., 5., 7.}, float64));
  }

  // ---- derivatives ------------------------------------------------------------------------------

  TEST_CASE("elementwise: derivatives of binary ops match finite differences") {
    Array a({{0.3, -1.2, 2.0}, {1.5, 0.7, -0.4}}, float64);
    Array b({{1.1, 0.4, -0.9}, {2.2, -1.3, 0.6}}, float64);
    auto both = [&](auto op) {
      check_vjp([op](const std::vector<Array>& v) { return op(v[0], v[1]); }, {a, b});
    };
    both([](const Array& x, const Array& y) { return add(x, y); });
    both([](const Array& x, const Array& y) { return subtract(x, y); });
    both([](const Array& x, const Array& y) { return multiply(x, y); });
    both([](const Array& x, const Array& y) { return divide(x, y); });
    both([](const Array& x, const Array& y) { return maximum(x, y); });
    both([](const Array& x, const Array& y) { return minimum(x, y); });
    check_vjp([](const std::vector<Array>& v) { return power(v[0], v[1]); }, {abs(a) + 0.5, b});
  }

  TEST_CASE("elementwise: derivatives of broadcasting ops sum over the broadcast axes") {
    Array col({{0.5}, {-1.0}, {2.0}}, float64);
    Array row({{1.5, -0.5, 0.25, 3.0}}, float64);
    Array vec({0.1, 0.2, 0.3, 0.4}, float64);
    check_vjp([](const std::vector<Array>& v) { return v[0] * v[1] + v[2]; }, {col, row, vec});
    check_vjp([](const std::vector<Array>& v) { return v[0] / v[1] - v[1]; }, {col, row});
    check_vjp([](const std::vector<Array>& v) { return v[0] * 3.0 - 2.0 / v[0]; }, {vec});
    // The cotangent of a broadcast scalar is the sum.
    auto [y, fn] = vjp([](const std::vector<Array>& v) { return v[0] * v[1]; },
                       {Array::scalar(2, float64), Array({1., 2., 3.}, float64)});
    CHECK_ARRAY(fn(ones({3}, float64))[0], Array::scalar(6, float64));
  }

  TEST_CASE("elementwise: derivatives of unary ops match finite differences") {
    Array x({{0.3, -1.2, 2.0}, {1.5, 0.7, -0.4}}, float64);
    Array pos({{0.3, 1.2, 2.0}, {1.5, 0.7, 0.4}}, float64);
    check_vjp([](const Array& v) { return negative(v); }, x);
    check_vjp([](const Array& v) { return abs(v); }, x);
    check_vjp([](const Array& v) { return exp(v); }, x);
    check_vjp([](const Array& v) { return log(v); }, pos);
    check_vjp([](const Array& v) { return log1p(v); }, pos);
    check_vjp([](const Array& v) { return expm1(v); }, x);
    check_vjp([](const Array& v) { return sqrt(v); }, pos);
    check_vjp([](const Array& v) { return rsqrt(v); }, pos);
    check_vjp([](const Array& v) { return square(v); }, x);
    check_vjp([](const Array& v) { return reciprocal(v); }, x);
    check_vjp([](const Array& v) { return tanh(v); }, x);
    check_vjp([](const Array& v) { return sigmoid(v); }, x);
    check_vjp([](const Array& v) { return erf(v); }, x);
    check_vjp([](const Array& v) { return sin(v); }, x);
    check_vjp([](const Array& v) { return cos(v); }, x);
    check_vjp([](const Array& v) { return clip(v, -1.0, 1.0); }, x);
    check_vjp([](const Array& v) { return where(v > 0, v * v, v * 3); }, x);
  }

  TEST_CASE("elementwise: second derivatives (grad of grad) match finite differences") {
    Array x({0.3, -1.2, 2.0, 0.7}, float64);
    Array pos({0.3, 1.2, 2.0, 0.7}, float64);
    check_second_order([](const Array& v) { return tanh(v) * v; }, x);
    check_second_order([](const Array& v) { return sigmoid(v); }, x);
    check_second_order([](const Array& v) { return erf(v); }, x);
    check_second_order([](const Array& v) { return sin(v) * cos(v); }, x);
    check_second_order([](const Array& v) { return power(v, 3.5) / v; }, pos);
    check_second_order([](const Array& v) { return power(2.0, v); }, x);
    check_second_order([](const Array& v) { return log(v) * rsqrt(v); }, pos);
    check_second_order([](const Array& v) { return maximum(v * v, 1.0); }, x);
    // d²/dx² sin = -sin exactly.
    Array g2 = grad(
        [](const Array& v) { return sum(grad([](const Array& w) { return sum(sin(w)); })(v)); })(x);
    CHECK(allclose(g2, negative(sin(x)), 0, 1e-15));
  }

  TEST_CASE("elementwise: derivative conventions at kinks and ties (as JAX)") {
    auto g = [](const ArrayFn& f, const Array& x) {
      return grad([f](const Array& v) { return sum(f(v)); })(x);
    };
    Array x({-1., 0., 1.}, float64);
    CHECK_ARRAY(g([](const Array& v) { return abs(v); }, x), Array({-1., 1., 1.}, float64));
    CHECK_ARRAY(g([](const Array& v) { return maximum(v, 0.0); }, x),
                Array({0., 0.5, 1.}, float64));
    CHECK_ARRAY(g([](const Array& v) { return minimum(v, 0.0); }, x),
                Array({1., 0.5, 0.}, float64));
    CHECK_ARRAY(g([](const Array& v) { return maximum(v, v); }, x), Array({1., 1., 1.}, float64));
    CHECK_ARRAY(g([](const Array& v) { return clip(v, -1.0, 0.5); },
                  Array({-2., -1., 0., 0.5, 1.}, float64)),
                Array({0., 1., 1., 1., 0.}, float64));
    CHECK_ARRAY(g([](const Array& v) { return sign(v) + floor(v) + ceil(v) + round(v); }, x),
                Array({0., 0., 0.}, float64));
    // 0^0: d/dx is 0 (the exponent is 0), d/dy is 0 (log 0 is taken as 0).
    auto [y, fn] = vjp([](const std::vector<Array>& v) { return power(v[0], v[1]); },
                       {Array({0., 0., 2.}, float64), Array({0., 2., 3.}, float64)});
    CHECK_ARRAY(y, Array({1., 0., 8.}, float64));
    auto cts = fn(ones({3}, float64));
    CHECK_ARRAY(cts[0], Array({0., 0., 12.}, float64));
    CHECK_ARRAY(cts[1], Array({0., 0., 8. * std::log(2.0)}, float64));
    // where: the condition gets no cotangent; each branch gets it where selected.
    auto [w, wfn] = vjp(
        [](const std::vector<Array>& v) {
          return where(Array({true, false}), v[0], v[1]);
        },
        {Array({1., 2.}, float64), Array::scalar(5, float64)});
    auto wct = wfn(Array({10., 20.}, float64));
    CHECK_ARRAY(wct[0], Array({10., 0.}, float64));
    CHECK_ARRAY(wct[1], Array::scalar(20, float64));
  }

  TEST_CASE("elementwise: integer and comparison results are not differentiated") {
    Array x({1., 2.}, float64);
    auto f = [](const Array& v) { return sum(where(v > 1.5, v, 0.0) + (v > 0).astype(float64)); };
    CHECK_ARRAY(grad(f)(x), Array({0., 1.}, float64));
  }

  // ---- properties -------------------------------------------------------------------------------

  TEST_CASE("elementwise: properties") {
    CHECK(rc::check("broadcasting add commutes", [](std::vector<float> u, std::vector<float> v) {
      RC_PRE(!u.empty() && !v.empty());
      Array a = Array::from_vector(u, {static_cast<std::int64_t>(u.size()), 1});
      Array b = Array::from_vector(v, {1, static_cast<std::int64_t>(v.size())});
      RC_ASSERT(array_equal(a + b, b + a, true));
    }));
    CHECK(rc::check("a + b - b is close to a for finite floats", [] {
      const auto u = *rc::gen::container<std::vector<float>>(
          rc::gen::map(rc::gen::inRange(-1000000, 1000000), [](int i) { return i / 1000.f; }));
      const auto v = *rc::gen::container<std::vector<float>>(
          u.size(),
          rc::gen::map(rc::gen::inRange(-1000000, 1000000), [](int i) { return i / 1000.f; }));
      const auto n = static_cast<std::int64_t>(u.size());
      Array a = Array::from_vector(u, {n});
      Array b = Array::from_vector(v, {n});
      RC_ASSERT(allclose(a + b - b, a, 1e-6, 1e-3));
    }));
  }

}  // TEST_SUITE
