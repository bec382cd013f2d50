#include "optim/leafwise.hpp"

#include <limits>

#include "jute/errors.hpp"

namespace jute::optim::detail {

namespace {
std::string bracket(const char* op) { return std::string("[") + op + "] "; }
}  // namespace

const Tree& require_params(const char* op, const std::optional<Tree>& params) {
  if (!params) {
    throw ValueError(bracket(op) +
                     "This transformation needs the params; call update(updates, state, params).");
  }
  return *params;
}

const Tree& state_tree(const char* op, const Tree& state, const char* key) {
  const TreeValue* v = state.find(Path{key});
  if (v == nullptr || !v->is_tree()) {
    throw ValueError(bracket(op) + "The state has no sub-Tree \"" + key +
                     "\"; pass the state that this transformation's init returned.");
  }
  return v->tree();
}

const Array& state_array(const char* op, const Tree& state, const char* key) {
  const TreeValue* v = state.find(Path{key});
  if (v == nullptr || !v->is_array()) {
    throw ValueError(bracket(op) + "The state has no leaf \"" + key +
                     "\"; pass the state that this transformation's init returned.");
  }
  return v->array();
}

Array int32_scalar(std::int64_t value) { return Array::scalar(static_cast<double>(value), int32); }

std::int32_t read_count(const char* op, const Tree& state, const char* key) {
  const Array& c = state_array(op, state, key);
  if (!is_integer(c.dtype()) || c.size() != 1) {
    throw ValueError(bracket(op) + "The state's \"" + key + "\" is " + c.type_string() +
                     "; a count must be an integer scalar (int32).");
  }
  return static_cast<std::int32_t>(c.item<std::int64_t>());
}

std::int32_t safe_increment(std::int32_t count) {
  return count < std::numeric_limits<std::int32_t>::max() ? count + 1 : count;
}

double round_to(double value, DType dtype) {
  return dtype == float32 ? static_cast<double>(static_cast<float>(value)) : value;
}

void check_structure(const char* op, const Tree& reference, const char* reference_name,
                     const Tree& other, const char* other_name) {
  std::string d = structure_difference(reference, other);
  if (d.empty()) return;
  throw ValueError(bracket(op) + "The " + other_name + " differ in structure from the " +
                   reference_name + " (comparing the " + reference_name + " with the " +
                   other_name + ": " + d + "); give Trees of the same structure.");
}

std::string leaf_path(const Tree& t, std::size_t i) {
  auto flat = flatten_paths(t);
  if (i >= flat.size()) return std::to_string(i);  // not reached: i indexes t's leaves
  std::string path;
  for (const auto& k : flat[i].first) {
    if (!path.empty()) path += '/';
    path += k;
  }
  return path;
}

LeafTable leaf_table(const char* op, const std::vector<Named>& in, bool require_float) {
  for (std::size_t j = 1; j < in.size(); ++j)
    check_structure(op, *in[0].tree, in[0].name, *in[j].tree, in[j].name);
  LeafTable table;
  table.columns.reserve(in.size());
  for (const auto& n : in) table.columns.push_back(leaves(*n.tree));
  for (std::size_t j = 1; j < in.size(); ++j)
    if (in[j].release != nullptr) *in[j].release = Tree();
  for (std::size_t i = 0; i < table.size(); ++i) {
    const Array& first = table.columns[0][i];
    for (std::size_t j = 0; j < in.size(); ++j) {
      const Array& a = table.columns[j][i];
      if (j > 0 && a.shape() != first.shape()) {
        throw ShapeError(bracket(op) + "The leaf " + leaf_path(*in[0].tree, i) + " has shape " +
                         jute::detail::shape_str(first.shape()) + " in the " + in[0].name +
                         " but " + jute::detail::shape_str(a.shape()) + " in the " + in[j].name +
                         "; give Trees with the same leaf shapes.");
      }
      if (require_float && !is_floating(a.dtype())) {
        throw DtypeError(bracket(op) + "The leaf " + leaf_path(*in[0].tree, i) + " of the " +
                         in[j].name + " has dtype " + std::string(name(a.dtype())) +
                         "; optimizers work on float32 or float64 leaves.");
      }
    }
  }
  return table;
}

Tree zeros_like_tree(const Tree& t, std::optional<DType> dtype) {
  return full_like_tree(t, 0.0, dtype);
}

Tree full_like_tree(const Tree& t, double value, std::optional<DType> dtype) {
  return tree_map([&](const Array& a) { return full(a.shape(), value, dtype.value_or(a.dtype())); },
                  t);
}

Tree cast_tree(const Tree& t, std::optional<DType> dtype) {
  if (!dtype) return t;
  return tree_map([&](const Array& a) { return a.astype(*dtype); }, t);
}

}  // namespace jute::optim::detail
