// Sequential (flax/linen/combinators.py).
#include "jute/nn/sequential.hpp"

#include "layer_util.hpp"

namespace jute::nn {

Array Sequential::operator()(Scope& s, const Array& x) const {
  if (layers.empty())
    detail::layer_error("Sequential", s, "the module has no layers; give at least one.", true);
  Array y = x;
  for (std::size_t i = 0; i < layers.size(); ++i)
    y = layers[i](s, "layers_" + std::to_string(i), y);
  return y;
}

}  // namespace jute::nn
