#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "jute/testing.hpp"
#include "ops/conv_kernels.hpp"
#include "ops/window_helpers.hpp"

using namespace jute;
using namespace jute::window_test;

namespace {

/// The convolution written literally as lax defines it: insert lhs_dilation-1 zeros between
/// input elements, pad (negative pads crop), then slide the rhs-dilated kernel with the strides.
std::vector<double> reference_conv(const std::vector<double>& x, const Shape& xs,
                                   const std::vector<double>& w, const Shape& ws,
                                   const Shape& strides, const Pads& pads, const Shape& ldil,
                                   const Shape& rdil, std::int64_t G, Shape& out_shape) {
  const std::size_t D = xs.size() - 2;
  const std::int64_t C = xs.back(), O = ws.back(), Cg = C / G, Og = O / G;
  Shape ds = xs;  // dilated
  for (std::size_t d = 0; d < D; ++d)
    ds[d + 1] = xs[d + 1] == 0 ? 0 : (xs[d + 1] - 1) * ldil[d] + 1;
  std::vector<double> xd(static_cast<std::size_t>(numel(ds)), 0.0);
  for (std::int64_t f = 0; f < numel(xs); ++f) {
    Shape i = unravel(f, xs);
    for (std::size_t d = 0; d < D; ++d) i[d + 1] *= ldil[d];
    xd[static_cast<std::size_t>(ravel(i, ds))] = x[static_cast<std::size_t>(f)];
  }
  Shape ps = ds;  // padded
  for (std::size_t d = 0; d < D; ++d) ps[d + 1] = ds[d + 1] + pads[d].first + pads[d].second;
  std::vector<double> xp(static_cast<std::size_t>(numel(ps)), 0.0);
  for (std::int64_t f = 0; f < numel(ps); ++f) {
    Shape i = unravel(f, ps);
    bool inside = true;
    for (std::size_t d = 0; d < D; ++d) {
      i[d + 1] -= pads[d].first;
      inside = inside && i[d + 1] >= 0 && i[d + 1] < ds[d + 1];
    }
    if (inside) xp[static_cast<std::size_t>(f)] = xd[static_cast<std::size_t>(ravel(i, ds))];
  }
  out_shape = {xs[0]};
  for (std::size_t d = 0; d < D; ++d) {
    std::int64_t eff = (ws[d] - 1) * rdil[d] + 1;
    out_shape.push_back(ps[d + 1] < eff ? 0 : (ps[d + 1] - eff) / strides[d] + 1);
  }
  out_shape.push_back(O);
  Shape taps(ws.begin(), ws.end() - 2);
  taps.push_back(Cg);
  std::vector<double> out(static_cast<std::size_t>(numel(out_shape)), 0.0);
  for (std::int64_t f = 0; f < numel(out_shape); ++f) {
    Shape o = unravel(f, out_shape);
    const std::int64_t oc = o.back(), g = oc / Og;
    double acc = 0;
    for (std::int64_t t = 0; t < numel(taps); ++t) {
      Shape j = unravel(t, taps);
      Shape xi{o[0]};
      for (std::size_t d = 0; d < D; ++d) xi.push_back(o[d + 1] * strides[d] + j[d] * rdil[d]);
      xi.push_back(g * Cg + j.back());
      Shape wi(j.begin(), j.end());
      wi.push_back(oc);
      acc +=
          xp[static_cast<std::size_t>(ravel(xi, ps))] * w[static_cast<std::size_t>(ravel(wi, ws))];
    }
    out[static_cast<std::size_t>(f)] = acc;
  }
  return out;
}

/// lax.padtype_to_pads for SAME, written out for the tests.
Pads same_pads(const Shape& in, const Shape& eff_window, const Shape& strides) {
  Pads p;
  for (std::size_t d = 0; d < in.size(); ++d) {
    std::int64_t out = (in[d] + strides[d] - 1) / strides[d];
    std::int64_t total = std::max<std::int64_t>((out - 1) * strides[d] + eff_window[d] - in[d], 0);
    p.push_back({total / 2, total - total / 2});
  }
  return p;
}

/// A random convolution configuration (small: the reference is slow).
struct ConvCase {
  Shape xs, ws, strides, ldil, rdil;
  int pad_kind = 0;  // 0 SAME, 1 VALID, 2 explicit
  Pads explicit_pads;
  std::int64_t G = 1;

  Padding padding() const {
    if (pad_kind == 0) return Padding::same();
    if (pad_kind == 1) return Padding::valid();
    return Padding(explicit_pads);
  }
  Pads resolved() const {
    const std::size_t D = xs.size() - 2;
    if (pad_kind == 1) return Pads(D, {0, 0});
    if (pad_kind == 2) return explicit_pads;
    Shape in(xs.begin() + 1, xs.end() - 1), eff;
    for (std::size_t d = 0; d < D; ++d) eff.push_back((ws[d] - 1) * rdil[d] + 1);
    return same_pads(in, eff, strides);
  }
  bool valid_padding() const {
    const Pads p = resolved();
    for (std::size_t d = 0; d + 2 < xs.size(); ++d)
      if ((xs[d + 1] - 1) * ldil[d] + 1 + p[d].first + p[d].second < 0) return false;
    return true;
  }
  Array conv(const Array& x, const Array& w) const {
    return conv_general_dilated(x, w, strides, padding(), ldil, rdil, G);
  }
  detail::ConvGeometry geometry() const {
    return detail::make_conv_geometry(xs, ws, strides, padding(), ldil, rdil, G);
  }
};

ConvCase gen_case(int max_spatial_rank = 3) {
  ConvCase c;
  const int D = *rc::gen::inRange(1, max_spatial_rank + 1);
  c.G = *rc::gen::inRange<std::int64_t>(1, 4);
  const std::int64_t Cg = *rc::gen::inRange<std::int64_t>(1, 4);
  const std::int64_t Og = *rc::gen::inRange<std::int64_t>(1, 4);
  c.xs = {*rc::gen::inRange<std::int64_t>(1, 3)};
  c.ws.clear();
  const std::int64_t max_in = D == 3 ? 5 : 8;
  for (int d = 0; d < D; ++d) {
    c.xs.push_back(*rc::gen::inRange<std::int64_t>(1, max_in));
    c.ws.push_back(*rc::gen::inRange<std::int64_t>(1, 4));
    c.strides.push_back(*rc::gen::inRange<std::int64_t>(1, 4));
    c.ldil.push_back(*rc::gen::inRange<std::int64_t>(1, 3));
    c.rdil.push_back(*rc::gen::inRange<std::int64_t>(1, 3));
    c.explicit_pads.push_back(
        {*rc::gen::inRange<std::int64_t>(-2, 4), *rc::gen::inRange<std::int64_t>(-2, 4)});
  }
  c.xs.push_back(Cg * c.G);
  c.ws.push_back(Cg);
  c.ws.push_back(Og * c.G);
  c.pad_kind = *rc::gen::inRange(0, 3);
  return c;
}

/// Small integers as doubles: every sum of products is exact, in float32 and float64 alike.
std::vector<double> gen_ints(const Shape& s) {
  return *rc::gen::container<std::vector<double>>(
      static_cast<std::size_t>(numel(s)),
      rc::gen::map(rc::gen::inRange(-4, 5), [](int v) { return static_cast<double>(v); }));
}

/// Random values in [-2, 2] on a grid of 1/8 (float64).
Array gen_real(const Shape& s) {
  auto v = gen_ints(s);
  for (auto& e : v) e *= 0.5;
  return Array::from_vector(v, s, float64);
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

TEST_SUITE("conv") {
  TEST_CASE("conv: Padding resolves as lax.padtype_to_pads") {
    // SAME: out = ceil(in / stride), total = max((out-1)*stride + window - in, 0), low = total/2.
    using P = Pads;
    CHECK(Padding::same().resolve({28, 28}, {3, 3}, {1, 1}) == P{{1, 1}, {1, 1}});
    CHECK(Padding("SAME").resolve({5}, {4}, {1}) == P{{1, 2}});
    CHECK(Padding("same").resolve({7}, {3}, {2}) == P{{1, 1}});
    CHECK(Padding::same().resolve({8}, {3}, {2}) == P{{0, 1}});
    CHECK(Padding::same().resolve({4}, {1}, {3}) == P{{0, 0}});
    CHECK(Padding::same().resolve({2}, {5}, {1}) == P{{2, 2}});
    CHECK(Padding::valid().resolve({9, 9}, {3, 2}, {2, 1}) == P{{0, 0}, {0, 0}});
    CHECK(Padding(P{{2, -1}}).resolve({9}, {3}, {2}) == P{{2, -1}});
    CHECK(Padding(P{{1, 1}}).kind() == Padding::Kind::Explicit);
    CHECK_THROWS_AS(Padding("FULL"), ValueError);
    CHECK(message_of([] { Padding("FULL"); }).rfind("[Padding] Unknown padding \"FULL\"", 0) == 0);
    CHECK_THROWS_AS(Padding(P{{1, 1}}).resolve({4, 4}, {3, 3}, {1, 1}), ShapeError);
  }

  TEST_CASE("conv: known values (Flax and lax tests)") {
    // Flax Conv 1-D: kernel (3,3,4) of ones on ones(1,8,3), VALID → 9 everywhere.
    Array y = conv_general_dilated(ones({1, 8, 3}), ones({3, 3, 4}));
    CHECK(y.shape() == Shape{1, 6, 4});
    CHECK(y.to_vector<float>() == std::vector<float>(24, 9.f));
    // Grouped: ones(1,8,4) with kernel (3,2,4) of ones, 2 groups → 6 (Flax adds bias 1 → 7).
    Array yg = conv_general_dilated(ones({1, 8, 4}), ones({3, 2, 4}), {}, "VALID", {}, {}, 2);
    CHECK(yg.shape() == Shape{1, 6, 4});
    CHECK(yg.to_vector<float>() == std::vector<float>(24, 6.f));
    // [1..5] * [1,2,1], SAME and stride 2 VALID.
    Array x = Array::from_vector(std::vector<float>{1, 2, 3, 4, 5}, {1, 5, 1});
    Array k = Array::from_vector(std::vector<float>{1, 2, 1}, {3, 1, 1});
    CHECK(conv_general_dilated(x, k, {1}, "SAME").to_vector<float>() ==
          std::vector<float>{4, 8, 12, 16, 14});
    CHECK(conv_general_dilated(x, k, {2}, "VALID").to_vector<float>() == std::vector<float>{8, 16});
    // Transposed (lhs dilation 2): [1,0,2,0,3,0,4,0,5] * [1,2,1] VALID.
    CHECK(conv_general_dilated(x, k, {}, "VALID", {2}).to_vector<float>() ==
          std::vector<float>{3, 4, 5, 6, 7, 8, 9});
    // Atrous (rhs dilation 2): taps 0, 2, 4 of [1..5] → 1 + 2*3 + 5.
    CHECK(conv_general_dilated(x, k, {}, "VALID", {}, {2}).to_vector<float>() ==
          std::vector<float>{12});
    // Negative padding crops: (-1, -1) leaves [2,3,4] → 2 + 6 + 4.
    CHECK(conv_general_dilated(x, k, {}, Pads{{-1, -1}}).to_vector<float>() ==
          std::vector<float>{12});
    // Float64 stays float64.
    Array y64 = conv_general_dilated(x.astype(float64), k.astype(float64), {1}, "SAME");
    CHECK(y64.dtype() == float64);
    CHECK(y64.to_vector<double>() == std::vector<double>{4, 8, 12, 16, 14});
    // Mixed float dtypes promote.
    CHECK(conv_general_dilated(x, k.astype(float64), {1}, "SAME").dtype() == float64);
  }

  TEST_CASE("conv: 2-D SAME 3x3 on a ramp matches hand-computed sums") {
    // 3x3 ones kernel, SAME: each output is the sum of its in-bounds 3x3 neighbourhood.
    Array x = arange(0.0, 9.0, 1.0).astype(float32);
    x = Array::from_vector(x.to_vector<float>(), {1, 3, 3, 1});
    Array y = conv_general_dilated(x, ones({3, 3, 1, 1}), {1, 1}, "SAME");
    CHECK(y.to_vector<float>() == std::vector<float>{8, 15, 12, 21, 36, 27, 20, 33, 24});
    // A 1x1 convolution is a matmul over channels (the im2col-free path).
    Array xc = Array::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {1, 1, 2, 3});
    Array w = Array::from_vector(std::vector<float>{1, 0, 0, 1, 1, 1}, {1, 1, 3, 2});
    CHECK(conv_general_dilated(xc, w).to_vector<float>() == std::vector<float>{4, 5, 10, 11});
  }

  TEST_CASE("conv: empty sizes") {
    // A padded input smaller than the window gives an empty output, as lax.
    CHECK(conv_general_dilated(ones({2, 2, 3}), ones({3, 3, 4})).shape() == Shape{2, 0, 4});
    CHECK(conv_general_dilated(ones({0, 5, 3}), ones({3, 3, 4})).shape() == Shape{0, 3, 4});
    Array y0 = conv_general_dilated(ones({1, 5, 0}), ones({2, 0, 4}));
    CHECK(y0.shape() == Shape{1, 4, 4});
    CHECK(y0.to_vector<float>() == std::vector<float>(16, 0.f));
    CHECK(conv_general_dilated(ones({1, 5, 2}), ones({2, 2, 0})).shape() == Shape{1, 4, 0});
  }

  TEST_CASE("conv: error paths") {
    auto msg = [](auto f) { return message_of(f); };
    CHECK_THROWS_AS(conv_general_dilated(ones({8, 3}), ones({3, 3, 4})), ShapeError);
    CHECK(msg([] {
            conv_general_dilated(ones({1, 8, 3}), ones({3, 3, 3, 4}));
          }) ==
          "[conv_general_dilated] lhs with shape (1,8,3) and rhs with shape (3,3,3,4) must have "
          "the same rank (rhs is (spatial..., in_channels, out_channels)).");
    CHECK_THROWS_AS(conv_general_dilated(ones({1, 8, 3}), ones({3, 2, 4})), ShapeError);
    std::string m = msg([] { conv_general_dilated(ones({1, 8, 3}), ones({3, 2, 4})); });
    CHECK(m.rfind("[conv_general_dilated] lhs with shape (1,8,3) has 3 input channels but rhs "
                  "with shape (3,2,4)",
                  0) == 0);
    CHECK_THROWS_AS(conv_general_dilated(ones({1, 8, 4}), ones({3, 2, 3}), {}, "VALID", {}, {}, 2),
                    ShapeError);
    CHECK_THROWS_AS(conv_general_dilated(ones({1, 8, 3}), ones({3, 1, 4}), {}, "VALID", {}, {}, 2),
                    ShapeError);
    CHECK_THROWS_AS(conv_general_dilated(ones({1, 8, 3}), ones({3, 3, 4}), {}, "VALID", {}, {}, 0),
                    ValueError);
    CHECK_THROWS_AS(conv_general_dilated(ones({1, 8, 3}), ones({3, 3, 4}), {1, 1}), ShapeError);
    CHECK_THROWS_AS(conv_general_dilated(ones({1, 8, 3}), ones({3, 3, 4}), {0}), ValueError);
    CHECK_THROWS_AS(conv_general_dilated(ones({1, 8, 3}), ones({3, 3, 4}), {}, "VALID", {0}),
                    ValueError);
    CHECK_THROWS_AS(
        conv_general_dilated(ones({1, 8, 3}), ones({3, 3, 4}), {}, Pads{{1, 1}, {1, 1}}),
        ShapeError);
    CHECK_THROWS_AS(conv_general_dilated(ones({1, 8, 3}), ones({3, 3, 4}), {}, Pads{{-5, -4}}),
                    ValueError);
    CHECK_THROWS_AS(conv_general_dilated(ones({1, 8, 3}), ones({0, 3, 4})), ShapeError);
    CHECK_THROWS_AS(conv_general_dilated(ones({1, 8, 3}, int32), ones({3, 3, 4})), DtypeError);
    CHECK(msg([] {
            conv_general_dilated(ones({1, 8, 3}), ones({3, 3, 4}, int32));
          }).rfind("[conv_general_dilated] Operands of dtype int32 are not supported", 0) == 0);
  }

  TEST_CASE("conv: matches the literal lax definition on random configurations") {
    CHECK(rc::check("fast conv == reference", [] {
      ConvCase c = gen_case();
      if (!c.valid_padding()) {
        RC_ASSERT_THROWS_AS(c.conv(zeros(c.xs), zeros(c.ws)), ValueError);
        return;
      }
      const auto xv = gen_ints(c.xs), wv = gen_ints(c.ws);
      Shape out_shape;
      const auto expected = reference_conv(xv, c.xs, wv, c.ws, c.strides, c.resolved(), c.ldil,
                                           c.rdil, c.G, out_shape);
      for (DType t : {float32, float64}) {
        Array y = c.conv(Array::from_vector(xv, c.xs, t), Array::from_vector(wv, c.ws, t));
        RC_ASSERT(y.shape() == out_shape);
        RC_ASSERT(y.dtype() == t);
        RC_ASSERT(y.to_vector<double>() == expected);
      }
    }));
  }

  TEST_CASE("conv: larger 2-D convolutions (several im2col chunks) match the reference") {
    // 3x3 SAME with 32 input channels over a batch: the im2col buffer needs several chunks.
    for (auto [xs, ws, pads] : std::vector<std::tuple<Shape, Shape, Pads>>{
             {{4, 20, 20, 32}, {3, 3, 32, 8}, {{1, 1}, {1, 1}}},
             {{3, 17, 9, 5}, {5, 2, 5, 6}, {{2, 3}, {0, 1}}}}) {
      std::vector<double> xv(static_cast<std::size_t>(numel(xs))),
          wv(static_cast<std::size_t>(numel(ws)));
      for (std::size_t i = 0; i < xv.size(); ++i) xv[i] = static_cast<double>(int(i * 7 % 9) - 4);
      for (std::size_t i = 0; i < wv.size(); ++i) wv[i] = static_cast<double>(int(i * 5 % 7) - 3);
      Shape out_shape;
      auto expected = reference_conv(xv, xs, wv, ws, {1, 1}, pads, {1, 1}, {1, 1}, 1, out_shape);
      Array y = conv_general_dilated(Array::from_vector(xv, xs), Array::from_vector(wv, ws), {1, 1},
                                     pads);
      CHECK(y.shape() == out_shape);
      CHECK(y.to_vector<double>() == expected);
    }
  }

  TEST_CASE("conv: input and kernel gradients are the transposes of the convolution") {
    // <g, conv(x, w)> = <conv_input_grad(g, w), x> = <conv_kernel_grad(x, g), w>, exactly with
    // small integers.
    CHECK(rc::check("adjoint identities", [] {
      ConvCase c = gen_case();
      RC_PRE(c.valid_padding());
      const auto geo = c.geometry();
      const auto xv = gen_ints(c.xs), wv = gen_ints(c.ws), gv = gen_ints(geo.out_shape());
      for (DType t : {float32, float64}) {
        Array x = Array::from_vector(xv, c.xs, t), w = Array::from_vector(wv, c.ws, t);
        Array g = Array::from_vector(gv, geo.out_shape(), t);
        const double lhs = dot(gv, detail::conv_forward(x, w, geo).to_vector<double>());
        RC_ASSERT(dot(detail::conv_input_grad(g, w, geo).to_vector<double>(), xv) == lhs);
        RC_ASSERT(dot(detail::conv_kernel_grad(x, g, geo).to_vector<double>(), wv) == lhs);
      }
    }));
  }

  TEST_CASE("conv: derivatives of every order match finite differences") {
    // conv is bilinear: check_grads at order 2 exercises the rules of conv_input_grad and
    // conv_kernel_grad too (JVP of VJP, VJP of VJP, ...); order 3 closes the loop once more.
    CHECK(rc::check("check_grads of conv_general_dilated", [] {
      ConvCase c = gen_case(2);
      RC_PRE(c.valid_padding());
      const Array x = gen_real(c.xs), w = gen_real(c.ws);
      testing::check_grads([c](const std::vector<Array>& a) { return c.conv(a[0], a[1]); }, {x, w},
                           2);
    }));
    // A 3-D case with everything at once, to third order.
    ConvCase c;
    c.xs = {1, 4, 3, 5, 4};
    c.ws = {2, 2, 3, 2, 4};
    c.strides = {2, 1, 2};
    c.ldil = {1, 2, 1};
    c.rdil = {2, 1, 1};
    c.pad_kind = 2;
    c.explicit_pads = {{1, 0}, {-1, 2}, {2, 1}};
    c.G = 2;
    std::vector<double> xv(static_cast<std::size_t>(numel(c.xs))),
        wv(static_cast<std::size_t>(numel(c.ws)));
    for (std::size_t i = 0; i < xv.size(); ++i) xv[i] = std::sin(0.7 * static_cast<double>(i));
    for (std::size_t i = 0; i < wv.size(); ++i) wv[i] = std::cos(1.3 * static_cast<double>(i));
    CHECK_NOTHROW(testing::check_grads(
        [c](const std::vector<Array>& a) { return c.conv(a[0], a[1]); },
        {Array::from_vector(xv, c.xs, float64), Array::from_vector(wv, c.ws, float64)}, 3));
  }

  TEST_CASE("conv_general_dilated_bias: conv plus bias, its gradients and errors") {
    const Array x = Array::from_vector(
        std::vector<double>{1, -2, 3, 0.5, 4, -1, 2, 2, -3, 1, 0, 5, -0.5, 1.5, 2.5, -4, 3, 1},
        {1, 3, 3, 2}, float32);
    const Array w =
        Array::from_vector(std::vector<double>{1, 0, -1, 2, 0.5, 1, 1, -1, 2, 0, 3, 1, -2, 1, 0, 1},
                           {2, 2, 2, 2}, float32);
    const Array b = Array::from_vector(std::vector<double>{0.25, -1}, {2}, float32);
    // The same bits as the convolution followed by the broadcast add (oneDNN path in float32).
    CHECK(array_equal(conv_general_dilated_bias(x, w, b, {1, 1}, "SAME"),
                      conv_general_dilated(x, w, {1, 1}, "SAME") + b));
    // The im2col path: lhs dilation, groups, float64.
    const Array x64 = x.astype(float64), w64 = reshape(w, {2, 2, 1, 4}).astype(float64);
    const Array b64 = Array::from_vector(std::vector<double>{1, 2, 3, 4}, {4}, float64);
    CHECK(array_equal(conv_general_dilated_bias(x64, w64, b64, {1, 1}, "SAME", {2, 1}, {}, 2),
                      conv_general_dilated(x64, w64, {1, 1}, "SAME", {2, 1}, {}, 2) + b64));
    // Mixed dtypes promote; the bias gradient is the cotangent summed over all but the channels.
    CHECK(conv_general_dilated_bias(x, w, b.astype(float64)).dtype() == float64);
    auto [y, pullback] = vjp(
        [&](const std::vector<Array>& a) {
          return conv_general_dilated_bias(a[0], a[1], a[2], {1, 1}, "SAME");
        },
        {x, w, b});
    const Array u = Array::from_vector(
        std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18},
        y.shape(), float32);
    const auto cts = pullback(u);
    CHECK(cts[2].to_vector<float>() == std::vector<float>{81, 90});
    auto [y_ref, pullback_ref] = vjp(
        [&](const std::vector<Array>& a) {
          return conv_general_dilated(a[0], a[1], {1, 1}, "SAME") + a[2];
        },
        {x, w, b});
    const auto ref = pullback_ref(u);
    CHECK(array_equal(cts[0], ref[0]));
    CHECK(array_equal(cts[1], ref[1]));
    CHECK_NOTHROW(testing::check_grads(
        [](const std::vector<Array>& a) {
          return tanh(conv_general_dilated_bias(a[0], a[1], a[2], {2, 1}, "SAME", {}, {1, 2}, 2));
        },
        {x64, w64, b64 * 0.1}, 2));
    CHECK(message_of([&] { conv_general_dilated_bias(x, w, ones({3})); }) ==
          "[conv_general_dilated_bias] bias with shape (3,) must have shape (2,), one value per "
          "output channel of rhs with shape (2,2,2,2).");
    CHECK_THROWS_AS(conv_general_dilated_bias(x, w, ones({2}, int32)), DtypeError);
  }

  TEST_CASE("conv: gradients with respect to one operand") {
    // The rule skips the cotangent of an operand that no trace follows; the other must not change.
    ConvCase c;
    c.xs = {2, 5, 4, 3};
    c.ws = {3, 2, 3, 4};
    c.strides = {1, 2};
    c.ldil = {1, 1};
    c.rdil = {1, 1};
    const auto xv = std::vector<double>(static_cast<std::size_t>(numel(c.xs)), 0.5);
    Array x = Array::from_vector(xv, c.xs), w = ones(c.ws);
    Array u = ones(conv_general_dilated(x, w, c.strides, "SAME").shape());
    auto [y, both] = vjp(
        [&](const std::vector<Array>& a) {
          return conv_general_dilated(a[0], a[1], c.strides, "SAME");
        },
        {x, w});
    auto [y_w, only_w] =
        vjp([&](const Array& k) { return conv_general_dilated(x, k, c.strides, "SAME"); }, w);
    auto [y_x, only_x] =
        vjp([&](const Array& v) { return conv_general_dilated(v, w, c.strides, "SAME"); }, x);
    auto cts = both(u);
    CHECK(only_w(u).to_vector<float>() == cts[1].to_vector<float>());
    CHECK(only_x(u).to_vector<float>() == cts[0].to_vector<float>());
    CHECK(cts[0].dtype() == float32);
    // Known value: with ones everywhere the input gradient counts the taps that read a position,
    // times the 4 output channels. Position (0, 0) is read by two kernel rows (SAME pads the
    // height by 1 on each side) and one kernel column (stride 2 needs no width padding).
    CHECK(cts[0].to_vector<float>()[0] == 8.f);
  }

  TEST_CASE("conv: second order through a nonlinearity (grad of grad, Hessian-vector products)") {
    // A small CNN layer: sum(tanh(conv(x, w))). Its second derivatives feed non-constant
    // cotangents to the rules of conv_input_grad and conv_kernel_grad.
    const Shape xs{2, 5, 4, 2}, ws{3, 2, 2, 3};
    std::vector<double> xv(static_cast<std::size_t>(numel(xs))),
        wv(static_cast<std::size_t>(numel(ws)));
    for (std::size_t i = 0; i < xv.size(); ++i)
      xv[i] = 0.5 * std::sin(0.9 * static_cast<double>(i));
    for (std::size_t i = 0; i < wv.size(); ++i)
      wv[i] = 0.4 * std::cos(1.7 * static_cast<double>(i));
    const Array x = Array::from_vector(xv, xs, float64), w = Array::from_vector(wv, ws, float64);
    auto layer = [](const Array& a, const Array& k) {
      return sum(tanh(conv_general_dilated(a, k, {2, 1}, "SAME", {}, {1, 2})));
    };
    CHECK_NOTHROW(testing::check_grads(
        [&](const std::vector<Array>& a) { return layer(a[0], a[1]); }, {x, w}, 2));
    // hvp against central differences of the gradient.
    std::vector<double> vv(wv.size());
    for (std::size_t i = 0; i < vv.size(); ++i) vv[i] = std::cos(0.3 * static_cast<double>(i));
    const Array v = Array::from_vector(vv, ws, float64);
    auto f = [&](const Array& k) { return layer(x, k); };
    const auto hv = hvp(f, w, v).to_vector<double>();
    const double eps = 1e-5;
    const auto gp = grad(f)(w + eps * v).to_vector<double>();
    const auto gm = grad(f)(w - eps * v).to_vector<double>();
    for (std::size_t i = 0; i < hv.size(); ++i)
      CHECK(hv[i] == doctest::Approx((gp[i] - gm[i]) / (2 * eps)).epsilon(1e-6));
    // grad of grad with respect to the input, through the kernel gradient.
    auto g_of_g = grad([&](const Array& a) {
      return sum(grad([&](const Array& k) { return layer(a, k); })(w) * v);
    })(x);
    CHECK(g_of_g.shape() == xs);
    const auto gx = g_of_g.to_vector<double>();
    auto dot_v = [&](const Array& a) {
      return sum(grad([&](const Array& k) { return layer(a, k); })(w) * v).item<double>();
    };
    for (std::size_t i : {std::size_t{0}, std::size_t{7}, std::size_t{33}}) {
      std::vector<double> xp = xv, xm = xv;
      xp[i] += eps;
      xm[i] -= eps;
      const double fd = (dot_v(Array::from_vector(xp, xs, float64)) -
                         dot_v(Array::from_vector(xm, xs, float64))) /
                        (2 * eps);
      CHECK(gx[i] == doctest::Approx(fd).epsilon(1e-6));
    }
  }
}
