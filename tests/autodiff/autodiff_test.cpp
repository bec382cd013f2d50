#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cmath>
#include <thread>

#include "core/trace.hpp"
#include "jute/autodiff.hpp"
#include "jute/memory.hpp"
#include "jute/ops.hpp"

using namespace jute;

namespace {
Array f64(std::vector<double> v, Shape s) { return Array::from_vector(v, s, float64); }
Array scalar64(double v) { return Array::scalar(v, float64); }
double value(const Array& a) { return a.item<double>(); }
double dot(const Array& a, const Array& b) {
  auto x = a.to_vector<double>(), y = b.to_vector<double>();
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) s += x[i] * y[i];
  return s;
}
bool has_node(const Array& a) { return a.impl()->node != nullptr; }
}  // namespace

TEST_SUITE("autodiff") {
  TEST_CASE("autodiff: grad of a cubic and its higher derivatives") {
    ArrayFn cube = [](const Array& x) { return x * x * x; };
    Array x = scalar64(1.5);
    CHECK(value(cube(x)) == doctest::Approx(3.375));
    CHECK(value(grad(cube)(x)) == doctest::Approx(3 * 1.5 * 1.5));
    CHECK(value(grad(grad(cube))(x)) == doctest::Approx(6 * 1.5));
    CHECK(value(grad(grad(grad(cube)))(x)) == doctest::Approx(6.0));
    CHECK(value(grad(grad(grad(grad(cube))))(x)) == 0.0);
  }

  TEST_CASE("autodiff: value_and_grad returns the value and the gradient") {
    auto [y, g] = value_and_grad([](const Array& x) { return sum(x * x); })(f64({1, -2, 3}, {3}));
    CHECK(value(y) == 14.0);
    CHECK(g.to_vector<double>() == std::vector<double>{2, -4, 6});
    CHECK(g.dtype() == float64);
    CHECK(g.shape() == Shape{3});
  }

  TEST_CASE("autodiff: perturbation confusion — d/dx[x · d/dy(x·y)] = 2x") {
    ArrayFn f = [](const Array& x) {
      Array inner = grad([&x](const Array& y) { return x * y; })(scalar64(3.0));  // = x
      return x * inner;
    };
    CHECK(value(grad(f)(scalar64(3.0))) == 6.0);
    CHECK(value(grad(f)(scalar64(-1.25))) == -2.5);
  }

  TEST_CASE("autodiff: tanh'' = -2 tanh sech²") {
    ArrayFn t = [](const Array& x) { return tanh(x); };
    for (double x : {-2.0, -0.3, 0.0, 0.7, 1.9}) {
      double th = std::tanh(x), sech2 = 1 - th * th;
      CHECK(value(grad(t)(scalar64(x))) == doctest::Approx(sech2).epsilon(1e-14));
      CHECK(value(grad(grad(t))(scalar64(x))) == doctest::Approx(-2 * th * sech2).epsilon(1e-12));
    }
  }

  TEST_CASE("autodiff: softmax Jacobian = diag(s) - s sᵀ, and ∇logsumexp = softmax") {
    Array x = f64({0.3, -1.2, 2.0, 0.5}, {4});
    ArrayFn softmax = [](const Array& v) { return exp(v - logsumexp(v)); };
    auto s = softmax(x).to_vector<double>();
    for (const Array& jac : {jacrev(softmax)(x), jacfwd(softmax)(x)}) {
      REQUIRE(jac.shape() == Shape{4, 4});
      auto j = jac.to_vector<double>();
      for (std::size_t r = 0; r < 4; ++r)
        for (std::size_t c = 0; c < 4; ++c)
          CHECK(j[r * 4 + c] ==
                doctest::Approx((r == c ? s[r] : 0.0) - s[r] * s[c]).epsilon(1e-13));
    }
    auto g = grad([](const Array& v) { return logsumexp(v); })(x).to_vector<double>();
    for (std::size_t i = 0; i < 4; ++i) CHECK(g[i] == doctest::Approx(s[i]).epsilon(1e-14));
    // The Hessian of logsumexp is the softmax Jacobian.
    Array h = jacfwd(grad([](const Array& v) { return logsumexp(v); }))(x);
    CHECK(allclose(h, jacrev(softmax)(x), 1e-12, 1e-14));
  }

  TEST_CASE("autodiff: several primals get one gradient each") {
    ArraysFn f = [](const std::vector<Array>& p) { return sum(p[0] * p[1] + exp(p[0])); };
    Array a = f64({0.5, 1.0}, {2}), b = f64({2.0, -3.0}, {2});
    auto g = grad(f)({a, b});
    REQUIRE(g.size() == 2);
    CHECK(g[0].to_vector<double>()[0] == doctest::Approx(2.0 + std::exp(0.5)));
    CHECK(g[0].to_vector<double>()[1] == doctest::Approx(-3.0 + std::exp(1.0)));
    CHECK(g[1].to_vector<double>() == std::vector<double>{0.5, 1.0});
    // An input the output does not depend on gets zeros of its shape and dtype.
    auto g2 = grad([](const std::vector<Array>& p) { return sum(p[0] * p[0]); })({a, b});
    CHECK(g2[1].to_vector<double>() == std::vector<double>{0, 0});
    CHECK(g2[1].dtype() == float64);
  }

  TEST_CASE("autodiff: a float32 primal gets a float32 gradient") {
    Array x = Array({1.f, 2.f});
    Array g = grad([](const Array& v) { return sum(v * v * 0.5); })(x);
    CHECK(g.dtype() == float32);
    CHECK(g.to_vector<float>() == std::vector<float>{1.f, 2.f});
  }

  TEST_CASE("autodiff: astype between floats is differentiable") {
    Array x = Array({1.5f, -2.f});
    Array g = grad([](const Array& v) { return sum(square(v.astype(float64))); })(x);
    CHECK(g.dtype() == float32);
    CHECK(g.to_vector<float>() == std::vector<float>{3.f, -4.f});
  }

  TEST_CASE("autodiff: vjp computes uᵀJ and can be called repeatedly") {
    auto [y, vjp_fn] = vjp([](const Array& x) { return sin(x) * x; }, f64({0.1, 0.2, 0.3}, {3}));
    CHECK(y.shape() == Shape{3});
    Array g1 = vjp_fn(f64({1, 0, 0}, {3}));
    Array g2 = vjp_fn(f64({0, 2, 0}, {3}));
    CHECK(g1.to_vector<double>()[0] == doctest::Approx(std::sin(0.1) + 0.1 * std::cos(0.1)));
    CHECK(g1.to_vector<double>()[1] == 0.0);
    CHECK(g2.to_vector<double>()[1] == doctest::Approx(2 * (std::sin(0.2) + 0.2 * std::cos(0.2))));
  }

  TEST_CASE("autodiff: jvp gives J·v and nests") {
    ArrayFn f = [](const Array& x) { return exp(x) * x; };
    auto [y, t] = jvp(f, f64({0.0, 1.0}, {2}), f64({1.0, 3.0}, {2}));
    CHECK(y.to_vector<double>()[1] == doctest::Approx(std::exp(1.0)));
    CHECK(t.to_vector<double>()[0] == doctest::Approx(1.0));                    // (1 + 0)e^0 · 1
    CHECK(t.to_vector<double>()[1] == doctest::Approx(3 * 2 * std::exp(1.0)));  // (1 + 1)e · 3
    // Second derivative by jvp of jvp: d²/dx² x eˣ = (x + 2) eˣ.
    ArrayFn df = [&f](const Array& x) { return jvp(f, x, ones_like(x)).second; };
    auto [d1, d2] = jvp(df, scalar64(0.5), scalar64(1.0));
    CHECK(value(d1) == doctest::Approx(1.5 * std::exp(0.5)));
    CHECK(value(d2) == doctest::Approx(2.5 * std::exp(0.5)));
    // Mixed: grad of a jvp.
    CHECK(value(grad(df)(scalar64(0.5))) == doctest::Approx(2.5 * std::exp(0.5)));
  }

  TEST_CASE("autodiff: ⟨vjp(u), v⟩ = ⟨u, jvp(v)⟩") {
    CHECK(rc::check("vjp and jvp are adjoint", [] {
      const int n = *rc::gen::inRange(1, 6);
      auto gen_vec = [n] {
        return *rc::gen::container<std::vector<double>>(
            n, rc::gen::map(rc::gen::inRange(-200, 200), [](int i) { return i / 100.0; }));
      };
      Array x = f64(gen_vec(), {n}), u = f64(gen_vec(), {n}), v = f64(gen_vec(), {n});
      ArrayFn f = [](const Array& a) { return sin(a) * exp(a) + a * a * a; };
      auto [y, vjp_fn] = vjp(f, x);
      auto [y2, jv] = jvp(f, x, v);
      RC_ASSERT(std::abs(dot(vjp_fn(u), v) - dot(u, jv)) <= 1e-10 * (1 + std::abs(dot(u, jv))));
      RC_ASSERT(y.to_vector<double>() == y2.to_vector<double>());
    }));
  }

  TEST_CASE("autodiff: hvp, jacfwd and jacrev") {
    // f(x) = Σ x_i³ + x0·x1 ⇒ H = diag(6x) + [[0,1],[1,0]].
    ArrayFn f = [](const Array& x) {
      return sum(x * x * x) + sum(x * f64({1, 0}, {2})) * sum(x * f64({0, 1}, {2}));
    };
    Array x = f64({1.0, 2.0}, {2});
    Array hv = hvp(f, x, f64({1.0, -1.0}, {2}));
    CHECK(hv.to_vector<double>()[0] == doctest::Approx(6 * 1.0 - 1));
    CHECK(hv.to_vector<double>()[1] == doctest::Approx(1 - 6 * 2.0));
    ArrayFn g = [](const Array& a) { return sin(a) * 2.0; };
    Array jf = jacfwd(g)(x), jr = jacrev(g)(x);
    CHECK(jf.shape() == Shape{2, 2});
    CHECK(jr.shape() == Shape{2, 2});
    std::vector<double> expected{2 * std::cos(1.0), 0, 0, 2 * std::cos(2.0)};
    auto vf = jf.to_vector<double>(), vr = jr.to_vector<double>();
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK(vf[i] == doctest::Approx(expected[i]));
      CHECK(vr[i] == doctest::Approx(expected[i]));
    }
    // A scalar function's Jacobian has the input's shape.
    CHECK(jacrev(f)(x).shape() == Shape{2});
  }

  TEST_CASE("autodiff: stop_gradient blocks every level") {
    ArrayFn f = [](const Array& x) { return x * stop_gradient(x * x); };
    CHECK(value(grad(f)(scalar64(3.0))) == 9.0);
    CHECK(value(grad(grad(f))(scalar64(3.0))) == 0.0);
  }

  TEST_CASE("autodiff: has_aux forms") {
    auto loss_fn = [](const Array& x) { return std::pair{sum(x * x), x * 2.0}; };
    auto [loss, aux, g] = value_and_grad_with_aux(loss_fn)(f64({1, 2}, {2}));
    CHECK(value(loss) == 5.0);
    CHECK(aux.to_vector<double>() == std::vector<double>{2, 4});
    CHECK_FALSE(has_node(aux));  // the finished trace's graph is released
    CHECK(g.to_vector<double>() == std::vector<double>{2, 4});

    struct Stats {
      int calls;
      std::string note;
    };
    auto with_struct = [](const std::vector<Array>& p) {
      return std::pair{sum(p[0] * p[1]), Stats{1, "aux may be any type"}};
    };
    auto [g2, stats] = grad_with_aux(with_struct)({scalar64(2.0), scalar64(5.0)});
    CHECK(value(g2[0]) == 5.0);
    CHECK(value(g2[1]) == 2.0);
    CHECK(stats.calls == 1);
    CHECK(stats.note == "aux may be any type");

    auto null_value = [](const Array&) { return std::pair{Array(), 1}; };
    CHECK_THROWS_WITH_AS(value_and_grad_with_aux(null_value)(scalar64(1.0)),
                         doctest::Contains("[value_and_grad_with_aux] The function returned a null "
                                           "Array as its value"),
                         ValueError);
  }

  TEST_CASE("autodiff: errors say what was expected") {
    Array v = f64({1, 2, 3}, {3});
    CHECK_THROWS_WITH_AS(
        grad([](const Array& x) { return x * 2.0; })(v),
        "[grad] The function must return a scalar, got shape (3,); reduce it (e.g. "
        "with sum or mean) first.",
        ShapeError);
    CHECK_THROWS_WITH_AS(grad([](const Array& x) { return sum(x); })(Array({1, 2})),
                         doctest::Contains("[grad] Cannot differentiate with respect to the primal "
                                           "of dtype int32 and shape (2,)"),
                         DtypeError);
    CHECK_THROWS_WITH_AS(
        grad([](const std::vector<Array>& x) { return sum(x[0]); })({v, Array(true)}),
        doctest::Contains("primal 1 of dtype bool"), DtypeError);
    CHECK_THROWS_WITH_AS(jvp([](const Array& x) { return x; }, v, f64({1, 2}, {2})),
                         "[jvp] The tangent has shape (2,) but the primal it belongs to has shape "
                         "(3,); pass a tangent shaped like the primal.",
                         ShapeError);
    CHECK_THROWS_AS(jvp([](const Array& x) { return x; }, v, Array({1, 2, 3})), DtypeError);
    CHECK_THROWS_WITH_AS(jvp([](const std::vector<Array>& x) { return x[0]; }, {v, v}, {v}),
                         "[jvp] Got 1 tangents for 2 primals; pass one per primal.", ValueError);
    auto [y, vjp_fn] = vjp([](const Array& x) { return x * x; }, v);
    CHECK_THROWS_WITH_AS(vjp_fn(scalar64(1.0)),
                         "[vjp] The cotangent has shape () but the output it belongs to has shape "
                         "(3,); pass a cotangent shaped like the output.",
                         ShapeError);
    CHECK_THROWS_AS(hvp([](const Array& x) { return sum(x); }, v, scalar64(1.0)), ShapeError);
    CHECK_THROWS_AS(grad([](const Array&) { return Array(); })(v), ValueError);
  }

  TEST_CASE("autodiff: more than 64 nested transformations is an error") {
    std::function<Array(const Array&, int)> nest = [&nest](const Array& x, int depth) -> Array {
      if (depth == 0) return x * x;
      return grad([&nest, depth](const Array& y) { return nest(y, depth - 1); })(x);
    };
    CHECK_THROWS_WITH_AS(nest(scalar64(1.0), 70),
                         "[autodiff] More than 64 nested transformations are active; nest fewer "
                         "grad/vjp/jvp calls.",
                         ValueError);
    // The bits are released after the error: transformations work again.
    CHECK(detail::trace_state().held == 0);
    CHECK(value(grad([](const Array& x) { return x * x; })(scalar64(2.0))) == 4.0);
  }

  TEST_CASE("autodiff: nothing is recorded outside a transformation") {
    Array x = f64({1, 2}, {2});
    CHECK_FALSE(has_node(exp(x) * x + sin(x)));
    // Inside, values depending on the primal are recorded and constants are not.
    grad([&](const Array& p) {
      CHECK(has_node(p * 2.0));
      CHECK_FALSE(has_node(x * 2.0));
      return sum(p);
    })(x);
    // Values that leave a transformation carry no graph.
    auto [y, g] = value_and_grad([](const Array& p) { return sum(p * p); })(x);
    CHECK_FALSE(has_node(y));
    CHECK_FALSE(has_node(g));
  }

  TEST_CASE("autodiff: a value traced by an ended trace is a constant for later ones") {
    // vjp_fn keeps its graph; its trace's bit is reused by the next transformation.
    auto [y, vjp_fn] = vjp([](const Array& x) { return x * x * x; }, scalar64(2.0));
    // Inside a new trace (same bit), calling vjp_fn differentiates only through the cotangent.
    Array d = grad([&vjp_fn](const Array& u) { return vjp_fn(u) * u; })(scalar64(1.0));
    CHECK(value(d) == 2 * 12.0);  // d/du (12u · u) = 24u
    // A value computed in an ended trace is a constant inside the next one.
    Array kept;
    grad([&kept](const Array& p) {
      kept = p * p;
      return kept;
    })(scalar64(3.0));
    Array d2 = grad([&kept](const Array& q) { return q * kept; })(scalar64(1.0));
    CHECK(value(d2) == 9.0);
  }

  TEST_CASE("autodiff: threads differentiate concurrently") {
    auto work = [](double x0, double* out) {
      double acc = 0;
      for (int i = 0; i < 200; ++i) {
        Array x = scalar64(x0 + i * 1e-3);
        acc += value(grad(grad([](const Array& v) { return v * v * v; }))(x));
      }
      *out = acc;
    };
    double a = 0, b = 0;
    std::thread t1(work, 1.0, &a), t2(work, 2.0, &b);
    t1.join();
    t2.join();
    double ea = 0, eb = 0;
    for (int i = 0; i < 200; ++i) {
      ea += 6 * (1.0 + i * 1e-3);
      eb += 6 * (2.0 + i * 1e-3);
    }
    CHECK(a == doctest::Approx(ea));
    CHECK(b == doctest::Approx(eb));
  }

  TEST_CASE("a recorded graph keeps only the values its rules read") {
    // add's rule reads no value: the first sum (a temporary) is not kept by the second add, which
    // writes into its buffer instead. The graph then holds one 4 MiB buffer (the second sum, which
    // sum's rule keeps), not two. where's rule reads only its condition.
    const Array x = ones({1 << 20});
    const std::size_t before = memory::cache_stats().live_bytes;
    auto [y, vjp_fn] = vjp([](const Array& a) { return sum((a + 1.0) + 2.0); }, x);
    CHECK(memory::cache_stats().live_bytes - before < (std::size_t{1} << 20) * 4 * 2);
    CHECK(y.item<float>() == 4.0f * (1 << 20));
    CHECK(array_equal(vjp_fn(Array(1.0f)), ones({1 << 20})));

    auto [r, relu_vjp] = vjp(
        [](const Array& a) {
          const Array v = a - 0.5;
          return sum(where(v > 0.0, v, 0.0) * 3.0);
        },
        Array({0.25f, 1.0f, 2.0f}));
    CHECK(r.item<float>() == 6.0f);
    CHECK(array_equal(relu_vjp(Array(1.0f)), Array({0.0f, 3.0f, 3.0f})));
  }

}  // TEST_SUITE
