// The transformations over Trees: flatten the Tree to its leaves (checking that each is
// differentiable, by path), run the flat transformation, and rebuild the exact structure.
#include "autodiff/transforms.hpp"
#include "core/trace.hpp"
#include "jute/autodiff.hpp"

namespace jute {

namespace {
std::vector<Array> differentiable_leaves(const Tree& t, const char* op) {
  std::vector<Array> out = leaves(t);
  for (const auto& leaf : out)
    if (!leaf.valid() || !is_floating(leaf.dtype()))  // find its path for the error
      for (const auto& [path, l] : flatten(t))
        detail::check_differentiable(l, "the leaf " + path, op);
  return out;
}

std::function<Array(const std::vector<Array>&)> on_leaves(const TreeFn& f, const Tree& t) {
  return [f, t](const std::vector<Array>& ls) { return f(with_leaves(t, ls)); };
}

// The leaves of `v`, which must have the structure of `like` (ValueError naming the difference).
std::vector<Array> leaves_like(const Tree& v, const Tree& like, const char* what, const char* op) {
  std::string diff = structure_difference(like, v);
  if (!diff.empty())
    throw ValueError(std::string("[") + op + "] The " + what +
                     " Tree must have the primals' structure, but " + diff + ".");
  auto given = flatten(v);
  auto expected = flatten(like);
  std::vector<Array> out;
  for (std::size_t i = 0; i < given.size(); ++i) {
    const Array& a = given[i].second;
    if (a.shape() != expected[i].second.shape())
      throw ShapeError(std::string("[") + op + "] The " + what + " leaf " + given[i].first +
                       " has shape " + detail::shape_str(a.shape()) +
                       " but the primal leaf has shape " +
                       detail::shape_str(expected[i].second.shape()) + "; pass " + what +
                       " shaped like the primals.");
    out.push_back(a);
  }
  return out;
}
}  // namespace

namespace detail {
Tree release(const Tree& t) {
  return tree_map([](const Array& a) { return release(a); }, t);
}
}  // namespace detail

std::pair<Array, std::function<Tree(const Array&)>> vjp(const TreeFn& f, const Tree& primals) {
  auto [outs, fn] = detail::vjp_multi(
      [g = on_leaves(f, primals)](const std::vector<Array>& ls) { return std::vector{g(ls)}; },
      differentiable_leaves(primals, "vjp"), "vjp");
  return {outs[0], [fn = std::move(fn), primals](const Array& ct) {
            return with_leaves(primals, fn({ct}));
          }};
}

std::function<std::pair<Array, Tree>(const Tree&)> value_and_grad(TreeFn f) {
  return [f = std::move(f)](const Tree& params) {
    auto [y, g] = detail::value_and_grad_multi(
        on_leaves(f, params), differentiable_leaves(params, "value_and_grad"), "value_and_grad");
    return std::pair{y, with_leaves(params, g)};
  };
}

std::function<Tree(const Tree&)> grad(TreeFn f) {
  return [f = std::move(f)](const Tree& params) {
    auto g = detail::value_and_grad_multi(on_leaves(f, params),
                                          differentiable_leaves(params, "grad"), "grad")
                 .second;
    return with_leaves(params, g);
  };
}

Tree stop_gradient(const Tree& t) {
  return tree_map([](const Array& a) { return stop_gradient(a); }, t);
}

std::pair<Array, Array> jvp(const TreeFn& f, const Tree& primals, const Tree& tangents) {
  auto ts = leaves_like(tangents, primals, "tangents", "jvp");
  auto [outs, out_ts] = detail::jvp_multi(
      [g = on_leaves(f, primals)](const std::vector<Array>& ls) { return std::vector{g(ls)}; },
      differentiable_leaves(primals, "jvp"), ts, "jvp");
  return {outs[0], out_ts[0]};
}

Tree hvp(const TreeFn& f, const Tree& primals, const Tree& vectors) {
  auto vs = leaves_like(vectors, primals, "vectors", "hvp");
  return with_leaves(primals, detail::hvp_multi(on_leaves(f, primals),
                                                differentiable_leaves(primals, "hvp"), vs, "hvp"));
}

}  // namespace jute
