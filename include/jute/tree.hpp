// jute/tree.hpp — the immutable, persistent nested map that holds every model's state.
//
// A Tree maps string keys to values that are either an Array (a leaf) or another Tree. Keys
// iterate in sorted order, so printing, flattening and checkpoints are deterministic. Trees are
// persistent: copying one is O(1), and every "edit" (set, erase, merge) returns a new Tree that
// shares every untouched subtree with the old one, which stays valid and unchanged. Nodes are
// immutable once built, so any number of threads may read a Tree and derive new ones from it
// concurrently.
//
// Paths name nested entries either as one string with '/' separators ("params/Dense_0/kernel")
// or as a vector of keys (a key may then contain '/'). A string path must be non-empty and have
// no empty component ("a//b", "/a" and "a/" throw ValueError); so must a Path vector, whose keys
// may be any string. See docs/tree.md.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "jute/array.hpp"

namespace jute {

class TreeValue;
struct TreeEntry;
using Path = std::vector<std::string>;

namespace detail {
struct TreeNode;
class TreeIterator;
}  // namespace detail

class Tree {
 public:
  /// The empty Tree (an empty Tree is a value too: Optax's EmptyState is one).
  Tree();
  /// `Tree{{"kernel", k}, {"bias", b}}`, `Tree{{"params", Tree{...}}}`; a repeated key throws
  /// ValueError.
  Tree(std::initializer_list<std::pair<std::string, TreeValue>> items);
  /// From entries in any order (ValueError on a repeated key).
  static Tree from_entries(std::vector<std::pair<std::string, TreeValue>> items);

  /// Number of direct keys.
  std::size_t size() const;
  bool empty() const;
  /// Number of Array leaves at any depth.
  std::size_t num_leaves() const;

  bool contains(std::string_view path) const;
  bool contains(const Path& path) const;
  /// The value at `path`, or nullptr when absent (also when the path runs through a leaf).
  const TreeValue* find(std::string_view path) const;
  const TreeValue* find(const Path& path) const;
  /// The value at `path`; KeyError naming the full path and the keys that do exist where the
  /// lookup failed.
  const TreeValue& at(std::string_view path) const;
  const TreeValue& at(const Path& path) const;
  /// The Array at `path` (KeyError when absent or when it names a sub-Tree).
  const Array& get(std::string_view path) const;
  const Array& get(const Path& path) const;
  /// The sub-Tree at `path` (KeyError when absent or when it names a leaf).
  const Tree& subtree(std::string_view path) const;
  const Tree& subtree(const Path& path) const;

  /// A new Tree with `value` at `path`, creating intermediate Trees; the old Tree is unchanged.
  /// KeyError when the path runs through a leaf.
  Tree set(std::string_view path, TreeValue value) const;
  Tree set(const Path& path, TreeValue value) const;
  /// A new Tree without `path` (KeyError when absent).
  Tree erase(std::string_view path) const;
  Tree erase(const Path& path) const;
  /// Right-biased deep merge: keys of `other` win; where both hold sub-Trees they are merged.
  Tree merge(const Tree& other) const;

  /// Entries in sorted key order: `for (const auto& [key, value] : tree)`.
  detail::TreeIterator begin() const;
  detail::TreeIterator end() const;
  std::vector<std::string> keys() const;

  /// Identity of the root node: two Trees with the same identity share all their storage
  /// (used to test structural sharing).
  const void* identity() const;

  /// One line per leaf, "params/Dense_0/kernel f32[3,4]", and "path {}" for an empty sub-Tree.
  std::string to_string() const;

 private:
  explicit Tree(std::shared_ptr<const detail::TreeNode> root);
  std::shared_ptr<const detail::TreeNode> root_;
  friend struct detail::TreeNode;
  friend class detail::TreeIterator;
};

/// A value in a Tree: an Array leaf or a sub-Tree.
class TreeValue {
 public:
  /// ValueError for a null Array (a leaf always holds a value).
  TreeValue(Array a);  // NOLINT(google-explicit-constructor)
  TreeValue(Tree t);   // NOLINT(google-explicit-constructor)
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_tree() const { return std::holds_alternative<Tree>(v_); }
  /// ValueError when the value is a sub-Tree.
  const Array& array() const;
  /// ValueError when the value is an Array.
  const Tree& tree() const;

 private:
  std::variant<Array, Tree> v_;
};

struct TreeEntry {
  std::string key;
  TreeValue value;
};

namespace detail {
/// Forward iterator over a Tree's entries in key order.
class TreeIterator {
 public:
  using value_type = TreeEntry;
  using reference = const TreeEntry&;
  using pointer = const TreeEntry*;
  using difference_type = std::ptrdiff_t;
  using iterator_category = std::forward_iterator_tag;
  TreeIterator() = default;
  reference operator*() const;
  pointer operator->() const { return &**this; }
  TreeIterator& operator++();
  TreeIterator operator++(int) {
    auto t = *this;
    ++*this;
    return t;
  }
  bool operator==(const TreeIterator& o) const;
  bool operator!=(const TreeIterator& o) const { return !(*this == o); }

 private:
  friend class jute::Tree;
  // The root of the level being iterated, the B+-tree leaf holding the current entry and its
  // index there (leaf_ == nullptr at the end) — opaque to users.
  const TreeNode* root_ = nullptr;
  const TreeNode* leaf_ = nullptr;
  std::size_t index_ = 0;
};
}  // namespace detail

/// Exact equality: same keys at every level, and leaves of the same dtype, shape and values,
/// compared bit for bit except that any NaN equals any NaN (so a Tree always equals itself;
/// 0.0 and -0.0 differ). The weak-type flag of a scalar leaf is not compared.
bool operator==(const Tree& a, const Tree& b);
inline bool operator!=(const Tree& a, const Tree& b) { return !(a == b); }
/// Same structure, same shape at every leaf, and every pair of leaves allclose (NaNs equal, as
/// numpy.testing.assert_allclose).
bool allclose(const Tree& a, const Tree& b, double rtol = 1e-5, double atol = 1e-8);
std::ostream& operator<<(std::ostream& os, const Tree& t);

/// (path, leaf) pairs in iteration order (depth first, keys sorted at every level). With
/// `keep_empty_nodes` an empty sub-Tree appears as (path, null Array) so that `unflatten`
/// restores it (as flax.traverse_util). ValueError when a key is empty or contains '/' (its
/// joined path would be ambiguous).
std::vector<std::pair<std::string, Array>> flatten(const Tree& t, bool keep_empty_nodes = false);
/// As flatten, with each path as a vector of keys (any key is allowed).
std::vector<std::pair<Path, Array>> flatten_paths(const Tree& t, bool keep_empty_nodes = false);
/// The inverse of flatten ('/'-separated paths in any order; a null Array makes an empty sub-Tree).
/// ValueError on a repeated path or a path that is also the prefix of another.
Tree unflatten(const std::vector<std::pair<std::string, Array>>& items);
/// The inverse of flatten_paths.
Tree unflatten_paths(const std::vector<std::pair<Path, Array>>& items);
/// The leaves in flatten order.
std::vector<Array> leaves(const Tree& t);
/// A Tree with `t`'s structure and the given leaves (in flatten order); ValueError on a count
/// mismatch.
Tree with_leaves(const Tree& t, const std::vector<Array>& leaves);

/// True when both have the same keys at every level and leaves at the same places.
bool same_structure(const Tree& a, const Tree& b);
/// "" when same_structure(a, b); otherwise a sentence naming the first differing path, e.g.
/// "at params/Dense_0/bias the first tree has a leaf and the second has none".
std::string structure_difference(const Tree& a, const Tree& b);

/// Applies `f` to every leaf. The n-ary forms require the same structure and throw ValueError
/// naming the first differing path.
Tree tree_map(const std::function<Array(const Array&)>& f, const Tree& t);
Tree tree_map(const std::function<Array(const Array&, const Array&)>& f, const Tree& a,
              const Tree& b);
Tree tree_map(const std::function<Array(const std::vector<Array>&)>& f,
              const std::vector<Tree>& trees);
/// `f(path, leaf)` with '/'-joined paths.
Tree tree_map_with_path(const std::function<Array(const std::string&, const Array&)>& f,
                        const Tree& t);

/// JSON text: nested objects, each leaf as {"dtype": "float32", "shape": [2], "values": [...]}
/// (values nested by shape; NaN and infinities as strings).
std::string to_json(const Tree& t, int indent = 2);
/// Total number of leaf elements.
std::int64_t num_params(const Tree& t);
/// Total bytes of the leaves.
std::size_t nbytes(const Tree& t);

/// A Tree whose top-level keys are collection names ("params", "batch_stats", ...).
class Variables : public Tree {
 public:
  using Tree::Tree;
  Variables() = default;
  Variables(Tree t) : Tree(std::move(t)) {}  // NOLINT(google-explicit-constructor)
  bool has_collection(std::string_view name) const;
  /// The collection (KeyError naming the existing collections when absent).
  const Tree& collection(std::string_view name) const;
  /// The collection, or an empty Tree when absent.
  Tree collection_or_empty(std::string_view name) const;
  std::vector<std::string> collections() const;
  /// A new Variables with `name` replaced (or added).
  Variables with_collection(std::string_view name, Tree collection) const;
  /// A new Variables without `name` (no error when absent).
  Variables without_collection(std::string_view name) const;
};

}  // namespace jute
