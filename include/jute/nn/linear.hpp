// jute/nn/linear.hpp — Dense, DenseGeneral and Embed with flax.linen's parameter names, shapes,
// defaults and initialization order, so the same key gives Flax's parameters.
//
//   struct Mlp {
//     static constexpr const char* name = "MLP";
//     jute::Array operator()(jute::nn::Scope& s, const jute::Array& x) const {
//       auto h = jute::nn::relu(s.child(jute::nn::Dense{64}, x));   // params/Dense_0/{kernel,bias}
//       return s.child(jute::nn::Dense{10}, h);                      // params/Dense_1/...
//     }
//   };
//
// dtype: the computation dtype. Unset (Flax's `dtype=None`), the input and the parameters are
// promoted together (float32 params with float64 input compute in float64; integer input
// computes in float32). Parameters are stored in `param_dtype`.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "jute/array.hpp"
#include "jute/nn/initializers.hpp"
#include "jute/nn/scope.hpp"

namespace jute::nn {

/// flax.linen.Dense: y = x @ kernel + bias over the last axis of an input of any rank ≥ 1.
/// Params: `kernel` (in_features, features) with lecun_normal, then `bias` (features,) with zeros.
struct Dense {
  static constexpr const char* name = "Dense";
  std::int64_t features = 0;
  bool use_bias = true;
  std::optional<DType> dtype = std::nullopt;
  DType param_dtype = float32;
  Initializer kernel_init = initializers::lecun_normal();
  Initializer bias_init = initializers::zeros_init();

  Array operator()(Scope& s, const Array& x) const;
};

/// flax.linen.DenseGeneral: contracts the input axes `axis` with a kernel of shape
/// batch_shape + in_shape + features, where batch_dims (consecutive leading axes 0, 1, ...) are
/// shared elementwise between input and kernel. The output is
/// batch_shape + (the other input axes, in order) + features.
/// Params: `kernel` (batch..., in..., features...), `bias` (batch..., features...). As Flax, the
/// initializers see the flattened shapes (prod(batch)·prod(in), prod(features)) and
/// (prod(batch)·prod(features),), so the fans are those of the equivalent Dense.
struct DenseGeneral {
  static constexpr const char* name = "DenseGeneral";
  Shape features;
  std::vector<int> axis = {-1};
  std::vector<int> batch_dims = {};
  bool use_bias = true;
  std::optional<DType> dtype = std::nullopt;
  DType param_dtype = float32;
  Initializer kernel_init = initializers::lecun_normal();
  Initializer bias_init = initializers::zeros_init();

  Array operator()(Scope& s, const Array& x) const;
};

/// flax.linen.Embed: a lookup table `embedding` (num_embeddings, features), initialized
/// N(0, 1/features) (variance_scaling(1, fan_in, normal, out_axis = 0), Flax's default).
///
///   s.child("embed", Embed{vocab, dim}, ids)                  // (ids..., dim); ids are integers
///   s.child("embed", Embed{vocab, dim}, Embed::Attend{query}) // query @ embedding.T
///
/// Lookup takes integer ids of any shape (DtypeError for floats, as Flax's ValueError); an id
/// outside [-num_embeddings, num_embeddings) gives a row of NaN (jnp.take's "fill" mode), a
/// negative id counts from the end. `Attend` is Flax's `attend`: it shares the table with the
/// lookup when called through the same scope name (weight tying), so give the child an explicit
/// name — an auto-named second call would be a new `Embed_1` with its own table.
struct Embed {
  static constexpr const char* name = "Embed";
  std::int64_t num_embeddings = 0;
  std::int64_t features = 0;
  std::optional<DType> dtype = std::nullopt;
  DType param_dtype = float32;
  Initializer embedding_init = initializers::variance_scaling(1.0, "fan_in", "normal", {-2}, {0});

  /// The argument of the attend call: a query (..., features).
  struct Attend {
    Array query;
  };

  Array operator()(Scope& s, const Array& ids) const;
  Array operator()(Scope& s, const Attend& attend) const;
};

}  // namespace jute::nn
