// jute/nn/activations.hpp — activation functions, as jax.nn (which flax.linen re-exports): the
// same definitions, defaults and derivative conventions at kinks.
//
//   auto h = jute::nn::relu(x);
//   auto p = jute::nn::softmax(logits);            // over the last axis
//   auto g = jute::nn::gelu(x);                    // tanh approximation, as jax.nn.gelu
//
// Every function is built from public ops, so it is differentiable to any order and keeps the
// dtype of a float input (integer inputs compute in float32, as the ops do).
#pragma once

#include "jute/array.hpp"
#include "jute/ops.hpp"

namespace jute::nn {

/// jax.nn.sigmoid and jax.nn.tanh are the ops of the same name.
using jute::sigmoid;
using jute::tanh;

/// max(x, 0); the derivative at 0 is 0 (as jax.nn.relu).
Array relu(const Array& x);
/// min(max(x, 0), 6); the derivative at 0 and at 6 is 0 (as jax.nn.relu6).
Array relu6(const Array& x);
/// x where x >= 0, negative_slope·x elsewhere.
Array leaky_relu(const Array& x, double negative_slope = 0.01);
/// x where x > 0, alpha·(exp(x) − 1) elsewhere (no overflow in the unused branch).
Array elu(const Array& x, double alpha = 1.0);
/// x·Φ(x). `approximate` (the default, as jax.nn.gelu) uses
/// 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))); otherwise the exact x·(1 + erf(x/√2))/2.
/// (PyTorch's default is the exact form.)
Array gelu(const Array& x, bool approximate = true);
/// x·sigmoid(x); `swish` is the same function.
Array silu(const Array& x);
Array swish(const Array& x);
/// log(1 + exp(x)), computed without overflow (jnp.logaddexp(x, 0)); the derivative is
/// sigmoid(x) everywhere, 0.5 at 0.
Array softplus(const Array& x);
/// log(sigmoid(x)) = −softplus(−x), stable for large |x|.
Array log_sigmoid(const Array& x);
/// exp(x − max) / sum(exp(x − max)) over `axis` (the max is a constant for differentiation).
Array softmax(const Array& x, const Axes& axis = -1);
/// (x − max) − log(sum(exp(x − max))) over `axis`, stable.
Array log_softmax(const Array& x, const Axes& axis = -1);
/// (x − mean)·rsqrt(var + epsilon) over `axis`, with var = mean(x²) − mean(x)² as
/// jax.nn.standardize.
Array standardize(const Array& x, const Axes& axis = -1, double epsilon = 1e-5);

}  // namespace jute::nn
