// Activation functions (jax.nn), written with public ops so every order of derivative exists.
#include "jute/nn/activations.hpp"

#include <cmath>
#include <numbers>

#include "as_float.hpp"
#include "jute/autodiff.hpp"

namespace jute::nn {

using detail::as_float;

Array relu(const Array& x) {
  const Array v = as_float(x);
  return where(v > 0.0, v, 0.0);
}

Array relu6(const Array& x) {
  const Array v = as_float(x);
  return where(v <= 0.0, Array(0.0), where(v >= 6.0, Array(6.0), v));
}

Array leaky_relu(const Array& x, double negative_slope) {
  const Array v = as_float(x);
  return where(v >= 0.0, v, v * Array(negative_slope));
}

Array elu(const Array& x, double alpha) {
  const Array v = as_float(x);
  const Array positive = v > 0.0;
  const Array safe = where(positive, Array(0.0), v);  // expm1 never sees a large positive value
  return where(positive, v, expm1(safe) * Array(alpha));
}

Array gelu(const Array& x, bool approximate) {
  const Array v = as_float(x);
  if (approximate) {
    const double sqrt_2_over_pi = std::sqrt(2.0 / std::numbers::pi);
    const Array inner = (v + v * v * v * Array(0.044715)) * Array(sqrt_2_over_pi);
    return v * ((tanh(inner) + 1.0) * 0.5);
  }
  return v * (erf(v * Array(1.0 / std::numbers::sqrt2)) + 1.0) / 2.0;
}

Array silu(const Array& x) {
  const Array v = as_float(x);
  return v * sigmoid(v);
}

Array swish(const Array& x) { return silu(x); }

Array softplus(const Array& x) {
  // max(x, 0) + log1p(exp(-|x|)), with both kinks at 0 resolved so that the derivative is
  // sigmoid(x) everywhere: the first term's derivative is 0 at 0 and −|x| is −x only for x > 0.
  const Array v = as_float(x);
  const Array positive = v > 0.0;
  return where(positive, v, 0.0) + log1p(exp(where(positive, -v, v)));
}

Array log_sigmoid(const Array& x) { return -softplus(-as_float(x)); }

Array softmax(const Array& x, const Axes& axis) {
  const Array v = as_float(x);
  const Array unnormalized = exp(v - stop_gradient(max(v, axis, /*keepdims=*/true)));
  return unnormalized / sum(unnormalized, axis, /*keepdims=*/true);
}

Array log_softmax(const Array& x, const Axes& axis) {
  const Array v = as_float(x);
  const Array shifted = v - stop_gradient(max(v, axis, /*keepdims=*/true));
  return shifted - log(sum(exp(shifted), axis, /*keepdims=*/true));
}

Array standardize(const Array& x, const Axes& axis, double epsilon) {
  const Array v = as_float(x);
  const Array m = mean(v, axis, /*keepdims=*/true);
  const Array variance = mean(square(v), axis, /*keepdims=*/true) - square(m);
  return (v - m) * rsqrt(variance + Array(epsilon));
}

}  // namespace jute::nn
