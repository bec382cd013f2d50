#include "optim/fusion.hpp"

#include <memory>
#include <string>

#include "jute/errors.hpp"
#include "optim/leafwise.hpp"

namespace jute::optim::detail {

GradientTransformation scalable(GradientTransformation::InitFn init,
                                FusionHooks::ScaledUpdateFn update_scaled,
                                FusionHooks::ScaledApplyFn update_scaled_applied) {
  auto hooks = std::make_shared<FusionHooks>();
  hooks->update_scaled = update_scaled;
  hooks->update_scaled_applied = std::move(update_scaled_applied);
  GradientTransformation tx(std::move(init),
                            [f = std::move(update_scaled)](const Tree& updates, Tree state,
                                                           const std::optional<Tree>& params) {
                              return f(updates, std::move(state), params, 1.0);
                            });
  return tx.with_fusion(std::move(hooks));
}

GradientTransformation scaling(GradientTransformation::InitFn init,
                               GradientTransformation::UpdateFn update,
                               std::function<double(const Tree&)> factor,
                               std::function<Tree(const Tree&)> next_state) {
  auto hooks = std::make_shared<FusionHooks>();
  hooks->factor = std::move(factor);
  hooks->next_state = std::move(next_state);
  return GradientTransformation(std::move(init), std::move(update)).with_fusion(std::move(hooks));
}

GradientTransformation applying_chain(GradientTransformation chained,
                                      const std::vector<GradientTransformation>& transforms) {
  if (transforms.size() != 2) return chained;
  const FusionHooks* first = transforms[0].fusion().get();
  const FusionHooks* second = transforms[1].fusion().get();
  if (!first || !first->update_scaled_applied || !second || !second->factor) return chained;
  auto hooks = std::make_shared<FusionHooks>();
  hooks->update_and_apply = [first = transforms[0].fusion(), second = transforms[1].fusion()](
                                const Tree& grads, Tree state, Tree params) -> Applied {
    const char* op = "optim.chain";
    if (state.size() != 2)
      throw ValueError(std::string("[") + op + "] The state has " + std::to_string(state.size()) +
                       " entries but there are 2 transformations; pass the state that this "
                       "transformation's init returned.");
    auto [inner, scale_state] = take_subtrees<2>(op, std::move(state), {"0", "1"});
    const double factor = second->factor(scale_state);
    Tree next_scale = second->next_state(scale_state);
    Applied r = first->update_scaled_applied(grads, std::move(inner), std::move(params), factor);
    return {std::move(r.params), Tree{{"0", std::move(r.state)}, {"1", std::move(next_scale)}}};
  };
  return chained.with_fusion(std::move(hooks));
}

}  // namespace jute::optim::detail
