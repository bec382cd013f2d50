#include "jute/autodiff.hpp"

#include "autodiff/engine.hpp"
#include "jute/ops.hpp"

namespace jute {

namespace {
void check_float_input(const Array& x, const char* op) {
  if (!is_floating(x.dtype()))
    throw DtypeError(std::string("[") + op + "] Cannot differentiate with respect to an input of " +
                     "dtype " + std::string(name(x.dtype())) +
                     "; only float32 and float64 inputs are differentiable.");
}
void check_scalar_output(const Array& y, const char* op) {
  if (y.ndim() != 0)
    throw ShapeError(std::string("[") + op + "] The function must return a scalar, got shape " +
                     detail::shape_str(y.shape()) + "; reduce it (e.g. with sum or mean) first.");
  if (!is_floating(y.dtype()))
    throw DtypeError(std::string("[") + op + "] The function must return a float scalar, got " +
                     std::string(name(y.dtype())) + ".");
}
}  // namespace

std::pair<Array, std::function<std::vector<Array>(const Array&)>> vjp(
    const ArraysFn& f, const std::vector<Array>& primals) {
  auto scope = std::make_shared<detail::TraceScope>();
  std::vector<Array> traced;
  traced.reserve(primals.size());
  for (const auto& p : primals) {
    check_float_input(p, "vjp");
    traced.push_back(detail::make_traced_leaf(p, scope->bit()));
  }
  Array out = f(traced);
  scope->stop_recording();
  std::uint64_t bit = scope->bit();
  auto fn = [out, traced, bit](const Array& ct) {
    if (ct.shape() != out.shape())
      throw ShapeError("[vjp] The cotangent has shape " + detail::shape_str(ct.shape()) +
                       " but the function's output has shape " + detail::shape_str(out.shape()) +
                       "; pass a cotangent shaped like the output.");
    return detail::backward(out, ct.astype(out.dtype()), traced, bit);
  };
  // The value handed back is not traced by this (finished) trace.
  return {out, fn};
}

std::pair<Array, ArrayFn> vjp(const ArrayFn& f, const Array& x) {
  auto [y, fn] = vjp([&f](const std::vector<Array>& xs) { return f(xs[0]); }, {x});
  return {y, [fn = std::move(fn)](const Array& ct) { return fn(ct)[0]; }};
}

std::function<std::pair<Array, Array>(const Array&)> value_and_grad(ArrayFn f) {
  return [f = std::move(f)](const Array& x) {
    auto [y, fn] = vjp(f, x);
    check_scalar_output(y, "grad");
    return std::pair<Array, Array>{y, fn(ones_like(y))};
  };
}

ArrayFn grad(ArrayFn f) {
  return [vg = value_and_grad(std::move(f))](const Array& x) { return vg(x).second; };
}

Array stop_gradient(const Array& x) { return detail::detach(x); }

}  // namespace jute
