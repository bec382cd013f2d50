// The transformations: vjp, grad, jvp, hvp, jacobians. Each is a few lines over the reverse pass
// (engine.cpp); the Tree overloads are in tree_transforms.cpp.
#include "jute/autodiff.hpp"

#include "autodiff/engine.hpp"
#include "autodiff/transforms.hpp"
#include "jute/ops.hpp"

namespace jute {

namespace detail {

void check_differentiable(const Array& x, const std::string& what, const char* op) {
  if (!x.valid())
    throw ValueError(std::string("[") + op + "] " + what +
                     " is a null Array; pass a float32 or float64 value.");
  if (!is_floating(x.dtype()))
    throw DtypeError(std::string("[") + op + "] Cannot differentiate with respect to " + what +
                     " of dtype " + std::string(name(x.dtype())) + " and shape " +
                     shape_str(x.shape()) +
                     "; only float32 and float64 values are differentiable (close over integer "
                     "values or cast them with astype).");
}

void check_aux_value(const Array& value, const char* op) {
  if (!value.valid())
    throw ValueError(std::string("[") + op +
                     "] The function returned a null Array as its value; return "
                     "std::pair{loss, aux} with the scalar loss first.");
}

namespace {
std::string nth(const char* kind, std::size_t i, std::size_t n) {
  return n == 1 ? std::string("the ") + kind : std::string(kind) + " " + std::to_string(i);
}

// Cotangents or tangents must match the values they belong to: same count, same shapes.
std::vector<Array> checked_like(const std::vector<Array>& given, const std::vector<Array>& like,
                                const char* kind, const char* of, const char* op) {
  if (given.size() != like.size())
    throw ValueError(std::string("[") + op + "] Got " + std::to_string(given.size()) + " " + kind +
                     "s for " + std::to_string(like.size()) + " " + of + "s; pass one per " + of +
                     ".");
  std::vector<Array> out;
  out.reserve(given.size());
  for (std::size_t i = 0; i < given.size(); ++i) {
    if (!given[i].valid()) {
      out.push_back(Array());
      continue;
    }
    if (given[i].shape() != like[i].shape())
      throw ShapeError(std::string("[") + op + "] " + "The " + kind +
                       (given.size() == 1 ? std::string() : " " + std::to_string(i)) +
                       " has shape " + shape_str(given[i].shape()) + " but the " + of +
                       " it belongs to has shape " + shape_str(like[i].shape()) + "; pass a " +
                       kind + " shaped like the " + of + ".");
    if (!is_floating(given[i].dtype()) && given[i].dtype() != like[i].dtype())
      throw DtypeError(std::string("[") + op + "] The " + kind + " has dtype " +
                       std::string(name(given[i].dtype())) + " but the " + of + " has dtype " +
                       std::string(name(like[i].dtype())) + "; pass a float " + kind + ".");
    out.push_back(given[i].astype(like[i].dtype()));
  }
  return out;
}
}  // namespace

std::pair<std::vector<Array>, MultiVjpFn> vjp_multi(const MultiFn& f,
                                                    const std::vector<Array>& primals,
                                                    const char* op) {
  for (std::size_t i = 0; i < primals.size(); ++i)
    check_differentiable(primals[i], nth("primal", i, primals.size()), op);
  std::vector<Array> traced;
  std::vector<Array> outs;
  TraceId id;
  {
    TraceScope scope;
    id = scope.id();
    traced.reserve(primals.size());
    for (const auto& p : primals) traced.push_back(make_traced_leaf(p, scope.bit()));
    outs = f(traced);
  }
  for (std::size_t i = 0; i < outs.size(); ++i)
    if (!outs[i].valid())
      throw ValueError(std::string("[") + op + "] The function returned a null Array as " +
                       nth("output", i, outs.size()) + "; return a value.");
  std::string op_name = op;
  auto vjp_fn = [outs, traced, id, op_name](const std::vector<Array>& cts) {
    return backward(outs, checked_like(cts, outs, "cotangent", "output", op_name.c_str()), traced,
                    id);
  };
  std::vector<Array> values;
  values.reserve(outs.size());
  for (const auto& o : outs) values.push_back(release(o));
  return {std::move(values), vjp_fn};
}

// Forward mode as the transpose of reverse mode. u ↦ vjp_fn(u) is linear in u and, because the
// rules are recorded with public ops, it is itself differentiable: the vjp of that map (taken at
// any u, here zeros) maps primal tangents to output tangents, J·t. This costs one more backward
// pass than a forward-mode rule per op would, but needs only the vjp rules, and is exact to any
// order since it is built from the same recorded rules as grad.
std::pair<std::vector<Array>, std::vector<Array>> jvp_multi(const MultiFn& f,
                                                            const std::vector<Array>& primals,
                                                            const std::vector<Array>& tangents,
                                                            const char* op) {
  std::vector<Array> ts = checked_like(tangents, primals, "tangent", "primal", op);
  auto [outs, vjp_fn] = vjp_multi(f, primals, op);
  std::vector<Array> zero_cts;
  zero_cts.reserve(outs.size());
  for (const auto& o : outs)
    zero_cts.push_back(zeros(o.shape(), is_floating(o.dtype()) ? o.dtype() : float32));
  auto [primal_cts, transpose] = vjp_multi(vjp_fn, zero_cts, op);
  std::vector<Array> out_tangents = transpose(ts);
  for (auto& t : out_tangents) t = release(t);
  return {std::move(outs), std::move(out_tangents)};
}

std::pair<Array, std::vector<Array>> value_and_grad_multi(
    const std::function<Array(const std::vector<Array>&)>& f, const std::vector<Array>& primals,
    const char* op) {
  auto [outs, vjp_fn] =
      vjp_multi([&f](const std::vector<Array>& xs) { return std::vector{f(xs)}; }, primals, op);
  const Array& y = outs[0];
  if (y.ndim() != 0)
    throw ShapeError(std::string("[") + op + "] The function must return a scalar, got shape " +
                     shape_str(y.shape()) + "; reduce it (e.g. with sum or mean) first.");
  if (!is_floating(y.dtype()))
    throw DtypeError(std::string("[") + op + "] The function must return a float scalar, got " +
                     std::string(name(y.dtype())) + "; compute the loss in float32 or float64.");
  return {y, vjp_fn({ones_like(y)})};
}

// Reverse over reverse: H is symmetric, so H·v is the vjp of the gradient map along v.
std::vector<Array> hvp_multi(const std::function<Array(const std::vector<Array>&)>& f,
                             const std::vector<Array>& primals, const std::vector<Array>& vectors,
                             const char* op) {
  std::vector<Array> vs = checked_like(vectors, primals, "vector", "primal", op);
  auto gradient = [&f, op](const std::vector<Array>& xs) {
    return value_and_grad_multi(f, xs, op).second;
  };
  auto [g, g_vjp] = vjp_multi(gradient, primals, op);
  return g_vjp(vs);
}

}  // namespace detail

// ---- Array and std::vector<Array> overloads ----------------------------------------------------

namespace {
std::vector<Array> one(const Array& a) { return {a}; }
detail::MultiFn multi(const ArraysFn& f) {
  return [f](const std::vector<Array>& xs) { return one(f(xs)); };
}
ArraysFn of_first(const ArrayFn& f) {
  return [f](const std::vector<Array>& xs) { return f(xs[0]); };
}
}  // namespace

std::pair<Array, std::function<std::vector<Array>(const Array&)>> vjp(
    const ArraysFn& f, const std::vector<Array>& primals) {
  auto [outs, fn] = detail::vjp_multi(multi(f), primals, "vjp");
  return {outs[0], [fn = std::move(fn)](const Array& ct) { return fn({ct}); }};
}

std::pair<Array, ArrayFn> vjp(const ArrayFn& f, const Array& x) {
  auto [outs, fn] = detail::vjp_multi(multi(of_first(f)), {x}, "vjp");
  return {outs[0], [fn = std::move(fn)](const Array& ct) { return fn({ct})[0]; }};
}

std::function<std::pair<Array, std::vector<Array>>(const std::vector<Array>&)> value_and_grad(
    ArraysFn f) {
  return [f = std::move(f)](const std::vector<Array>& xs) {
    return detail::value_and_grad_multi(f, xs, "value_and_grad");
  };
}

std::function<std::pair<Array, Array>(const Array&)> value_and_grad(ArrayFn f) {
  return [f = of_first(f)](const Array& x) {
    auto [y, g] = detail::value_and_grad_multi(f, {x}, "value_and_grad");
    return std::pair{y, g[0]};
  };
}

std::function<std::vector<Array>(const std::vector<Array>&)> grad(ArraysFn f) {
  return [f = std::move(f)](const std::vector<Array>& xs) {
    return detail::value_and_grad_multi(f, xs, "grad").second;
  };
}

ArrayFn grad(ArrayFn f) {
  return [f = of_first(f)](const Array& x) {
    return detail::value_and_grad_multi(f, {x}, "grad").second[0];
  };
}

Array stop_gradient(const Array& x) { return detail::detach(x); }

std::pair<Array, Array> jvp(const ArrayFn& f, const Array& x, const Array& tangent) {
  auto [outs, ts] = detail::jvp_multi(multi(of_first(f)), {x}, {tangent}, "jvp");
  return {outs[0], ts[0]};
}

std::pair<Array, Array> jvp(const ArraysFn& f, const std::vector<Array>& primals,
                            const std::vector<Array>& tangents) {
  auto [outs, ts] = detail::jvp_multi(multi(f), primals, tangents, "jvp");
  return {outs[0], ts[0]};
}

Array hvp(const ArrayFn& f, const Array& x, const Array& v) {
  return detail::hvp_multi(of_first(f), {x}, {v}, "hvp")[0];
}

std::vector<Array> hvp(const ArraysFn& f, const std::vector<Array>& primals,
                       const std::vector<Array>& vectors) {
  return detail::hvp_multi(f, primals, vectors, "hvp");
}

namespace {
// The i-th standard basis vector of x's shape and dtype.
Array basis(const Array& x, std::int64_t i) {
  std::vector<double> e(static_cast<std::size_t>(x.size()), 0.0);
  e[static_cast<std::size_t>(i)] = 1.0;
  return Array::from_vector(e, x.shape(), x.dtype());
}
Shape concat_shapes(const Shape& a, const Shape& b) {
  Shape s = a;
  s.insert(s.end(), b.begin(), b.end());
  return s;
}
}  // namespace

ArrayFn jacfwd(ArrayFn f) {
  return [f = std::move(f)](const Array& x) {
    detail::check_differentiable(x, "the primal", "jacfwd");
    std::vector<Array> columns;
    Shape out_shape;
    for (std::int64_t i = 0; i < x.size(); ++i) {
      auto [y, column] = detail::jvp_multi(multi(of_first(f)), {x}, {basis(x, i)}, "jacfwd");
      out_shape = y[0].shape();
      columns.push_back(reshape(column[0], {-1}));
    }
    if (columns.empty()) out_shape = f(x).shape();
    Array jac =
        columns.empty() ? zeros({detail::shape_size(out_shape), 0}, x.dtype()) : stack(columns, 1);
    return reshape(jac, concat_shapes(out_shape, x.shape()));
  };
}

ArrayFn jacrev(ArrayFn f) {
  return [f = std::move(f)](const Array& x) {
    auto [y, vjp_fn] = vjp(f, x);
    std::vector<Array> rows;
    for (std::int64_t j = 0; j < y.size(); ++j) rows.push_back(reshape(vjp_fn(basis(y, j)), {-1}));
    Array jac = rows.empty() ? zeros({0, x.size()}, x.dtype()) : stack(rows, 0);
    return reshape(jac, concat_shapes(y.shape(), x.shape()));
  };
}

}  // namespace jute
