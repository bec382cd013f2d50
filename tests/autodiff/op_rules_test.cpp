// Every differentiable op of ops.hpp checked against finite differences, to second order, in
// forward and reverse mode, on RapidCheck-generated shapes and values. Values are drawn away
// from the ops' kinks (ties of max/min, |x| near 0, integers for floor/round) so that finite
// differences are meaningful there.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <numeric>

#include "core/trace.hpp"
#include "jute/ops.hpp"
#include "jute/testing.hpp"

using namespace jute;
using jute::testing::check_grads;

namespace {

// rc::check with a small number of cases: these properties are expensive (each case runs a
// second-order check in two modes), and a few random shapes per op find the broadcasting and
// axis bugs.
template <class Testable>
bool few(const std::string& description, Testable&& testable, int cases = 10) {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = cases;
  params.maxSize = 10;
  rc::detail::TestMetadata metadata;
  metadata.id = metadata.description = description;
  auto result = rc::detail::checkTestable(std::forward<Testable>(testable), metadata, params);
  if (!result.template is<rc::detail::SuccessResult>()) {
    std::cerr << "\n- " << description << "\n";
    rc::detail::printResultMessage(result, std::cerr);
    std::cerr << "\n";
  }
  return result.template is<rc::detail::SuccessResult>();
}

Shape gen_shape(int min_rank, int max_rank, int max_dim = 3) {
  int rank = *rc::gen::inRange(min_rank, max_rank + 1);
  Shape s;
  for (int i = 0; i < rank; ++i) s.push_back(*rc::gen::inRange(1, max_dim + 1));
  return s;
}

// A shape that broadcasts against `s`: a suffix of it with some dimensions set to 1.
Shape gen_broadcastable(const Shape& s) {
  auto keep = static_cast<std::size_t>(*rc::gen::inRange(0, static_cast<int>(s.size()) + 1));
  Shape out(s.end() - static_cast<std::ptrdiff_t>(keep), s.end());
  for (auto& d : out)
    if (*rc::gen::inRange(0, 3) == 0) d = 1;
  return out;
}

// A random permutation of 0..n-1 (sorting by random keys).
std::vector<int> gen_permutation(std::size_t n) {
  auto keys = *rc::gen::container<std::vector<int>>(n, rc::gen::arbitrary<int>());
  std::vector<int> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  std::stable_sort(perm.begin(), perm.end(), [&](int a, int b) {
    return keys[static_cast<std::size_t>(a)] < keys[static_cast<std::size_t>(b)];
  });
  return perm;
}

Array from_doubles(const std::vector<double>& v, const Shape& s) {
  return Array::from_vector(v, s, float64);
}

// Uniform in [lo, hi] on a grid of 1/1000 of the range.
Array gen_uniform(const Shape& s, double lo, double hi) {
  auto n = static_cast<std::size_t>(detail::shape_size(s));
  auto k = *rc::gen::container<std::vector<int>>(n, rc::gen::inRange(0, 1001));
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * k[i] / 1000.0;
  return from_doubles(v, s);
}

// Magnitude in [lo, hi], either sign.
Array gen_signed(const Shape& s, double lo, double hi) {
  auto mag = gen_uniform(s, lo, hi).to_vector<double>();
  auto sign = *rc::gen::container<std::vector<bool>>(mag.size(), rc::gen::arbitrary<bool>());
  for (std::size_t i = 0; i < mag.size(); ++i) mag[i] = sign[i] ? -mag[i] : mag[i];
  return from_doubles(mag, s);
}

// Values on the grid 0.1·k + offset, k in [-20, 20]: two arrays with different offsets never
// tie (they differ by at least the difference of the offsets).
Array gen_grid(const Shape& s, double offset) {
  auto n = static_cast<std::size_t>(detail::shape_size(s));
  auto k = *rc::gen::container<std::vector<int>>(n, rc::gen::inRange(-20, 21));
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = 0.1 * k[i] + offset;
  return from_doubles(v, s);
}

// Pairwise distinct values (for max/min reductions and max pooling): a shuffled grid.
Array gen_distinct(const Shape& s) {
  auto n = static_cast<std::size_t>(detail::shape_size(s));
  std::vector<int> order = gen_permutation(n);
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = 0.137 * (order[i] - static_cast<double>(n) / 2) + 0.01;
  return from_doubles(v, s);
}

Array gen_bool(const Shape& s) {
  auto n = static_cast<std::size_t>(detail::shape_size(s));
  auto b = *rc::gen::container<std::vector<bool>>(n, rc::gen::arbitrary<bool>());
  return Array::from_vector(b, s, bool_);
}

// A random subset of the axes of a rank-r array (possibly empty), or all axes.
Axes gen_axes(int rank) {
  if (*rc::gen::inRange(0, 4) == 0) return Axes();
  std::vector<int> axes;
  for (int a = 0; a < rank; ++a)
    if (*rc::gen::arbitrary<bool>()) axes.push_back(*rc::gen::arbitrary<bool>() ? a : a - rank);
  return Axes(axes);
}

std::int64_t reduced_count(const Shape& s, const Axes& axes) {
  if (axes.all()) return detail::shape_size(s);
  std::int64_t n = 1;
  for (int a : axes.list())
    n *= s[static_cast<std::size_t>(a < 0 ? a + static_cast<int>(s.size()) : a)];
  return n;
}

using I = std::int64_t;
using Unary = Array (*)(Array);
using Binary = Array (*)(Array, Array);

void check_unary(Unary op, const Array& x, int order = 2) {
  check_grads([op](const Array& a) { return op(a); }, x, order);
}

void check_binary(Binary op, const Array& a, const Array& b, int order = 2) {
  check_grads([op](const std::vector<Array>& p) { return op(p[0], p[1]); }, {a, b}, order);
}

// Runs `op` once outside any transformation; a ShapeError (a generated combination the op
// rejects, e.g. a window larger than the padded input) discards the case.
template <class F>
void require_valid(F&& op) {
  try {
    op();
  } catch (const ShapeError&) {
    RC_DISCARD("combination rejected by the op");
  }
}

}  // namespace

TEST_SUITE("autodiff") {
  TEST_CASE("op rules: binary arithmetic with broadcasting") {
    struct Case {
      const char* name;
      Binary op;
    };
    for (auto [name, op] :
         {Case{"add", add}, Case{"subtract", subtract}, Case{"multiply", multiply}}) {
      CHECK(few(name, [op = op] {
        Shape s = gen_shape(0, 3);
        Shape t = gen_broadcastable(s);
        if (*rc::gen::arbitrary<bool>()) std::swap(s, t);
        check_binary(op, gen_uniform(s, -2, 2), gen_uniform(t, -2, 2));
      }));
    }
    CHECK(few("divide", [] {
      Shape s = gen_shape(0, 3);
      Shape t = gen_broadcastable(s);
      if (*rc::gen::arbitrary<bool>()) std::swap(s, t);
      check_binary(divide, gen_uniform(s, -2, 2), gen_signed(t, 0.5, 2));
    }));
    CHECK(few("power", [] {
      Shape s = gen_shape(0, 3);
      Shape t = gen_broadcastable(s);
      if (*rc::gen::arbitrary<bool>()) std::swap(s, t);
      check_binary(power, gen_uniform(s, 0.5, 2), gen_uniform(t, -2, 2));
    }));
    for (auto [name, op] : {Case{"maximum", maximum}, Case{"minimum", minimum}}) {
      CHECK(few(name, [op = op] {
        Shape s = gen_shape(0, 3);
        Shape t = gen_broadcastable(s);
        if (*rc::gen::arbitrary<bool>()) std::swap(s, t);
        check_binary(op, gen_grid(s, 0.03), gen_grid(t, 0.07));
      }));
    }
  }

  TEST_CASE("op rules: unary elementwise") {
    struct Case {
      const char* name;
      Unary op;
      double lo, hi;
      bool signed_;
    };
    const Case cases[] = {
        {"negative", negative, -2, 2, false}, {"abs", abs, 0.1, 2, true},
        {"exp", exp, -2, 2, false},           {"log", log, 0.2, 3, false},
        {"log1p", log1p, -0.8, 2, false},     {"expm1", expm1, -2, 2, false},
        {"sqrt", sqrt, 0.2, 3, false},        {"rsqrt", rsqrt, 0.2, 3, false},
        {"square", square, -2, 2, false},     {"reciprocal", reciprocal, 0.3, 2, true},
        {"tanh", tanh, -2, 2, false},         {"sigmoid", sigmoid, -3, 3, false},
        {"erf", erf, -2, 2, false},           {"sin", sin, -3, 3, false},
        {"cos", cos, -3, 3, false},           {"sign", sign, 0.1, 2, true},
    };
    for (const auto& c : cases) {
      CHECK(few(c.name, [c] {
        Shape s = gen_shape(0, 3);
        check_unary(c.op, c.signed_ ? gen_signed(s, c.lo, c.hi) : gen_uniform(s, c.lo, c.hi));
      }));
    }
    // floor, ceil and round are piecewise constant: zero derivatives away from their jumps.
    for (auto [name, op] : {std::pair<const char*, Unary>{"floor", floor},
                            std::pair<const char*, Unary>{"ceil", ceil},
                            std::pair<const char*, Unary>{"round", round}}) {
      CHECK(few(name, [op = op] {
        Shape s = gen_shape(0, 3);
        check_unary(op, gen_grid(s, 0.05) * 10.0 + 0.3);  // k + 0.8: away from integers and .5
      }));
    }
  }

  TEST_CASE("op rules: clip and where") {
    CHECK(few("clip", [] {
      Shape s = gen_shape(0, 3);
      Array x = gen_grid(s, 0.03);
      Array lo = gen_grid(gen_broadcastable(s), 0.07) * 0.5 - 1.05;  // below 0
      Array hi = gen_grid(gen_broadcastable(s), 0.01) * 0.5 + 1.05;  // above 0
      check_grads([](const std::vector<Array>& p) { return clip(p[0], p[1], p[2]); }, {x, lo, hi},
                  2);
    }));
    CHECK(few("where", [] {
      Shape s = gen_shape(0, 3);
      Array cond = gen_bool(gen_broadcastable(s));
      Shape sa = gen_broadcastable(s), sb = s;
      if (*rc::gen::arbitrary<bool>()) std::swap(sa, sb);
      check_grads([cond](const std::vector<Array>& p) { return where(cond, p[0], p[1]); },
                  {gen_uniform(sa, -2, 2), gen_uniform(sb, -2, 2)}, 2);
    }));
  }

  TEST_CASE("op rules: comparisons and logic record nothing") {
    Array x = Array({0.5, -1.0, 2.0}, float64);
    grad([](const Array& p) {
      for (const Array& b :
           {p > 0.0, p >= 0.0, p < 0.0, p <= 0.0, p == 0.0, p != 0.0, isnan(p), isfinite(p),
            (p > 0.0) & (p < 1.0), (p > 0.0) | (p < 1.0), logical_xor(p > 0.0, p < 1.0), !(p > 0.0),
            any(p > 0.0), all(p > 0.0), argmax(p), argmin(p)}) {
        CHECK_FALSE(detail::any_traced(b));
      }
      return sum(where(p > 0.0, p, p * 2.0));
    })(x);
    Array g = grad([](const Array& p) { return sum(where(p > 0.0, p, p * 2.0)); })(x);
    CHECK(g.to_vector<double>() == std::vector<double>{1, 2, 1});
  }

  TEST_CASE("op rules: reductions") {
    using Reduce = Array (*)(const Array&, const Axes&, bool);
    for (auto [name, op] :
         {std::pair<const char*, Reduce>{"sum", sum}, std::pair<const char*, Reduce>{"mean", mean},
          std::pair<const char*, Reduce>{"logsumexp", logsumexp}}) {
      CHECK(few(name, [op = op] {
        Shape s = gen_shape(0, 3);
        Axes axes = gen_axes(static_cast<int>(s.size()));
        bool keepdims = *rc::gen::arbitrary<bool>();
        check_grads([&](const Array& a) { return op(a, axes, keepdims); }, gen_uniform(s, -2, 2),
                    2);
      }));
    }
    for (auto [name, op] :
         {std::pair<const char*, Reduce>{"max", max}, std::pair<const char*, Reduce>{"min", min}}) {
      CHECK(few(name, [op = op] {
        Shape s = gen_shape(1, 3);
        Axes axes = gen_axes(static_cast<int>(s.size()));
        bool keepdims = *rc::gen::arbitrary<bool>();
        check_grads([&](const Array& a) { return op(a, axes, keepdims); }, gen_distinct(s), 2);
      }));
    }
    CHECK(few("prod", [] {
      Shape s = gen_shape(0, 3);
      Axes axes = gen_axes(static_cast<int>(s.size()));
      bool keepdims = *rc::gen::arbitrary<bool>();
      check_grads([&](const Array& a) { return prod(a, axes, keepdims); }, gen_signed(s, 0.5, 1.5),
                  2);
    }));
    for (bool is_std : {false, true}) {
      CHECK(few(is_std ? "std" : "var", [is_std] {
        Shape s = gen_shape(1, 3);
        Axes axes = gen_axes(static_cast<int>(s.size()));
        bool keepdims = *rc::gen::arbitrary<bool>();
        int ddof = *rc::gen::inRange(0, 2);
        if (reduced_count(s, axes) < 2) {  // at least two elements per variance
          axes = Axes(0);
          s[0] = 2;
        }
        check_grads(
            [&](const Array& a) {
              return is_std ? jute::std(a, axes, keepdims, ddof) : var(a, axes, keepdims, ddof);
            },
            gen_distinct(s), 2);
      }));
    }
  }

  TEST_CASE("op rules: matmul, including second order") {
    CHECK(few("matmul", [] {
      int m = *rc::gen::inRange(1, 4), k = *rc::gen::inRange(1, 4), n = *rc::gen::inRange(1, 4);
      int kind = *rc::gen::inRange(0, 6);
      Shape a, b;
      switch (kind) {
        case 0:
          a = {k}, b = {k};
          break;
        case 1:
          a = {m, k}, b = {k};
          break;
        case 2:
          a = {k}, b = {k, n};
          break;
        case 3:
          a = {m, k}, b = {k, n};
          break;
        case 4:
          a = {2, m, k}, b = {k, n};
          break;
        default:
          a = {2, 1, m, k}, b = {3, k, n};
          break;
      }
      check_grads([](const std::vector<Array>& p) { return matmul(p[0], p[1]); },
                  {gen_uniform(a, -2, 2), gen_uniform(b, -2, 2)}, 2);
    }));
    // Third order through a nonlinearity after a matmul.
    Array w = Array({{0.3, -0.2}, {0.5, 0.1}}, float64), x = Array({{1.0, 2.0}}, float64);
    check_grads([](const std::vector<Array>& p) { return sum(tanh(matmul(p[1], p[0]))); }, {w, x},
                3);
  }

  TEST_CASE("op rules: shape ops") {
    CHECK(few("reshape", [] {
      Shape s = gen_shape(0, 3);
      Shape target(s.rbegin(), s.rend());
      if (!target.empty() && *rc::gen::arbitrary<bool>()) target[0] = -1;
      check_grads([&](const Array& a) { return reshape(a, target); }, gen_uniform(s, -2, 2), 2);
    }));
    CHECK(few("ravel", [] {
      check_grads([](const Array& a) { return ravel(a); }, gen_uniform(gen_shape(0, 3), -2, 2), 2);
    }));
    CHECK(few("transpose", [] {
      Shape s = gen_shape(0, 3);
      std::vector<int> perm = gen_permutation(s.size());
      if (*rc::gen::inRange(0, 4) == 0) perm.clear();  // reverse the axes
      check_grads([&](const Array& a) { return transpose(a, perm); }, gen_uniform(s, -2, 2), 2);
    }));
    CHECK(few("swapaxes", [] {
      Shape s = gen_shape(1, 3);
      int r = static_cast<int>(s.size());
      int a1 = *rc::gen::inRange(-r, r), a2 = *rc::gen::inRange(-r, r);
      check_grads([&](const Array& a) { return swapaxes(a, a1, a2); }, gen_uniform(s, -2, 2), 2);
    }));
    CHECK(few("broadcast_to", [] {
      Shape s = gen_shape(0, 3);
      Shape from = gen_broadcastable(s);
      check_grads([&](const Array& a) { return broadcast_to(a, s); }, gen_uniform(from, -2, 2), 2);
    }));
    CHECK(few("expand_dims", [] {
      Shape s = gen_shape(0, 3);
      int r = static_cast<int>(s.size());
      int axis = *rc::gen::inRange(-(r + 1), r + 1);
      check_grads([&](const Array& a) { return expand_dims(a, axis); }, gen_uniform(s, -2, 2), 2);
    }));
    CHECK(few("squeeze", [] {
      Shape s = gen_shape(1, 4, 2);
      std::vector<int> ones;
      for (int a = 0; a < static_cast<int>(s.size()); ++a)
        if (s[static_cast<std::size_t>(a)] == 1 && *rc::gen::arbitrary<bool>()) ones.push_back(a);
      Axes axes = *rc::gen::arbitrary<bool>() ? Axes() : Axes(ones);
      check_grads([&](const Array& a) { return squeeze(a, axes); }, gen_uniform(s, -2, 2), 2);
    }));
    CHECK(few("concatenate", [] {
      Shape s = gen_shape(1, 3);
      int r = static_cast<int>(s.size());
      int axis = *rc::gen::inRange(-r, r);
      std::vector<Array> parts;
      int count = *rc::gen::inRange(1, 4);
      for (int i = 0; i < count; ++i) {
        Shape t = s;
        t[static_cast<std::size_t>(axis < 0 ? axis + r : axis)] = *rc::gen::inRange(1, 4);
        parts.push_back(gen_uniform(t, -2, 2));
      }
      check_grads([axis](const std::vector<Array>& p) { return concatenate(p, axis); }, parts, 2);
    }));
    CHECK(few("stack", [] {
      Shape s = gen_shape(0, 2);
      int r = static_cast<int>(s.size());
      int axis = *rc::gen::inRange(-(r + 1), r + 1);
      std::vector<Array> parts;
      for (int i = 0, n = *rc::gen::inRange(1, 4); i < n; ++i)
        parts.push_back(gen_uniform(s, -2, 2));
      check_grads([axis](const std::vector<Array>& p) { return stack(p, axis); }, parts, 2);
    }));
    CHECK(few("split", [] {
      Shape s = gen_shape(1, 3);
      int r = static_cast<int>(s.size());
      int axis = *rc::gen::inRange(-r, r);
      auto& dim = s[static_cast<std::size_t>(axis < 0 ? axis + r : axis)];
      int sections = *rc::gen::inRange(1, 4);
      dim *= sections;
      std::vector<std::int64_t> indices{*rc::gen::inRange<std::int64_t>(0, dim + 1),
                                        *rc::gen::inRange<std::int64_t>(0, dim + 1)};
      std::sort(indices.begin(), indices.end());
      auto flat = [](const std::vector<Array>& parts) {
        std::vector<Array> flat;
        for (const auto& part : parts) flat.push_back(ravel(part));
        return concatenate(flat, 0);
      };
      check_grads([&](const Array& a) { return flat(split(a, sections, axis)); },
                  gen_uniform(s, -2, 2), 2);
      check_grads([&](const Array& a) { return flat(split(a, indices, axis)); },
                  gen_uniform(s, -2, 2), 2);
    }));
    CHECK(few("slice", [] {
      Shape s = gen_shape(1, 3, 5);
      Shape start, stop, strides;
      for (auto d : s) {
        start.push_back(*rc::gen::inRange<std::int64_t>(0, d));
        stop.push_back(*rc::gen::inRange<std::int64_t>(start.back() + 1, d + 1));
        strides.push_back(*rc::gen::inRange<std::int64_t>(1, 3));
      }
      check_grads([&](const Array& a) { return slice(a, start, stop, strides); },
                  gen_uniform(s, -2, 2), 2);
    }));
    CHECK(few("slice_axis", [] {
      Shape s = gen_shape(1, 3, 5);
      int r = static_cast<int>(s.size());
      int axis = *rc::gen::inRange(-r, r);
      auto start = *rc::gen::inRange<std::int64_t>(-6, 7),
           stop = *rc::gen::inRange<std::int64_t>(-6, 7);
      auto step = *rc::gen::element(I{-2}, I{-1}, I{1}, I{2}, I{3});
      require_valid([&] { slice_axis(zeros(s, float64), axis, start, stop, step); });
      check_grads([&](const Array& a) { return slice_axis(a, axis, start, stop, step); },
                  gen_uniform(s, -2, 2), 2);
    }));
    CHECK(few("take", [] {
      Shape s = gen_shape(1, 3, 4);
      int r = static_cast<int>(s.size());
      std::optional<int> axis;
      if (*rc::gen::arbitrary<bool>()) axis = *rc::gen::inRange(-r, r);
      std::int64_t n =
          axis ? s[static_cast<std::size_t>(*axis < 0 ? *axis + r : *axis)] : detail::shape_size(s);
      Shape ishape = gen_shape(0, 2, 4);
      auto idx = *rc::gen::container<std::vector<int>>(
          static_cast<std::size_t>(detail::shape_size(ishape)),
          rc::gen::inRange(0, static_cast<int>(n)));
      Array indices = Array::from_vector(idx, ishape, int32);  // repeats accumulate
      check_grads([&](const Array& a) { return take(a, indices, axis); }, gen_uniform(s, -2, 2), 2);
    }));
    CHECK(few("take_along_axis", [] {
      Shape s = gen_shape(1, 3, 4);
      int r = static_cast<int>(s.size());
      int axis = *rc::gen::inRange(-r, r);
      Shape ishape = s;
      auto& d = ishape[static_cast<std::size_t>(axis < 0 ? axis + r : axis)];
      int n = static_cast<int>(d);
      d = *rc::gen::inRange(1, 5);
      auto idx = *rc::gen::container<std::vector<int>>(
          static_cast<std::size_t>(detail::shape_size(ishape)), rc::gen::inRange(0, n));
      Array indices = Array::from_vector(idx, ishape, int32);
      check_grads([&](const Array& a) { return take_along_axis(a, indices, axis); },
                  gen_uniform(s, -2, 2), 2);
    }));
    CHECK(few("flip", [] {
      Shape s = gen_shape(0, 3);
      Axes axes = s.empty() ? Axes() : gen_axes(static_cast<int>(s.size()));
      check_grads([&](const Array& a) { return flip(a, axes); }, gen_uniform(s, -2, 2), 2);
    }));
    CHECK(few("pad", [] {
      Shape s = gen_shape(1, 3, 4);
      auto mode =
          *rc::gen::element(PadMode::Constant, PadMode::Reflect, PadMode::Wrap, PadMode::Edge);
      std::vector<std::pair<std::int64_t, std::int64_t>> widths;
      for (auto d : s) {
        std::int64_t most = mode == PadMode::Reflect ? d - 1 : d;
        widths.push_back({*rc::gen::inRange<std::int64_t>(0, most + 1),
                          *rc::gen::inRange<std::int64_t>(0, most + 1)});
      }
      check_grads([&](const Array& a) { return pad(a, widths, mode, 0.5); }, gen_uniform(s, -2, 2),
                  2);
    }));
    CHECK(few("astype between floats", [] {
      Shape s = gen_shape(0, 2);
      check_grads([](const Array& a) { return a.astype(float64) * a; }, gen_uniform(s, -2, 2), 2);
    }));
  }

  TEST_CASE("op rules: convolution, including second order") {
    CHECK(few(
        "conv_general_dilated",
        [] {
          int spatial = *rc::gen::inRange(1, 3);
          std::int64_t c = *rc::gen::inRange(1, 4);
          std::int64_t groups = *rc::gen::element(I{1}, c);
          std::int64_t o = groups * *rc::gen::inRange(1, 3);
          Shape lhs{*rc::gen::inRange(1, 3)}, rhs, strides, lhs_dil, rhs_dil;
          std::vector<std::pair<std::int64_t, std::int64_t>> pads;
          for (int i = 0; i < spatial; ++i) {
            lhs.push_back(*rc::gen::inRange(2, 6));
            rhs.push_back(*rc::gen::inRange(1, 4));
            strides.push_back(*rc::gen::inRange(1, 3));
            lhs_dil.push_back(*rc::gen::inRange(1, 3));
            rhs_dil.push_back(*rc::gen::inRange(1, 3));
            pads.push_back({*rc::gen::inRange(0, 3), *rc::gen::inRange(0, 3)});
          }
          lhs.push_back(c);
          rhs.push_back(c / groups);
          rhs.push_back(o);
          int pad_kind = *rc::gen::inRange(0, 3);
          Padding padding = pad_kind == 0   ? Padding("VALID")
                            : pad_kind == 1 ? Padding("SAME")
                                            : Padding(pads);
          auto conv = [=](const std::vector<Array>& p) {
            return conv_general_dilated(p[0], p[1], strides, padding, lhs_dil, rhs_dil, groups);
          };
          require_valid([&] { conv({zeros(lhs, float64), zeros(rhs, float64)}); });
          check_grads(conv, {gen_uniform(lhs, -1, 1), gen_uniform(rhs, -1, 1)}, 2, {"fwd", "rev"},
                      {.atol = 1e-5, .rtol = 1e-5});
        },
        6));
    // Second order through a nonlinearity: d²/dx² of sum(tanh(conv(x, w))).
    Array x = Array({{{0.1}, {0.5}, {-0.3}, {0.8}}}, float64);  // (1, 4, 1)
    Array w = Array({{{0.7}}, {{-0.4}}}, float64);              // (2, 1, 1)
    check_grads(
        [](const std::vector<Array>& p) { return sum(tanh(conv_general_dilated(p[0], p[1]))); },
        {x, w}, 3);
  }

  TEST_CASE("op rules: reduce_window (pooling)") {
    CHECK(few("reduce_window", [] {
      Shape s{*rc::gen::inRange(1, 3), *rc::gen::inRange(2, 6), *rc::gen::inRange(2, 6),
              *rc::gen::inRange(1, 3)};
      auto op = *rc::gen::element(ReduceOp::Max, ReduceOp::Sum);
      Shape window{1, *rc::gen::inRange(1, 4), *rc::gen::inRange(1, 4), 1};
      Shape strides{1, *rc::gen::inRange(1, 3), *rc::gen::inRange(1, 3), 1};
      std::vector<std::pair<std::int64_t, std::int64_t>> pads;
      for (auto w : window)  // every window holds at least one element of the input
        pads.push_back(
            {*rc::gen::inRange<std::int64_t>(0, w), *rc::gen::inRange<std::int64_t>(0, w)});
      int pad_kind = *rc::gen::inRange(0, 3);
      Padding padding = pad_kind == 0   ? Padding("VALID")
                        : pad_kind == 1 ? Padding("SAME")
                                        : Padding(pads);
      auto pool = [=](const Array& a) { return reduce_window(a, op, window, strides, padding); };
      require_valid([&] { pool(zeros(s, float64)); });
      check_grads(pool, op == ReduceOp::Max ? gen_distinct(s) : gen_uniform(s, -2, 2), 2);
    }));
  }

}  // TEST_SUITE
