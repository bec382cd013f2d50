// Internal: what every transformation needs to walk Trees leaf by leaf with good errors, and to
// read and write the counts and entries of its state.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jute/array.hpp"
#include "jute/tree.hpp"

namespace jute::optim::detail {

// ---- params and state entries ----------------------------------------------------------------

/// The params, or ValueError "[op] This transformation needs the params; ..." (Optax's
/// NO_PARAMS_MSG).
const Tree& require_params(const char* op, const std::optional<Tree>& params);

/// The sub-Tree `key` of a state (ValueError naming `op` and the key when absent or a leaf).
const Tree& state_tree(const char* op, const Tree& state, const char* key);
/// The leaf `key` of a state (ValueError naming `op` and the key when absent or a sub-Tree).
const Array& state_array(const char* op, const Tree& state, const char* key);

/// The sub-Trees `keys` of a state the caller gave up; the state itself is dropped, so the
/// sub-Trees hold the only references to its leaves and their buffers can be reused.
template <std::size_t N>
std::array<Tree, N> take_subtrees(const char* op, Tree state,
                                  const std::array<const char*, N>& keys) {
  std::array<Tree, N> out;
  for (std::size_t i = 0; i < N; ++i) out[i] = state_tree(op, state, keys[i]);
  return out;
}

/// An int32 scalar.
Array int32_scalar(std::int64_t value);
/// The int32 count `key` of a state (ValueError when it is not an integer scalar).
std::int32_t read_count(const char* op, const Tree& state, const char* key = "count");
/// count + 1, saturating at INT32_MAX (Optax's safe_increment).
std::int32_t safe_increment(std::int32_t count);
/// `value` rounded to `dtype` (float32 or float64) and back, as a Python float meeting an array.
double round_to(double value, DType dtype);

// ---- structure -------------------------------------------------------------------------------

/// ValueError "[op] The <other_name> differ in structure from the <reference_name> (...)" with
/// the first differing path, unless both Trees have the same structure.
void check_structure(const char* op, const Tree& reference, const char* reference_name,
                     const Tree& other, const char* other_name);

/// The '/'-joined path of the i-th leaf of `t` (for messages).
std::string leaf_path(const Tree& t, std::size_t i);

/// A Tree and how messages call it ("updates", "state's mu", ...). When `release` is set (it
/// points to the caller's own copy of the Tree, which it no longer needs), the Tree is emptied
/// once its leaves are taken, so a leaf nobody else holds can be overwritten in place.
struct Named {
  const Tree* tree;
  const char* name;
  Tree* release = nullptr;
};

/// The leaves of `in[0]` and of every other input of the same structure, checked leaf by leaf:
/// same shapes (ShapeError naming the path) and float dtypes (DtypeError naming the path). The
/// inputs marked `release` are emptied afterwards (never in[0], whose structure the outputs take).
struct LeafTable {
  std::vector<std::vector<Array>> columns;  // columns[j][i]: leaf i of input j
  std::size_t size() const { return columns.empty() ? 0 : columns[0].size(); }
};
LeafTable leaf_table(const char* op, const std::vector<Named>& in, bool require_float = true);

/// Calls `f(std::array<Array, NIn>&)` -> std::array<Array, NOut> for every leaf position (the
/// Arrays are the table's: `f` may move them on) and assembles NOut Trees with the structure of
/// `in[0]`.
template <std::size_t NOut, std::size_t NIn, class F>
std::array<Tree, NOut> map_leaves(const char* op, const std::array<Named, NIn>& in, F&& f,
                                  bool require_float = true) {
  LeafTable table = leaf_table(op, std::vector<Named>(in.begin(), in.end()), require_float);
  std::array<std::vector<Array>, NOut> outs;
  for (auto& o : outs) o.reserve(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    std::array<Array, NIn> args;
    for (std::size_t j = 0; j < NIn; ++j) args[j] = std::move(table.columns[j][i]);
    std::array<Array, NOut> r = f(args);
    for (std::size_t k = 0; k < NOut; ++k) outs[k].push_back(std::move(r[k]));
  }
  std::array<Tree, NOut> trees;
  for (std::size_t k = 0; k < NOut; ++k) trees[k] = with_leaves(*in[0].tree, outs[k]);
  return trees;
}

/// map_leaves with one output.
template <std::size_t NIn, class F>
Tree map_leaves1(const char* op, const std::array<Named, NIn>& in, F&& f,
                 bool require_float = true) {
  return map_leaves<1, NIn>(
      op, in, [&](std::array<Array, NIn>& a) { return std::array<Array, 1>{f(a)}; },
      require_float)[0];
}

/// A Tree of `t`'s structure with every leaf replaced by zeros of the same shape (and of
/// `dtype` when given).
Tree zeros_like_tree(const Tree& t, std::optional<DType> dtype = std::nullopt);
/// The same with every leaf filled with `value`.
Tree full_like_tree(const Tree& t, double value, std::optional<DType> dtype = std::nullopt);
/// Every leaf converted to `dtype` (unchanged when nullopt).
Tree cast_tree(const Tree& t, std::optional<DType> dtype);

}  // namespace jute::optim::detail
