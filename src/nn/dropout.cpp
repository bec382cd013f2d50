// Dropout (flax/linen/stochastic.py).
#include "jute/nn/dropout.hpp"

#include "as_float.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "layer_util.hpp"

namespace jute::nn {

Array Dropout::operator()(Scope& s, const Array& x, std::optional<bool> deterministic_now,
                          const Array& rng) const {
  if (deterministic.has_value() == deterministic_now.has_value())
    throw ValueError(std::string("[Dropout] deterministic must be given exactly once, ") +
                     "either as the field or at call time (as Flax's merge_param), got " +
                     (deterministic ? "both" : "neither") + " in \"" + s.path_text() + "\".");
  if (!(rate >= 0.0 && rate <= 1.0))
    detail::layer_error("Dropout", s, "rate must be in [0, 1]; got " + std::to_string(rate) + ".",
                        true);
  const bool det = deterministic ? *deterministic : *deterministic_now;
  if (rate == 0.0 || det) return x;
  if (rate == 1.0) return zeros_like(x);
  const double keep = 1.0 - rate;
  const Array key = rng.valid() ? rng : s.make_rng(rng_collection);
  Shape mask_shape = x.shape();
  for (int d : broadcast_dims) {
    const int a = d < 0 ? d + x.ndim() : d;
    if (a < 0 || a >= x.ndim())
      detail::layer_error("Dropout", s,
                          "broadcast_dims entry " + std::to_string(d) +
                              " is out of range for an input of shape " +
                              jute::detail::shape_str(x.shape()) + ".");
    mask_shape[static_cast<std::size_t>(a)] = 1;
  }
  Array mask = random::bernoulli(key, keep, mask_shape);
  if (mask_shape != x.shape()) mask = broadcast_to(mask, x.shape());
  const Array xf = detail::as_float(x);
  return where(mask, xf / Array(keep), zeros_like(xf));
}

}  // namespace jute::nn
