// Conv and ConvTranspose: Flax's linen_linear_test values (spec flax.md §4 items 2–4, 13), every
// padding mode with exact outputs, Flax-exact initialization, the transpose identity,
// check_grads and the errors.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "jute/autodiff.hpp"
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
using layers_test::values;
using layers_test::Wrap;

namespace {

/// An initializer returning `value` (Flax's tests pass `kernel_init=lambda *_: kernel`).
nn::Initializer fixed(const Array& value) {
  return [value](const Array&, const Shape&, DType) { return value; };
}

/// x = [1, 2, 3, 4, 5] as (1, 5, 1) and the kernel [1, 2, 1] as (3, 1, 1).
const Array x15 = reshape(Array({1.0f, 2.0f, 3.0f, 4.0f, 5.0f}), {1, 5, 1});
const Array k121 = reshape(Array({1.0f, 2.0f, 1.0f}), {3, 1, 1});

std::vector<double> conv1d(const nn::ConvPadding& padding, std::int64_t stride = 1,
                           Shape input_dilation = {}, Shape kernel_dilation = {}) {
  const nn::Conv conv{.features = 1,
                      .kernel_size = {3},
                      .strides = {stride},
                      .padding = padding,
                      .input_dilation = std::move(input_dilation),
                      .kernel_dilation = std::move(kernel_dilation),
                      .use_bias = false,
                      .kernel_init = fixed(k121)};
  return values(nn::init_with_output(conv, jr::key(0), x15).output);
}

/// The Flax MNIST CNN (spec flax.md §6).
struct Cnn {
  static const char* name() { return "CNN"; }
  Array operator()(nn::Scope& s, const Array& x) const {
    Array h = nn::relu(s.child(nn::Conv{.features = 32, .kernel_size = {3, 3}}, x));
    h = nn::avg_pool(h, {2, 2}, {2, 2});
    h = nn::relu(s.child(nn::Conv{.features = 64, .kernel_size = {3, 3}}, h));
    h = nn::avg_pool(h, {2, 2}, {2, 2});
    h = reshape(h, {h.shape(0), -1});
    h = nn::relu(s.child(nn::Dense{.features = 256}, h));
    return s.child(nn::Dense{.features = 10}, h);
  }
};

}  // namespace

TEST_SUITE("nn.layers.conv") {
  TEST_CASE("nn.layers.conv: Flax's test_conv, multibatch and single-input conv") {
    const nn::Conv conv{.features = 4,
                        .kernel_size = {3},
                        .padding = "VALID",
                        .kernel_init = nn::ones_init(),
                        .bias_init = nn::ones_init()};
    auto [y, vars] = nn::init_with_output(conv, jr::key(0), ones({1, 8, 3}));
    CHECK(vars.get("params/kernel").shape() == Shape{3, 3, 4});
    CHECK(array_equal(y, full({1, 6, 4}, 10.0)));
    nn::Conv no_bias = conv;
    no_bias.use_bias = false;
    CHECK(array_equal(nn::init_with_output(no_bias, jr::key(0), ones({1, 8, 3})).output,
                      full({1, 6, 4}, 9.0)));
    CHECK(array_equal(nn::init_with_output(conv, jr::key(0), ones({2, 5, 8, 3})).output,
                      full({2, 5, 6, 4}, 10.0)));
    CHECK(array_equal(nn::init_with_output(conv, jr::key(0), ones({8, 3})).output,
                      full({6, 4}, 10.0)));
  }

  TEST_CASE("nn.layers.conv: Flax's test_group_conv and test_single_input_masked_conv") {
    const nn::Conv group{.features = 4,
                         .kernel_size = {3},
                         .padding = "VALID",
                         .feature_group_count = 2,
                         .kernel_init = nn::ones_init(),
                         .bias_init = nn::ones_init()};
    auto [y, vars] = nn::init_with_output(group, jr::key(0), ones({1, 8, 4}));
    CHECK(vars.get("params/kernel").shape() == Shape{3, 2, 4});
    CHECK(array_equal(y, full({1, 6, 4}, 7.0)));
    // mask = jnp.tril(ones((3, 3, 4))): per tap, in-feature i keeps out-features o <= i.
    std::vector<float> m;
    for (int t = 0; t < 3; ++t)
      for (int i = 0; i < 3; ++i)
        for (int o = 0; o < 4; ++o) m.push_back(o <= i ? 1.0f : 0.0f);
    const nn::Conv masked{.features = 4,
                          .kernel_size = {3},
                          .padding = "VALID",
                          .mask = Array::from_vector(m, {3, 3, 4}),
                          .kernel_init = nn::ones_init(),
                          .bias_init = nn::ones_init()};
    auto [ym, vm] = nn::init_with_output(masked, jr::key(0), ones({8, 3}));
    CHECK(array_equal(vm.get("params/kernel"), ones({3, 3, 4})));  // the mask is not stored
    CHECK(array_equal(ym, broadcast_to(Array({10.0f, 7.0f, 4.0f, 1.0f}), {6, 4})));
  }

  TEST_CASE("nn.layers.conv: every padding mode on [1..5] * [1, 2, 1]") {
    CHECK(conv1d("VALID") == std::vector<double>{8, 12, 16});
    CHECK(conv1d("SAME") == std::vector<double>{4, 8, 12, 16, 14});
    CHECK(conv1d(1) == std::vector<double>{4, 8, 12, 16, 14});
    CHECK(conv1d(std::vector<std::pair<std::int64_t, std::int64_t>>{{2, 0}}) ==
          std::vector<double>{1, 4, 8, 12, 16});
    CHECK(conv1d("CAUSAL") == std::vector<double>{1, 4, 8, 12, 16});
    CHECK(conv1d("CIRCULAR") == std::vector<double>{9, 8, 12, 16, 15});
    CHECK(conv1d("REFLECT") == std::vector<double>{6, 8, 12, 16, 18});
    // Flax's test_circular_conv_1d_custom (stride 3) and test_reflect_conv_1d_custom (stride 2).
    CHECK(conv1d("CIRCULAR", 3) == std::vector<double>{9, 16});
    CHECK(conv1d("REFLECT", 2) == std::vector<double>{6, 12, 18});
    CHECK(conv1d("same", 2) == std::vector<double>{4, 12, 14});
    // Dilations: kernel taps 2 apart; zeros between input elements.
    CHECK(conv1d("VALID", 1, {}, {2}) == std::vector<double>{12});
    CHECK(conv1d("CAUSAL", 1, {}, {2}) == std::vector<double>{1, 2, 5, 8, 12});
    CHECK(conv1d("VALID", 1, {2}, {}) == std::vector<double>{3, 4, 5, 6, 7, 8, 9});
    CHECK_THROWS_AS(nn::ConvPadding("FULL"), ValueError);
  }

  TEST_CASE("nn.layers.conv: Flax's test_reflect_conv_2d_custom and the constant circular tests") {
    const Array x = reshape(arange(1.0, 10.0, 1.0), {1, 3, 3, 1});
    const Array plus =
        reshape(Array({0.0f, 1.0f, 0.0f, 1.0f, 2.0f, 1.0f, 0.0f, 1.0f, 0.0f}), {3, 3, 1, 1});
    const nn::Conv conv{.features = 1,
                        .kernel_size = {3, 3},
                        .padding = "REFLECT",
                        .use_bias = false,
                        .kernel_init = fixed(plus)};
    CHECK(values(nn::init_with_output(conv, jr::key(0), x).output) ==
          std::vector<double>{14, 18, 22, 26, 30, 34, 38, 42, 46});
    // test_circular_conv_{1d,2d}_constant: ones in, ones kernel → k·in (k²·in in 2-D) everywhere.
    for (std::int64_t k : {1, 2, 3, 4, 6}) {
      for (std::int64_t in : {1, 3}) {
        const nn::Conv c1{.features = 2,
                          .kernel_size = {k},
                          .padding = "CIRCULAR",
                          .use_bias = false,
                          .kernel_init = nn::ones_init()};
        CHECK(array_equal(nn::init_with_output(c1, jr::key(0), ones({2, 5, in})).output,
                          full({2, 5, 2}, static_cast<double>(k * in))));
        const nn::Conv c2{.features = 2,
                          .kernel_size = {k, k},
                          .padding = "CIRCULAR",
                          .use_bias = false,
                          .kernel_init = nn::ones_init()};
        CHECK(array_equal(nn::init_with_output(c2, jr::key(0), ones({1, 5, 4, in})).output,
                          full({1, 5, 4, 2}, static_cast<double>(k * k * in))));
      }
    }
  }

  TEST_CASE("nn.layers.conv: Flax's test_causal_conv1d") {
    const nn::Conv conv{.features = 4,
                        .kernel_size = {3},
                        .padding = "CAUSAL",
                        .kernel_init = nn::ones_init(),
                        .bias_init = nn::ones_init()};
    const Array y = nn::init_with_output(conv, jr::key(0), ones({1, 8, 4})).output;
    const Array row = Array({5.0f, 9.0f, 13.0f, 13.0f, 13.0f, 13.0f, 13.0f, 13.0f});
    CHECK(array_equal(y, broadcast_to(reshape(row, {1, 8, 1}), {1, 8, 4})));
  }

  TEST_CASE("nn.layers.conv: Conv draws Flax's keys and fans; the MNIST CNN's parameter count") {
    const Array x = jr::normal(jr::key(3), {2, 6, 6, 2});
    const Variables v =
        nn::init(Wrap<nn::Conv>{{.features = 4, .kernel_size = {3, 3}}}, jr::key(0), x);
    CHECK(array_equal(
        v.get("params/Conv_0/kernel"),
        nn::lecun_normal()(jr::fold_in_path(jr::key(0), {"Conv_0"}, 1), {3, 3, 2, 4}, float32)));
    CHECK(array_equal(v.get("params/Conv_0/bias"), zeros({4})));
    // flax.md §4 item 13 / §6: 824,458 params on a 1-channel input, 825,034 on 3 channels.
    const Variables mnist = nn::init(Cnn{}, jr::key(0), ones({1, 28, 28, 1}));
    CHECK(num_params(mnist.collection("params")) == 824458);
    CHECK(mnist.get("params/Conv_0/kernel").shape() == Shape{3, 3, 1, 32});
    CHECK(mnist.get("params/Dense_0/kernel").shape() == Shape{3136, 256});
    CHECK(num_params(nn::init_shapes(Cnn{}, jr::key(0), abstract_array({1, 28, 28, 3}))
                         .collection("params")) == 825034);
  }

  TEST_CASE("nn.layers.conv: Flax's test_conv_transpose and its padding") {
    const nn::ConvTranspose ct{.features = 4,
                               .kernel_size = {3},
                               .padding = "VALID",
                               .kernel_init = nn::ones_init(),
                               .bias_init = nn::ones_init()};
    auto [y, vars] = nn::init_with_output(ct, jr::key(0), ones({1, 8, 3}));
    CHECK(vars.get("params/kernel").shape() == Shape{3, 3, 4});
    const Array row = Array({4.0f, 7.0f, 10.0f, 10.0f, 10.0f, 10.0f, 10.0f, 10.0f, 7.0f, 4.0f});
    CHECK(array_equal(y, broadcast_to(reshape(row, {1, 10, 1}), {1, 10, 4})));
    CHECK(array_equal(nn::init_with_output(ct, jr::key(0), ones({8, 3})).output,
                      broadcast_to(reshape(row, {10, 1}), {10, 4})));
    auto transposed = [](const nn::ConvPadding& padding, std::int64_t stride) {
      const nn::ConvTranspose c{.features = 1,
                                .kernel_size = {3},
                                .strides = {stride},
                                .padding = padding,
                                .use_bias = false,
                                .kernel_init = fixed(k121)};
      return values(nn::init_with_output(c, jr::key(0), x15).output);
    };
    // Flax's test_circular_conv_transpose_1d_custom (stride 3).
    CHECK(transposed("CIRCULAR", 3) ==
          std::vector<double>{1, 2, 1, 2, 4, 2, 3, 6, 3, 4, 8, 4, 5, 10, 5});
    // Stride 1: the VALID result [1, 4, 8, 12, 16, 14, 5] wrapped onto period 5.
    CHECK(transposed("VALID", 1) == std::vector<double>{1, 4, 8, 12, 16, 14, 5});
    CHECK(transposed("CIRCULAR", 1) == std::vector<double>{9, 8, 12, 16, 15});
    // SAME: out = in · stride.
    CHECK(transposed("SAME", 1) == std::vector<double>{4, 8, 12, 16, 14});
    CHECK(transposed("SAME", 2) == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    CHECK(transposed(std::vector<std::pair<std::int64_t, std::int64_t>>{{0, 0}}, 1) ==
          std::vector<double>{8, 12, 16});
    CHECK(transposed(1, 1) == std::vector<double>{4, 8, 12, 16, 14});
  }

  TEST_CASE("nn.layers.conv: ConvTranspose with transpose_kernel is the gradient of Conv") {
    const Array x = jr::normal(jr::key(5), {2, 7, 6, 3});
    const Array kernel = jr::normal(jr::key(6), {3, 2, 3, 4});
    const nn::Conv conv{.features = 4,
                        .kernel_size = {3, 2},
                        .strides = {2, 2},
                        .padding = "VALID",
                        .use_bias = false,
                        .kernel_init = fixed(kernel)};
    const Variables cv = nn::init(conv, jr::key(0), x);
    const Array y = nn::apply(conv, cv, x).output;
    const Array g = jr::normal(jr::key(7), y.shape());
    const Array dx =
        grad([&](const Array& xx) { return sum(nn::apply(conv, cv, xx).output * g); })(x);
    const nn::ConvTranspose ct{.features = 3,
                               .kernel_size = {3, 2},
                               .strides = {2, 2},
                               .padding = "VALID",
                               .use_bias = false,
                               .kernel_init = fixed(kernel),
                               .transpose_kernel = true};
    auto [t, tv] = nn::init_with_output(ct, jr::key(0), g);
    CHECK(tv.get("params/kernel").shape() == Shape{3, 2, 3, 4});  // kernel_size + (features, in)
    CHECK(allclose(t, dx, 1e-5, 1e-5));
  }

  TEST_CASE("nn.layers.conv: check_grads of Conv in every padding mode and of ConvTranspose") {
    const Array x = jr::normal(jr::key(8), {2, 5, 4, 2});
    for (const char* padding : {"SAME", "VALID", "CIRCULAR", "REFLECT"}) {
      const Wrap<nn::Conv> conv{{.features = 3,
                                 .kernel_size = {3, 2},
                                 .strides = {2, 1},
                                 .padding = padding,
                                 .bias_init = nn::normal(1.0)}};
      check_layer_grads(conv, nn::init(conv, jr::key(1), x), x);
    }
    const Array x1 = jr::normal(jr::key(9), {2, 6, 4});
    const Wrap<nn::Conv> causal{{.features = 2,
                                 .kernel_size = {3},
                                 .padding = "CAUSAL",
                                 .kernel_dilation = {2},
                                 .feature_group_count = 2}};
    check_layer_grads(causal, nn::init(causal, jr::key(2), x1), x1);
    const Wrap<nn::Conv> masked{
        {.features = 2,
         .kernel_size = {2},
         .input_dilation = {2},
         .mask = jr::bernoulli(jr::key(3), 0.5, {2, 4, 2}).astype(float32)}};
    check_layer_grads(masked, nn::init(masked, jr::key(3), x1), x1);
    for (const char* padding : {"SAME", "VALID", "CIRCULAR"}) {
      const Wrap<nn::ConvTranspose> ct{{.features = 3,
                                        .kernel_size = {3},
                                        .strides = {2},
                                        .padding = padding,
                                        .bias_init = nn::normal(1.0)}};
      check_layer_grads(ct, nn::init(ct, jr::key(4), x1), x1);
    }
  }

  TEST_CASE("nn.layers.conv: 3-D convolutions (NDHWC), float64 and shape-only init") {
    const nn::Conv conv{.features = 2,
                        .kernel_size = {2, 3, 2},
                        .strides = {1, 2, 1},
                        .padding = "VALID",
                        .kernel_init = nn::ones_init()};
    auto [y, vars] = nn::init_with_output(conv, jr::key(0), ones({1, 3, 5, 4, 3}));
    CHECK(vars.get("params/kernel").shape() == Shape{2, 3, 2, 3, 2});
    CHECK(array_equal(y, full({1, 2, 2, 3, 2}, 36.0)));  // 2·3·2 taps × 3 channels
    auto [y64, _] = nn::apply(conv, vars, ones({1, 3, 5, 4, 3}, float64));
    CHECK(y64.dtype() == float64);
    const Variables shapes = nn::init_shapes(
        Wrap<nn::ConvTranspose>{{.features = 5, .kernel_size = {3, 3}, .strides = {2, 2}}},
        jr::key(0), abstract_array({4, 7, 7, 3}));
    CHECK(shapes.get("params/ConvTranspose_0/kernel").is_abstract());
    CHECK(shapes.get("params/ConvTranspose_0/kernel").shape() == Shape{3, 3, 3, 5});
  }

  TEST_CASE("nn.layers.conv: errors name the module path") {
    const Wrap<nn::Conv> conv2d{{.features = 4, .kernel_size = {3, 3}}};
    CHECK(message_of([&] {
            nn::init(conv2d, jr::key(0), ones({8, 3}));
          }) ==
          "[Conv] at \"/Conv_0\": a kernel_size of 2 spatial axes needs an input (batch..., 2 "
          "spatial axes, features) of rank at least 3; got (8,3).");
    CHECK_THROWS_AS(nn::init(conv2d, jr::key(0), ones({8, 3})), ShapeError);
    const Wrap<nn::Conv> groups{{.features = 4, .kernel_size = {3}, .feature_group_count = 3}};
    CHECK(message_of([&] {
            nn::init(groups, jr::key(0), ones({1, 8, 3}));
          }) ==
          "[Conv] at \"/Conv_0\": feature_group_count 3 must divide the input features (3) and the "
          "output features (4).");
    const Wrap<nn::Conv> mask{{.features = 4, .kernel_size = {3}, .mask = ones({3, 4})}};
    CHECK(message_of([&] {
            nn::init(mask, jr::key(0), ones({1, 8, 3}));
          }) == "[Conv] at \"/Conv_0\": the mask needs the kernel's shape (3,3,4); got (3,4).");
    CHECK_THROWS_AS(nn::init(mask, jr::key(0), ones({1, 8, 3})), ValueError);
    const Wrap<nn::Conv> causal{{.features = 4, .kernel_size = {3, 3}, .padding = "CAUSAL"}};
    CHECK(message_of([&] {
            nn::init(causal, jr::key(0), ones({1, 8, 8, 3}));
          }) == "[Conv] at \"/Conv_0\": CAUSAL padding is only implemented for 1-D convolutions.");
    const Wrap<nn::Conv> pads{
        {.features = 4,
         .kernel_size = {3, 3},
         .padding = std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}}}};
    CHECK(message_of([&] {
            nn::init(pads, jr::key(0), ones({1, 8, 8, 3}));
          }) ==
          "[Conv] at \"/Conv_0\": padding [(1, 1)] needs one (low, high) pair per spatial axis "
          "(2).");
    const Wrap<nn::Conv> strides{{.features = 4, .kernel_size = {3, 3}, .strides = {1, 2, 3}}};
    CHECK(
        message_of([&] {
          nn::init(strides, jr::key(0), ones({1, 8, 8, 3}));
        }) ==
        "[Conv] at \"/Conv_0\": strides (1,2,3) must have one entry or 2 (one per spatial axis).");
    const Wrap<nn::ConvTranspose> reflect{
        {.features = 4, .kernel_size = {3}, .padding = "REFLECT"}};
    CHECK(message_of([&] {
            nn::init(reflect, jr::key(0), ones({1, 8, 3}));
          }) ==
          "[ConvTranspose] at \"/ConvTranspose_0\": padding REFLECT is not supported; use SAME, "
          "VALID, CIRCULAR or explicit pairs.");
  }
}
