// jute/optim/train_state.hpp — Flax's TrainState: everything a training step changes, as one
// immutable value.
//
//   auto state = optim::TrainState::create(vars.collection("params"), optim::adam(1e-3),
//                                          vars.without_collection("params"));
//   state = state.apply_gradients(grads, updated);   // a new state; the old one is unchanged
//
// `to_tree()` gives Flax's serialization layout {"step", "params", "opt_state", <collections>},
// so a checkpoint of a Flax TrainState (with batch_stats as an extra field) restores with
// `from_tree`. docs/optim.md shows the pure `train_step(state, batch, key) -> {state, metrics}`.
#pragma once

#include "jute/array.hpp"
#include "jute/optim/base.hpp"
#include "jute/tree.hpp"

namespace jute::optim {

class TrainState {
 public:
  /// step 0, `params`, `tx.init(params)`, and any other collections (e.g. {"batch_stats": ...};
  /// ValueError if they hold "params", "step" or "opt_state").
  static TrainState create(Tree params, GradientTransformation tx, Tree collections = {});
  /// Restores from a Tree in to_tree's layout: "step", "params" and "opt_state" are required
  /// (KeyError otherwise), every other top-level entry is a collection. The optimizer state must
  /// have the structure `tx.init(params)` gives (ValueError naming the first differing path).
  static TrainState from_tree(const Tree& tree, GradientTransformation tx);

  /// The number of apply_gradients calls so far (int32 scalar).
  const Array& step() const { return step_; }
  const Tree& params() const { return params_; }
  const Tree& opt_state() const { return opt_state_; }
  const GradientTransformation& tx() const { return tx_; }
  /// The collections other than params (e.g. {"batch_stats": ...}).
  const Tree& collections() const { return collections_; }
  /// {"params": params, <collections>}: what nn::apply takes.
  Variables variables() const;

  /// One optimizer step: `tx.update(grads, opt_state, params)`, apply_updates, step + 1. The
  /// gradients must have the params' structure (ValueError naming the first differing path).
  /// On an rvalue (`std::move(state).apply_gradients(grads)`) the new params and optimizer state
  /// are written into the old ones' buffers wherever nothing else holds them.
  TrainState apply_gradients(const Tree& grads) const&;
  TrainState apply_gradients(const Tree& grads) &&;
  /// The same, also replacing the collections present in `updated_collections` (e.g. the
  /// `updated` Tree nn::apply returns with {"batch_stats": ...}); ValueError if it holds "params".
  TrainState apply_gradients(const Tree& grads, const Tree& updated_collections) const&;
  TrainState apply_gradients(const Tree& grads, const Tree& updated_collections) &&;
  /// A copy with other params (and the same optimizer state).
  TrainState with_params(Tree params) const;
  /// A copy with the given collections replaced or added.
  TrainState with_collections(const Tree& updated_collections) const;

  /// {"step", "params", "opt_state", <collections>} — Flax's state dict of a TrainState.
  Tree to_tree() const;

 private:
  TrainState(Array step, Tree params, Tree opt_state, GradientTransformation tx, Tree collections);
  Array step_;
  Tree params_;
  Tree opt_state_;
  GradientTransformation tx_;
  Tree collections_;
};

}  // namespace jute::optim
