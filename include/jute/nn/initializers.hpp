// jute/nn/initializers.hpp — parameter initializers, as jax.nn.initializers (and Flax's
// flax.linen.initializers): the same names, defaults and float32 arithmetic, so the same key gives
// the same parameters as JAX.
//
// An initializer is a plain value `(key, shape, dtype) -> Array`; write your own as a lambda:
//
//   namespace ini = jute::nn::initializers;
//   ini::Initializer init = ini::lecun_normal();            // Flax Dense's kernel default
//   auto w = init(jute::random::key(0), {3, 4}, jute::float32);
//   ini::Initializer mine = [](const jute::Array& key, const jute::Shape& shape, jute::DType dt) {
//     return jute::random::uniform(key, shape, dt, -0.1, 0.1);
//   };
//
// Random initializers accept float32 and float64 (DtypeError otherwise); zeros, ones and constant
// accept every dtype.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "jute/array.hpp"

namespace jute::nn {

/// `(key, shape, dtype) -> Array`, as jax.nn.initializers.
using Initializer = std::function<Array(const Array& key, const Shape& shape, DType dtype)>;

namespace initializers {

using nn::Initializer;

/// Zeros of `shape` and `dtype`; the key is ignored (`jax.nn.initializers.zeros`).
Array zeros(const Array& key, const Shape& shape, DType dtype = float32);
/// Ones of `shape` and `dtype`; the key is ignored (`jax.nn.initializers.ones`).
Array ones(const Array& key, const Shape& shape, DType dtype = float32);
/// Flax's `zeros_init()` / `ones_init()`: the initializers above as values.
Initializer zeros_init();
Initializer ones_init();
/// Arrays full of `value` (converted to the dtype).
Initializer constant(double value);

/// Uniform in [0, scale): `random.uniform(key, shape, dtype) * scale`.
Initializer uniform(double scale = 1e-2);
/// Normal with standard deviation `stddev`: `random.normal(key, shape, dtype) * stddev`.
Initializer normal(double stddev = 1e-2);
/// `random.truncated_normal(key, lower, upper, shape, dtype) * stddev` (no variance correction:
/// the result's standard deviation is below `stddev`).
Initializer truncated_normal(double stddev = 1e-2, double lower = -2.0, double upper = 2.0);

/// What `variance_scaling` divides `scale` by.
enum class FanMode { fan_in, fan_out, fan_avg, fan_geo_avg };
/// What `variance_scaling` samples from.
enum class Distribution { truncated_normal, normal, uniform };

/// The effective input and output sizes of a weight of `shape` (JAX's `_compute_fans`): with
/// `receptive` the product of the dimensions not in in_axis, out_axis or batch_axis,
/// fan_in = prod(shape[in_axis]) * receptive and fan_out = prod(shape[out_axis]) * receptive.
/// Dense (in, out) gives (in, out); a conv kernel (kh, kw, in, out) gives (kh*kw*in, kh*kw*out).
/// ValueError for fewer than 2 dimensions with the default in_axis; ShapeError for an axis out of
/// range.
struct Fans {
  double fan_in, fan_out;
};
Fans compute_fans(const Shape& shape, const std::vector<int>& in_axis = {-2},
                  const std::vector<int>& out_axis = {-1}, const std::vector<int>& batch_axis = {});

/// `jax.nn.initializers.variance_scaling`: variance = scale / n with n = fan_in, fan_out, their
/// mean or their geometric mean (computed in double, then rounded to the dtype), and
///  - truncated_normal: truncated_normal(key, -2, 2) * sqrt(variance) / 0.87962566103423978 (the
///    standard deviation of a standard normal truncated to (-2, 2), so the result has `variance`);
///  - normal: normal(key) * sqrt(variance);
///  - uniform: uniform(key, -1, 1) * sqrt(3 * variance).
/// Axes may be negative; an empty array (a zero dimension) gives an empty result.
Initializer variance_scaling(double scale, FanMode mode, Distribution distribution,
                             std::vector<int> in_axis = {-2}, std::vector<int> out_axis = {-1},
                             std::vector<int> batch_axis = {});
/// The same with JAX's strings: mode "fan_in", "fan_out", "fan_avg" or "fan_geo_avg";
/// distribution "truncated_normal", "normal" or "uniform" (ValueError otherwise).
Initializer variance_scaling(double scale, std::string_view mode, std::string_view distribution,
                             std::vector<int> in_axis = {-2}, std::vector<int> out_axis = {-1},
                             std::vector<int> batch_axis = {});

/// variance_scaling(1, fan_avg, uniform) (Glorot & Bengio 2010); alias xavier_uniform.
Initializer glorot_uniform(std::vector<int> in_axis = {-2}, std::vector<int> out_axis = {-1},
                           std::vector<int> batch_axis = {});
/// variance_scaling(1, fan_avg, truncated_normal); alias xavier_normal.
Initializer glorot_normal(std::vector<int> in_axis = {-2}, std::vector<int> out_axis = {-1},
                          std::vector<int> batch_axis = {});
/// variance_scaling(1, fan_in, uniform).
Initializer lecun_uniform(std::vector<int> in_axis = {-2}, std::vector<int> out_axis = {-1},
                          std::vector<int> batch_axis = {});
/// variance_scaling(1, fan_in, truncated_normal): Flax's default kernel_init for Dense and Conv.
Initializer lecun_normal(std::vector<int> in_axis = {-2}, std::vector<int> out_axis = {-1},
                         std::vector<int> batch_axis = {});
/// variance_scaling(2, fan_in, uniform) (He et al. 2015); alias kaiming_uniform.
Initializer he_uniform(std::vector<int> in_axis = {-2}, std::vector<int> out_axis = {-1},
                       std::vector<int> batch_axis = {});
/// variance_scaling(2, fan_in, truncated_normal); alias kaiming_normal.
Initializer he_normal(std::vector<int> in_axis = {-2}, std::vector<int> out_axis = {-1},
                      std::vector<int> batch_axis = {});

/// Aliases: glorot_uniform, glorot_normal, he_uniform, he_normal.
Initializer xavier_uniform(std::vector<int> in_axis = {-2}, std::vector<int> out_axis = {-1},
                           std::vector<int> batch_axis = {});
Initializer xavier_normal(std::vector<int> in_axis = {-2}, std::vector<int> out_axis = {-1},
                          std::vector<int> batch_axis = {});
Initializer kaiming_uniform(std::vector<int> in_axis = {-2}, std::vector<int> out_axis = {-1},
                            std::vector<int> batch_axis = {});
Initializer kaiming_normal(std::vector<int> in_axis = {-2}, std::vector<int> out_axis = {-1},
                           std::vector<int> batch_axis = {});

}  // namespace initializers
}  // namespace jute::nn
