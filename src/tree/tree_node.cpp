// The persistent B+-tree behind each level of a Tree (see tree_node.hpp), and path parsing.
#include "tree/tree_node.hpp"

#include <algorithm>
#include <cstdio>

namespace jute::detail {

namespace {

using Child = TreeNode::Child;

std::size_t leaf_count(const TreeEntry& e) {
  return e.value.is_array() ? 1 : e.value.tree().num_leaves();
}

const std::string* min_key_of(const TreeNode& n) {
  return n.is_leaf() ? &n.entries.front()->key : n.children.front().min_key;
}

std::size_t item_count(const TreeNode& n) {
  return n.is_leaf() ? n.entries.size() : n.children.size();
}

NodePtr make_leaf(std::vector<EntryPtr> entries) {
  auto n = std::make_shared<TreeNode>();
  n->size = entries.size();
  for (const auto& e : entries) n->num_leaves += leaf_count(*e);
  n->entries = std::move(entries);
  return n;
}

NodePtr make_inner(std::vector<Child> children) {
  auto n = std::make_shared<TreeNode>();
  for (const auto& c : children) {
    n->size += c.node->size;
    n->num_leaves += c.node->num_leaves;
  }
  n->children = std::move(children);
  return n;
}

Child child_of(NodePtr n) {
  const std::string* k = min_key_of(*n);
  return {std::move(n), k};
}

/// Index of the child whose key range holds `key`: the last child whose smallest key is <= key
/// (the first child when key is below them all).
std::size_t child_index(const TreeNode& n, std::string_view key) {
  auto it = std::upper_bound(n.children.begin() + 1, n.children.end(), key,
                             [](std::string_view k, const Child& c) { return k < *c.min_key; });
  return static_cast<std::size_t>(it - n.children.begin()) - 1;
}

std::vector<EntryPtr>::const_iterator entry_lower_bound(const TreeNode& leaf,
                                                        std::string_view key) {
  return std::lower_bound(leaf.entries.begin(), leaf.entries.end(), key,
                          [](const EntryPtr& e, std::string_view k) { return e->key < k; });
}

/// Splits `items` (more than one node can hold) into nodes of nearly equal size, each holding at
/// least kMinItems, and returns them in order.
template <class Item, class Make>
std::vector<NodePtr> split_evenly(std::vector<Item> items, Make make) {
  const std::size_t n = items.size();
  const std::size_t parts = (n + TreeNode::kCapacity - 1) / TreeNode::kCapacity;
  std::vector<NodePtr> out;
  out.reserve(parts);
  std::size_t begin = 0;
  for (std::size_t p = 0; p < parts; ++p) {
    const std::size_t end = begin + n / parts + (p < n % parts ? 1 : 0);
    out.push_back(make(std::vector<Item>(std::make_move_iterator(items.begin() + begin),
                                         std::make_move_iterator(items.begin() + end))));
    begin = end;
  }
  return out;
}

/// The result of an insertion into a subtree: one node, or two after a split.
struct Assigned {
  NodePtr left, right;
};

template <class Item, class Make>
Assigned one_or_two(std::vector<Item> items, Make make) {
  if (items.size() <= TreeNode::kCapacity) return {make(std::move(items)), nullptr};
  auto parts = split_evenly(std::move(items), make);
  return {std::move(parts[0]), std::move(parts[1])};
}

Assigned assign_rec(const TreeNode& n, EntryPtr& entry) {
  const std::string_view key = entry->key;
  if (n.is_leaf()) {
    auto pos = entry_lower_bound(n, key);
    const bool replace = pos != n.entries.end() && (*pos)->key == key;
    std::vector<EntryPtr> v;
    v.reserve(n.entries.size() + (replace ? 0 : 1));
    v.insert(v.end(), n.entries.begin(), pos);
    v.push_back(std::move(entry));
    v.insert(v.end(), replace ? pos + 1 : pos, n.entries.end());
    return one_or_two(std::move(v), make_leaf);
  }
  const std::size_t i = child_index(n, key);
  Assigned sub = assign_rec(*n.children[i].node, entry);
  std::vector<Child> c;
  c.reserve(n.children.size() + (sub.right ? 1 : 0));
  c.insert(c.end(), n.children.begin(), n.children.begin() + static_cast<std::ptrdiff_t>(i));
  c.push_back(child_of(std::move(sub.left)));
  if (sub.right) c.push_back(child_of(std::move(sub.right)));
  c.insert(c.end(), n.children.begin() + static_cast<std::ptrdiff_t>(i) + 1, n.children.end());
  return one_or_two(std::move(c), make_inner);
}

/// Rebalances children[i] (underfull after an erase) with a neighbour: merges the two when they
/// fit in one node, otherwise shares their items evenly between two nodes.
void rebalance(std::vector<Child>& children, std::size_t i) {
  const std::size_t left = i > 0 ? i - 1 : i;
  const TreeNode& a = *children[left].node;
  const TreeNode& b = *children[left + 1].node;
  std::vector<NodePtr> merged;
  if (a.is_leaf()) {
    std::vector<EntryPtr> items(a.entries);
    items.insert(items.end(), b.entries.begin(), b.entries.end());
    merged = items.size() <= TreeNode::kCapacity ? std::vector<NodePtr>{make_leaf(std::move(items))}
                                                 : split_evenly(std::move(items), make_leaf);
  } else {
    std::vector<Child> items(a.children);
    items.insert(items.end(), b.children.begin(), b.children.end());
    merged = items.size() <= TreeNode::kCapacity
                 ? std::vector<NodePtr>{make_inner(std::move(items))}
                 : split_evenly(std::move(items), make_inner);
  }
  auto at = children.begin() + static_cast<std::ptrdiff_t>(left);
  at = children.erase(at, at + 2);
  for (auto& m : merged) at = children.insert(at, child_of(std::move(m))) + 1;
}

/// The subtree without `key`; may be underfull (even empty), the caller rebalances.
NodePtr erase_rec(const TreeNode& n, std::string_view key) {
  if (n.is_leaf()) {
    auto pos = entry_lower_bound(n, key);
    std::vector<EntryPtr> v;
    v.reserve(n.entries.size() - 1);
    v.insert(v.end(), n.entries.begin(), pos);
    v.insert(v.end(), pos + 1, n.entries.end());
    return make_leaf(std::move(v));
  }
  const std::size_t i = child_index(n, key);
  NodePtr sub = erase_rec(*n.children[i].node, key);
  std::vector<Child> c(n.children);
  const bool underfull = item_count(*sub) < TreeNode::kMinItems;
  if (item_count(*sub) == 0) {
    c.erase(c.begin() + static_cast<std::ptrdiff_t>(i));
  } else {
    c[i] = child_of(std::move(sub));
    if (underfull && c.size() > 1) rebalance(c, i);
  }
  return make_inner(std::move(c));
}

}  // namespace

const TreeEntry* TreeNode::find(const TreeNode* root, std::string_view key) {
  const TreeNode* n = root;
  if (n == nullptr) return nullptr;
  while (!n->is_leaf()) n = n->children[child_index(*n, key)].node.get();
  auto pos = entry_lower_bound(*n, key);
  return pos != n->entries.end() && (*pos)->key == key ? pos->get() : nullptr;
}

NodePtr TreeNode::assign(const NodePtr& root, EntryPtr entry) {
  if (!root) return make_leaf({std::move(entry)});
  Assigned a = assign_rec(*root, entry);
  if (!a.right) return std::move(a.left);
  return make_inner({child_of(std::move(a.left)), child_of(std::move(a.right))});
}

NodePtr TreeNode::erase(const NodePtr& root, std::string_view key) {
  NodePtr n = erase_rec(*root, key);
  // A root with a single child gives way to it; an empty map is null.
  while (!n->is_leaf() && n->children.size() == 1) n = n->children.front().node;
  if (n->size == 0) return nullptr;
  return n;
}

NodePtr TreeNode::build(std::vector<EntryPtr> sorted) {
  if (sorted.empty()) return nullptr;
  std::vector<NodePtr> level = sorted.size() <= kCapacity
                                   ? std::vector<NodePtr>{make_leaf(std::move(sorted))}
                                   : split_evenly(std::move(sorted), make_leaf);
  while (level.size() > 1) {
    std::vector<Child> children;
    children.reserve(level.size());
    for (auto& n : level) children.push_back(child_of(std::move(n)));
    level = children.size() <= kCapacity ? std::vector<NodePtr>{make_inner(std::move(children))}
                                         : split_evenly(std::move(children), make_inner);
  }
  return std::move(level.front());
}

const TreeNode* TreeNode::first_leaf(const TreeNode* node) {
  while (node != nullptr && !node->is_leaf()) node = node->children.front().node.get();
  return node;
}

const TreeNode* TreeNode::next_leaf(const TreeNode* root, const TreeNode* leaf) {
  // Walk down towards `leaf` by its last key, remembering the deepest node with a child to the
  // right of the way taken; the next leaf is the leftmost leaf of that child.
  const std::string_view key = leaf->entries.back()->key;
  const TreeNode* branch = nullptr;
  std::size_t branch_index = 0;
  for (const TreeNode* n = root; !n->is_leaf();) {
    const std::size_t i = child_index(*n, key);
    if (i + 1 < n->children.size()) {
      branch = n;
      branch_index = i + 1;
    }
    n = n->children[i].node.get();
  }
  return branch == nullptr ? nullptr : first_leaf(branch->children[branch_index].node.get());
}

EntryPtr make_entry(std::string_view key, TreeValue value) {
  return std::make_shared<const TreeEntry>(TreeEntry{std::string(key), std::move(value)});
}

bool identical(const TreeValue& a, const TreeValue& b) {
  if (a.is_array() && b.is_array()) return a.array().impl() == b.array().impl();
  if (a.is_tree() && b.is_tree()) return a.tree().identity() == b.tree().identity();
  return false;
}

// ---- paths ------------------------------------------------------------------------------------

namespace {
[[noreturn]] void bad_path(std::string_view op, std::string_view path, std::string_view why) {
  throw ValueError("[" + std::string(op) + "] Invalid path " + quoted(path) + ": " +
                   std::string(why) + "; write keys separated by single '/' characters.");
}
}  // namespace

void PathKeys::push(std::string_view key) {
  if (size_ < kInline && heap_.empty()) {
    inline_[size_++] = key;
    return;
  }
  if (heap_.empty()) heap_.assign(inline_.begin(), inline_.end());
  heap_.push_back(key);
  ++size_;
}

PathKeys::PathKeys(std::string_view path, std::string_view op) {
  if (path.empty()) bad_path(op, path, "it is empty");
  std::size_t begin = 0;
  while (true) {
    const std::size_t slash = path.find('/', begin);
    const std::string_view key = path.substr(
        begin, slash == std::string_view::npos ? std::string_view::npos : slash - begin);
    if (key.empty()) bad_path(op, path, "it has an empty key");
    push(key);
    if (slash == std::string_view::npos) break;
    begin = slash + 1;
  }
}

PathKeys::PathKeys(const Path& path, std::string_view op) {
  if (path.empty()) {
    throw ValueError("[" + std::string(op) +
                     "] Invalid path []: it is empty; give at least one key.");
  }
  for (const auto& k : path) push(k);
}

std::string join_path(std::span<const std::string_view> keys, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i) out += '/';
    out += keys[i];
  }
  return out;
}

std::string key_list(const Tree& t) {
  constexpr std::size_t kShown = 20;
  std::string out = "[";
  std::size_t i = 0;
  for (const auto& e : t) {
    if (i == kShown) {
      out += ", ... and " + std::to_string(t.size() - kShown) + " more";
      break;
    }
    if (i++) out += ", ";
    out += quoted(e.key);
  }
  return out + "]";
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

}  // namespace jute::detail
