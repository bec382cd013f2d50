// Normalization layers: Flax's layer tests (spec flax.md §4 item 6–7: test_batch_norm,
// test_layer_norm, test_rms_norm, test_group_norm) ported, the variable layout, the train/eval
// rules, the immutable-batch_stats error, and check_grads.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "jute/autodiff.hpp"
#include "jute/nn/module.hpp"
#include "jute/nn/normalization.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "jute/testing/check_grads.hpp"
#include "ops/op_checks.hpp"

using namespace jute;
namespace nn = jute::nn;
namespace jr = jute::random;

namespace {

/// A root module calling one child layer, so the layer's variables sit at "<Type>_0".
template <class L>
struct Wrap {
  static const char* name() { return "Wrap"; }
  L layer;
  Array operator()(nn::Scope& s, const Array& x) const { return s.child(layer, x); }
};

using jute_test::message_of;

/// check_grads over the input and every param of `model`, with the other collections fixed.
template <class M>
void check_layer_grads(const M& model, const Variables& vars, const Array& x,
                       const nn::Mutable& mutable_ = nn::Mutable::none()) {
  const Tree args = Tree{{"x", x}, {"params", vars.collection("params")}};
  testing::check_grads(
      [&](const Tree& t) {
        const Variables v = vars.with_collection("params", t.subtree("params"));
        return nn::apply(model, v, t.get("x"), {.mutable_ = mutable_}).output;
      },
      args, 2);
}

}  // namespace

TEST_SUITE("nn.normalization") {
  TEST_CASE(
      "nn.normalization: Flax's test_batch_norm — init leaves the stats, apply updates them") {
    const Array x = jr::normal(jr::key(1), {4, 3, 2});
    const nn::BatchNorm bn{.use_running_average = false, .momentum = 0.9};
    auto [y, vars] = nn::init_with_output(bn, jr::key(2), x);
    CHECK(allclose(mean(y, {0, 1}), zeros({2}), 0, 1e-6));
    CHECK(allclose(var(y, {0, 1}), ones({2}), 0, 1e-4));
    // No running-average update during init.
    CHECK(array_equal(vars.get("batch_stats/mean"), zeros({2})));
    CHECK(array_equal(vars.get("batch_stats/var"), ones({2})));
    CHECK(array_equal(vars.get("params/scale"), ones({2})));
    CHECK(array_equal(vars.get("params/bias"), zeros({2})));

    auto [y2, updated] = nn::apply(bn, vars, x, {.mutable_ = {"batch_stats"}});
    CHECK(updated.collections() == std::vector<std::string>{"batch_stats"});
    CHECK(allclose(updated.get("batch_stats/mean"), mean(x, {0, 1}) * 0.1f, 1e-6, 1e-7));
    CHECK(allclose(updated.get("batch_stats/var"), var(x, {0, 1}) * 0.1f + 0.9f, 1e-6, 1e-7));
    CHECK(allclose(y2, y, 0, 0));
  }

  TEST_CASE("nn.normalization: BatchNorm layout, eval mode, axis and the flag given once") {
    const Array x = jr::normal(jr::key(3), {5, 4}) * 2.0f + 1.0f;
    const Wrap<nn::BatchNorm> train{{.use_running_average = false}};
    const Variables vars = nn::init(train, jr::key(0), x);
    CHECK(vars.collections() == std::vector<std::string>{"batch_stats", "params"});
    CHECK(vars.get("batch_stats/BatchNorm_0/mean").shape() == Shape{4});
    CHECK(vars.get("batch_stats/BatchNorm_0/var").dtype() == float32);
    CHECK(vars.get("params/BatchNorm_0/scale").shape() == Shape{4});

    // Default momentum 0.99: one train step moves the averages by 1%.
    auto [y, updated] = nn::apply(train, vars, x, {.mutable_ = {"batch_stats"}});
    const Array m = updated.get("batch_stats/BatchNorm_0/mean");
    CHECK(allclose(m, mean(x, 0) * 0.01f, 1e-5, 1e-7));
    // Train mode normalizes with the batch statistics (biased variance, eps 1e-5).
    CHECK(allclose(y, (x - mean(x, 0)) / sqrt(var(x, 0) + 1e-5f), 1e-5, 1e-5));

    // Eval mode uses the stored averages, writes nothing and needs nothing mutable.
    const Variables trained = vars.merge(updated);
    const Wrap<nn::BatchNorm> eval{{.use_running_average = true}};
    auto [ye, none] = nn::apply(eval, trained, x);
    CHECK(none.empty());
    const Array rv = trained.get("batch_stats/BatchNorm_0/var");
    CHECK(allclose(ye, (x - m) * rsqrt(rv + 1e-5f), 1e-6, 1e-6));

    // The call-time flag, as Flax's merge_param: exactly one of field and argument.
    struct CallTime {
      static const char* name() { return "CallTime"; }
      std::optional<bool> field;
      std::optional<bool> arg;
      Array operator()(nn::Scope& s, const Array& v) const {
        return s.child(nn::BatchNorm{.use_running_average = field}, v, arg);
      }
    };
    auto [yc, _] = nn::apply(CallTime{std::nullopt, true}, trained, x);
    CHECK(array_equal(yc, ye));
    CHECK_THROWS_AS(nn::apply(CallTime{true, false}, trained, x), ValueError);
    const std::string neither = message_of([&] { nn::apply(CallTime{}, trained, x); });
    CHECK(neither.rfind("[BatchNorm]", 0) == 0);
    CHECK(neither.find("/BatchNorm_0") != std::string::npos);

    // axis = 1 of (4, 3, 2): statistics over axes 0 and 2, per channel of axis 1.
    const Array x3 = jr::normal(jr::key(4), {4, 3, 2});
    const nn::BatchNorm bn1{
        .use_running_average = false, .axis = 1, .use_bias = false, .use_scale = false};
    auto [y3, v3] = nn::init_with_output(bn1, jr::key(0), x3);
    CHECK(v3.collections() == std::vector<std::string>{"batch_stats"});
    CHECK(v3.get("batch_stats/mean").shape() == Shape{3});
    const Array mu = mean(x3, {0, 2}, true);
    CHECK(allclose(y3, (x3 - mu) * rsqrt(var(x3, {0, 2}, true) + 1e-5f), 1e-5, 1e-5));
  }

  TEST_CASE("nn.normalization: writing batch_stats while immutable is the core's typed error") {
    const Array x = jr::normal(jr::key(3), {5, 4});
    const Wrap<nn::BatchNorm> train{{.use_running_average = false}};
    const Variables vars = nn::init(train, jr::key(0), x);
    const std::string msg = message_of([&] { nn::apply(train, vars, x); });
    CHECK(msg.find("\"mean\"") != std::string::npos);
    CHECK(msg.find("\"/BatchNorm_0\"") != std::string::npos);
    CHECK(msg.find("\"batch_stats\"") != std::string::npos);
    CHECK_THROWS_AS(nn::apply(train, vars, x), nn::ModifyScopeVariableError);
    // Eval mode does not write.
    CHECK_NOTHROW(nn::apply(Wrap<nn::BatchNorm>{{.use_running_average = true}}, vars, x));
  }

  TEST_CASE("nn.normalization: Flax's test_layer_norm over several reduction axes") {
    const std::vector<std::vector<int>> cases = {{-1}, {1}, {1, 2}, {0, 1, 2}};
    for (bool fast : {true, false}) {
      for (const auto& axes : cases) {
        Array x = jr::normal(jr::key(1), {2, 3, 4});
        if (!fast) x = x + 1e6f;  // ruins the one-pass variance, not the two-pass one
        const nn::LayerNorm ln{.epsilon = 1e-5,
                               .use_bias = false,
                               .use_scale = false,
                               .reduction_axes = axes,
                               .use_fast_variance = fast};
        auto [y, vars] = nn::init_with_output(ln, jr::key(2), x);
        CHECK(vars.empty());
        CHECK(y.dtype() == x.dtype());
        const Array want = (x - mean(x, axes, true)) * rsqrt(var(x, axes, true) + 1e-5f);
        CHECK(allclose(y, want, 1e-3, 1e-3));
      }
    }
    // Defaults: epsilon 1e-6, scale ones and bias zeros over the last axis.
    const Array x = Array({{1.f, 2.f, 4.f}, {0.f, -1.f, 3.f}});
    auto [y, vars] = nn::init_with_output(nn::LayerNorm{}, jr::key(0), x);
    CHECK(vars.get("params/scale").shape() == Shape{3});
    CHECK(array_equal(vars.get("params/bias"), zeros({3})));
    CHECK(allclose(y, (x - mean(x, -1, true)) * rsqrt(var(x, -1, true) + 1e-6f), 1e-6, 1e-6));
    // float64 inputs stay float64 (with float32 params promoted).
    const Array x64 = x.astype(float64);
    const Array y64 = nn::apply(nn::LayerNorm{}, vars, x64).output;
    CHECK(y64.dtype() == float64);
    const Array m64 = mean(x64, -1, true);
    CHECK(allclose(y64,
                   (x64 - m64) * rsqrt(mean(square(x64), -1, true) - square(m64) +
                                       Array::scalar(1e-6, float64)),
                   1e-14, 1e-14));
  }

  TEST_CASE("nn.normalization: Flax's test_rms_norm") {
    for (const auto& axes : std::vector<std::vector<int>>{{-1}, {1}, {1, 2}}) {
      const Array x = jr::normal(jr::key(1), {2, 3, 4});
      const nn::RMSNorm rms{.epsilon = 1e-5, .use_scale = false, .reduction_axes = axes};
      auto [y, vars] = nn::init_with_output(rms, jr::key(2), x);
      CHECK(vars.empty());
      CHECK(allclose(y, x * rsqrt(mean(square(x), axes, true) + 1e-5f), 1e-5, 1e-6));
    }
    const Array x = Array({{3.f, 4.f}});
    auto [y, vars] = nn::init_with_output(nn::RMSNorm{}, jr::key(0), x);
    CHECK(vars.collection("params").keys() == std::vector<std::string>{"scale"});
    CHECK(allclose(y, x * rsqrt(Array(12.5f) + 1e-6f), 1e-6, 0));
  }

  TEST_CASE("nn.normalization: Flax's test_group_norm") {
    const Array x = jr::normal(jr::key(1), {2, 5, 4, 4, 32});
    const nn::GroupNorm gn{.num_groups = 2, .epsilon = 1e-5, .use_bias = false, .use_scale = false};
    auto [y, vars] = nn::init_with_output(gn, jr::key(2), x);
    CHECK(vars.empty());
    const Array xg = reshape(x, {2, 5, 4, 4, 2, 16});
    const Array want =
        reshape((xg - mean(xg, {1, 2, 3, 5}, true)) * rsqrt(var(xg, {1, 2, 3, 5}, true) + 1e-5f),
                {2, 5, 4, 4, 32});
    CHECK(allclose(y, want, 0, 1e-4));
    // group_size 16 is the same grouping.
    const nn::GroupNorm by_size{.num_groups = std::nullopt,
                                .group_size = 16,
                                .epsilon = 1e-5,
                                .use_bias = false,
                                .use_scale = false};
    CHECK(allclose(nn::init_with_output(by_size, jr::key(2), x).output, y, 0, 0));
    // Defaults: 32 groups, per-channel scale and bias.
    auto [yd, vd] = nn::init_with_output(nn::GroupNorm{}, jr::key(0), x);
    CHECK(vd.get("params/scale").shape() == Shape{32});
    CHECK(vd.get("params/bias").shape() == Shape{32});
    CHECK(allclose(yd, (x - mean(x, {1, 2, 3}, true)) * rsqrt(var(x, {1, 2, 3}, true) + 1e-6f), 0,
                   1e-4));
    // Errors.
    CHECK_THROWS_AS(nn::init(nn::GroupNorm{}, jr::key(0), ones({2, 3, 12})), ValueError);
    CHECK_THROWS_AS(nn::init(nn::GroupNorm{.group_size = 4}, jr::key(0), ones({2, 12})),
                    ValueError);
    CHECK_THROWS_AS(nn::init(nn::GroupNorm{}, jr::key(0), ones({32})), ShapeError);
  }

  TEST_CASE("nn.normalization: check_grads through every layer (input and params)") {
    const Array x = jr::normal(jr::key(5), {4, 3}, float64) * 1.5 + 0.3;
    const nn::BatchNorm train{.use_running_average = false};
    Variables vars = nn::init(train, jr::key(0), x);
    vars = vars.with_collection("params", Tree{{"scale", Array({1.2f, 0.7f, -0.4f})},
                                               {"bias", Array({0.1f, -0.2f, 0.3f})}});
    check_layer_grads(train, vars, x, {"batch_stats"});
    check_layer_grads(nn::BatchNorm{.use_running_average = true}, vars, x);
    for (bool fast : {true, false}) {
      const nn::LayerNorm ln{.use_fast_variance = fast};
      check_layer_grads(ln, nn::init(ln, jr::key(0), x), x);
    }
    const nn::RMSNorm rms;
    check_layer_grads(rms, nn::init(rms, jr::key(0), x), x);
    const Array xg = jr::normal(jr::key(6), {2, 3, 4}, float64);
    const nn::GroupNorm gn{.num_groups = 2};
    check_layer_grads(gn, nn::init(gn, jr::key(0), xg), xg);
  }
}

TEST_SUITE("nn.normalization") {
  TEST_CASE("nn.normalization: init_shapes gives init's tree for every layer") {
    const Array x = abstract_array({2, 4, 4, 32});
    const Variables bn =
        nn::init_shapes(Wrap<nn::BatchNorm>{{.use_running_average = false}}, jr::key(0), x);
    CHECK(bn.get("batch_stats/BatchNorm_0/var").shape() == Shape{32});
    CHECK(bn.get("params/BatchNorm_0/scale").is_abstract());
    for (const Variables& v : {nn::init_shapes(nn::LayerNorm{}, jr::key(0), x),
                               nn::init_shapes(nn::GroupNorm{}, jr::key(0), x)}) {
      CHECK(v.get("params/scale").shape() == Shape{32});
      CHECK(v.get("params/bias").shape() == Shape{32});
    }
    CHECK(nn::init_shapes(nn::RMSNorm{}, jr::key(0), x).get("params/scale").shape() == Shape{32});
  }
}
