// Dot-product attention and MultiHeadDotProductAttention (flax.linen.attention); the projections
// are nn::DenseGeneral children named query/key/value/out, as Flax's.
#include "jute/nn/attention.hpp"

#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "as_float.hpp"
#include "jute/nn/activations.hpp"
#include "jute/nn/linear.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"

namespace jute::nn {

namespace {

/// (batch..., L, H, D) → the axes permuted to (batch..., H, L, D), or (batch..., H, D, L) when
/// `length_last`.
Array heads_first(const Array& x, bool length_last) {
  const int nd = x.ndim();
  std::vector<int> perm(static_cast<std::size_t>(nd - 3));
  std::iota(perm.begin(), perm.end(), 0);
  perm.push_back(nd - 2);
  if (length_last) {
    perm.push_back(nd - 1);
    perm.push_back(nd - 3);
  } else {
    perm.push_back(nd - 3);
    perm.push_back(nd - 1);
  }
  return transpose(x, perm);
}

void check_qkv(const Array& query, const Array& key, const Array* value, const char* op) {
  auto fail = [&](const std::string& what) {
    std::string shapes = "query " + jute::detail::shape_str(query.shape()) + ", key " +
                         jute::detail::shape_str(key.shape());
    if (value) shapes += ", value " + jute::detail::shape_str(value->shape());
    throw ShapeError(std::string("[") + op + "] " + what + "; got " + shapes + ".");
  };
  if (query.ndim() < 3 || query.ndim() != key.ndim())
    fail("query and key must both be (batch..., length, num_heads, depth)");
  for (int a = 0; a < query.ndim() - 3; ++a)
    if (query.shape(a) != key.shape(a)) fail("query and key must have the same batch sizes");
  if (query.shape(-2) != key.shape(-2)) fail("query and key must have the same number of heads");
  if (query.shape(-1) != key.shape(-1)) fail("query and key must have the same depth");
  if (value) {
    if (value->ndim() != key.ndim()) fail("value must be (batch..., length, num_heads, depth)");
    for (int a = 0; a < key.ndim() - 1; ++a)
      if (value->shape(a) != key.shape(a))
        fail("key and value must have the same batch sizes, length and number of heads");
  }
}

Array apply_weights(const Array& weights, const Array& value) {
  // (..., h, q, k) @ (..., h, k, d) → (..., h, q, d) → (..., q, h, d).
  const Array out = matmul(weights, heads_first(value, false));
  const int nd = out.ndim();
  std::vector<int> perm(static_cast<std::size_t>(nd - 3));
  std::iota(perm.begin(), perm.end(), 0);
  perm.insert(perm.end(), {nd - 2, nd - 3, nd - 1});
  return transpose(out, perm);
}

}  // namespace

Array dot_product_attention_weights(const Array& query, const Array& key, const Array& bias,
                                    const Array& mask, const AttentionDropout& dropout) {
  check_qkv(query, key, nullptr, "dot_product_attention_weights");
  const Array q = detail::as_float(query);
  const Array scaled = q / Array(std::sqrt(static_cast<double>(q.shape(-1))));
  Array logits = matmul(heads_first(scaled, false), heads_first(key, true));
  if (bias.valid()) logits = logits + bias;
  if (mask.valid()) {
    const Array keep = mask.dtype() == bool_ ? mask : mask != 0;
    const double lowest = logits.dtype() == float64 ? std::numeric_limits<double>::lowest()
                                                    : std::numeric_limits<float>::lowest();
    logits = where(keep, logits, Array::scalar(lowest, logits.dtype()));
  }
  Array weights = softmax(logits, -1);
  if (!dropout.deterministic && dropout.rate > 0.0) {
    if (!dropout.rng.valid())
      throw ValueError(
          "[dot_product_attention_weights] Attention dropout needs a key: set "
          "AttentionDropout::rng, or make the call deterministic.");
    const double keep_prob = 1.0 - dropout.rate;
    Shape shape = weights.shape();
    if (dropout.broadcast)
      for (int a = 0; a < weights.ndim() - 2; ++a) shape[static_cast<std::size_t>(a)] = 1;
    const Array keep = random::bernoulli(dropout.rng, keep_prob, shape);
    weights = weights * (keep.astype(weights.dtype()) / Array(keep_prob));
  }
  return weights;
}

Array dot_product_attention(const Array& query, const Array& key, const Array& value,
                            const Array& bias, const Array& mask, const AttentionDropout& dropout) {
  check_qkv(query, key, &value, "dot_product_attention");
  return apply_weights(dot_product_attention_weights(query, key, bias, mask, dropout), value);
}

Array MultiHeadDotProductAttention::operator()(Scope& s, const Array& inputs_q,
                                               const AttentionCall& call) const {
  return (*this)(s, inputs_q, inputs_q, inputs_q, call);
}

Array MultiHeadDotProductAttention::operator()(Scope& s, const Array& inputs_q,
                                               const Array& inputs_kv,
                                               const AttentionCall& call) const {
  return (*this)(s, inputs_q, inputs_kv, inputs_kv, call);
}

Array MultiHeadDotProductAttention::operator()(Scope& s, const Array& inputs_q,
                                               const Array& inputs_k, const Array& inputs_v,
                                               const AttentionCall& call) const {
  const char* op = "MultiHeadDotProductAttention";
  if (inputs_q.ndim() < 2 || inputs_k.ndim() != inputs_q.ndim() ||
      inputs_v.ndim() != inputs_q.ndim())
    throw ShapeError(std::string("[") + op + "] The inputs must be (batch..., length, features) " +
                     "of one rank, got " + jute::detail::shape_str(inputs_q.shape()) + ", " +
                     jute::detail::shape_str(inputs_k.shape()) + " and " +
                     jute::detail::shape_str(inputs_v.shape()) + " in \"" + s.path_text() + "\".");
  const std::int64_t features = out_features.value_or(inputs_q.shape(-1));
  const std::int64_t qkv = qkv_features.value_or(inputs_q.shape(-1));
  if (num_heads <= 0 || qkv % num_heads != 0)
    throw ValueError(std::string("[") + op + "] qkv_features " + std::to_string(qkv) +
                     " must be divisible by num_heads " + std::to_string(num_heads) + " in \"" +
                     s.path_text() + "\".");
  const Shape heads = {num_heads, qkv / num_heads};
  const DenseGeneral proj{.features = heads,
                          .use_bias = use_bias,
                          .param_dtype = param_dtype,
                          .kernel_init = kernel_init,
                          .bias_init = bias_init};
  const Array query = s.child("query", proj, inputs_q);
  const Array key = s.child("key", proj, inputs_k);
  const Array value = s.child("value", proj, inputs_v);

  AttentionDropout dropout{
      .rate = dropout_rate, .deterministic = true, .broadcast = broadcast_dropout, .rng = Array()};
  if (dropout_rate > 0.0) {
    if (deterministic.has_value() == call.deterministic.has_value())
      throw ValueError(std::string("[") + op + "] deterministic must be given exactly once, " +
                       "as the field or in the call (as Flax's merge_param), got " +
                       (deterministic ? "both" : "neither") + " in \"" + s.path_text() + "\".");
    dropout.deterministic = deterministic ? *deterministic : *call.deterministic;
    if (!dropout.deterministic)
      dropout.rng = call.dropout_rng.valid() ? call.dropout_rng : s.make_rng("dropout");
  }
  const Array weights = dot_product_attention_weights(query, key, Array(), call.mask, dropout);
  if (call.sow_weights) s.sow("intermediates", "attention_weights", weights);
  const Array x = apply_weights(weights, value);

  const Initializer& okernel = out_kernel_init ? out_kernel_init : kernel_init;
  const Initializer& obias = out_bias_init ? out_bias_init : bias_init;
  return s.child("out",
                 DenseGeneral{.features = {features},
                              .axis = {-2, -1},
                              .use_bias = use_bias,
                              .param_dtype = param_dtype,
                              .kernel_init = okernel,
                              .bias_init = obias},
                 x);
}

Array make_attention_mask(const Array& query_input, const Array& key_input,
                          const std::function<Array(Array, Array)>& pairwise_fn,
                          int extra_batch_dims, DType dtype) {
  const Array q = expand_dims(query_input, -1);
  const Array k = expand_dims(key_input, -2);
  Array mask = pairwise_fn ? pairwise_fn(q, k) : multiply(q, k);
  mask = expand_dims(mask, -3);
  if (extra_batch_dims > 0) {
    std::vector<int> lead(static_cast<std::size_t>(extra_batch_dims));
    std::iota(lead.begin(), lead.end(), 0);
    mask = expand_dims(mask, lead);
  }
  return mask.astype(dtype);
}

Array make_causal_mask(const Array& x, int extra_batch_dims, DType dtype) {
  const Array idxs = broadcast_to(arange(x.shape(-1)), x.shape());
  return make_attention_mask(
      idxs, idxs, [](Array a, Array b) { return greater_equal(std::move(a), std::move(b)); },
      extra_batch_dims, dtype);
}

Array combine_masks(const std::vector<Array>& masks, DType dtype) {
  Array out;
  for (const Array& m : masks) {
    if (!m.valid()) continue;
    const Array b = m.dtype() == bool_ ? m : m != 0;
    if (out.valid() && out.ndim() != b.ndim())
      throw ValueError("[combine_masks] The masks must have the same rank, got " +
                       jute::detail::shape_str(out.shape()) + " and " +
                       jute::detail::shape_str(m.shape()) + ".");
    out = out.valid() ? logical_and(out, b) : b;
  }
  return out.valid() ? out.astype(dtype) : out;
}

}  // namespace jute::nn
