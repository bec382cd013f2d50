// max_pool, avg_pool and min_pool (flax/linen/pooling.py), over reduce_window.
#include "jute/nn/pooling.hpp"

#include <string>

#include "as_float.hpp"
#include "jute/errors.hpp"

namespace jute::nn {

namespace {

/// Flax's `pool`: the window and strides extended with 1 over the batch axes and the features,
/// explicit pads with (0, 0) there.
Array pool(const char* op, const Array& x, ReduceOp reduce, const Shape& window,
           const Shape& strides, const Padding& padding) {
  const std::size_t nw = window.size();
  const int num_batch = x.ndim() - static_cast<int>(nw + 1);
  if (nw == 0 || num_batch < 0)
    throw ShapeError(
        std::string("[") + op + "] A window of " + std::to_string(nw) +
        " spatial axes needs an input (batch..., spatial..., features) of rank at least " +
        std::to_string(nw + 1) + " and at least one window entry; got input " +
        jute::detail::shape_str(x.shape()) + " and window " + jute::detail::shape_str(window) +
        ".");
  if (!strides.empty() && strides.size() != nw)
    throw ShapeError(std::string("[") + op + "] strides " + jute::detail::shape_str(strides) +
                     " must have one entry per window entry " + jute::detail::shape_str(window) +
                     ".");
  Shape dims(static_cast<std::size_t>(num_batch), 1), st = dims;
  dims.insert(dims.end(), window.begin(), window.end());
  dims.push_back(1);
  if (strides.empty())
    st.insert(st.end(), nw, 1);
  else
    st.insert(st.end(), strides.begin(), strides.end());
  st.push_back(1);
  if (padding.kind() != Padding::Kind::Explicit) return reduce_window(x, reduce, dims, st, padding);
  if (padding.pads().size() != nw)
    throw ShapeError(std::string("[") + op + "] Explicit padding needs one (low, high) pair per " +
                     "window entry (" + std::to_string(nw) + "); got " +
                     std::to_string(padding.pads().size()) + ".");
  std::vector<std::pair<std::int64_t, std::int64_t>> pads(static_cast<std::size_t>(num_batch),
                                                          {0, 0});
  pads.insert(pads.end(), padding.pads().begin(), padding.pads().end());
  pads.emplace_back(0, 0);
  return reduce_window(x, reduce, dims, st, Padding(pads));
}

}  // namespace

Array max_pool(const Array& x, const Shape& window_shape, const Shape& strides,
               const Padding& padding) {
  return pool("max_pool", x, ReduceOp::Max, window_shape, strides, padding);
}

Array min_pool(const Array& x, const Shape& window_shape, const Shape& strides,
               const Padding& padding) {
  if (!is_floating(x.dtype()))
    throw DtypeError("[min_pool] The input must be float32 or float64; got " +
                     std::string(name(x.dtype())) + " (convert with astype).");
  return -pool("min_pool", -x, ReduceOp::Max, window_shape, strides, padding);
}

Array avg_pool(const Array& x, const Shape& window_shape, const Shape& strides,
               const Padding& padding, bool count_include_pad) {
  const Array xf = detail::as_float(x);
  const Array y = pool("avg_pool", xf, ReduceOp::Sum, window_shape, strides, padding);
  if (count_include_pad) {
    std::int64_t n = 1;
    for (auto w : window_shape) n *= w;
    return y / Array(static_cast<double>(n));
  }
  // The number of real elements per window: the same pool over ones of the spatial shape.
  Shape ones_shape = x.shape();
  ones_shape.back() = 1;
  if (ones_shape.size() == window_shape.size() + 2) ones_shape[0] = 1;
  const Array counts =
      pool("avg_pool", ones(ones_shape, y.dtype()), ReduceOp::Sum, window_shape, strides, padding);
  return y / counts;
}

}  // namespace jute::nn
