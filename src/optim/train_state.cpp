#include "jute/optim/train_state.hpp"

#include "jute/errors.hpp"
#include "optim/leafwise.hpp"

namespace jute::optim {

namespace {

bool reserved(const std::string& key) {
  return key == "params" || key == "step" || key == "opt_state";
}

void check_collections(const char* op, const Tree& collections) {
  for (const auto& e : collections) {
    if (reserved(e.key)) {
      throw ValueError(std::string("[") + op + "] The collections hold \"" + e.key +
                       "\", which TrainState keeps itself; pass only the other collections "
                       "(e.g. batch_stats).");
    }
  }
}

}  // namespace

TrainState::TrainState(Array step, Tree params, Tree opt_state, GradientTransformation tx,
                       Tree collections)
    : step_(std::move(step)),
      params_(std::move(params)),
      opt_state_(std::move(opt_state)),
      tx_(std::move(tx)),
      collections_(std::move(collections)) {}

TrainState TrainState::create(Tree params, GradientTransformation tx, Tree collections) {
  check_collections("optim.TrainState.create", collections);
  Tree opt_state = tx.init(params);
  return TrainState(detail::int32_scalar(0), std::move(params), std::move(opt_state), std::move(tx),
                    std::move(collections));
}

TrainState TrainState::from_tree(const Tree& tree, GradientTransformation tx) {
  const char* op = "optim.TrainState.from_tree";
  auto need = [&](const char* key) -> const TreeValue& {
    const TreeValue* v = tree.find(Path{key});
    if (v == nullptr) {
      throw KeyError(std::string("[") + op + "] The Tree has no \"" + key +
                     "\" entry; give a Tree in TrainState::to_tree's layout "
                     "({\"step\", \"params\", \"opt_state\", ...}).");
    }
    return *v;
  };
  const TreeValue& step = need("step");
  const TreeValue& params = need("params");
  const TreeValue& opt_state = need("opt_state");
  if (!step.is_array() || !is_integer(step.array().dtype()) || step.array().size() != 1) {
    throw ValueError(std::string("[") + op +
                     "] The entry \"step\" must be an integer scalar; give the step count.");
  }
  if (!params.is_tree() || !opt_state.is_tree()) {
    throw ValueError(std::string("[") + op +
                     "] The entries \"params\" and \"opt_state\" must be sub-Trees.");
  }
  const Tree expected = tx.init(params.tree());
  detail::check_structure(op, expected, "optimizer state tx.init(params) gives", opt_state.tree(),
                          "restored opt_state");
  Tree collections;
  for (const auto& e : tree)
    if (!reserved(e.key)) collections = collections.set(Path{e.key}, e.value);
  return TrainState(step.array().astype(int32), params.tree(), opt_state.tree(), std::move(tx),
                    std::move(collections));
}

Variables TrainState::variables() const {
  return Variables(collections_.set(Path{"params"}, params_));
}

TrainState TrainState::apply_gradients(const Tree& grads) && {
  // Checked before anything is moved out, so a failed call leaves the state whole.
  detail::check_structure("optim.update", params_, "params", grads, "updates");
  const auto step = static_cast<std::int32_t>(step_.item<std::int64_t>());
  auto [params, state] = update_and_apply(tx_, grads, std::move(opt_state_), std::move(params_));
  return TrainState(detail::int32_scalar(detail::safe_increment(step)), std::move(params),
                    std::move(state), std::move(tx_), std::move(collections_));
}

TrainState TrainState::apply_gradients(const Tree& grads) const& {
  return TrainState(*this).apply_gradients(grads);
}

TrainState TrainState::apply_gradients(const Tree& grads, const Tree& updated_collections) && {
  return std::move(*this).apply_gradients(grads).with_collections(updated_collections);
}

TrainState TrainState::apply_gradients(const Tree& grads, const Tree& updated_collections) const& {
  return apply_gradients(grads).with_collections(updated_collections);
}

TrainState TrainState::with_params(Tree params) const {
  return TrainState(step_, std::move(params), opt_state_, tx_, collections_);
}

TrainState TrainState::with_collections(const Tree& updated_collections) const {
  check_collections("optim.TrainState.with_collections", updated_collections);
  Tree c = collections_;
  for (const auto& e : updated_collections) c = c.set(Path{e.key}, e.value);
  return TrainState(step_, params_, opt_state_, tx_, std::move(c));
}

Tree TrainState::to_tree() const {
  return collections_.set(Path{"step"}, step_)
      .set(Path{"params"}, params_)
      .set(Path{"opt_state"}, opt_state_);
}

}  // namespace jute::optim
