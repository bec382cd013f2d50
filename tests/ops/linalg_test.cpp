// matmul: exact values (NumPy as reference), 1-D and batch-broadcast cases, integer dtypes, error
// paths, the transposed-operand primitive, first and second derivatives, and a RapidCheck
// comparison with a naive triple loop.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cmath>
#include <limits>
#include <string>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "jute/testing/check_grads.hpp"
#include "ops/blas.hpp"
#include "ops/linalg.hpp"
#include "ops/op_checks.hpp"

using namespace jute;
using jute_test::check_array;
using jute_test::check_vjp;
using jute_test::message_of;
using jute_test::rand_f64;

namespace {

/// NumPy's matmul computed with a naive triple loop in double (1-D promotion, batch
/// broadcasting), returning the result shape and values.
std::pair<Shape, std::vector<double>> naive_matmul(const Array& a, const Array& b) {
  Shape as = a.shape(), bs = b.shape();
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const std::int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  const std::size_t r = std::max(ab.size(), bb.size());
  ab.insert(ab.begin(), r - ab.size(), 1);
  bb.insert(bb.begin(), r - bb.size(), 1);
  Shape batch(r);
  for (std::size_t d = 0; d < r; ++d) batch[d] = std::max(ab[d], bb[d]);
  std::int64_t count = 1;
  for (auto d : batch) count *= d;
  const auto av = a.to_vector<double>(), bv = b.to_vector<double>();
  std::vector<double> out;
  for (std::int64_t p = 0; p < count; ++p) {
    std::int64_t rem = p, ao = 0, bo = 0, astr = 1, bstr = 1;
    for (std::size_t d = r; d-- > 0;) {
      const std::int64_t i = rem % batch[d];
      rem /= batch[d];
      ao += (ab[d] == 1 ? 0 : i) * astr;
      bo += (bb[d] == 1 ? 0 : i) * bstr;
      astr *= ab[d];
      bstr *= bb[d];
    }
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::int64_t q = 0; q < k; ++q)
          s += av[static_cast<std::size_t>(ao * m * k + i * k + q)] *
               bv[static_cast<std::size_t>(bo * k * n + q * n + j)];
        out.push_back(s);
      }
  }
  Shape shape = batch;
  if (a.ndim() > 1) shape.push_back(m);
  if (b.ndim() > 1) shape.push_back(n);
  return {shape, out};
}

}  // namespace

TEST_SUITE("linalg") {
  TEST_CASE("linalg: matmul of matrices, vectors and batches (NumPy's values)") {
    const Array a = Array({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
    const Array b = Array({{1.f, 0.f}, {0.f, 1.f}, {1.f, 1.f}});
    check_array(matmul(a, b), float32, {2, 2}, {4, 5, 10, 11});
    check_array(matmul(a, Array({1.f, 1.f, 1.f})), float32, {2}, {6, 15});
    check_array(matmul(Array({1.f, 2.f}), a), float32, {3}, {9, 12, 15});
    check_array(matmul(Array({1.f, 2.f}), Array({3.f, 4.f})), float32, {}, {11});
    // Batches broadcast: (2,1,2,3) @ (3,3,2) → (2,3,2,2).
    const Array x = reshape(arange(12).astype(float64), {2, 1, 2, 3});
    const Array y = reshape(arange(18).astype(float64), {3, 3, 2});
    auto [shape, expected] = naive_matmul(x, y);
    CHECK(shape == Shape{2, 3, 2, 2});
    check_array(matmul(x, y), float64, shape, expected);
    check_array(matmul(x, Array({1., 2., 3.}, float64)), float64, {2, 1, 2}, {8, 26, 44, 62});
    check_array(matmul(Array({1., 0., 0.}, float64), y), float64, {3, 2}, {0, 1, 6, 7, 12, 13});
    // A stack times one matrix folds into a single GEMM; the result must not change.
    const Array stack = reshape(arange(24).astype(float32), {4, 2, 3});
    auto [s2, e2] = naive_matmul(stack, b);
    check_array(matmul(stack, b), float32, s2, e2);
  }

  TEST_CASE("linalg: matmul dtypes, empty operands") {
    // Mixed dtypes promote; integers use the plain loop and wrap like NumPy.
    check_array(matmul(Array({{1, 2}}), Array({{3.f}, {4.f}})), float32, {1, 1}, {11});
    check_array(matmul(Array({{1, 2}}), Array({{3}, {4}})), int32, {1, 1}, {11});
    check_array(matmul(Array({{200, 100}}, uint8), Array({{2}, {1}}, uint8)), uint8, {1, 1},
                {244});  // (400 + 100) mod 256
    check_array(matmul(Array({{-3, 2}}), Array({{5}, {-7}})), int32, {1, 1}, {-29});
    check_array(matmul(Array({{true, false}}), Array({{false}, {true}})), bool_, {1, 1}, {0});
    check_array(matmul(Array({{true, true}}), Array({{false}, {true}})), bool_, {1, 1}, {1});
    check_array(matmul(Array({{1.f}}), Array({{2.}}, float64)), float64, {1, 1}, {2});
    check_array(matmul(zeros({2, 0}), zeros({0, 3})), float32, {2, 3}, {0, 0, 0, 0, 0, 0});
    check_array(matmul(zeros({0, 4}), zeros({4, 3})), float32, {0, 3}, {});
    check_array(matmul(zeros({2, 0, 4}), zeros({4, 3})), float32, {2, 0, 3}, {});
  }

  TEST_CASE("linalg: matmul errors") {
    CHECK(message_of([] {
            matmul(zeros({2, 3}), zeros({4, 5}));
          }) ==
          "[matmul] Last dimension of first input with shape (2,3) must match second to last "
          "dimension of second input with shape (4,5).");
    CHECK_THROWS_AS(matmul(zeros({2, 3}), zeros({4, 5})), ShapeError);
    CHECK_THROWS_AS(matmul(zeros({3}), zeros({4})), ShapeError);
    CHECK_THROWS_AS(matmul(zeros({2, 3}), zeros({2})), ShapeError);
    CHECK(message_of([] {
            matmul(zeros({2, 3, 4}), zeros({5, 4, 6}));
          }) ==
          "[matmul] Batch dimensions of first input with shape (2,3,4) and second input with shape "
          "(5,4,6) cannot be broadcast together; they must match or be 1.");
    CHECK_THROWS_AS(matmul(zeros({2, 3, 4}), zeros({5, 4, 6})), ShapeError);
    CHECK(message_of([] { matmul(Array(2.f), zeros({2})); }) ==
          "[matmul] Inputs must have at least one dimension, got shapes () and (2,); use multiply "
          "to scale an array by a scalar.");
    CHECK_THROWS_AS(matmul(zeros({2}), Array(2.f)), ShapeError);
    CHECK_THROWS_AS(detail::matmul_t(zeros({2}), zeros({2, 2}), false, false), ShapeError);
    CHECK_THROWS_AS(detail::matmul_t(zeros({2, 2}), zeros({2, 2}, float64), false, false),
                    DtypeError);
    CHECK_THROWS_AS(detail::matmul_t(zeros({2, 3}), zeros({2, 3}), false, false), ShapeError);
  }

  TEST_CASE("linalg: matmul_t hands the transposes to GEMM") {
    const Array a = rand_f64({3, 4}, 21), b = rand_f64({5, 4}, 22), c = rand_f64({3, 5}, 23);
    auto close = [](const Array& x, const Array& y) {
      REQUIRE(x.shape() == y.shape());
      const auto xv = x.to_vector<double>(), yv = y.to_vector<double>();
      for (std::size_t i = 0; i < xv.size(); ++i) CHECK(std::abs(xv[i] - yv[i]) < 1e-12);
    };
    close(detail::matmul_t(a, b, false, true), matmul(a, transpose(b)));
    close(detail::matmul_t(a, c, true, false), matmul(transpose(a), c));
    const Array e = rand_f64({2, 3}, 25);
    close(detail::matmul_t(c, e, true, true), matmul(transpose(c), transpose(e)));
    const Array batch = rand_f64({2, 4, 3}, 24);
    close(detail::matmul_t(batch, b, true, true), matmul(swapaxes(batch, 1, 2), transpose(b)));
  }

  TEST_CASE("linalg: matmul vjp matches finite differences") {
    auto mm = [](const std::vector<Array>& v) { return matmul(v[0], v[1]); };
    check_vjp(mm, {rand_f64({3, 4}, 1), rand_f64({4, 2}, 2)});
    check_vjp(mm, {rand_f64({4}, 3), rand_f64({4, 2}, 4)});
    check_vjp(mm, {rand_f64({3, 4}, 5), rand_f64({4}, 6)});
    check_vjp(mm, {rand_f64({4}, 7), rand_f64({4}, 8)});
    // Batch broadcasting in both directions, and a stack times one matrix (the folded rule).
    check_vjp(mm, {rand_f64({2, 1, 3, 4}, 9), rand_f64({3, 4, 2}, 10)});
    check_vjp(mm, {rand_f64({2, 3, 4}, 11), rand_f64({4, 2}, 12)});
    check_vjp(mm, {rand_f64({3, 4}, 13), rand_f64({2, 4, 2}, 14)});
    // Mixed dtypes: the float32 operand's cotangent comes back as float32.
    auto [y, fn] = vjp(mm, {Array({{1.f, 2.f}}), Array({{3.}, {4.}}, float64)});
    const auto cts = fn(ones({1, 1}, float64));
    check_array(cts[0], float32, {1, 2}, {3, 4});
    check_array(cts[1], float64, {2, 1}, {1, 2});
    // Every transpose combination of the primitive.
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        INFO("transpose_a ", ta, " transpose_b ", tb);
        check_vjp(
            [ta, tb](const std::vector<Array>& v) { return detail::matmul_t(v[0], v[1], ta, tb); },
            {rand_f64(ta ? Shape{2, 4, 3} : Shape{2, 3, 4}, 15),
             rand_f64(tb ? Shape{5, 4} : Shape{4, 5}, 16)});
      }
  }

  TEST_CASE("linalg: second order through matmul") {
    // h(A) = vjp of B ↦ A @ B at B0 with cotangent U = Aᵀ U; its own vjp with V is U Vᵀ.
    const Array a0 = rand_f64({3, 4}, 31), b0 = rand_f64({4, 2}, 32), u = rand_f64({3, 2}, 33);
    auto h = [b0, u](const Array& a) {
      return vjp([&a](const Array& b) { return matmul(a, b); }, b0).second(u);
    };
    jute_test::check_vjp1(h, a0);
    const Array v = rand_f64({4, 2}, 34);
    auto [ha, hfn] = vjp(h, a0);
    const Array second = hfn(v);
    const Array expected = matmul(u, transpose(v));
    const auto sv = second.to_vector<double>(), ev = expected.to_vector<double>();
    REQUIRE(sv.size() == ev.size());
    for (std::size_t i = 0; i < sv.size(); ++i) CHECK(std::abs(sv[i] - ev[i]) < 1e-12);
    // A nonlinear case: x ↦ x @ x, differentiated twice, batched.
    auto square = [](const Array& x) { return matmul(x, x); };
    jute_test::check_vjp1(jute_test::vjp_of(square, rand_f64({2, 3, 3}, 35)),
                          rand_f64({2, 3, 3}, 36));
    jute_test::check_vjp1(jute_test::vjp_of(square, rand_f64({3, 3}, 37)), rand_f64({3, 3}, 38));
  }

  TEST_CASE("linalg: differentiating only the weights gives xᵀ g") {
    // x is a constant (no autodiff node), as a network's data: the rule computes only W's
    // cotangent.
    const Array x = rand_f64({5, 3}, 41);
    auto [y, fn] = vjp([&x](const Array& w) { return matmul(x, w); }, rand_f64({3, 2}, 42));
    const Array g = rand_f64({5, 2}, 43);
    const Array dw = fn(g);
    const Array expected = matmul(transpose(x), g);
    const auto dv = dw.to_vector<double>(), ev = expected.to_vector<double>();
    for (std::size_t i = 0; i < dv.size(); ++i) CHECK(std::abs(dv[i] - ev[i]) < 1e-12);
  }

  TEST_CASE("linalg: properties") {
    CHECK(rc::check("matmul equals a naive triple loop", [] {
      const auto m = *rc::gen::inRange<std::int64_t>(1, 5);
      const auto k = *rc::gen::inRange<std::int64_t>(0, 5);
      const auto n = *rc::gen::inRange<std::int64_t>(1, 5);
      const int kind = *rc::gen::inRange(0, 5);  // plain, 1-D left, 1-D right, both 1-D, batched
      Shape as{m, k}, bs{k, n};
      if (kind == 1 || kind == 3) as = {k};
      if (kind == 2 || kind == 3) bs = {k};
      if (kind == 4) {
        const auto p = *rc::gen::inRange<std::int64_t>(1, 4);
        const auto q = *rc::gen::inRange<std::int64_t>(1, 3);
        const bool a_broadcasts = *rc::gen::arbitrary<bool>();
        as = a_broadcasts ? Shape{1, q, m, k} : Shape{p, 1, m, k};
        bs = a_broadcasts ? Shape{p, 1, k, n} : Shape{q, k, n};
      }
      const auto seed = *rc::gen::inRange<std::uint32_t>(0, 1000);
      const DType dtype = *rc::gen::element(float32, float64, int32);
      const Array a = jute_test::rand_small(as, seed, dtype);
      const Array b = jute_test::rand_small(bs, seed + 1, dtype);
      const Array c = matmul(a, b);
      auto [shape, expected] = naive_matmul(a, b);
      RC_ASSERT(c.shape() == shape);
      RC_ASSERT(c.dtype() == dtype);
      const auto got = c.to_vector<double>();
      for (std::size_t i = 0; i < got.size(); ++i)
        RC_ASSERT(got[i] == expected[i]);  // small whole numbers: exact in every dtype
    }));
  }

  TEST_CASE("linalg: grad of grad through matmul") {
    // f(W) = sum((x W)²): ∇f = 2 xᵀ x W; g(W) = <∇f(W), V> has ∇g = 2 xᵀ x V (exactly).
    const Array x = rand_f64({5, 3}, 61), w = rand_f64({3, 2}, 62), v = rand_f64({3, 2}, 63);
    auto f = [x](const Array& m) {
      const Array y = matmul(x, m);
      return sum(y * y);
    };
    auto g = [f, v](const Array& m) { return sum(grad(f)(m) * v); };
    const Array second = grad(g)(w);
    const Array expected = matmul(transpose(x), matmul(x, v)) * 2.0;
    CHECK(allclose(second, expected, 1e-12, 1e-12));
    CHECK_NOTHROW(testing::check_grads(
        [](const std::vector<Array>& a) { return matmul(a[0], a[1]) * matmul(a[0], a[1]); },
        {rand_f64({2, 3, 3}, 64), rand_f64({3, 4}, 65)}, 2));
    CHECK_NOTHROW(
        testing::check_grads([](const std::vector<Array>& a) { return matmul(a[0], a[1]) * a[0]; },
                             {rand_f64({3}, 66), rand_f64({3}, 67)}, 2));
  }
  TEST_CASE("the float32 GEMM with beta = 0 does not read C, with beta = 1 adds into it") {
    // matmul's outputs come from the buffer cache with whatever a freed Array left there.
    const std::vector<float> a{1, 2, 3, 4, 5, 6};  // 2×3
    const std::vector<float> b{1, 0, 0, 1, 1, 1};  // 3×2
    std::vector<float> c(4, std::numeric_limits<float>::quiet_NaN());
    detail::gemm("matmul", false, false, 2, 2, 3, a.data(), 3, b.data(), 2, 0.0f, c.data(), 2);
    CHECK(c == std::vector<float>{4, 5, 10, 11});
    detail::gemm("matmul", true, true, 2, 2, 3, b.data(), 2, a.data(), 3, 1.0f, c.data(), 2);
    CHECK(c == std::vector<float>{8, 15, 15, 22});  // + bᵀaᵀ = (ab)ᵀ
  }
}  // TEST_SUITE
