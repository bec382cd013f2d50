// jute/autodiff.hpp — reverse- and forward-mode differentiation.
//
// Transformations take a function and return a function, as in JAX. Ops record themselves only
// while a transformation traces their inputs, so code outside grad/vjp/jvp pays nothing.
// Derivative rules are written with public ops, so transformations nest to any order.
//
// The function being differentiated takes one of three kinds of primal, and its gradient has the
// same kind and structure:
//   Array                    `[](const Array& x) { return sum(x * x); }`
//   std::vector<Array>       several primals, one gradient each
//   Tree                     a params Tree: the gradient is a Tree of exactly the same structure
// The kind is chosen by the function's parameter type, so spell it (a generic `auto` lambda is
// ambiguous). Only float32/float64 values are differentiable: an integer or bool primal (or Tree
// leaf) is a DtypeError that names it. Everything the function reads besides its argument (a
// captured batch, batch_stats, a PRNG key) is a constant.
//
//   auto [loss, grads] = jute::value_and_grad(loss_fn)(params);
//   auto [loss, new_state, grads] = jute::value_and_grad_with_aux(loss_fn_with_aux)(params);
//
// See docs/autodiff.md for a guide.
#pragma once

#include <concepts>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "jute/array.hpp"
#include "jute/tree.hpp"

namespace jute {

using ArrayFn = std::function<Array(const Array&)>;
using ArraysFn = std::function<Array(const std::vector<Array>&)>;
using TreeFn = std::function<Array(const Tree&)>;

// ---- reverse mode ------------------------------------------------------------------------------

/// The value of `f` at `x` and its vector-Jacobian product: `vjp_fn(u)` = uᵀ·∂f/∂x, where `u`
/// has the shape of the output (ShapeError otherwise). `vjp_fn` may be called any number of
/// times, later, and inside other transformations.
std::pair<Array, ArrayFn> vjp(const ArrayFn& f, const Array& x);
/// The same for a function of several Arrays; `vjp_fn(u)` returns one cotangent per primal.
std::pair<Array, std::function<std::vector<Array>(const Array&)>> vjp(
    const ArraysFn& f, const std::vector<Array>& primals);
/// The same for a function of a Tree; `vjp_fn(u)` returns a Tree shaped like `primals`.
std::pair<Array, std::function<Tree(const Array&)>> vjp(const TreeFn& f, const Tree& primals);

/// ∂f/∂x for a function returning a float scalar (ShapeError naming the shape otherwise).
ArrayFn grad(ArrayFn f);
std::function<std::vector<Array>(const std::vector<Array>&)> grad(ArraysFn f);
std::function<Tree(const Tree&)> grad(TreeFn f);

/// {f(x), ∂f/∂x}: `auto [loss, grads] = value_and_grad(loss_fn)(params);`.
std::function<std::pair<Array, Array>(const Array&)> value_and_grad(ArrayFn f);
std::function<std::pair<Array, std::vector<Array>>(const std::vector<Array>&)> value_and_grad(
    ArraysFn f);
std::function<std::pair<Array, Tree>(const Tree&)> value_and_grad(TreeFn f);

/// What `value_and_grad_with_aux` returns: `auto [value, aux, grad] = ...`.
template <class Aux, class Grad>
struct ValueAuxGrad {
  Array value;
  Aux aux;
  Grad grad;
};

/// JAX's `has_aux=True`: `f` returns `std::pair<Array, Aux>` (the scalar to differentiate and
/// anything else, e.g. the updated batch_stats Tree); the result is a function returning
/// `ValueAuxGrad{value, aux, grad}`. The aux value flows out untouched and is not differentiated.
///
///   auto loss_fn = [&](const Tree& params) {
///     auto [logits, updated] = nn::apply(model, vars.with_collection("params", params), x, ...);
///     return std::pair{cross_entropy(logits, y), updated};
///   };
///   auto [loss, updated, grads] = jute::value_and_grad_with_aux(loss_fn)(params);
template <class F>
auto value_and_grad_with_aux(F f);
/// `grad` with aux: returns `std::pair<Grad, Aux>` (JAX's order: gradient first).
template <class F>
auto grad_with_aux(F f);

/// The same value, treated as a constant by every transformation (all nesting levels).
Array stop_gradient(const Array& x);
/// Every leaf of `t` through stop_gradient.
Tree stop_gradient(const Tree& t);

// ---- forward mode ------------------------------------------------------------------------------

/// {f(x), J·v}: the Jacobian-vector product (directional derivative) of `f` at `x` along
/// `tangent`, which must have x's shape (ShapeError naming both shapes otherwise).
std::pair<Array, Array> jvp(const ArrayFn& f, const Array& x, const Array& tangent);
/// The same for several primals (one tangent per primal).
std::pair<Array, Array> jvp(const ArraysFn& f, const std::vector<Array>& primals,
                            const std::vector<Array>& tangents);
/// The same for a Tree of primals (`tangents` must have the same structure and leaf shapes).
std::pair<Array, Array> jvp(const TreeFn& f, const Tree& primals, const Tree& tangents);

/// The Hessian-vector product H·v of a scalar function at `x` (H = ∂²f/∂x²), without forming H.
Array hvp(const ArrayFn& f, const Array& x, const Array& v);
std::vector<Array> hvp(const ArraysFn& f, const std::vector<Array>& primals,
                       const std::vector<Array>& vectors);
Tree hvp(const TreeFn& f, const Tree& primals, const Tree& vectors);

/// The full Jacobian of `f` at `x`, of shape `f(x).shape + x.shape`, one column per forward
/// pass (jacfwd: cheap for few inputs) or one row per backward pass (jacrev: few outputs).
/// Meant for small functions and tests.
ArrayFn jacfwd(ArrayFn f);
ArrayFn jacrev(ArrayFn f);

// ---- implementation of the aux templates
// ---------------------------------------------------------

namespace detail {
/// Drops the autodiff graph from values coming out of a transformation when no recording trace
/// follows them (they would otherwise keep a finished trace's graph alive). Arrays, Trees and
/// vectors of Arrays are handled; other aux types pass through unchanged.
Array release(const Array& a);
Tree release(const Tree& t);
template <class T>
void release_aux(T& aux) {
  if constexpr (std::is_same_v<T, Array>)
    aux = release(aux);
  else if constexpr (std::is_base_of_v<Tree, T>)
    aux = T(release(static_cast<const Tree&>(aux)));
  else if constexpr (std::is_same_v<T, std::vector<Array>>)
    for (auto& a : aux) a = release(a);
}

/// The primal kind of a function: Array, std::vector<Array> or Tree, by its parameter type.
template <class F>
auto primal_kind() {
  if constexpr (std::is_invocable_v<F, const Array&>)
    return Array();
  else if constexpr (std::is_invocable_v<F, const std::vector<Array>&>)
    return std::vector<Array>();
  else {
    static_assert(std::is_invocable_v<F, const Tree&>,
                  "jute: the function to differentiate must take an Array, a "
                  "std::vector<Array> or a Tree");
    return Tree();
  }
}
template <class F>
using primal_t = decltype(primal_kind<F>());

/// Checks the value part of a with-aux result (ValueError for a null Array).
void check_aux_value(const Array& value, const char* op);
}  // namespace detail

template <class F>
auto value_and_grad_with_aux(F f) {
  using In = detail::primal_t<F>;
  using Result = std::invoke_result_t<const F&, const In&>;
  static_assert(
      requires(Result r) {
        { r.first } -> std::convertible_to<Array>;
        r.second;
      },
      "jute::value_and_grad_with_aux: the function must return std::pair<Array, Aux> (the scalar "
      "to differentiate and the aux value); use value_and_grad for a function without aux");
  using Aux = std::decay_t<decltype(std::declval<Result>().second)>;
  using Grad = std::conditional_t<std::is_same_v<In, Tree>, Tree, In>;
  return [f = std::move(f)](const In& x) {
    std::optional<Aux> aux;  // Aux need not be default-constructible
    std::function<Array(const In&)> value_fn = [&f, &aux](const In& p) {
      auto result = f(p);
      aux.emplace(std::move(result.second));
      Array value = std::move(result.first);
      detail::check_aux_value(value, "value_and_grad_with_aux");
      return value;
    };
    auto [value, g] = value_and_grad(std::move(value_fn))(x);
    detail::release_aux(*aux);
    return ValueAuxGrad<Aux, Grad>{std::move(value), std::move(*aux), std::move(g)};
  };
}

template <class F>
auto grad_with_aux(F f) {
  return [vg = value_and_grad_with_aux(std::move(f))](const detail::primal_t<F>& x) {
    auto r = vg(x);
    return std::pair{std::move(r.grad), std::move(r.aux)};
  };
}

}  // namespace jute
