// Dense, DenseGeneral and Embed (flax/linen/linear.py).
#include "jute/nn/linear.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "jute/ops.hpp"
#include "layer_util.hpp"

namespace jute::nn {

using detail::cast;
using detail::layer_error;
using detail::product;

Array Dense::operator()(Scope& s, const Array& x) const {
  if (x.ndim() < 1)
    layer_error("Dense", s, "the input must have at least one axis (the features); got a scalar.");
  if (features <= 0)
    layer_error("Dense", s, "features must be positive; got " + std::to_string(features) + ".",
                true);
  const std::int64_t in = x.shape(-1);
  const Array kernel = s.param("kernel", kernel_init, {in, features}, param_dtype);
  const Array bias = use_bias ? s.param("bias", bias_init, {features}, param_dtype) : Array();
  const DType dt = detail::compute_dtype(dtype, {x.dtype(), param_dtype});
  const Array xc = cast(x, dt);
  Array y;
  if (x.ndim() <= 2) {
    y = matmul(xc, cast(kernel, dt));
  } else {  // one GEMM over the flattened leading axes
    Shape out_shape = x.shape();
    out_shape.back() = features;
    y = reshape(matmul(reshape(xc, {-1, in}), cast(kernel, dt)), out_shape);
  }
  return use_bias ? y + cast(bias, dt) : y;
}

namespace {

std::vector<int> normalize_axes(const std::vector<int>& axes, int ndim, const char* field,
                                const Scope& s) {
  std::vector<int> out;
  for (int a : axes) {
    const int n = a < 0 ? a + ndim : a;
    if (n < 0 || n >= ndim)
      layer_error("DenseGeneral", s,
                  std::string(field) + " entry " + std::to_string(a) +
                      " is out of range for an input of rank " + std::to_string(ndim) + ".");
    out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    layer_error("DenseGeneral", s, std::string(field) + " repeats an axis.", true);
  return out;
}

}  // namespace

Array DenseGeneral::operator()(Scope& s, const Array& x) const {
  const int nd = x.ndim();
  if (features.empty()) layer_error("DenseGeneral", s, "features must not be empty.", true);
  const std::vector<int> ax = normalize_axes(axis, nd, "axis", s);
  const std::vector<int> bd = normalize_axes(batch_dims, nd, "batch_dims", s);
  for (std::size_t i = 0; i < bd.size(); ++i)
    if (bd[i] != static_cast<int>(i))
      layer_error("DenseGeneral", s,
                  "batch_dims must be consecutive leading dimensions starting from 0.", true);
  for (int a : ax)
    if (std::find(bd.begin(), bd.end(), a) != bd.end())
      layer_error("DenseGeneral", s,
                  "axis " + std::to_string(a) + " is both contracted and a batch dimension.", true);

  Shape batch_shape, in_shape, free_shape;
  std::vector<int> perm;
  for (int a : bd) {
    batch_shape.push_back(x.shape(a));
    perm.push_back(a);
  }
  for (int a = 0; a < nd; ++a)
    if (std::find(ax.begin(), ax.end(), a) == ax.end() &&
        std::find(bd.begin(), bd.end(), a) == bd.end()) {
      free_shape.push_back(x.shape(a));
      perm.push_back(a);
    }
  for (int a : ax) {
    in_shape.push_back(x.shape(a));
    perm.push_back(a);
  }
  const std::int64_t nb = product(batch_shape), nk = product(in_shape), nf = product(free_shape),
                     nn_ = product(features);

  Shape kernel_shape = batch_shape;
  kernel_shape.insert(kernel_shape.end(), in_shape.begin(), in_shape.end());
  kernel_shape.insert(kernel_shape.end(), features.begin(), features.end());
  const Initializer& kinit = kernel_init;
  const Initializer flat_kernel = [&kinit, nb, nk, nn_](const Array& key, const Shape& shape,
                                                        DType dt) {
    return reshape(kinit(key, {nb * nk, nn_}, dt), shape);
  };
  const Array kernel = s.param("kernel", flat_kernel, kernel_shape, param_dtype);
  Shape bias_shape = batch_shape;
  bias_shape.insert(bias_shape.end(), features.begin(), features.end());
  Array bias;
  if (use_bias) {
    const Initializer& binit = bias_init;
    const Initializer flat_bias = [&binit, nb, nn_](const Array& key, const Shape& shape,
                                                    DType dt) {
      return reshape(binit(key, {nb * nn_}, dt), shape);
    };
    bias = s.param("bias", flat_bias, bias_shape, param_dtype);
  }

  const DType dt = detail::compute_dtype(dtype, {x.dtype(), param_dtype});
  bool identity = true;
  for (std::size_t i = 0; i < perm.size(); ++i)
    identity = identity && perm[i] == static_cast<int>(i);
  const Array xt = identity ? cast(x, dt) : transpose(cast(x, dt), perm);
  Array y = bd.empty()
                ? matmul(reshape(xt, {nf, nk}), reshape(cast(kernel, dt), {nk, nn_}))
                : matmul(reshape(xt, {nb, nf, nk}), reshape(cast(kernel, dt), {nb, nk, nn_}));
  Shape out_shape = batch_shape;
  out_shape.insert(out_shape.end(), free_shape.begin(), free_shape.end());
  out_shape.insert(out_shape.end(), features.begin(), features.end());
  y = reshape(y, out_shape);
  if (use_bias) {
    Shape expanded = batch_shape;
    expanded.insert(expanded.end(), free_shape.size(), 1);
    expanded.insert(expanded.end(), features.begin(), features.end());
    y = y + reshape(cast(bias, dt), expanded);
  }
  return y;
}

namespace {

Array embedding_table(const Embed& e, Scope& s) {
  if (e.num_embeddings <= 0 || e.features <= 0)
    layer_error("Embed", s,
                "num_embeddings and features must be positive; got " +
                    std::to_string(e.num_embeddings) + " and " + std::to_string(e.features) + ".",
                true);
  const Array table =
      s.param("embedding", e.embedding_init, {e.num_embeddings, e.features}, e.param_dtype);
  return e.dtype ? cast(table, *e.dtype) : table;
}

}  // namespace

Array Embed::operator()(Scope& s, const Array& ids) const {
  const Array table = embedding_table(*this, s);
  if (!is_integer(ids.dtype()))
    throw DtypeError("[Embed] at \"" + s.path_text() +
                     "\": the ids must have an integer dtype; got " +
                     std::string(jute::name(ids.dtype())) + " (convert with astype(int32)).");
  Shape out_shape = ids.shape();
  out_shape.push_back(features);
  if (num_embeddings == 1) return broadcast_to(table, out_shape);  // Flax: every id reads row 0
  if (ids.is_abstract()) return take(table, ids, 0);
  const Array idx = cast(ids, int32);
  const Array n = Array::scalar(static_cast<double>(num_embeddings), int32);
  const Array valid = (idx >= -n) & (idx < n);
  if (all(valid).item<bool>()) return take(table, where(idx < 0, idx + n, idx), 0);
  // jnp.take's "fill" mode: rows of NaN for the ids out of range.
  const Array safe = where(valid, where(idx < 0, idx + n, idx), Array::scalar(0, int32));
  return where(expand_dims(valid, -1), take(table, safe, 0),
               Array::scalar(std::numeric_limits<double>::quiet_NaN(), table.dtype()));
}

Array Embed::operator()(Scope& s, const Attend& attend) const {
  const Array table = embedding_table(*this, s);
  const Array& q = attend.query;
  if (q.ndim() < 1 || q.shape(-1) != features)
    layer_error("Embed", s,
                "attend needs a query (..., " + std::to_string(features) + "); got " +
                    jute::detail::shape_str(q.shape()) + ".");
  const DType dt = detail::compute_dtype(dtype, {q.dtype(), table.dtype()});
  return matmul(cast(q, dt), transpose(cast(table, dt)));
}

}  // namespace jute::nn
