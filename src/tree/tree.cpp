// Tree: lookups, persistent edits, merge and iteration over the B+-tree levels of tree_node.hpp.
#include <algorithm>
#include <ostream>

#include "jute/tree.hpp"
#include "tree/tree_node.hpp"

namespace jute {

using detail::EntryPtr;
using detail::NodePtr;
using detail::PathKeys;
using detail::TreeNode;
using Keys = std::span<const std::string_view>;

// ---- TreeValue ------------------------------------------------------------------------------

TreeValue::TreeValue(Array a) : v_(std::move(a)) {
  if (!std::get<Array>(v_).valid()) {
    throw ValueError(
        "[TreeValue] A null Array cannot be a Tree leaf; store a valid Array or an empty Tree.");
  }
}

TreeValue::TreeValue(Tree t) : v_(std::move(t)) {}

const Array& TreeValue::array() const {
  if (const Array* a = std::get_if<Array>(&v_)) return *a;
  throw ValueError("[TreeValue.array] The value is a sub-Tree with keys " +
                   detail::key_list(std::get<Tree>(v_)) +
                   ", not an Array leaf; check is_array() or use tree().");
}

const Tree& TreeValue::tree() const {
  if (const Tree* t = std::get_if<Tree>(&v_)) return *t;
  throw ValueError("[TreeValue.tree] The value is an Array leaf " +
                   std::get<Array>(v_).type_string() +
                   ", not a sub-Tree; check is_tree() or use array().");
}

// ---- construction -----------------------------------------------------------------------------

namespace {

[[noreturn]] void repeated_key(std::string_view op, std::string_view key) {
  throw ValueError("[" + std::string(op) + "] Key " + detail::quoted(key) +
                   " appears more than once; give each key once.");
}

Tree build_level(std::vector<std::pair<std::string, TreeValue>> items, std::string_view op) {
  std::vector<EntryPtr> entries;
  entries.reserve(items.size());
  for (auto& [k, v] : items) entries.push_back(detail::make_entry(k, std::move(v)));
  std::stable_sort(entries.begin(), entries.end(),
                   [](const EntryPtr& a, const EntryPtr& b) { return a->key < b->key; });
  auto dup = std::adjacent_find(entries.begin(), entries.end(),
                                [](const auto& a, const auto& b) { return a->key == b->key; });
  if (dup != entries.end()) repeated_key(op, (*dup)->key);
  return TreeNode::make_tree(TreeNode::build(std::move(entries)));
}

}  // namespace

Tree::Tree() = default;

Tree::Tree(std::shared_ptr<const detail::TreeNode> root) : root_(std::move(root)) {}

Tree::Tree(std::initializer_list<std::pair<std::string, TreeValue>> items)
    : Tree(build_level({items.begin(), items.end()}, "Tree")) {}

Tree Tree::from_entries(std::vector<std::pair<std::string, TreeValue>> items) {
  return build_level(std::move(items), "Tree.from_entries");
}

// ---- sizes and identity -------------------------------------------------------------------------

std::size_t Tree::size() const { return root_ ? root_->size : 0; }
bool Tree::empty() const { return root_ == nullptr; }
std::size_t Tree::num_leaves() const { return root_ ? root_->num_leaves : 0; }
const void* Tree::identity() const { return root_.get(); }

std::vector<std::string> Tree::keys() const {
  std::vector<std::string> out;
  out.reserve(size());
  TreeNode::for_each(root_.get(), [&](const EntryPtr& e) { out.push_back(e->key); });
  return out;
}

// ---- lookups ------------------------------------------------------------------------------------

namespace {

/// Where a walk down a path stopped.
struct Lookup {
  enum class Status { Found, Missing, ThroughLeaf };
  Status status;
  /// Found: the value. ThroughLeaf: the leaf that was in the way.
  const TreeValue* value;
  /// Missing: the Tree level that lacks keys[depth]. ThroughLeaf: keys[0..depth] is the leaf.
  const Tree* parent;
  std::size_t depth;
};

Lookup walk(const Tree& t, Keys keys) {
  const Tree* level = &t;
  for (std::size_t i = 0;; ++i) {
    const TreeEntry* e = TreeNode::find(TreeNode::root(*level).get(), keys[i]);
    if (e == nullptr) return {Lookup::Status::Missing, nullptr, level, i};
    if (i + 1 == keys.size()) return {Lookup::Status::Found, &e->value, level, i};
    if (e->value.is_array()) return {Lookup::Status::ThroughLeaf, &e->value, level, i};
    level = &e->value.tree();
  }
}

std::string level_name(Keys keys, std::size_t depth) {
  return depth == 0 ? std::string("the top level") : detail::quoted(detail::join_path(keys, depth));
}

[[noreturn]] void missing_error(std::string_view op, Keys keys, const Tree& parent,
                                std::size_t depth) {
  const std::string where = level_name(keys, depth);
  std::string msg = "[" + std::string(op) + "] No entry " +
                    detail::quoted(detail::join_path(keys, keys.size())) + ": ";
  if (parent.empty()) {
    msg += (depth == 0 ? "the Tree is empty." : where + " is an empty sub-Tree.");
  } else {
    msg += where + " has keys " + detail::key_list(parent) + ".";
  }
  throw KeyError(msg);
}

[[noreturn]] void through_leaf_error(std::string_view op, Keys keys, const Array& leaf,
                                     std::size_t depth) {
  throw KeyError("[" + std::string(op) + "] Cannot descend into " +
                 detail::quoted(detail::join_path(keys, keys.size())) + ": " +
                 detail::quoted(detail::join_path(keys, depth + 1)) + " is an Array leaf " +
                 leaf.type_string() + ".");
}

const TreeValue& at_or_throw(const Tree& t, Keys keys, std::string_view op) {
  const Lookup r = walk(t, keys);
  switch (r.status) {
    case Lookup::Status::Found:
      return *r.value;
    case Lookup::Status::Missing:
      missing_error(op, keys, *r.parent, r.depth);
    case Lookup::Status::ThroughLeaf:
      break;
  }
  through_leaf_error(op, keys, r.value->array(), r.depth);
}

const TreeValue* find_in(const Tree& t, Keys keys) {
  const Lookup r = walk(t, keys);
  return r.status == Lookup::Status::Found ? r.value : nullptr;
}

const Array& leaf_at(const Tree& t, Keys keys) {
  const TreeValue& v = at_or_throw(t, keys, "Tree.get");
  if (!v.is_array()) {
    throw KeyError("[Tree.get] " + detail::quoted(detail::join_path(keys, keys.size())) +
                   " is a sub-Tree with keys " + detail::key_list(v.tree()) +
                   ", not an Array leaf; use subtree() to read it.");
  }
  return v.array();
}

const Tree& subtree_at(const Tree& t, Keys keys) {
  const TreeValue& v = at_or_throw(t, keys, "Tree.subtree");
  if (!v.is_tree()) {
    throw KeyError("[Tree.subtree] " + detail::quoted(detail::join_path(keys, keys.size())) +
                   " is an Array leaf " + v.array().type_string() +
                   ", not a sub-Tree; use get() to read it.");
  }
  return v.tree();
}

}  // namespace

bool Tree::contains(std::string_view path) const {
  return find_in(*this, PathKeys(path, "Tree.contains").keys()) != nullptr;
}
bool Tree::contains(const Path& path) const {
  return find_in(*this, PathKeys(path, "Tree.contains").keys()) != nullptr;
}
const TreeValue* Tree::find(std::string_view path) const {
  return find_in(*this, PathKeys(path, "Tree.find").keys());
}
const TreeValue* Tree::find(const Path& path) const {
  return find_in(*this, PathKeys(path, "Tree.find").keys());
}
const TreeValue& Tree::at(std::string_view path) const {
  return at_or_throw(*this, PathKeys(path, "Tree.at").keys(), "Tree.at");
}
const TreeValue& Tree::at(const Path& path) const {
  return at_or_throw(*this, PathKeys(path, "Tree.at").keys(), "Tree.at");
}
const Array& Tree::get(std::string_view path) const {
  return leaf_at(*this, PathKeys(path, "Tree.get").keys());
}
const Array& Tree::get(const Path& path) const {
  return leaf_at(*this, PathKeys(path, "Tree.get").keys());
}
const Tree& Tree::subtree(std::string_view path) const {
  return subtree_at(*this, PathKeys(path, "Tree.subtree").keys());
}
const Tree& Tree::subtree(const Path& path) const {
  return subtree_at(*this, PathKeys(path, "Tree.subtree").keys());
}

// ---- persistent edits ---------------------------------------------------------------------------

namespace {

/// `t` with `value` put at the direct key located by `c`; `t` itself when the value there is
/// already the very same object, so that a no-op edit keeps all sharing.
Tree put_value(const Tree& t, const TreeNode::Cursor& c, std::string_view key, TreeValue&& value) {
  if (c.found && detail::identical(c.found->value, value)) return t;
  return TreeNode::make_tree(TreeNode::put(c, detail::make_entry(key, std::move(value))));
}

}  // namespace

Tree detail::assign_key(const Tree& t, std::string_view key, TreeValue value) {
  return put_value(t, TreeNode::locate(TreeNode::root(t).get(), key), key, std::move(value));
}

namespace {

using detail::assign_key;

const Tree& empty_tree() {
  static const Tree kEmpty;  // immutable, shared by every lookup that finds nothing
  return kEmpty;
}

Tree set_at(const Tree& t, Keys keys, std::size_t i, TreeValue&& value) {
  const TreeNode::Cursor c = TreeNode::locate(TreeNode::root(t).get(), keys[i]);
  if (i + 1 < keys.size()) {
    if (c.found && c.found->value.is_array()) {
      through_leaf_error("Tree.set", keys, c.found->value.array(), i);
    }
    value = set_at(c.found ? c.found->value.tree() : empty_tree(), keys, i + 1, std::move(value));
  }
  return put_value(t, c, keys[i], std::move(value));
}

Tree erase_at(const Tree& t, Keys keys, std::size_t i) {
  const NodePtr& root = TreeNode::root(t);
  const TreeEntry* e = TreeNode::find(root.get(), keys[i]);
  if (e == nullptr) missing_error("Tree.erase", keys, t, i);
  if (i + 1 == keys.size()) return TreeNode::make_tree(TreeNode::erase(root, keys[i]));
  if (e->value.is_array()) through_leaf_error("Tree.erase", keys, e->value.array(), i);
  return assign_key(t, keys[i], erase_at(e->value.tree(), keys, i + 1));
}

}  // namespace

Tree Tree::set(std::string_view path, TreeValue value) const {
  return set_at(*this, PathKeys(path, "Tree.set").keys(), 0, std::move(value));
}
Tree Tree::set(const Path& path, TreeValue value) const {
  return set_at(*this, PathKeys(path, "Tree.set").keys(), 0, std::move(value));
}
Tree Tree::erase(std::string_view path) const {
  return erase_at(*this, PathKeys(path, "Tree.erase").keys(), 0);
}
Tree Tree::erase(const Path& path) const {
  return erase_at(*this, PathKeys(path, "Tree.erase").keys(), 0);
}

Tree Tree::merge(const Tree& other) const {
  if (other.empty() || identity() == other.identity()) return *this;
  if (empty()) return other;
  NodePtr result = root_;
  TreeNode::for_each(other.root_.get(), [&](const EntryPtr& theirs) {
    const TreeEntry* ours = TreeNode::find(root_.get(), theirs->key);
    if (ours && ours->value.is_tree() && theirs->value.is_tree()) {
      Tree merged = ours->value.tree().merge(theirs->value.tree());
      if (merged.identity() == ours->value.tree().identity()) return;
      result = TreeNode::assign(result, detail::make_entry(theirs->key, std::move(merged)));
    } else if (!ours || !detail::identical(ours->value, theirs->value)) {
      result = TreeNode::assign(result, theirs);  // shares the other Tree's entry
    }
  });
  return Tree(std::move(result));
}

// ---- iteration ----------------------------------------------------------------------------------

detail::TreeIterator Tree::begin() const {
  detail::TreeIterator it;
  it.root_ = root_.get();
  it.leaf_ = TreeNode::first_leaf(root_.get());
  return it;
}

detail::TreeIterator Tree::end() const {
  detail::TreeIterator it;
  it.root_ = root_.get();
  return it;
}

namespace detail {

const TreeEntry& TreeIterator::operator*() const { return *leaf_->entries()[index_].entry; }

TreeIterator& TreeIterator::operator++() {
  if (++index_ == leaf_->item_count()) {
    leaf_ = TreeNode::next_leaf(root_, leaf_);
    index_ = 0;
  }
  return *this;
}

bool TreeIterator::operator==(const TreeIterator& o) const {
  return leaf_ == o.leaf_ && index_ == o.index_;
}

}  // namespace detail

}  // namespace jute
