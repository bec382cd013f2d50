// Attention: dot_product_attention against a float64 loop reference, Flax's MHA layouts and
// shapes (linen_attention_test's self and encoder-decoder cases), masks, dropout, check_grads.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "jute/autodiff.hpp"
#include "jute/nn/attention.hpp"
#include "jute/nn/module.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "jute/testing/check_grads.hpp"

using namespace jute;
namespace nn = jute::nn;
namespace jr = jute::random;
namespace ini = jute::nn::initializers;

namespace {

/// out[b,i,h,:] = Σ_j softmax_j(q[b,i,h]·k[b,j,h]/√d + bias, masked) v[b,j,h,:], with loops.
Array reference_attention(const Array& q, const Array& k, const Array& v, const Array& mask) {
  const auto B = q.shape(0), Q = q.shape(1), H = q.shape(2), D = q.shape(3), K = k.shape(1),
             DV = v.shape(3);
  std::vector<double> out(static_cast<std::size_t>(B * Q * H * DV), 0.0);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t i = 0; i < Q; ++i) {
        std::vector<double> logits(static_cast<std::size_t>(K));
        double mx = -INFINITY;
        for (std::int64_t j = 0; j < K; ++j) {
          double dot = 0;
          for (std::int64_t d = 0; d < D; ++d)
            dot += q.at<double>({b, i, h, d}) * k.at<double>({b, j, h, d});
          double l = dot / std::sqrt(double(D));
          if (mask.valid() && mask.at<double>({b, 0, i, j}) == 0) l = -1e300;
          logits[static_cast<std::size_t>(j)] = l;
          mx = std::max(mx, l);
        }
        double z = 0;
        for (double& l : logits) z += (l = std::exp(l - mx));
        for (std::int64_t j = 0; j < K; ++j)
          for (std::int64_t e = 0; e < DV; ++e)
            out[static_cast<std::size_t>(((b * Q + i) * H + h) * DV + e)] +=
                logits[static_cast<std::size_t>(j)] / z * v.at<double>({b, j, h, e});
      }
  return Array::from_vector(out, {B, Q, H, DV}, float64);
}

}  // namespace

TEST_SUITE("nn.attention") {
  TEST_CASE(
      "nn.attention: dot_product_attention equals the loop reference, with and without mask") {
    const Array q = jr::normal(jr::key(1), {2, 3, 2, 4}, float64);
    const Array k = jr::normal(jr::key(2), {2, 5, 2, 4}, float64);
    const Array v = jr::normal(jr::key(3), {2, 5, 2, 3}, float64);
    const Array y = nn::dot_product_attention(q, k, v);
    CHECK(y.shape() == Shape{2, 3, 2, 3});
    CHECK(allclose(y, reference_attention(q, k, v, Array()), 1e-12, 1e-13));
    const Array w = nn::dot_product_attention_weights(q, k);
    CHECK(w.shape() == Shape{2, 2, 3, 5});
    CHECK(allclose(sum(w, -1), ones({2, 2, 3}, float64), 1e-14, 0));

    // A padding mask over the keys: the last two keys of the second example are padding.
    const Array valid = Array({{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}});
    const Array mask = nn::make_attention_mask(ones({2, 3}), valid.astype(float32));
    CHECK(mask.shape() == Shape{2, 1, 3, 5});
    const Array ym = nn::dot_product_attention(q, k, v, Array(), mask);
    CHECK(allclose(ym, reference_attention(q, k, v, mask), 1e-12, 1e-13));
    const Array wm = nn::dot_product_attention_weights(q, k, Array(), mask);
    CHECK(max(slice_axis(slice_axis(wm, 0, 1, 2), 3, 3, 5)).item<double>() == 0.0);
    // A bias adds to the logits: a bias of −inf-like size acts as the mask.
    const Array bias = where(mask != 0.0f, Array(0.0), Array(-1e30));
    CHECK(allclose(nn::dot_product_attention(q, k, v, bias), ym, 1e-12, 1e-13));

    CHECK_THROWS_AS(nn::dot_product_attention(q, k, slice_axis(v, 1, 0, 4)), ShapeError);
    CHECK_THROWS_AS(nn::dot_product_attention_weights(q, slice_axis(k, 3, 0, 3)), ShapeError);
  }

  TEST_CASE("nn.attention: masks as Flax's make_attention_mask, make_causal_mask, combine_masks") {
    const Array causal = nn::make_causal_mask(ones({1, 3}));
    CHECK(causal.shape() == Shape{1, 1, 3, 3});
    CHECK(causal.dtype() == float32);
    CHECK(array_equal(reshape(causal, {3, 3}),
                      Array({{1.f, 0.f, 0.f}, {1.f, 1.f, 0.f}, {1.f, 1.f, 1.f}})));
    CHECK(nn::make_causal_mask(ones({2, 4}), 1).shape() == Shape{1, 2, 1, 4, 4});
    const Array m = nn::make_attention_mask(Array({{1, 1, 0}}), Array({{1, 0}}));
    CHECK(m.shape() == Shape{1, 1, 3, 2});
    CHECK(array_equal(reshape(m, {3, 2}), Array({{1.f, 0.f}, {1.f, 0.f}, {0.f, 0.f}})));
    const Array cmp = nn::make_attention_mask(
        Array({{2, 0}}), Array({{1, 3}}),
        [](Array a, Array b) { return greater(std::move(a), std::move(b)); }, 0, bool_);
    CHECK(cmp.dtype() == bool_);
    CHECK(reshape(cmp, {4}).to_vector<bool>() == std::vector<bool>{true, false, false, false});
    const Array both =
        nn::combine_masks({causal, Array(), reshape(Array({1.f, 1.f, 0.f}), {1, 1, 1, 3})});
    CHECK(array_equal(reshape(both, {3, 3}),
                      Array({{1.f, 0.f, 0.f}, {1.f, 1.f, 0.f}, {1.f, 1.f, 0.f}})));
    CHECK_FALSE(nn::combine_masks({Array(), Array()}).valid());
    CHECK_THROWS_AS(nn::combine_masks({causal, ones({3, 3})}), ValueError);
  }

  TEST_CASE("nn.attention: MultiHeadDotProductAttention params as Flax (self and cross)") {
    // linen_attention_test: num_heads 8, qkv_features 16, ones kernels, zero biases.
    const nn::MultiHeadDotProductAttention mha{.num_heads = 8,
                                               .qkv_features = 16,
                                               .kernel_init = ini::ones_init(),
                                               .bias_init = ini::zeros_init()};
    const Array x = ones({4, 6, 5});
    auto [y, vars] = nn::init_with_output(mha, jr::key(0), x);
    CHECK(y.shape() == Shape{4, 6, 5});
    const Tree& p = vars.collection("params");
    CHECK(p.keys() == std::vector<std::string>{"key", "out", "query", "value"});
    for (const char* n : {"query", "key", "value"}) {
      CHECK(p.get(std::string(n) + "/kernel").shape() == Shape{5, 8, 2});
      CHECK(p.get(std::string(n) + "/bias").shape() == Shape{8, 2});
    }
    CHECK(p.get("out/kernel").shape() == Shape{8, 2, 5});
    CHECK(p.get("out/bias").shape() == Shape{5});
    // Every token equal: uniform weights, value = 5 per (head, dim), out = 16·5 per feature.
    CHECK(array_equal(y, full({4, 6, 5}, 80.0)));

    // Encoder-decoder: queries (4, 2, 3), keys/values (4, 2, 5) → (4, 2, 3).
    const nn::MultiHeadDotProductAttention cross{.num_heads = 8, .qkv_features = 16};
    auto [yc, vc] = nn::init_with_output(cross, jr::key(0), ones({4, 2, 3}), ones({4, 2, 5}));
    CHECK(yc.shape() == Shape{4, 2, 3});
    CHECK(vc.get("params/query/kernel").shape() == Shape{3, 8, 2});
    CHECK(vc.get("params/key/kernel").shape() == Shape{5, 8, 2});
    CHECK(vc.get("params/out/kernel").shape() == Shape{8, 2, 3});
    // out_features, and SelfAttention's own type name.
    struct Net {
      static const char* name() { return "Net"; }
      Array operator()(nn::Scope& s, const Array& v) const {
        return s.child(nn::SelfAttention{{.num_heads = 2, .out_features = 7}}, v);
      }
    };
    auto [ys, vs] = nn::init_with_output(Net{}, jr::key(0), ones({1, 3, 4}));
    CHECK(ys.shape() == Shape{1, 3, 7});
    CHECK(vs.get("params/SelfAttention_0/query/kernel").shape() == Shape{4, 2, 2});
    CHECK(vs.get("params/SelfAttention_0/out/kernel").shape() == Shape{2, 2, 7});
    CHECK_THROWS_AS(
        nn::init(nn::MultiHeadDotProductAttention{.num_heads = 3}, jr::key(0), ones({1, 2, 4})),
        ValueError);
  }

  TEST_CASE("nn.attention: MHA equals its projections through dot_product_attention") {
    const Array x = jr::normal(jr::key(7), {2, 4, 6});
    const Array mem = jr::normal(jr::key(8), {2, 3, 6});
    const nn::MultiHeadDotProductAttention mha{
        .num_heads = 2, .qkv_features = 4, .bias_init = ini::normal(0.5)};
    const Array mask =
        nn::make_attention_mask(ones({2, 4}), Array({{1.f, 1.f, 0.f}, {1.f, 0.f, 1.f}}));
    const Variables vars = nn::init(mha, jr::key(3), x, mem);
    auto [y, _] = nn::apply(mha, vars, x, mem, nn::AttentionCall{.mask = mask});
    const Tree& p = vars.collection("params");
    auto project = [&](const Array& in, const std::string& n) {
      return reshape(matmul(in, reshape(p.get(n + "/kernel"), {6, 4})), {2, in.shape(1), 2, 2}) +
             p.get(n + "/bias");
    };
    const Array att = nn::dot_product_attention(project(x, "query"), project(mem, "key"),
                                                project(mem, "value"), Array(), mask);
    const Array want =
        matmul(reshape(att, {2, 4, 4}), reshape(p.get("out/kernel"), {4, 6})) + p.get("out/bias");
    CHECK(allclose(y, want, 1e-5, 1e-6));
    // Causal self-attention: position 0 does not see later tokens.
    const nn::AttentionCall causal{.mask = nn::make_causal_mask(ones({2, 4}))};
    const Variables sv = nn::init(mha, jr::key(3), x);
    const Array y1 = nn::apply(mha, sv, x, causal).output;
    const Array x2 = concatenate({slice_axis(x, 1, 0, 1), slice_axis(x, 1, 1, 4) * 3.0f}, 1);
    const Array y2 = nn::apply(mha, sv, x2, causal).output;
    CHECK(allclose(slice_axis(y1, 1, 0, 1), slice_axis(y2, 1, 0, 1), 1e-6, 1e-7));
    CHECK_FALSE(allclose(slice_axis(y1, 1, 1, 2), slice_axis(y2, 1, 1, 2), 1e-3, 1e-3));
    // sow_weights puts the weights in "intermediates".
    auto [ys, inter] = nn::apply(mha, sv, x, nn::AttentionCall{.sow_weights = true},
                                 {.mutable_ = {"intermediates"}});
    CHECK(inter.get("intermediates/attention_weights/0").shape() == Shape{2, 2, 4, 4});
  }

  TEST_CASE("nn.attention: dropout of the weights (rates, determinism, keys, broadcast)") {
    const Array q = jr::normal(jr::key(1), {3, 4, 2, 8});
    const Array k = jr::normal(jr::key(2), {3, 5, 2, 8});
    const Array w = nn::dot_product_attention_weights(q, k);
    const nn::AttentionDropout drop{.rate = 0.5, .rng = jr::key(9)};
    const Array wd = nn::dot_product_attention_weights(q, k, Array(), Array(), drop);
    // Kept weights are scaled by 1/keep; one mask broadcast over batch and heads.
    const Array kept = wd != 0.0f;
    CHECK(allclose(where(kept, wd, Array(0.0f)), where(kept, w * 2.0f, Array(0.0f)), 1e-6, 0));
    const Array pattern = slice_axis(slice_axis(kept, 0, 0, 1), 1, 0, 1);
    CHECK(array_equal(kept, broadcast_to(pattern, kept.shape())));
    CHECK(any(kept).item<bool>());
    CHECK_FALSE(all(kept).item<bool>());
    CHECK(array_equal(nn::dot_product_attention_weights(q, k, Array(), Array(), drop), wd));
    nn::AttentionDropout per_element = drop;
    per_element.broadcast = false;
    const Array kp = nn::dot_product_attention_weights(q, k, Array(), Array(), per_element) != 0.0f;
    CHECK_FALSE(
        array_equal(kp, broadcast_to(slice_axis(slice_axis(kp, 0, 0, 1), 1, 0, 1), kp.shape())));
    nn::AttentionDropout det = drop;
    det.deterministic = true;
    CHECK(array_equal(nn::dot_product_attention_weights(q, k, Array(), Array(), det), w));
    CHECK_THROWS_AS(nn::dot_product_attention_weights(q, k, Array(), Array(), {.rate = 0.5}),
                    ValueError);

    // In the module: the "dropout" stream, deterministic given exactly once.
    const nn::MultiHeadDotProductAttention mha{.num_heads = 2, .dropout_rate = 0.3};
    const Array x = jr::normal(jr::key(4), {2, 3, 4});
    const Variables vars = nn::init(mha, jr::key(0), x, nn::AttentionCall{.deterministic = true});
    const Array y_det = nn::apply(mha, vars, x, nn::AttentionCall{.deterministic = true}).output;
    const nn::ApplyOptions with_dropout{.rngs = {{"dropout", jr::key(5)}}};
    const Array y_a =
        nn::apply(mha, vars, x, nn::AttentionCall{.deterministic = false}, with_dropout).output;
    const Array y_b =
        nn::apply(mha, vars, x, nn::AttentionCall{.deterministic = false}, with_dropout).output;
    CHECK(array_equal(y_a, y_b));
    CHECK_FALSE(allclose(y_a, y_det));
    CHECK_THROWS_AS(nn::apply(mha, vars, x, nn::AttentionCall{.deterministic = false}),
                    nn::InvalidRngError);
    CHECK_THROWS_AS(nn::apply(mha, vars, x), ValueError);
    nn::MultiHeadDotProductAttention fixed = mha;
    fixed.deterministic = true;
    CHECK(array_equal(nn::apply(fixed, vars, x).output, y_det));
    CHECK_THROWS_AS(nn::apply(fixed, vars, x, nn::AttentionCall{.deterministic = true}),
                    ValueError);
  }

  TEST_CASE("nn.attention: check_grads of attention and of the module's params") {
    const Array q = jr::normal(jr::key(1), {1, 3, 2, 2}, float64);
    const Array k = jr::normal(jr::key(2), {1, 4, 2, 2}, float64);
    const Array v = jr::normal(jr::key(3), {1, 4, 2, 3}, float64);
    const Array mask = nn::make_attention_mask(ones({1, 3}), Array({{1.f, 1.f, 0.f, 1.f}}));
    CHECK_NOTHROW(testing::check_grads(
        [&](const std::vector<Array>& a) {
          return nn::dot_product_attention(a[0], a[1], a[2], Array(), mask);
        },
        {q, k, v}, 2));
    const nn::MultiHeadDotProductAttention mha{.num_heads = 2, .qkv_features = 4};
    const Array x = jr::normal(jr::key(4), {1, 3, 3}, float64);
    const Variables vars = nn::init(mha, jr::key(0), x);
    CHECK_NOTHROW(testing::check_grads(
        [&](const Tree& t) {
          return nn::apply(mha, vars.with_collection("params", t.subtree("params")), t.get("x"),
                           nn::AttentionCall{.mask = nn::make_causal_mask(ones({1, 3}))})
              .output;
        },
        Tree{{"x", x}, {"params", vars.collection("params")}}, 2));
  }
}

TEST_SUITE("nn.attention") {
  TEST_CASE("nn.attention: init_shapes gives init's tree") {
    const nn::MultiHeadDotProductAttention mha{
        .num_heads = 4, .qkv_features = 32, .out_features = 8};
    const Array x = abstract_array({2, 10, 16});
    const Variables shapes = nn::init_shapes(mha, jr::key(0), x);
    const Variables real = nn::init(mha, jr::key(0), ones({2, 10, 16}));
    CHECK(shapes.keys() == real.keys());
    for (const auto& [path, leaf] : flatten(real)) {
      INFO(path);
      CHECK(shapes.get(path).shape() == leaf.shape());
      CHECK(shapes.get(path).dtype() == leaf.dtype());
    }
  }
}
