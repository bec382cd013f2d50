#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "jute/testing.hpp"
#include "ops/window_helpers.hpp"

using namespace jute;
using namespace jute::window_test;

namespace {

/// A random reduce_window configuration.
struct PoolCase {
  Shape xs, window, strides;
  int pad_kind = 0;  // 0 SAME, 1 VALID, 2 explicit
  Pads explicit_pads;

  Padding padding() const {
    if (pad_kind == 0) return Padding::same();
    if (pad_kind == 1) return Padding::valid();
    return Padding(explicit_pads);
  }
  Pads resolved() const {
    if (pad_kind == 1) return Pads(xs.size(), {0, 0});
    if (pad_kind == 2) return explicit_pads;
    Pads p;  // lax.padtype_to_pads, SAME
    for (std::size_t d = 0; d < xs.size(); ++d) {
      std::int64_t out = (xs[d] + strides[d] - 1) / strides[d];
      std::int64_t total = std::max<std::int64_t>((out - 1) * strides[d] + window[d] - xs[d], 0);
      p.push_back({total / 2, total - total / 2});
    }
    return p;
  }
  bool valid_padding() const {
    const Pads p = resolved();
    for (std::size_t d = 0; d < xs.size(); ++d)
      if (xs[d] + p[d].first + p[d].second < 0) return false;
    return true;
  }
  Array pool(const Array& x, ReduceOp op) const {
    return reduce_window(x, op, window, strides, padding());
  }
};

PoolCase gen_pool_case() {
  PoolCase c;
  const int r = *rc::gen::inRange(1, 5);
  for (int d = 0; d < r; ++d) {
    c.xs.push_back(*rc::gen::inRange<std::int64_t>(0, 6));
    c.window.push_back(*rc::gen::inRange<std::int64_t>(1, 4));
    c.strides.push_back(*rc::gen::inRange<std::int64_t>(1, 4));
    c.explicit_pads.push_back(
        {*rc::gen::inRange<std::int64_t>(-1, 3), *rc::gen::inRange<std::int64_t>(-1, 3)});
  }
  c.pad_kind = *rc::gen::inRange(0, 3);
  return c;
}

/// lax.reduce_window written literally: pad with the identity (-inf or 0), reduce every window.
/// With `argmax`, also the flat input position of each window's first maximum (-1 when the
/// window is all padding).
std::vector<double> reference_pool(const std::vector<double>& x, const PoolCase& c, ReduceOp op,
                                   Shape& out_shape, std::vector<std::int64_t>* argmax = nullptr) {
  const Pads pads = c.resolved();
  const std::size_t r = c.xs.size();
  out_shape.clear();
  for (std::size_t d = 0; d < r; ++d) {
    std::int64_t padded = c.xs[d] + pads[d].first + pads[d].second;
    out_shape.push_back(padded < c.window[d] ? 0 : (padded - c.window[d]) / c.strides[d] + 1);
  }
  std::vector<double> out(static_cast<std::size_t>(numel(out_shape)));
  if (argmax) argmax->assign(out.size(), -1);
  for (std::int64_t f = 0; f < numel(out_shape); ++f) {
    const Shape o = unravel(f, out_shape);
    double acc = op == ReduceOp::Max ? -std::numeric_limits<double>::infinity() : 0.0;
    std::int64_t best = -1;
    for (std::int64_t t = 0; t < numel(c.window); ++t) {
      Shape i = unravel(t, c.window);
      bool inside = true;
      for (std::size_t d = 0; d < r; ++d) {
        i[d] += o[d] * c.strides[d] - pads[d].first;
        inside = inside && i[d] >= 0 && i[d] < c.xs[d];
      }
      if (!inside) continue;  // padding: the identity
      const std::int64_t src = ravel(i, c.xs);
      const double v = x[static_cast<std::size_t>(src)];
      if (op == ReduceOp::Sum) {
        acc += v;
      } else if (best < 0 || v > acc) {
        acc = v;
        best = src;
      }
    }
    out[static_cast<std::size_t>(f)] = acc;
    if (argmax) (*argmax)[static_cast<std::size_t>(f)] = best;
  }
  return out;
}

std::vector<double> gen_values(const Shape& s) {
  return *rc::gen::container<std::vector<double>>(
      static_cast<std::size_t>(numel(s)),
      rc::gen::map(rc::gen::inRange(-9, 10), [](int v) { return static_cast<double>(v); }));
}

}  // namespace

TEST_SUITE("pool") {
  TEST_CASE("pool: known values (Flax tests)") {
    Array x = Array::from_vector(arange(9).to_vector<float>(), {1, 3, 3, 1});
    Array y = reduce_window(x, ReduceOp::Max, {1, 2, 2, 1}, {1, 1, 1, 1});
    CHECK(y.shape() == Shape{1, 2, 2, 1});
    CHECK(y.to_vector<float>() == std::vector<float>{4, 5, 7, 8});
    Array s = reduce_window(full({1, 3, 3, 1}, 2.0), ReduceOp::Sum, {1, 2, 2, 1});
    CHECK(s.to_vector<float>() == std::vector<float>(4, 8.f));
    // SAME pads with -inf for max and 0 for sum: a 3x3 window, stride 1, on 3x3.
    Array m = reduce_window(x, ReduceOp::Max, {1, 3, 3, 1}, {}, "SAME");
    CHECK(m.to_vector<float>() == std::vector<float>{4, 5, 5, 7, 8, 8, 7, 8, 8});
    Array t = reduce_window(x, ReduceOp::Sum, {1, 3, 3, 1}, {}, "SAME");
    CHECK(t.to_vector<float>() == std::vector<float>{8, 15, 12, 21, 36, 27, 20, 33, 24});
    // 2x2 stride 2 (the common pooling) on 4x4 with two channels.
    Array x4 = Array::from_vector(arange(32).to_vector<float>(), {1, 4, 4, 2});
    Array p = reduce_window(x4, ReduceOp::Max, {1, 2, 2, 1}, {1, 2, 2, 1});
    CHECK(p.to_vector<float>() == std::vector<float>{10, 11, 14, 15, 26, 27, 30, 31});
    Array q = reduce_window(x4, ReduceOp::Sum, {1, 2, 2, 1}, {1, 2, 2, 1});
    CHECK(q.to_vector<float>() == std::vector<float>{20, 24, 36, 40, 84, 88, 100, 104});
    // Integers: max and (wrapping) sums in the operand's dtype.
    Array xi = reduce_window(arange(6), ReduceOp::Sum, {2}, {2});
    CHECK(xi.dtype() == int32);
    CHECK(xi.to_vector<int>() == std::vector<int>{1, 5, 9});
    // A window wholly in the padding gives the identity.
    Array e = reduce_window(Array({1.f, 2.f}), ReduceOp::Max, {1}, {}, Pads{{1, 0}});
    CHECK(std::isinf(e.to_vector<float>()[0]));
    CHECK(e.to_vector<float>()[1] == 1.f);
    // NaN propagates through max.
    Array n = reduce_window(Array({1.f, std::nanf(""), 3.f}), ReduceOp::Max, {2});
    CHECK(std::isnan(n.to_vector<float>()[0]));
    CHECK(std::isnan(n.to_vector<float>()[1]));
  }

  TEST_CASE("pool: error paths") {
    Array x = zeros({1, 4, 4, 1});
    CHECK_THROWS_AS(reduce_window(x, ReduceOp::Max, {2, 2}), ShapeError);
    CHECK(message_of([&] {
            reduce_window(x, ReduceOp::Max, {2, 2});
          }) ==
          "[reduce_window] window (2,2) has 2 entries but the operand with shape (1,4,4,1) has 4 "
          "axes; give one entry per axis.");
    CHECK_THROWS_AS(reduce_window(x, ReduceOp::Max, {1, 2, 2, 1}, {2, 2}), ShapeError);
    CHECK_THROWS_AS(reduce_window(x, ReduceOp::Sum, {1, 0, 2, 1}), ValueError);
    CHECK_THROWS_AS(reduce_window(x, ReduceOp::Sum, {1, 2, 2, 1}, {1, 0, 1, 1}), ValueError);
    CHECK_THROWS_AS(reduce_window(x, ReduceOp::Sum, {1, 2, 2, 1}, {}, Pads{{0, 0}}), ShapeError);
    CHECK_THROWS_AS(
        reduce_window(x, ReduceOp::Sum, {1, 2, 2, 1}, {}, Pads{{0, 0}, {-5, 0}, {0, 0}, {0, 0}}),
        ValueError);
    CHECK_THROWS_AS(reduce_window(zeros({2, 2}, bool_), ReduceOp::Max, {1, 1}), DtypeError);
  }

  TEST_CASE("pool: matches the literal lax definition on random configurations") {
    CHECK(rc::check("reduce_window == reference", [] {
      PoolCase c = gen_pool_case();
      const ReduceOp op = *rc::gen::element(ReduceOp::Max, ReduceOp::Sum);
      if (!c.valid_padding()) {
        RC_ASSERT_THROWS_AS(c.pool(zeros(c.xs), op), ValueError);
        return;
      }
      const auto xv = gen_values(c.xs);
      Shape out_shape;
      const auto expected = reference_pool(xv, c, op, out_shape);
      for (DType t : {float32, float64, int32}) {
        Array y = c.pool(Array::from_vector(xv, c.xs, t), op);
        RC_ASSERT(y.shape() == out_shape);
        RC_ASSERT(y.dtype() == t);
        if (t == int32) {
          auto e = expected;  // the identity of max is the dtype's lowest value
          for (auto& v : e)
            if (std::isinf(v)) v = std::numeric_limits<std::int32_t>::lowest();
          RC_ASSERT(y.to_vector<double>() == e);
        } else {
          RC_ASSERT(y.to_vector<double>() == expected);
        }
      }
    }));
  }

  TEST_CASE("pool: gradients, known values (Flax tests)") {
    // Average pooling is a window sum divided by the window size; the gradient of the sum of
    // avg_pool over a 3x3 input with 2x2 windows counts the windows covering each position / 4.
    Array x = full({1, 3, 3, 1}, 2.0);
    auto [s, sum_vjp] = vjp(
        [](const Array& a) {
          return reduce_window(a, ReduceOp::Sum, {1, 2, 2, 1});
        },
        x);
    CHECK(sum_vjp(full(s.shape(), 0.25)).to_vector<float>() ==
          std::vector<float>{.25f, .5f, .25f, .5f, 1.f, .5f, .25f, .5f, .25f});
    // Max pooling: the gradient goes to each window's maximum.
    Array r = Array::from_vector(arange(9).to_vector<float>(), {1, 3, 3, 1});
    auto [m, max_vjp] = vjp(
        [](const Array& a) {
          return reduce_window(a, ReduceOp::Max, {1, 2, 2, 1});
        },
        r);
    CHECK(max_vjp(ones(m.shape())).to_vector<float>() ==
          std::vector<float>{0, 0, 0, 0, 1, 1, 0, 1, 1});
    // Ties: the first maximum in row-major window order gets it (JAX's select with `ge`).
    auto [t, tie_vjp] = vjp(
        [](const Array& a) {
          return reduce_window(a, ReduceOp::Max, {1, 2, 2, 1});
        },
        ones({1, 3, 3, 1}));
    CHECK(tie_vjp(ones(t.shape())).to_vector<float>() ==
          std::vector<float>{1, 1, 0, 1, 1, 0, 0, 0, 0});
    // Forward mode picks the same positions.
    auto [m2, tangent] = jvp(
        [](const Array& a) {
          return reduce_window(a, ReduceOp::Max, {1, 2, 2, 1});
        },
        r, Array::from_vector(arange(10, 19).to_vector<float>(), {1, 3, 3, 1}));
    CHECK(tangent.to_vector<float>() == std::vector<float>{14, 15, 17, 18});
    // 2x2 stride 2 over channels; a window wholly in the padding passes nothing.
    Array x4 = Array::from_vector(arange(16).to_vector<float>(), {1, 2, 4, 2});
    auto [p, p_vjp] = vjp(
        [](const Array& a) {
          return reduce_window(a, ReduceOp::Max, {1, 2, 2, 1}, {1, 2, 2, 1},
                               Pads{{0, 0}, {0, 0}, {0, 2}, {0, 0}});
        },
        x4);
    CHECK(p.shape() == Shape{1, 1, 3, 2});
    CHECK(std::isinf(p.to_vector<float>()[4]));
    CHECK(p_vjp(ones(p.shape())).to_vector<float>() ==
          std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1});
  }

  TEST_CASE("pool: derivatives of every order match finite differences") {
    CHECK(rc::check("check_grads of reduce_window", [] {
      PoolCase c = gen_pool_case();
      RC_PRE(c.valid_padding());
      const ReduceOp op = *rc::gen::element(ReduceOp::Max, ReduceOp::Sum);
      // Distinct values a grid step apart, so that no finite-difference step changes which
      // element is a window's maximum.
      const std::int64_t n = numel(c.xs);
      const auto perm = *rc::gen::unique<std::vector<int>>(static_cast<std::size_t>(n),
                                                           rc::gen::inRange(0, 1000));
      std::vector<double> v(perm.begin(), perm.end());
      for (auto& e : v) e *= 0.01;
      testing::check_grads([c, op](const Array& a) { return c.pool(a, op); },
                           Array::from_vector(v, c.xs, float64), 3);
    }));
  }

  TEST_CASE("pool: the derivative rules are consistent with each other") {
    // select_scatter and select_gather are each other's transposes, as are the window sum and
    // its transpose: <u, vjp(v)> = <jvp(v), u> for the recorded positions.
    CHECK(rc::check("vjp and jvp of reduce_window agree", [] {
      PoolCase c = gen_pool_case();
      RC_PRE(c.valid_padding());
      const ReduceOp op = *rc::gen::element(ReduceOp::Max, ReduceOp::Sum);
      Array x = Array::from_vector(gen_values(c.xs), c.xs, float64);
      Shape out_shape;
      std::vector<std::int64_t> argmax;
      reference_pool(x.to_vector<double>(), c, op, out_shape, &argmax);
      const auto tv = gen_values(c.xs);
      const auto uv = gen_values(out_shape);
      auto f = [c, op](const Array& a) { return c.pool(a, op); };
      auto [y, vjp_fn] = vjp(f, x);
      auto [y2, jt] = jvp(f, x, Array::from_vector(tv, c.xs, float64));
      auto ct = vjp_fn(Array::from_vector(uv, out_shape, float64)).to_vector<double>();
      auto jv = jt.to_vector<double>();
      double lhs = 0, rhs = 0;
      for (std::size_t i = 0; i < ct.size(); ++i) lhs += ct[i] * tv[i];
      for (std::size_t i = 0; i < jv.size(); ++i) rhs += jv[i] * uv[i];
      RC_ASSERT(lhs == rhs);
      if (op == ReduceOp::Max) {  // the tangent is gathered from the reference's first maxima
        for (std::size_t i = 0; i < jv.size(); ++i)
          RC_ASSERT(jv[i] == (argmax[i] < 0 ? 0.0 : tv[static_cast<std::size_t>(argmax[i])]));
      }
    }));
  }

  TEST_CASE("pool: average pooling gradients (Flax tests)") {
    // avg_pool = window sum / window size (Flax counts the padding).
    auto avg_pool = [](const Array& a) {
      return reduce_window(a, ReduceOp::Sum, {1, 2, 2, 1}) / 4.0;
    };
    const Array x = full({1, 3, 3, 1}, 2.0);
    CHECK(avg_pool(x).to_vector<float>() == std::vector<float>(4, 2.f));
    CHECK(grad([&](const Array& a) { return sum(avg_pool(a)); })(x).to_vector<float>() ==
          std::vector<float>{.25f, .5f, .25f, .5f, 1.f, .5f, .25f, .5f, .25f});
    CHECK(grad([&](const Array& a) { return mean(avg_pool(a)); })(x).to_vector<float>() ==
          std::vector<float>{.0625f, .125f, .0625f, .125f, .25f, .125f, .0625f, .125f, .0625f});
    // max_pool: the gradient of the sum is 1 at each window's maximum (positions 4, 5, 7, 8).
    const Array r = Array::from_vector(arange(9).to_vector<float>(), {1, 3, 3, 1});
    CHECK(grad([](const Array& a) {
            return sum(reduce_window(a, ReduceOp::Max, {1, 2, 2, 1}));
          })(r)
              .to_vector<float>() == std::vector<float>{0, 0, 0, 0, 1, 1, 0, 1, 1});
    // Second order: the Hessian of sum(max_pool(x)^2) is diagonal, 2 at each selected element
    // (times the number of windows that select it).
    const Array h = hvp(
        [](const Array& a) {
          Array m = reduce_window(a, ReduceOp::Max, {1, 2, 2, 1});
          return sum(m * m);
        },
        r, ones({1, 3, 3, 1}));
    CHECK(h.to_vector<float>() == std::vector<float>{0, 0, 0, 0, 2, 2, 0, 2, 2});
  }

  TEST_CASE("pool: the gradient of windows that tile the input (2x2, stride 2)") {
    // Each input element lies in one window: its cotangent is its window's, written once (the
    // fast path), with the bits of the zero-fill-and-add path: a -0 cotangent comes back +0.
    const Array w = Array::from_vector(std::vector<float>{1.5f, -0.0f, -2.f, 4.f}, {1, 2, 2, 1});
    const Array x = full({1, 4, 4, 1}, 1.0);
    const auto pooled_dot = [&](const Array& a) {
      return sum(reduce_window(a, ReduceOp::Sum, {1, 2, 2, 1}, {1, 2, 2, 1}) * w);
    };
    const std::vector<float> g = grad(pooled_dot)(x).to_vector<float>();
    CHECK(g == std::vector<float>{1.5f, 1.5f, 0, 0, 1.5f, 1.5f, 0, 0,  //
                                  -2, -2, 4, 4, -2, -2, 4, 4});
    CHECK_FALSE(std::signbit(g[2]));
    // The same window sums over a padded input (not a tiling) give the same interior gradient.
    const auto padded = [&](const Array& a) {
      return sum(reduce_window(a, ReduceOp::Sum, {1, 2, 2, 1}, {1, 2, 2, 1},
                               Padding({{0, 0}, {0, 1}, {0, 1}, {0, 0}})) *
                 w);
    };
    CHECK(
        array_equal(grad(padded)(full({1, 3, 3, 1}, 1.0)),
                    Array::from_vector(std::vector<float>{1.5f, 1.5f, 0, 1.5f, 1.5f, 0, -2, -2, 4},
                                       {1, 3, 3, 1})));
  }
}
