// The persistent B+-tree behind each level of a Tree (see tree_node.hpp), and path parsing.
#include "tree/tree_node.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <optional>

namespace jute::detail {

KeyPrefix KeyPrefix::of(std::string_view key) {
  std::uint64_t words[2] = {0, 0};
  if (!key.empty()) std::memcpy(words, key.data(), std::min<std::size_t>(key.size(), 16));
  // Big-endian, so that comparing the integers compares the bytes in order.
  static_assert(std::endian::native == std::endian::little ||
                std::endian::native == std::endian::big);
  if constexpr (std::endian::native == std::endian::little) {
    return {__builtin_bswap64(words[0]), __builtin_bswap64(words[1]), key.size()};
  } else {
    return {words[0], words[1], key.size()};
  }
}

TreeNode::~TreeNode() {
  if (leaf_) {
    std::destroy_n(std::launder(reinterpret_cast<Item*>(storage_)), count_);
  } else {
    std::destroy_n(std::launder(reinterpret_cast<Child*>(storage_)), count_);
  }
}

void TreeNode::push(Item item) {
  ::new (static_cast<void*>(reinterpret_cast<Item*>(storage_) + count_)) Item(std::move(item));
  ++count_;
}

void TreeNode::push(Child child) {
  ::new (static_cast<void*>(reinterpret_cast<Child*>(storage_) + count_)) Child(std::move(child));
  ++count_;
}

namespace {

using Child = TreeNode::Child;
using Item = TreeNode::Item;

std::size_t leaf_count(const TreeValue& v) { return v.is_array() ? 1 : v.tree().num_leaves(); }

Item item_of(EntryPtr e) {
  const KeyPrefix p = KeyPrefix::of(e->key);
  return {p, std::move(e)};
}

/// The reference a parent keeps to `n` (reads only n's first item).
Child child_of(NodePtr n) {
  if (n->is_leaf()) {
    const Item& first = n->entries().front();
    return {first.prefix, first.key(), std::move(n)};
  }
  const Child& first = n->children().front();
  return {first.min_prefix, first.min_key, std::move(n)};
}

/// A node holding `items` (at most kCapacity) and the given counts.
template <class T>
std::shared_ptr<TreeNode> node_of(std::span<T> items, std::size_t size, std::size_t num_leaves) {
  auto n = std::make_shared<TreeNode>(std::is_same_v<std::remove_const_t<T>, Item>);
  for (auto& it : items) n->push(std::move(it));
  n->size = size;
  n->num_leaves = num_leaves;
  return n;
}

/// A node holding `items`, counting them (reads every entry or child).
NodePtr counted(std::span<Item> items) {
  std::size_t leaves = 0;
  for (const auto& e : items) leaves += leaf_count(e.entry->value);
  return node_of(items, items.size(), leaves);
}
NodePtr counted(std::span<Child> children) {
  std::size_t size = 0;
  std::size_t leaves = 0;
  for (const auto& c : children) {
    size += c.node->size;
    leaves += c.node->num_leaves;
  }
  return node_of(children, size, leaves);
}

/// Nodes holding `items` in order: one when they fit, else nodes of nearly equal size, each
/// holding at least kMinItems.
template <class T>
std::vector<NodePtr> nodes_of(std::vector<T>& items) {
  const std::size_t n = items.size();
  const std::size_t parts = (n + TreeNode::kCapacity - 1) / TreeNode::kCapacity;
  std::vector<NodePtr> out;
  out.reserve(parts);
  std::size_t begin = 0;
  for (std::size_t p = 0; p < parts; ++p) {
    const std::size_t len = n / parts + (p < n % parts ? 1 : 0);
    out.push_back(counted(std::span<T>(items).subspan(begin, len)));
    begin += len;
  }
  return out;
}

/// Index of the child whose key range holds `key`: the last child whose smallest key is <= key
/// (the first child when key is below them all).
std::size_t child_index(const TreeNode& n, const SearchKey& key) {
  const auto children = n.children();
  std::size_t lo = 1;
  std::size_t hi = children.size();
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (compare(key, children[mid].min_prefix, children[mid].min_key) < 0) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo - 1;
}

/// Position of the first entry of a leaf node not below `key`, and whether it equals `key`.
std::pair<std::size_t, bool> entry_position(const TreeNode& leaf, const SearchKey& key) {
  const auto entries = leaf.entries();
  std::size_t lo = 0;
  std::size_t hi = entries.size();
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    const int c = compare(key, entries[mid].prefix, entries[mid].key());
    if (c == 0) return {mid, true};
    if (c < 0) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return {lo, false};
}

/// Copying the nodes on a path increments the reference count of every entry and child they
/// share. Those counts live in as many scattered blocks, and atomic increments wait for their
/// cache misses one at a time; fetching all of them first lets the misses overlap.
void prefetch_counts(const TreeNode::Cursor& c) {
  // make_shared keeps the count just before the object.
  auto fetch = [](const void* object) {
    __builtin_prefetch(static_cast<const char*>(object) - 16, 1);
  };
  for (std::size_t level = 0; level < c.height; ++level) {
    const TreeNode& n = *c.nodes[level];
    for (const Item& e : n.entries()) fetch(e.entry.get());
    for (const Child& ch : n.children()) fetch(ch.node.get());
  }
}

/// Rebalances children[i] (underfull after an erase) with a neighbour: merges the two when they
/// fit in one node, otherwise shares their items evenly between two nodes.
void rebalance(std::vector<Child>& children, std::size_t i) {
  const std::size_t left = i > 0 ? i - 1 : i;
  const TreeNode& a = *children[left].node;
  const TreeNode& b = *children[left + 1].node;
  std::vector<NodePtr> merged;
  if (a.is_leaf()) {
    std::vector<Item> items(a.entries().begin(), a.entries().end());
    items.insert(items.end(), b.entries().begin(), b.entries().end());
    merged = nodes_of(items);
  } else {
    std::vector<Child> items(a.children().begin(), a.children().end());
    items.insert(items.end(), b.children().begin(), b.children().end());
    merged = nodes_of(items);
  }
  auto at = children.begin() + static_cast<std::ptrdiff_t>(left);
  at = children.erase(at, at + 2);
  for (auto& m : merged) at = children.insert(at, child_of(std::move(m))) + 1;
}

/// The subtree without `key`, whose entry holds `removed_leaves` leaves; may be underfull (even
/// empty): the caller rebalances.
NodePtr erase_rec(const TreeNode& n, const SearchKey& key, std::size_t removed_leaves) {
  if (n.is_leaf()) {
    const std::size_t pos = entry_position(n, key).first;
    auto out = std::make_shared<TreeNode>(true);
    const auto entries = n.entries();
    for (std::size_t j = 0; j < entries.size(); ++j) {
      if (j != pos) out->push(entries[j]);
    }
    out->size = n.size - 1;
    out->num_leaves = n.num_leaves - removed_leaves;
    return out;
  }
  const std::size_t i = child_index(n, key);
  NodePtr sub = erase_rec(*n.children()[i].node, key, removed_leaves);
  std::vector<Child> c(n.children().begin(), n.children().end());
  const std::size_t items = sub->item_count();
  if (items == 0) {
    c.erase(c.begin() + static_cast<std::ptrdiff_t>(i));
  } else {
    c[i] = child_of(std::move(sub));
    if (items < TreeNode::kMinItems && c.size() > 1) rebalance(c, i);
  }
  return node_of(std::span<Child>(c), n.size - 1, n.num_leaves - removed_leaves);
}

}  // namespace

const TreeEntry* TreeNode::find(const TreeNode* root, std::string_view key) {
  if (root == nullptr) return nullptr;
  const SearchKey k(key);
  const TreeNode* n = root;
  while (!n->is_leaf()) n = n->children()[child_index(*n, k)].node.get();
  const auto [pos, found] = entry_position(*n, k);
  return found ? n->entries()[pos].entry.get() : nullptr;
}

TreeNode::Cursor TreeNode::locate(const TreeNode* root, std::string_view key) {
  Cursor c;
  if (root == nullptr) return c;
  const SearchKey k(key);
  const TreeNode* n = root;
  while (!n->is_leaf()) {
    const std::size_t i = child_index(*n, k);
    c.nodes[c.height] = n;
    c.index[c.height++] = static_cast<std::uint32_t>(i);
    n = n->children()[i].node.get();
  }
  const auto [pos, found] = entry_position(*n, k);
  c.nodes[c.height] = n;
  c.index[c.height++] = static_cast<std::uint32_t>(pos);
  if (found) c.found = n->entries()[pos].entry.get();
  return c;
}

NodePtr TreeNode::put(const Cursor& c, EntryPtr entry) {
  const std::size_t added_leaves = leaf_count(entry->value);
  if (c.height == 0) {
    Item item = item_of(std::move(entry));
    return node_of(std::span<Item>(&item, 1), 1, added_leaves);
  }
  prefetch_counts(c);
  // The counts change by the same amounts in every node on the path.
  const std::size_t added_size = c.found ? 0 : 1;
  const std::size_t removed_leaves = c.found ? leaf_count(c.found->value) : 0;

  // The leaf node: the entry replaced or inserted, split in two when it overflows. The common
  // case builds the new node directly; an overflow goes through a vector.
  const TreeNode& leaf = *c.nodes[c.height - 1];
  const std::size_t pos = c.index[c.height - 1];
  const auto old_entries = leaf.entries();
  const auto before = old_entries.first(pos);
  const auto after = old_entries.subspan(pos + 1 - added_size);
  NodePtr left;
  NodePtr right;
  if (old_entries.size() + added_size <= kCapacity) {
    auto n = std::make_shared<TreeNode>(true);
    for (const Item& e : before) n->push(e);
    n->push(item_of(std::move(entry)));
    for (const Item& e : after) n->push(e);
    n->size = leaf.size + added_size;
    n->num_leaves = leaf.num_leaves + added_leaves - removed_leaves;
    left = std::move(n);
  } else {
    std::vector<Item> items(before.begin(), before.end());
    items.push_back(item_of(std::move(entry)));
    items.insert(items.end(), after.begin(), after.end());
    auto parts = nodes_of(items);
    left = std::move(parts[0]);
    right = std::move(parts[1]);
  }

  // Up the path: each parent takes the new child (and the right half of a split one).
  for (std::size_t level = c.height - 1; level-- > 0;) {
    const TreeNode& parent = *c.nodes[level];
    const std::size_t i = c.index[level];
    const auto old_children = parent.children();
    const std::size_t count = old_children.size() + (right ? 1 : 0);
    if (count <= kCapacity) {
      auto n = std::make_shared<TreeNode>(false);
      for (const Child& ch : old_children.first(i)) n->push(ch);
      n->push(child_of(std::move(left)));
      if (right) n->push(child_of(std::move(right)));
      for (const Child& ch : old_children.subspan(i + 1)) n->push(ch);
      n->size = parent.size + added_size;
      n->num_leaves = parent.num_leaves + added_leaves - removed_leaves;
      left = std::move(n);
      right = nullptr;
    } else {
      std::vector<Child> children(old_children.begin(),
                                  old_children.begin() + static_cast<std::ptrdiff_t>(i));
      children.push_back(child_of(std::move(left)));
      children.push_back(child_of(std::move(right)));
      children.insert(children.end(), old_children.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                      old_children.end());
      auto parts = nodes_of(children);
      left = std::move(parts[0]);
      right = std::move(parts[1]);
    }
  }
  if (!right) return left;
  std::vector<Child> root{child_of(std::move(left)), child_of(std::move(right))};
  return counted(std::span<Child>(root));
}

NodePtr TreeNode::assign(const NodePtr& root, EntryPtr entry) {
  const Cursor c = locate(root.get(), entry->key);
  return put(c, std::move(entry));
}

NodePtr TreeNode::erase(const NodePtr& root, std::string_view key) {
  const TreeEntry* e = find(root.get(), key);
  NodePtr n = erase_rec(*root, SearchKey(key), leaf_count(e->value));
  // A root with a single child gives way to it; an empty map is null.
  while (!n->is_leaf() && n->item_count() == 1) n = n->children().front().node;
  if (n->size == 0) return nullptr;
  return n;
}

NodePtr TreeNode::build(std::vector<EntryPtr> sorted) {
  if (sorted.empty()) return nullptr;
  std::vector<Item> items;
  items.reserve(sorted.size());
  for (auto& e : sorted) items.push_back(item_of(std::move(e)));
  std::vector<NodePtr> level = nodes_of(items);
  while (level.size() > 1) {
    std::vector<Child> children;
    children.reserve(level.size());
    for (auto& n : level) children.push_back(child_of(std::move(n)));
    level = nodes_of(children);
  }
  return std::move(level.front());
}

const TreeNode* TreeNode::first_leaf(const TreeNode* node) {
  while (node != nullptr && !node->is_leaf()) node = node->children().front().node.get();
  return node;
}

const TreeNode* TreeNode::next_leaf(const TreeNode* root, const TreeNode* leaf) {
  // Walk down towards `leaf` by its last key, remembering the deepest node with a child to the
  // right of the way taken; the next leaf is the leftmost leaf of that child.
  const SearchKey key(leaf->entries().back().entry->key);
  const TreeNode* branch = nullptr;
  std::size_t branch_index = 0;
  for (const TreeNode* n = root; !n->is_leaf();) {
    const std::size_t i = child_index(*n, key);
    if (i + 1 < n->children().size()) {
      branch = n;
      branch_index = i + 1;
    }
    n = n->children()[i].node.get();
  }
  return branch == nullptr ? nullptr : first_leaf(branch->children()[branch_index].node.get());
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
