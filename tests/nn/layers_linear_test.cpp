// Dense, DenseGeneral and Embed: Flax's linen_linear_test values (spec flax.md §4 items 1, 5, 12,
// 14), Flax-exact initialization from the known make_rng keys (§1.7), loop references,
// check_grads and the errors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "jute/nn.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "layers_test_util.hpp"
#include "ops/op_checks.hpp"

using namespace jute;
namespace nn = jute::nn;
namespace jr = jute::random;
using jute_test::message_of;
using layers_test::check_layer_grads;
using layers_test::Wrap;

namespace {

/// A key given by its two words (the keys of spec flax.md §1.7).
Array key_of(std::uint32_t a, std::uint32_t b) {
  return Array::from_vector(std::vector<std::uint32_t>{a, b}, {2}, uint32);
}

/// Embed's test table: row i is (i, i, i).
Array arange_table(const Array&, const Shape& shape, DType dtype) {
  return broadcast_to(reshape(arange(shape[0], dtype), {shape[0], 1}), shape);
}

}  // namespace

TEST_SUITE("nn.layers.linear") {
  TEST_CASE(
      "nn.layers.linear: Flax's test_dense, test_dense_extra_batch_dims, test_dense_no_bias") {
    const nn::Dense dense{
        .features = 4, .kernel_init = nn::ones_init(), .bias_init = nn::ones_init()};
    auto [y, vars] = nn::init_with_output(dense, jr::key(0), ones({1, 3}));
    CHECK(array_equal(y, full({1, 4}, 4.0)));
    CHECK(array_equal(vars.get("params/kernel"), ones({3, 4})));
    CHECK(array_equal(vars.get("params/bias"), ones({4})));
    auto [y3, vars3] = nn::init_with_output(dense, jr::key(0), ones({1, 2, 3}));
    CHECK(array_equal(y3, full({1, 2, 4}, 4.0)));
    nn::Dense no_bias = dense;
    no_bias.use_bias = false;
    auto [y0, vars0] = nn::init_with_output(no_bias, jr::key(0), ones({1, 3}));
    CHECK(array_equal(y0, full({1, 4}, 3.0)));
    CHECK(vars0.collection("params").keys() == std::vector<std::string>{"kernel"});
  }

  TEST_CASE("nn.layers.linear: Flax's serialization and initializer tests' Dense values") {
    // test_model_serialization: Dense(1, kernel_init=ones) → kernel [[1]], bias [0].
    const Variables v1 = nn::init(nn::Dense{.features = 1, .kernel_init = nn::ones_init()},
                                  jr::key(0), ones({1, 1}));
    CHECK(array_equal(v1.get("params/kernel"), ones({1, 1})));
    CHECK(array_equal(v1.get("params/bias"), zeros({1})));
    // initializers_test: Dense(5, kernel_init=zeros_init()) on (3, 2) → zeros((2, 5)).
    const Variables v2 = nn::init(nn::Dense{.features = 5, .kernel_init = nn::zeros_init()},
                                  jr::key(0), ones({3, 2}));
    CHECK(array_equal(v2.get("params/kernel"), zeros({2, 5})));
  }

  TEST_CASE("nn.layers.linear: Dense draws Flax's keys — kernel from ('Dense_0', 1)") {
    const Array x = jr::normal(jr::key(7), {2, 5});
    const Variables v = nn::init(Wrap<nn::Dense>{{.features = 3}}, jr::key(0), x);
    // The key of ('Dense_0', 1) under key(0) is (3043437727, 3662875008) (flax.md §1.7).
    CHECK(array_equal(jr::fold_in_path(jr::key(0), {"Dense_0"}, 1),
                      key_of(3043437727u, 3662875008u)));
    const Array expected = nn::lecun_normal()(key_of(3043437727u, 3662875008u), {5, 3}, float32);
    CHECK(array_equal(v.get("params/Dense_0/kernel"), expected));
    CHECK(array_equal(v.get("params/Dense_0/bias"), zeros({3})));
    // A root Dense draws its kernel from the root's first key (1428664606, 3351135085).
    const Variables root = nn::init(nn::Dense{.features = 3}, jr::key(0), x);
    CHECK(array_equal(root.get("params/kernel"),
                      nn::lecun_normal()(key_of(1428664606u, 3351135085u), {5, 3}, float32)));
    // lecun_normal: truncated normal with std sqrt(1/fan_in)/0.8796..., inside ±2 std.
    const Variables big = nn::init(nn::Dense{.features = 256}, jr::key(1), ones({1, 400}));
    const Array k = big.get("params/kernel");
    CHECK(std::abs(jute::std(k).item<double>() - std::sqrt(1.0 / 400)) < 0.002);
    CHECK(max(abs(k)).item<double>() <= 2.0 * std::sqrt(1.0 / 400) / 0.87962566103423978 + 1e-6);
  }

  TEST_CASE("nn.layers.linear: Dense computes x @ kernel + bias on any rank, promoting dtypes") {
    const Array x = jr::normal(jr::key(1), {2, 3, 4});
    const nn::Dense dense{.features = 5};
    auto [y, vars] = nn::init_with_output(dense, jr::key(2), x);
    const Array kernel = vars.get("params/kernel");
    CHECK(y.shape() == Shape{2, 3, 5});
    CHECK(allclose(y, matmul(x, kernel), 1e-6, 1e-6));
    // float64 input with float32 params computes in float64; integer input in float32.
    auto [y64, _] = nn::apply(dense, vars, x.astype(float64));
    CHECK(y64.dtype() == float64);
    CHECK(allclose(y64, matmul(x.astype(float64), kernel.astype(float64)), 1e-12, 1e-12));
    auto [yi, _i] = nn::apply(dense, vars, ones({3, 4}, int32));
    CHECK(yi.dtype() == float32);
    // dtype forces the computation dtype; param_dtype the stored one.
    const nn::Dense d64{.features = 5, .dtype = float64, .param_dtype = float64};
    auto [y2, vars64] = nn::init_with_output(d64, jr::key(2), x);
    CHECK(y2.dtype() == float64);
    CHECK(vars64.get("params/kernel").dtype() == float64);
    // 1-D input: (in,) → (features,).
    auto [y1, _1] = nn::apply(dense, vars, ones({4}));
    CHECK(y1.shape() == Shape{5});
  }

  TEST_CASE("nn.layers.linear: DenseGeneral shapes and values against the equivalent reshapes") {
    const Array x = jr::normal(jr::key(3), {2, 3, 4});
    // Last axis onto (2, 5).
    auto [y, v] = nn::init_with_output(nn::DenseGeneral{.features = {2, 5}}, jr::key(4), x);
    CHECK(v.get("params/kernel").shape() == Shape{4, 2, 5});
    CHECK(v.get("params/bias").shape() == Shape{2, 5});
    CHECK(allclose(y, reshape(matmul(x, reshape(v.get("params/kernel"), {4, 10})), {2, 3, 2, 5}),
                   1e-6, 1e-6));
    // The kernel is lecun_normal of the flattened (4, 10) matrix, as Flax's kernel_init_wrap.
    CHECK(array_equal(
        v.get("params/kernel"),
        reshape(nn::lecun_normal()(jr::fold_in_path(jr::key(4), {}, 1), {4, 10}, float32),
                {4, 2, 5})));
    // Contract axes (-2, -1) (given out of order; Flax sorts them).
    auto [y2, v2] =
        nn::init_with_output(nn::DenseGeneral{.features = {6}, .axis = {-1, 1}}, jr::key(5), x);
    CHECK(v2.get("params/kernel").shape() == Shape{3, 4, 6});
    CHECK(allclose(y2, matmul(reshape(x, {2, 12}), reshape(v2.get("params/kernel"), {12, 6})), 1e-6,
                   1e-6));
    // Contract axis 1, keeping axes 0 and 2 in order.
    auto [y3, v3] =
        nn::init_with_output(nn::DenseGeneral{.features = {6}, .axis = {1}}, jr::key(6), x);
    CHECK(y3.shape() == Shape{2, 4, 6});
    CHECK(allclose(y3, matmul(swapaxes(x, 1, 2), v3.get("params/kernel")), 1e-6, 1e-6));
  }

  TEST_CASE("nn.layers.linear: DenseGeneral with batch_dims — one kernel per batch index") {
    const Array x = jr::normal(jr::key(7), {2, 3, 4});
    const nn::DenseGeneral dg{
        .features = {5}, .axis = {-1}, .batch_dims = {0}, .bias_init = nn::normal(1.0)};
    auto [y, v] = nn::init_with_output(dg, jr::key(8), x);
    const Array k = v.get("params/kernel"), b = v.get("params/bias");
    CHECK(k.shape() == Shape{2, 4, 5});
    CHECK(b.shape() == Shape{2, 5});
    for (std::int64_t i = 0; i < 2; ++i) {
      const Array xi = slice_axis(x, 0, i, i + 1);
      const Array expect =
          matmul(reshape(xi, {3, 4}), reshape(slice_axis(k, 0, i, i + 1), {4, 5})) +
          reshape(slice_axis(b, 0, i, i + 1), {5});
      CHECK(allclose(reshape(slice_axis(y, 0, i, i + 1), {3, 5}), expect, 1e-6, 1e-6));
    }
    // The bias initializer sees the flat (batch·features,) shape.
    CHECK(array_equal(
        b, reshape(nn::normal(1.0)(jr::fold_in_path(jr::key(8), {}, 2), {10}, float32), {2, 5})));
    CHECK(message_of([&] {
            nn::init(nn::DenseGeneral{.features = {5}, .batch_dims = {1}}, jr::key(0), x);
          }) ==
          "[DenseGeneral] at \"/\": batch_dims must be consecutive leading dimensions starting "
          "from 0.");
  }

  TEST_CASE("nn.layers.linear: Flax's test_embed — lookup and attend share the table") {
    const nn::Embed embed{.num_embeddings = 4, .features = 3, .embedding_init = arange_table};
    struct Model {
      static const char* name() { return "Model"; }
      nn::Embed embed;
      Array operator()(nn::Scope& s, const Array& ids) const {
        const Array looked_up = s.child("embed", embed, ids);
        const Array logits = s.child("embed", embed, nn::Embed::Attend{ones({3})});
        return concatenate({reshape(looked_up, {-1}), logits});
      }
    };
    const Array ids = reshape(arange(4), {1, 4});
    auto [out, vars] = nn::init_with_output(Model{embed}, jr::key(0), ids);
    const Array table = arange_table(Array(), {4, 3}, float32);
    CHECK(vars.collection("params").keys() == std::vector<std::string>{"embed"});
    CHECK(array_equal(vars.get("params/embed/embedding"), table));
    CHECK(array_equal(slice_axis(out, 0, 0, 12), reshape(table, {-1})));
    CHECK(array_equal(slice_axis(out, 0, 12, 16), Array({0.0f, 3.0f, 6.0f, 9.0f})));
    auto [looked, _] = nn::apply(embed, nn::init(embed, jr::key(0), ids), ids);
    CHECK(array_equal(looked, reshape(table, {1, 4, 3})));
  }

  TEST_CASE("nn.layers.linear: Embed's default init is N(0, 1/features); ids' rules") {
    const nn::Embed embed{.num_embeddings = 300, .features = 50};
    const Variables v = nn::init(embed, jr::key(1), zeros({2}, int32));
    const Array table = v.get("params/embedding");
    CHECK(table.shape() == Shape{300, 50});
    // variance_scaling(1, fan_in, normal, out_axis=0): fan_in of (300, 50) is 50.
    CHECK(allclose(table,
                   jr::normal(jr::fold_in_path(jr::key(1), {}, 1), {300, 50}) *
                       static_cast<float>(std::sqrt(1.0 / 50)),
                   1e-6, 0));
    CHECK(std::abs(jute::std(table).item<double>() - std::sqrt(1.0 / 50)) < 0.003);
    // Negative ids count from the end; ids out of range give NaN rows (jnp.take's fill mode).
    auto [y, _] = nn::apply(embed, v, Array({-1, 299, 300, -301}, int32));
    CHECK(array_equal(slice_axis(y, 0, 0, 1), slice_axis(table, 0, 299, 300)));
    CHECK(array_equal(slice_axis(y, 0, 1, 2), slice_axis(table, 0, 299, 300)));
    CHECK(all(isnan(slice_axis(y, 0, 2, 4))).item<bool>());
    CHECK(message_of([&] { nn::apply(embed, v, Array({1.0f})); }) ==
          "[Embed] at \"/\": the ids must have an integer dtype; got float32 (convert with "
          "astype(int32)).");
    CHECK_THROWS_AS(nn::apply(embed, v, Array({1.0f})), DtypeError);
    CHECK(message_of([&] {
            nn::apply(embed, v, nn::Embed::Attend{ones({2, 7})});
          }) == "[Embed] at \"/\": attend needs a query (..., 50); got (2,7).");
    // num_embeddings == 1 broadcasts the single row to every id, as Flax.
    const nn::Embed one{.num_embeddings = 1, .features = 2, .embedding_init = nn::ones_init()};
    auto [y1, _1] =
        nn::apply(one, nn::init(one, jr::key(0), zeros({1}, int32)), Array({5, 0}, int32));
    CHECK(array_equal(y1, ones({2, 2})));
  }

  TEST_CASE("nn.layers.linear: check_grads of Dense, DenseGeneral and Embed") {
    const Array x = jr::normal(jr::key(9), {3, 4});
    const Wrap<nn::Dense> dense{{.features = 2, .bias_init = nn::normal(1.0)}};
    check_layer_grads(dense, nn::init(dense, jr::key(1), x), x);
    const Array x3 = jr::normal(jr::key(10), {2, 3, 4});
    const Wrap<nn::DenseGeneral> dg{
        {.features = {2, 2}, .axis = {-1}, .batch_dims = {0}, .bias_init = nn::normal(1.0)}};
    check_layer_grads(dg, nn::init(dg, jr::key(2), x3), x3);
    const Wrap<nn::DenseGeneral> dg2{{.features = {3}, .axis = {1, 2}}};
    check_layer_grads(dg2, nn::init(dg2, jr::key(3), x3), x3);
    // Embed: the lookup's and attend's derivatives with respect to the table.
    const nn::Embed embed{.num_embeddings = 5, .features = 3};
    const Variables v = nn::init(embed, jr::key(4), zeros({1}, int32));
    const Array ids = Array({{0, 4}, {4, 2}}, int32);
    const Array q = jr::normal(jr::key(11), {2, 3}).astype(float64);
    testing::check_grads(
        [&](const Array& table) {
          const Variables vt = v.with_collection("params", Tree{{"embedding", table}});
          return nn::apply(embed, vt, ids).output * 2.0 +
                 sum(nn::apply(embed, vt, nn::Embed::Attend{q}).output);
        },
        v.get("params/embedding").astype(float64), 2);
  }

  TEST_CASE("nn.layers.linear: errors name the module path") {
    CHECK(message_of([] { nn::init(Wrap<nn::Dense>{{.features = 3}}, jr::key(0), Array(1.0f)); }) ==
          "[Dense] at \"/Dense_0\": the input must have at least one axis (the features); got a "
          "scalar.");
    CHECK_THROWS_AS(nn::init(Wrap<nn::Dense>{{.features = 3}}, jr::key(0), Array(1.0f)),
                    ShapeError);
    // A stored kernel of another input size: the core's shape error, naming the path.
    const Variables v = nn::init(Wrap<nn::Dense>{{.features = 3}}, jr::key(0), ones({2, 4}));
    const std::string msg = message_of([&] {
      nn::apply(Wrap<nn::Dense>{{.features = 3}}, v, ones({2, 5}));
    });
    CHECK(msg.find("/Dense_0") != std::string::npos);
    CHECK(msg.find("kernel") != std::string::npos);
    CHECK_THROWS_AS(nn::apply(Wrap<nn::Dense>{{.features = 3}}, v, ones({2, 5})),
                    nn::ScopeParamShapeError);
  }
}
