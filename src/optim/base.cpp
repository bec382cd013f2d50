#include "jute/optim/base.hpp"

#include <memory>

#include "jute/errors.hpp"
#include "optim/fusion.hpp"
#include "optim/kernels.hpp"
#include "optim/leafwise.hpp"

namespace jute::optim {

GradientTransformation::GradientTransformation(InitFn init, UpdateFn update)
    : init_(std::move(init)), update_(std::move(update)) {
  if (!init_ || !update_) {
    throw ValueError(
        "[optim.GradientTransformation] The init or update function is empty; give both.");
  }
}

Tree GradientTransformation::init(const Tree& params) const { return init_(params); }

GradientTransformation GradientTransformation::with_fusion(
    std::shared_ptr<const detail::FusionHooks> hooks) const {
  GradientTransformation out = *this;
  out.fusion_ = std::move(hooks);
  return out;
}

Update GradientTransformation::update(const Tree& updates, Tree state,
                                      const std::optional<Tree>& params) const {
  if (params) detail::check_structure("optim.update", *params, "params", updates, "updates");
  return update_(updates, std::move(state), params);
}

GradientTransformation identity() {
  // A following scaling and apply_updates can run as one pass: plain SGD (fusion.hpp).
  auto hooks = std::make_shared<detail::FusionHooks>();
  hooks->update_scaled_applied = [](const Tree& updates, Tree state, Tree params, double factor) {
    Tree p = detail::map_leaves1<2>(
        "optim.identity",
        {detail::Named{&updates, "updates"}, detail::Named{&params, "params", &params}},
        [factor](std::array<Array, 2>& a) {
          return detail::sgd_apply_leaf(std::move(a[1]), std::move(a[0]), factor);
        });
    return Applied{std::move(p), std::move(state)};
  };
  return GradientTransformation([](const Tree&) { return Tree(); },
                                [](const Tree& updates, Tree state, const std::optional<Tree>&) {
                                  return Update{updates, std::move(state)};
                                })
      .with_fusion(std::move(hooks));
}

GradientTransformation set_to_zero() {
  return {[](const Tree&) { return Tree(); },
          [](const Tree& updates, Tree state, const std::optional<Tree>&) {
            return Update{detail::zeros_like_tree(updates), std::move(state)};
          }};
}

GradientTransformation stateless(
    std::function<Tree(const Tree& updates, const std::optional<Tree>& params)> f) {
  if (!f) throw ValueError("[optim.stateless] The function is empty; give a callable.");
  return {[](const Tree&) { return Tree(); },
          [f = std::move(f)](const Tree& updates, Tree state, const std::optional<Tree>& params) {
            return Update{f(updates, params), std::move(state)};
          }};
}

Tree apply_updates(Tree params, const Tree& updates) {
  const char* op = "optim.apply_updates";
  detail::check_structure(op, params, "params", updates, "updates");
  // The updates give the structure; the params are released once their leaves are taken, so a
  // leaf nobody else holds is overwritten in place.
  return detail::map_leaves1<2>(
      op, {detail::Named{&updates, "updates"}, detail::Named{&params, "params", &params}},
      [](std::array<Array, 2>& a) {
        return detail::apply_update_leaf(std::move(a[1]), std::move(a[0]));
      },
      /*require_float=*/false);
}

Applied update_and_apply(const GradientTransformation& tx, const Tree& grads, Tree state,
                         Tree params) {
  detail::check_structure("optim.update_and_apply", params, "params", grads, "gradients");
  // apply_updates casts each sum back to its parameter's dtype, which the one-pass loops do not:
  // integer parameters take the two steps.
  bool float_params = true;
  for (const Array& p : leaves(params)) float_params = float_params && is_floating(p.dtype());
  if (const auto& hooks = tx.fusion(); hooks && hooks->update_and_apply && float_params)
    return hooks->update_and_apply(grads, std::move(state), std::move(params));
  Update r = tx.update(grads, std::move(state), params);
  return {apply_updates(std::move(params), r.updates), std::move(r.state)};
}

Tree incremental_update(const Tree& new_tensors, const Tree& old_tensors, double step_size) {
  return detail::map_leaves1<2>(
      "optim.incremental_update",
      {detail::Named{&new_tensors, "new tensors"}, detail::Named{&old_tensors, "old tensors"}},
      [step_size](std::array<Array, 2>& a) {
        return detail::incremental_leaf(std::move(a[0]), std::move(a[1]), step_size);
      });
}

Tree periodic_update(const Tree& new_tensors, const Tree& old_tensors, std::int64_t steps,
                     std::int64_t update_period) {
  if (update_period <= 0) {
    throw ValueError("[optim.periodic_update] update_period is " + std::to_string(update_period) +
                     "; it must be positive.");
  }
  return steps % update_period == 0 ? new_tensors : old_tensors;
}

}  // namespace jute::optim
