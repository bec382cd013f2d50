// jute/nn/attention.hpp — dot-product attention and flax.linen's MultiHeadDotProductAttention,
// with Flax's parameter names and shapes (so Flax checkpoints map one to one) and masks.
//
//   nn::MultiHeadDotProductAttention mha{.num_heads = 8, .qkv_features = 64};
//   auto y = s.child(mha, x);                                   // self-attention
//   auto z = s.child(mha, x, memory, nn::AttentionCall{.mask = nn::make_causal_mask(ids)});
//
// Layouts are Flax's: inputs (batch..., length, features); per-head tensors
// (batch..., length, num_heads, head_dim); weights (batch..., num_heads, q_length, kv_length).
// An absent bias or mask is a null Array (`Array()`).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "jute/array.hpp"
#include "jute/nn/initializers.hpp"
#include "jute/nn/scope.hpp"

namespace jute::nn {

/// Dropout of the attention weights (Flax's dropout_rate / deterministic / broadcast_dropout /
/// dropout_rng arguments).
struct AttentionDropout {
  double rate = 0.0;
  bool deterministic = false;
  /// One mask shared by the batch and head axes (Flax's default).
  bool broadcast = true;
  /// The key (needed when rate > 0 and not deterministic; ValueError otherwise).
  Array rng = Array();
};

/// softmax(q·kᵀ/√depth + bias, masked) over the key axis: query (..., q, h, d) and key
/// (..., k, h, d) give weights (..., h, q, k). Where `mask` (broadcastable to the weights; bool or
/// nonzero numbers) is false the logit becomes the dtype's lowest value. ShapeError for
/// mismatched batch, head or depth sizes.
Array dot_product_attention_weights(const Array& query, const Array& key,
                                    const Array& bias = Array(), const Array& mask = Array(),
                                    const AttentionDropout& dropout = {});

/// The weights above applied to value (..., k, h, dv): (..., q, h, dv).
Array dot_product_attention(const Array& query, const Array& key, const Array& value,
                            const Array& bias = Array(), const Array& mask = Array(),
                            const AttentionDropout& dropout = {});

/// Call-time arguments of MultiHeadDotProductAttention (Flax's keyword arguments).
struct AttentionCall {
  /// (batch..., num_heads or 1, q_length, kv_length), e.g. from make_attention_mask.
  Array mask = Array();
  /// Given here or as the module field, not both (Flax's merge_param); only consulted when
  /// dropout_rate > 0.
  std::optional<bool> deterministic = std::nullopt;
  /// The dropout key; by default one is drawn from the "dropout" stream.
  Array dropout_rng = Array();
  /// Sow the attention weights into "intermediates"/attention_weights.
  bool sow_weights = false;
};

/// flax.linen.MultiHeadDotProductAttention. Params (Flax's names and DenseGeneral shapes):
///   query/kernel, key/kernel, value/kernel (features_in, num_heads, head_dim),
///   query/bias, key/bias, value/bias (num_heads, head_dim),
///   out/kernel (num_heads, head_dim, out_features), out/bias (out_features),
/// with head_dim = qkv_features / num_heads (ValueError unless it divides), qkv_features and
/// out_features defaulting to the query input's features. Kernels are initialized as the
/// flattened 2-D matrix (features_in, num_heads·head_dim) and reshaped, as DenseGeneral.
struct MultiHeadDotProductAttention {
  static constexpr const char* name = "MultiHeadDotProductAttention";
  std::int64_t num_heads = 1;
  std::optional<std::int64_t> qkv_features = std::nullopt;
  std::optional<std::int64_t> out_features = std::nullopt;
  bool broadcast_dropout = true;
  double dropout_rate = 0.0;
  std::optional<bool> deterministic = std::nullopt;
  Initializer kernel_init = initializers::lecun_normal();
  Initializer bias_init = initializers::zeros_init();
  /// Empty: kernel_init / bias_init.
  Initializer out_kernel_init = nullptr;
  Initializer out_bias_init = nullptr;
  bool use_bias = true;
  DType param_dtype = float32;

  /// Self-attention: keys and values from inputs_q.
  Array operator()(Scope& s, const Array& inputs_q, const AttentionCall& call = {}) const;
  /// Keys and values from inputs_kv.
  Array operator()(Scope& s, const Array& inputs_q, const Array& inputs_kv,
                   const AttentionCall& call = {}) const;
  Array operator()(Scope& s, const Array& inputs_q, const Array& inputs_k, const Array& inputs_v,
                   const AttentionCall& call = {}) const;
};

/// flax.linen.SelfAttention: MultiHeadDotProductAttention on one input, under the type name
/// "SelfAttention" (its params sit directly under SelfAttention_k/query, ...).
struct SelfAttention {
  static constexpr const char* name = "SelfAttention";
  MultiHeadDotProductAttention attention;
  Array operator()(Scope& s, const Array& x, const AttentionCall& call = {}) const {
    return attention(s, x, call);
  }
};

/// pairwise_fn(query_input[..., :, None], key_input[..., None, :]) with a head axis inserted:
/// (batch..., len_q) and (batch..., len_k) give (batch..., 1, len_q, len_k), with
/// `extra_batch_dims` leading ones, converted to `dtype`. An empty pairwise_fn multiplies (Flax's
/// default jnp.multiply); pass e.g. `jute::greater_equal` for a comparison.
Array make_attention_mask(const Array& query_input, const Array& key_input,
                          const std::function<Array(Array, Array)>& pairwise_fn = nullptr,
                          int extra_batch_dims = 0, DType dtype = float32);
/// The causal mask for x (batch..., len): key position <= query position;
/// (batch..., 1, len, len).
Array make_causal_mask(const Array& x, int extra_batch_dims = 0, DType dtype = float32);
/// The logical and of the non-null masks (same rank, ValueError otherwise), as `dtype`; a null
/// Array when every mask is null.
Array combine_masks(const std::vector<Array>& masks, DType dtype = float32);

}  // namespace jute::nn
