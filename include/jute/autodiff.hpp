// jute/autodiff.hpp — reverse- and forward-mode differentiation.
//
// Transformations take a function and return a function, as in JAX. Ops record themselves only
// while a transformation traces their inputs, so code outside grad/vjp/jvp pays nothing.
// Derivative rules are written with public ops, so transformations nest to any order.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "jute/array.hpp"

namespace jute {

using ArrayFn = std::function<Array(const Array&)>;
using ArraysFn = std::function<Array(const std::vector<Array>&)>;

/// The value of `f` at `x` and its vector-Jacobian product: `vjp_fn(u)` = uᵀ·∂f/∂x, where `u`
/// has the shape of the output.
std::pair<Array, ArrayFn> vjp(const ArrayFn& f, const Array& x);
/// The same for a function of several Arrays; `vjp_fn(u)` returns one cotangent per input.
std::pair<Array, std::function<std::vector<Array>(const Array&)>> vjp(
    const ArraysFn& f, const std::vector<Array>& primals);

/// ∂f/∂x for a function returning a scalar (ShapeError otherwise).
ArrayFn grad(ArrayFn f);
/// {f(x), ∂f/∂x}.
std::function<std::pair<Array, Array>(const Array&)> value_and_grad(ArrayFn f);

/// The same value, treated as a constant by every transformation.
Array stop_gradient(const Array& x);

}  // namespace jute
