#include <doctest/doctest.h>

#include "core/trace.hpp"
#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "jute/testing.hpp"
#include "jute/tree.hpp"

using namespace jute;

namespace {
Array f64(std::vector<double> v, Shape s) { return Array::from_vector(v, s, float64); }

Tree make_params() {
  return Tree{
      {"Dense_0", Tree{{"kernel", f64({1, 2, 3, 4}, {2, 2})}, {"bias", f64({0.5, -0.5}, {2})}}},
      {"Dense_1", Tree{{"kernel", f64({1, -1}, {2, 1})}}},
      {"Empty", Tree{}}};
}

// A two-layer linear model's squared output, summed.
Array model_loss(const Tree& p) {
  Array x = f64({1, 1}, {1, 2});
  Array h = matmul(x, p.get("Dense_0/kernel")) + p.get("Dense_0/bias");
  Array y = matmul(h, p.get("Dense_1/kernel"));
  return sum(y * y);
}
}  // namespace

TEST_SUITE("autodiff") {
  TEST_CASE("autodiff trees: gradients have exactly the params' structure") {
    Tree params = make_params();
    auto [loss, grads] = value_and_grad(model_loss)(params);
    // h = [1+3+0.5, 2+4-0.5] = [4.5, 5.5]; y = 4.5 - 5.5 = -1; loss = 1.
    CHECK(loss.item<double>() == 1.0);
    CHECK(same_structure(grads, params));
    CHECK(grads.contains("Empty"));
    // dL/dy = -2; dL/dW1 = hᵀ·(-2); dL/dh = -2·[1, -1]; dL/db = dL/dh; dL/dW0 = xᵀ·dL/dh.
    CHECK(grads.get("Dense_1/kernel").to_vector<double>() == std::vector<double>{-9, -11});
    CHECK(grads.get("Dense_0/bias").to_vector<double>() == std::vector<double>{-2, 2});
    CHECK(grads.get("Dense_0/kernel").to_vector<double>() == std::vector<double>{-2, 2, -2, 2});
    CHECK(grad(model_loss)(params) == grads);
    jute::testing::check_grads(model_loss, params, 2);
  }

  TEST_CASE("autodiff trees: aux carries updated state out, without a graph") {
    Tree params = make_params();
    Tree batch_stats{{"mean", f64({0, 0}, {2})}};
    auto loss_fn = [&](const Tree& p) {
      Array k = p.get("Dense_0/kernel");
      Tree updated{{"mean", batch_stats.get("mean") * 0.9 + mean(k, 0) * 0.1}};
      return std::pair{model_loss(p), updated};
    };
    auto [loss, updated, grads] = value_and_grad_with_aux(loss_fn)(params);
    CHECK(loss.item<double>() == 1.0);
    CHECK(allclose(updated.get("mean"), f64({0.2, 0.3}, {2})));
    CHECK(updated.get("mean").impl()->node == nullptr);
    CHECK(grads == grad(model_loss)(params));
    auto [grads2, updated2] = grad_with_aux(loss_fn)(params);
    CHECK(grads2 == grads);
    CHECK(updated2 == updated);
  }

  TEST_CASE("autodiff trees: an integer leaf is an error naming its path") {
    Tree params = make_params().set("Dense_0/step", Array(3));
    CHECK_THROWS_WITH_AS(
        grad(model_loss)(params),
        "[grad] Cannot differentiate with respect to the leaf Dense_0/step of dtype "
        "int32 and shape (); only float32 and float64 values are differentiable "
        "(close over integer values or cast them with astype).",
        DtypeError);
    CHECK_THROWS_WITH_AS(jute::testing::check_grads(model_loss, params, 1),
                         doctest::Contains("[check_grads] Cannot differentiate with respect to "
                                           "the leaf Dense_0/step of dtype int32"),
                         DtypeError);
  }

  TEST_CASE("autodiff trees: jvp, hvp, vjp and stop_gradient over Trees") {
    Tree params = make_params();
    Tree tangents = tree_map([](const Array& a) { return ones_like(a); }, params);
    auto [y, t] = jvp(model_loss, params, tangents);
    Tree g = grad(model_loss)(params);
    double expected = 0;
    for (const auto& leaf : leaves(g)) expected += sum(leaf).item<double>();
    CHECK(y.item<double>() == 1.0);
    CHECK(t.item<double>() == doctest::Approx(expected));

    Tree hv = hvp(model_loss, params, tangents);
    CHECK(same_structure(hv, params));

    auto [y2, vjp_fn] = vjp(model_loss, params);
    CHECK(vjp_fn(Array::scalar(1.0, float64)) == g);

    Tree frozen = stop_gradient(params);
    CHECK(frozen == params);
    Tree g0 = grad([&](const Tree& p) { return model_loss(stop_gradient(p)); })(params);
    for (const auto& leaf : leaves(g0)) CHECK(sum(abs(leaf)).item<double>() == 0.0);

    Tree bad_structure = tangents.erase("Dense_1");
    CHECK_THROWS_AS(jvp(model_loss, params, bad_structure), ValueError);
    Tree bad_shape = tangents.set("Dense_0/bias", f64({1, 1, 1}, {3}));
    CHECK_THROWS_WITH_AS(
        jvp(model_loss, params, bad_shape),
        "[jvp] The tangents leaf Dense_0/bias has shape (3,) but the primal leaf has "
        "shape (2,); pass tangents shaped like the primals.",
        ShapeError);
  }

}  // TEST_SUITE
