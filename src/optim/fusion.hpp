// Internal: fusing a transformation with the scaling that follows it in a chain, and an update
// with its application to the params (`update_and_apply`, last below).
//
// Optimizers end with `scale_by_learning_rate`, a separate pass that reads every update and writes
// it again multiplied by -lr. When a chain holds a transformation that can absorb a final factor
// (its per-leaf formula returns `post * u`, see kernels.hpp) directly followed by a pure scaling
// (scale, scale_by_schedule), `chain` runs both as one pass: the factor is read from the
// scaling's state, the first transformation's update multiplies by it, and the scaling's state
// advances as its own update would advance it. The results are bit for bit those of the two
// passes — `post * u` is rounded exactly as the scale pass rounds it — and the state layout is
// unchanged.
//
// `update_and_apply` goes one step further for such a chain: the new parameter `p + u` is
// computed in the same loop as u (kernels.hpp: sgd_apply_leaf, momentum_apply_leaf,
// adam_apply_leaf), so the step reads each parameter, gradient and moment once and writes each
// parameter and moment once, and no updates Tree is built. Again the bits are those of `update`
// then `apply_updates`.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "jute/optim/base.hpp"

namespace jute::optim::detail {

struct FusionHooks {
  using ScaledUpdateFn = std::function<Update(const Tree& updates, Tree state,
                                              const std::optional<Tree>& params, double factor)>;
  using ScaledApplyFn =
      std::function<Applied(const Tree& updates, Tree state, Tree params, double factor)>;
  /// Set on transformations that can absorb a following factor: update, then multiply by it.
  ScaledUpdateFn update_scaled;
  /// Set on transformations that can also add that scaled update to the params in the same pass
  /// (identity, trace, scale_by_adam): the new params and state; called with float params of the
  /// updates' structure.
  ScaledApplyFn update_scaled_applied;
  /// Set on pure scalings: the factor their update applies for `state`...
  std::function<double(const Tree& state)> factor;
  /// ...and the state their update returns.
  std::function<Tree(const Tree& state)> next_state;
  /// Set on transformations that can apply their updates in the same pass (`update_and_apply`
  /// calls it with gradients of the params' structure).
  std::function<Applied(const Tree& grads, Tree state, Tree params)> update_and_apply;
};

/// A transformation whose update is `update_scaled(updates, state, params, 1.0)` and which a
/// chain may fuse with a following scaling (and, given `update_scaled_applied`, with
/// apply_updates after that).
GradientTransformation scalable(GradientTransformation::InitFn init,
                                FusionHooks::ScaledUpdateFn update_scaled,
                                FusionHooks::ScaledApplyFn update_scaled_applied = nullptr);

/// `chain(transforms)` as built (`chained`), with the `update_and_apply` hook when the chain is
/// [a transformation with `update_scaled_applied`, a pure scaling] — sgd, with or without
/// momentum, and adam are: the whole step as one pass over each leaf.
GradientTransformation applying_chain(GradientTransformation chained,
                                      const std::vector<GradientTransformation>& transforms);

/// A pure scaling: `update` multiplies every leaf by `factor(state)` and returns
/// `next_state(state)`.
GradientTransformation scaling(GradientTransformation::InitFn init,
                               GradientTransformation::UpdateFn update,
                               std::function<double(const Tree&)> factor,
                               std::function<Tree(const Tree&)> next_state);

}  // namespace jute::optim::detail
