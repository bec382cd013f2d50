// jute/optim/base.hpp — Optax's core abstraction: a gradient transformation is a pair of pure
// functions whose state is a Tree.
//
//   auto tx = jute::optim::adam(1e-3);
//   jute::Tree opt_state = tx.init(params);
//   auto [updates, new_state] = tx.update(grads, opt_state, params);
//   params = jute::optim::apply_updates(params, updates);
//   // or, the same step in one call (one pass over the parameters for sgd and adam):
//   auto [new_params, next_state] = jute::optim::update_and_apply(tx, grads, opt_state, params);
//
// Transforms produce descent directions already scaled by -learning_rate, so updates are always
// added. Nothing is stored inside a transformation: every count and moment lives in the state
// Tree, laid out as Optax's state is serialized by flax.serialization (docs/optim.md lists the
// layouts), so a state checkpointed from Flax restores into jute and back.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "jute/array.hpp"
#include "jute/tree.hpp"

namespace jute::optim {

namespace detail {
struct FusionHooks;
}  // namespace detail

/// What `GradientTransformation::update` returns: `auto [updates, state] = tx.update(...)`.
struct Update {
  Tree updates;
  Tree state;
};

/// Optax's GradientTransformation: `init(params) -> state` and
/// `update(updates, state, params) -> {updates, state}`, both pure.
class GradientTransformation {
 public:
  using InitFn = std::function<Tree(const Tree& params)>;
  using UpdateFn =
      std::function<Update(const Tree& updates, Tree state, const std::optional<Tree>& params)>;

  /// A transformation from its two functions (ValueError if either is empty).
  GradientTransformation(InitFn init, UpdateFn update);

  /// The initial state for `params`.
  Tree init(const Tree& params) const;
  /// Transforms `updates` (usually gradients) given the current state, and returns the new
  /// updates and the new state. `params` is needed by some transformations (weight decay, trust
  /// ratios); when given, the updates must have its structure, otherwise ValueError names the
  /// first differing path. Pass the state with std::move when you no longer need it: the new
  /// moments are then written into the old ones' buffers where nothing else holds them (same
  /// results, no fresh memory); a state you keep is never modified.
  Update update(const Tree& updates, Tree state,
                const std::optional<Tree>& params = std::nullopt) const;

  const InitFn& init_fn() const { return init_; }
  const UpdateFn& update_fn() const { return update_; }

  /// Internal: how `chain` may run this transformation and the scaling after it (the learning
  /// rate) as one pass over each leaf; null for most transformations (src/optim/fusion.hpp).
  const std::shared_ptr<const detail::FusionHooks>& fusion() const { return fusion_; }
  /// Internal: a copy carrying fusion hooks.
  GradientTransformation with_fusion(std::shared_ptr<const detail::FusionHooks> hooks) const;

 private:
  InitFn init_;
  UpdateFn update_;
  std::shared_ptr<const detail::FusionHooks> fusion_;
};

/// Leaves updates unchanged; state `{}` (Optax's EmptyState).
GradientTransformation identity();
/// Replaces the updates with zeros (freezes parameters); state `{}`.
GradientTransformation set_to_zero();
/// A stateless transformation from `f(updates, params)`; state `{}`.
GradientTransformation stateless(
    std::function<Tree(const Tree& updates, const std::optional<Tree>& params)> f);

/// `params + updates` leaf by leaf, each result cast back to its parameter's dtype (the sum is
/// formed in the promoted dtype first, as Optax). ValueError naming the first differing path when
/// the structures differ, ShapeError naming the path when shapes differ. Passing the params with
/// std::move lets a leaf nobody else holds be updated in its own buffer:
/// `params = apply_updates(std::move(params), updates);`.
Tree apply_updates(Tree params, const Tree& updates);

/// What `update_and_apply` returns: `auto [params, state] = optim::update_and_apply(...)`.
struct Applied {
  Tree params;
  Tree state;
};

/// One optimizer step: the params and state that `tx.update(grads, state, params)` followed by
/// `apply_updates(params, updates)` give, bit for bit (Optax: `updates, state = tx.update(grads,
/// state, params); params = optax.apply_updates(params, updates)`). Transformations that can
/// (`sgd` with or without momentum or Nesterov, `adam`, `nadam`; docs/optim.md lists them)
/// compute each new parameter in the same pass as its update and never build the updates Tree;
/// the others run the two calls. Pass the params
/// and the state with std::move when you no longer need them: the new ones are then written
/// into their buffers. ValueError naming the first differing path when the gradients and the
/// params differ in structure.
Applied update_and_apply(const GradientTransformation& tx, const Tree& grads, Tree state,
                         Tree params);

/// `step_size * new_tensors + (1 - step_size) * old_tensors` (Polyak averaging of targets).
Tree incremental_update(const Tree& new_tensors, const Tree& old_tensors, double step_size);

/// `new_tensors` when `steps % update_period == 0`, else `old_tensors`.
Tree periodic_update(const Tree& new_tensors, const Tree& old_tensors, std::int64_t steps,
                     std::int64_t update_period);

}  // namespace jute::optim
