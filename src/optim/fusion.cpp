#include "optim/fusion.hpp"

#include <memory>
#include <string>

#include "jute/errors.hpp"

#include "optim/kernels.hpp"
#include "optim/leafwise.hpp"

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

GradientTransformation sgd_applying(GradientTransformation chained, GradientTransformation lr,
                                    std::optional<double> momentum, bool nesterov,
                                    std::optional<DType> accumulator_dtype) {
  auto hooks = std::make_shared<FusionHooks>();
  hooks->update_and_apply = [chained, lr, momentum, nesterov, accumulator_dtype](
                                const Tree& grads, Tree state, Tree params) -> Applied {
    const char* op = "optim.update_and_apply";
    // apply_updates casts each sum back to its parameter's dtype, which the loop does not:
    // parameters of other dtypes take the two steps.
    for (const Array& p : leaves(params))
      if (!is_floating(p.dtype())) {
        Update r = chained.update(grads, std::move(state), params);
        return {apply_updates(std::move(params), r.updates), std::move(r.state)};
      }
    if (state.size() != 2)
      throw ValueError(std::string("[") + op + "] The state has " + std::to_string(state.size()) +
                       " entries but sgd's chain has 2; pass the state that its init returned.");
    auto [first, scale_state] = take_subtrees<2>(op, std::move(state), {"0", "1"});
    const FusionHooks& scaling = *lr.fusion();
    const double factor = scaling.factor(scale_state);
    Tree next_scale = scaling.next_state(scale_state);
    if (!momentum) {
      Tree p2 = map_leaves1<2>(op, {Named{&grads, "gradients"}, Named{&params, "params", &params}},
                               [&](std::array<Array, 2>& a) {
                                 return sgd_apply_leaf(std::move(a[1]), std::move(a[0]), factor);
                               });
      return {std::move(p2), Tree{{"0", std::move(first)}, {"1", std::move(next_scale)}}};
    }
    auto [trace] = take_subtrees<1>(op, std::move(first), {"trace"});
    auto [p2, t2] = map_leaves<2, 3>(op,
                                     {Named{&grads, "gradients"}, Named{&params, "params", &params},
                                      Named{&trace, "state's trace", &trace}},
                                     [&](std::array<Array, 3>& a) {
                                       return momentum_apply_leaf(
                                           std::move(a[1]), std::move(a[0]), std::move(a[2]),
                                           *momentum, nesterov, factor, accumulator_dtype);
                                     });
    return {std::move(p2),
            Tree{{"0", Tree{{"trace", std::move(t2)}}}, {"1", std::move(next_scale)}}};
  };
  return chained.with_fusion(std::move(hooks));
}

}  // namespace jute::optim::detail
