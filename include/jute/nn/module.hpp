// jute/nn/module.hpp — init and apply: one way to build a model's variables, one way to run it.
//
//   auto vars = jute::nn::init(model, jute::random::key(0), x);          // every collection
//   auto [y, updated] = jute::nn::apply(model, vars, x, {.mutable_ = {"batch_stats"}});
//
// `apply` always returns `{output, updated}`; `updated` holds exactly the collections declared
// mutable that exist after the call (whole collections, not diffs), and is empty when nothing is
// mutable. The input Variables are never changed.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "jute/nn/scope.hpp"
#include "jute/tree.hpp"

namespace jute::nn {

/// Options of apply: which collections may change, and the rng streams.
struct ApplyOptions {
  Mutable mutable_ = Mutable::none();
  Rngs rngs = {};
};

template <class Out>
struct ApplyResult {
  Out output;
  Variables updated;
};
template <class Out>
struct InitResult {
  Out output;
  Variables variables;
};

namespace detail {
struct Frame;
/// {"params": key} after checking that `key` is a key (InvalidRngError otherwise).
Rngs rngs_from_key(const Array& key);
std::shared_ptr<Frame> make_init_frame(const Rngs& rngs, bool tabulate = false,
                                       bool shape_only = false);
std::shared_ptr<Frame> make_apply_frame(const Variables& variables, const ApplyOptions& options);
/// Every collection the frame holds (the result of init).
Variables frame_variables(const Frame& frame);
/// The mutable collections the frame holds (apply's `updated`).
Variables frame_updated(const Frame& frame);
/// The table of a tabulating frame (see tabulate).
std::string frame_table(const Frame& frame, const std::string& root_type,
                        const std::string& root_output);

template <class T>
struct is_apply_options : std::is_same<std::decay_t<T>, ApplyOptions> {};

template <class M, class... Args>
auto run_root(const std::shared_ptr<Frame>& frame, const M& module, Args&&... args) {
  Scope root(frame, {});
  return module(root, std::forward<Args>(args)...);
}
}  // namespace detail

/// Runs `module` in initializing mode and returns its output and every collection it created.
/// All collections are mutable during init except "intermediates" (as Flax).
template <class M, class... Args>
auto init_with_output(const M& module, const Rngs& rngs, Args&&... args) {
  auto frame = detail::make_init_frame(rngs);
  auto out = detail::run_root(frame, module, std::forward<Args>(args)...);
  return InitResult<decltype(out)>{std::move(out), detail::frame_variables(*frame)};
}
template <class M, class... Args>
auto init_with_output(const M& module, const Array& key, Args&&... args) {
  return init_with_output(module, detail::rngs_from_key(key), std::forward<Args>(args)...);
}

/// The Variables `module` creates for these inputs; a single key is the "params" stream.
template <class M, class... Args>
Variables init(const M& module, const Rngs& rngs, Args&&... args) {
  auto frame = detail::make_init_frame(rngs);
  detail::run_root(frame, module, std::forward<Args>(args)...);
  return detail::frame_variables(*frame);
}
template <class M, class... Args>
Variables init(const M& module, const Array& key, Args&&... args) {
  return init(module, detail::rngs_from_key(key), std::forward<Args>(args)...);
}

/// Shape-only init, as `jax.eval_shape(model.init, ...)`: the Variables tree `init` would build,
/// with the same paths, shapes and dtypes, but every leaf a shape-only array (`abstract_array`):
/// no initializer runs, no parameter memory is allocated, and the module's arithmetic is skipped
/// (ops on shape-only operands only compute result shapes). The inputs may be shape-only arrays
/// (`abstract_array({batch, 784})`) or real ones. Random samplers still run on their (real)
/// keys, e.g. a Dropout mask during init. Use it to size a large model, or to restore a
/// checkpoint into the right structure without initializing first.
template <class M, class... Args>
Variables init_shapes(const M& module, const Rngs& rngs, Args&&... args) {
  auto frame = detail::make_init_frame(rngs, /*tabulate=*/false, /*shape_only=*/true);
  detail::run_root(frame, module, std::forward<Args>(args)...);
  return detail::frame_variables(*frame);
}
template <class M, class... Args>
Variables init_shapes(const M& module, const Array& key, Args&&... args) {
  return init_shapes(module, detail::rngs_from_key(key), std::forward<Args>(args)...);
}

/// Runs `module` on `variables`: `{output, updated}` (see the file comment). The options come
/// first in this form, which takes any number of inputs.
template <class M, class... Args>
auto apply_with(const M& module, const Variables& variables, const ApplyOptions& options,
                Args&&... args) {
  auto frame = detail::make_apply_frame(variables, options);
  auto out = detail::run_root(frame, module, std::forward<Args>(args)...);
  return ApplyResult<decltype(out)>{std::move(out), detail::frame_updated(*frame)};
}

/// apply with the inputs first and the options last (up to six inputs; use apply_with for more).
template <class M>
auto apply(const M& module, const Variables& variables, const ApplyOptions& options = {}) {
  return apply_with(module, variables, options);
}
template <class M, class A1>
requires(!detail::is_apply_options<A1>::value) auto apply(const M& module,
                                                          const Variables& variables, A1&& a1,
                                                          const ApplyOptions& options = {}) {
  return apply_with(module, variables, options, std::forward<A1>(a1));
}
template <class M, class A1, class A2>
requires(!detail::is_apply_options<A2>::value) auto apply(const M& module,
                                                          const Variables& variables, A1&& a1,
                                                          A2&& a2,
                                                          const ApplyOptions& options = {}) {
  return apply_with(module, variables, options, std::forward<A1>(a1), std::forward<A2>(a2));
}
template <class M, class A1, class A2, class A3>
requires(!detail::is_apply_options<A3>::value) auto apply(const M& module,
                                                          const Variables& variables, A1&& a1,
                                                          A2&& a2, A3&& a3,
                                                          const ApplyOptions& options = {}) {
  return apply_with(module, variables, options, std::forward<A1>(a1), std::forward<A2>(a2),
                    std::forward<A3>(a3));
}
template <class M, class A1, class A2, class A3, class A4>
requires(!detail::is_apply_options<A4>::value) auto apply(const M& module,
                                                          const Variables& variables, A1&& a1,
                                                          A2&& a2, A3&& a3, A4&& a4,
                                                          const ApplyOptions& options = {}) {
  return apply_with(module, variables, options, std::forward<A1>(a1), std::forward<A2>(a2),
                    std::forward<A3>(a3), std::forward<A4>(a4));
}
template <class M, class A1, class A2, class A3, class A4, class A5>
requires(!detail::is_apply_options<A5>::value) auto apply(const M& module,
                                                          const Variables& variables, A1&& a1,
                                                          A2&& a2, A3&& a3, A4&& a4, A5&& a5,
                                                          const ApplyOptions& options = {}) {
  return apply_with(module, variables, options, std::forward<A1>(a1), std::forward<A2>(a2),
                    std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5));
}
template <class M, class A1, class A2, class A3, class A4, class A5, class A6>
requires(!detail::is_apply_options<A6>::value) auto apply(const M& module,
                                                          const Variables& variables, A1&& a1,
                                                          A2&& a2, A3&& a3, A4&& a4, A5&& a5,
                                                          A6&& a6,
                                                          const ApplyOptions& options = {}) {
  return apply_with(module, variables, options, std::forward<A1>(a1), std::forward<A2>(a2),
                    std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5),
                    std::forward<A6>(a6));
}

/// A table of the module tree as Flax's tabulate: one row per module call (path, type, output
/// description) with per-collection parameter counts and bytes, and totals.
template <class M, class... Args>
std::string tabulate(const M& module, const Rngs& rngs, Args&&... args) {
  auto frame = detail::make_init_frame(rngs, /*tabulate=*/true);
  std::string output;
  if constexpr (std::is_void_v<decltype(detail::run_root(frame, module,
                                                         std::forward<Args>(args)...))>) {
    detail::run_root(frame, module, std::forward<Args>(args)...);
  } else {
    output = Scope::describe(detail::run_root(frame, module, std::forward<Args>(args)...));
  }
  return detail::frame_table(*frame, Scope::type_name_of<M>(), output);
}
template <class M, class... Args>
std::string tabulate(const M& module, const Array& key, Args&&... args) {
  return tabulate(module, detail::rngs_from_key(key), std::forward<Args>(args)...);
}

}  // namespace jute::nn
