// jute/optim/combine.hpp — transformations built from other transformations: chain, masked,
// multi_transform, MultiSteps (gradient accumulation), apply_if_finite, inject_hyperparams.
//
// State layouts (those of flax.serialization applied to Optax's states):
//   chain(a, b)            {"0": a's state, "1": b's state}
//   named_chain            {name: state, ...}
//   masked(inner, mask)    {"inner_state": inner's state over the masked tree}
//   multi_transform        {"inner_states": {label: {"inner_state": ...}, ...}}
//   MultiSteps             {"mini_step", "gradient_step", "inner_opt_state", "acc_grads",
//                           "skip_state"}
//   apply_if_finite        {"notfinite_count", "last_finite", "total_notfinite", "inner_state"}
//   inject_hyperparams     {"count", "hyperparams": {name: scalar}, "hyperparams_states":
//                           {schedule name: {"count"}}, "inner_state"}
// A masked-out leaf (Optax's MaskedNode, an empty NamedTuple) is an empty Tree `{}` in the inner
// state, as Flax serializes it.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "jute/optim/base.hpp"
#include "jute/optim/schedules.hpp"

namespace jute::optim {

/// Applies the transformations in order; the state is {"0": ..., "1": ..., ...}.
GradientTransformation chain(std::vector<GradientTransformation> transforms);
/// Applies the named transformations in order; the state is {name: state}. ValueError on a
/// repeated or empty name.
GradientTransformation named_chain(
    std::vector<std::pair<std::string, GradientTransformation>> transforms);

/// Which leaves a masked transformation sees: a Tree of bool scalars shaped like the params (or
/// like a prefix of them: a bool over a sub-Tree covers all of it), a function of the params (or
/// of the updates, in update) returning such a Tree, or a predicate on each leaf and its
/// '/'-joined path.
///
///   masked(add_decayed_weights(1e-4), [](const std::string& path, const Array& p) {
///     return p.ndim() > 1;                    // decay kernels, not biases
///   });
class Mask {
 public:
  using TreeFn = std::function<Tree(const Tree& params)>;
  using LeafFn = std::function<bool(const std::string& path, const Array& leaf)>;

  Mask(Tree mask);  // NOLINT(google-explicit-constructor)
  Mask(TreeFn fn);  // NOLINT(google-explicit-constructor)
  static Mask from_leaf_fn(LeafFn fn);
  template <class F>
  requires std::is_invocable_r_v<bool, F&, const std::string&, const Array&> Mask(F f)
      : Mask(from_leaf_fn(LeafFn(std::move(f)))) {}  // NOLINT(google-explicit-constructor)
  template <class F>
  requires(!std::is_same_v<std::decay_t<F>, TreeFn> && std::is_invocable_r_v<Tree, F&, const Tree&>)
      Mask(F f)
      : Mask(TreeFn(std::move(f))) {}  // NOLINT(google-explicit-constructor)

  /// The bool Tree for `tree` (the params in init, the updates in update).
  Tree resolve(const Tree& tree) const;

 private:
  Mask() = default;
  std::optional<Tree> tree_;
  TreeFn fn_;
};

/// Applies `inner` to the leaves where `mask` is true; the other leaves pass through unchanged
/// (not zeroed: use masked(set_to_zero(), mask) — freeze — for that). `inner` sees, and its state
/// stores, a Tree in which the masked-out leaves are empty Trees.
GradientTransformation masked(GradientTransformation inner, Mask mask);
/// masked(set_to_zero(), mask): zero updates for the masked leaves (Optax's freeze).
GradientTransformation freeze(Mask mask);

/// The label of every parameter, for multi_transform: a function of each leaf and its path, or a
/// map from paths to labels (a path names a leaf or a sub-Tree: the label of the longest
/// matching prefix applies).
class ParamLabels {
 public:
  using LeafFn = std::function<std::string(const std::string& path, const Array& leaf)>;

  ParamLabels(std::map<std::string, std::string> by_path);  // NOLINT(google-explicit-constructor)
  ParamLabels(std::initializer_list<std::pair<const std::string, std::string>> by_path)
      : ParamLabels(std::map<std::string, std::string>(by_path)) {}
  ParamLabels(LeafFn fn);  // NOLINT(google-explicit-constructor)
  template <class F>
  requires(!std::is_same_v<std::decay_t<F>, LeafFn> &&
           std::is_invocable_r_v<std::string, F&, const std::string&, const Array&>)
      ParamLabels(F f)
      : ParamLabels(LeafFn(std::move(f))) {}  // NOLINT(google-explicit-constructor)

  /// The label of one leaf (ValueError naming the path when a map gives it none).
  std::string label(const std::string& path, const Array& leaf) const;

 private:
  std::map<std::string, std::string> by_path_;
  LeafFn fn_;
};

/// One transformation per label: each parameter is updated by the transformation of its label
/// (Optax's partition, formerly multi_transform). The state is
/// {"inner_states": {label: {"inner_state": ...}}}. ValueError when a parameter's label has no
/// transformation.
GradientTransformation multi_transform(std::map<std::string, GradientTransformation> transforms,
                                       ParamLabels labels);
/// The same as multi_transform (Optax's current name).
GradientTransformation partition(std::map<std::string, GradientTransformation> transforms,
                                 ParamLabels labels);

/// Runs `inner` when every update is finite, or once more than `max_consecutive_errors`
/// non-finite updates came in a row; otherwise returns zero updates and keeps the inner state.
/// State: {"notfinite_count": i32, "last_finite": bool, "total_notfinite": i32,
/// "inner_state": ...}.
GradientTransformation apply_if_finite(GradientTransformation inner,
                                       std::int32_t max_consecutive_errors);

/// Decides, before MultiSteps accumulates, whether to drop an update: returns the decision and
/// a Tree recorded as the state's "skip_state".
using ShouldSkipUpdateFn = std::function<std::pair<bool, Tree>(
    const Tree& updates, std::int32_t gradient_step, const std::optional<Tree>& params)>;
/// Skips updates that contain a NaN or an infinity; skip_state
/// {"should_skip": bool, "num_not_finite": i32}.
std::pair<bool, Tree> skip_not_finite(const Tree& updates, std::int32_t gradient_step,
                                      const std::optional<Tree>& params);
/// Skips updates whose squared global norm is not below `max_squared_norm`; skip_state
/// {"should_skip": bool, "norm_squared": scalar}.
ShouldSkipUpdateFn skip_large_updates(double max_squared_norm);

/// Gradient accumulation: the inner optimizer takes a step every k-th call with the mean (or the
/// sum) of the k gradients, and the calls in between return zero updates.
///
///   optim::MultiSteps acc(optim::adam(1e-3), 4);
///   auto tx = acc.gradient_transformation();
///
/// Differs from Optax only for a non-finite accumulator: the inner transformation runs only on
/// the k-th call, and in-between calls return exact zeros where Optax returns 0 * inner update.
class MultiSteps {
 public:
  /// `every_k_schedule(gradient_step)` gives k (at least 1, ValueError otherwise).
  MultiSteps(GradientTransformation opt, std::function<std::int64_t(std::int64_t)> every_k_schedule,
             bool use_grad_mean = true, ShouldSkipUpdateFn should_skip_update_fn = nullptr,
             DType accumulator_dtype = float32);
  MultiSteps(GradientTransformation opt, std::int64_t every_k, bool use_grad_mean = true,
             ShouldSkipUpdateFn should_skip_update_fn = nullptr, DType accumulator_dtype = float32);

  Tree init(const Tree& params) const;
  Update update(const Tree& updates, Tree state,
                const std::optional<Tree>& params = std::nullopt) const;
  /// True when the last update applied the inner optimizer (mini_step == 0 and gradient_step > 0).
  bool has_updated(const Tree& state) const;
  /// init and update as a GradientTransformation.
  GradientTransformation gradient_transformation() const;
  const GradientTransformation& inner_opt() const { return opt_; }

 private:
  GradientTransformation opt_;
  std::function<std::int64_t(std::int64_t)> every_k_;
  bool use_grad_mean_;
  ShouldSkipUpdateFn should_skip_;
  DType accumulator_dtype_;
};

/// The current values of injected hyperparameters, by name.
using Hyperparams = std::map<std::string, double>;

/// Makes hyperparameters part of the state, so they can be read (the current learning rate is
/// `state.get("hyperparams/learning_rate")`) and overwritten between steps. `factory` builds the
/// inner transformation from the current values; each hyperparameter is a number (stored, and
/// read back from the state each step) or a schedule (evaluated at the current count, so the
/// first update uses schedule(0) and after N updates the state holds schedule(N-1)).
///
///   auto tx = optim::inject_hyperparams(
///       [](const optim::Hyperparams& h) { return optim::adam(h.at("learning_rate")); },
///       {{"learning_rate", optim::cosine_decay_schedule(1e-3, 1000)}});
///
/// Values are stored as scalars of `hyperparam_dtype`, or else of the widest float dtype among
/// the params (float32 when there is none).
GradientTransformation inject_hyperparams(
    std::function<GradientTransformation(const Hyperparams&)> factory,
    std::map<std::string, ScalarOrSchedule> hyperparams,
    std::optional<DType> hyperparam_dtype = std::nullopt);

}  // namespace jute::optim
