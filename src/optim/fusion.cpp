#include "optim/fusion.hpp"

#include <memory>

namespace jute::optim::detail {

GradientTransformation scalable(GradientTransformation::InitFn init,
                                FusionHooks::ScaledUpdateFn update_scaled) {
  auto hooks = std::make_shared<FusionHooks>();
  hooks->update_scaled = update_scaled;
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

}  // namespace jute::optim::detail
