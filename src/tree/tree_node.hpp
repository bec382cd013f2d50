// Internal: the persistent sorted map that holds one level of a Tree, and the path parser.
// Only code in src/tree/ includes this header.
//
// One level of a Tree (the keys of one nested map) is a persistent B+-tree: immutable nodes,
// children shared through shared_ptr, and path copying. An update copies the nodes on the path
// from the root to the entry it changes — one small node for the usual map of a few keys,
// O(log n) nodes of at most kCapacity items for a map of n keys — and shares everything else with
// the old version. Entries are boxed (shared_ptr<const TreeEntry>), so copying a node copies
// pointers, never key strings, and an untouched entry is shared by every version.
//
// Why hand-written: none of the libraries jute depends on (DESIGN.md) offers a persistent
// sorted map, and a sorted vector copied per update is O(n) for the 100,000-key maps a Tree must
// handle (docs/performance.md).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jute/tree.hpp"

namespace jute::detail {

using EntryPtr = std::shared_ptr<const TreeEntry>;
using NodePtr = std::shared_ptr<const TreeNode>;

/// A key as a node stores it for searching: its first 16 bytes packed big-endian (zero padded)
/// and its length. Comparing two prefixes decides the order of most key pairs without reading
/// the keys themselves, which live in entries elsewhere in memory (one cache miss each).
struct KeyPrefix {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  std::size_t len = 0;
  static KeyPrefix of(std::string_view key);
};

/// A key being searched for: its prefix and its text.
struct SearchKey {
  explicit SearchKey(std::string_view key) : prefix(KeyPrefix::of(key)), text(key) {}
  KeyPrefix prefix;
  std::string_view text;
};

/// <0, 0 or >0 as `k` sorts before, equal to or after the key with prefix `p` and text `*text`
/// (byte order); reads `*text` only when the prefixes cannot decide.
inline int compare(const SearchKey& k, const KeyPrefix& p, const std::string* text) {
  if (k.prefix.hi != p.hi) return k.prefix.hi < p.hi ? -1 : 1;
  if (k.prefix.lo != p.lo) return k.prefix.lo < p.lo ? -1 : 1;
  if (k.prefix.len <= 16 && p.len <= 16) {
    return k.prefix.len == p.len ? 0 : (k.prefix.len < p.len ? -1 : 1);
  }
  return k.text.compare(*text);
}

struct TreeNode {
  /// Most items (entries in a leaf node, children in an inner node) a node holds; every node but
  /// the root holds at least half as many. Chosen by measurement (docs/performance.md).
  static constexpr std::size_t kCapacity = 16;
  static constexpr std::size_t kMinItems = kCapacity / 2;
  /// Bound on the height of a level's B+-tree: 2^64 keys need fewer levels at kMinItems fanout.
  static constexpr std::size_t kMaxHeight = 24;

  struct Item {
    KeyPrefix prefix;
    EntryPtr entry;
    const std::string* key() const { return &entry->key; }
  };
  struct Child {
    KeyPrefix min_prefix;
    /// The smallest key under `node` (it lives in an entry that `node` keeps alive).
    const std::string* min_key;
    NodePtr node;
  };

  /// An empty leaf node (`leaf`) or inner node; filled with push() before anyone else sees it.
  explicit TreeNode(bool leaf) : leaf_(leaf) {}
  TreeNode(const TreeNode&) = delete;
  TreeNode& operator=(const TreeNode&) = delete;
  ~TreeNode();

  /// Number of entries (keys of this Tree level) under this node.
  std::size_t size = 0;
  /// Number of Array leaves, at any Tree depth, under those entries.
  std::size_t num_leaves = 0;

  bool is_leaf() const { return leaf_; }
  std::size_t item_count() const { return count_; }
  /// A leaf node's entries, sorted by key (empty for an inner node).
  std::span<const Item> entries() const {
    return {leaf_ ? std::launder(reinterpret_cast<const Item*>(storage_)) : nullptr,
            leaf_ ? count_ : 0};
  }
  /// An inner node's children in key order (empty for a leaf node).
  std::span<const Child> children() const {
    return {leaf_ ? nullptr : std::launder(reinterpret_cast<const Child*>(storage_)),
            leaf_ ? 0 : count_};
  }
  /// Appends an item while the node is being built (at most kCapacity).
  void push(Item item);
  void push(Child child);

  // ---- access to Tree's representation (TreeNode is Tree's friend) -----------------------------
  static const NodePtr& root(const Tree& t) { return t.root_; }
  static Tree make_tree(NodePtr root) { return Tree(std::move(root)); }

  // ---- the persistent map over one level; `root` may be null (the empty map) ------------------
  /// Where a key is, or would be inserted: the nodes from the root down to a leaf node, the
  /// child index taken in each inner node and the position in the leaf node.
  struct Cursor {
    std::array<const TreeNode*, kMaxHeight> nodes;
    std::array<std::uint32_t, kMaxHeight> index;
    std::size_t height = 0;  // 0 for the empty map
    const TreeEntry* found = nullptr;
  };
  /// The entry with `key`, or nullptr.
  static const TreeEntry* find(const TreeNode* root, std::string_view key);
  /// Finds where `key` is or belongs.
  static Cursor locate(const TreeNode* root, std::string_view key);
  /// The map with `entry` put where `c` points: replacing c.found, or inserted. `c` must come
  /// from `locate(root, entry->key)`, and that root must still be alive.
  static NodePtr put(const Cursor& c, EntryPtr entry);
  /// The map with `entry` inserted, or replacing the entry with the same key.
  static NodePtr assign(const NodePtr& root, EntryPtr entry);
  /// The map without `key` (which must be present); null when it becomes empty.
  static NodePtr erase(const NodePtr& root, std::string_view key);
  /// A map from entries sorted by strictly increasing key, in O(n).
  static NodePtr build(std::vector<EntryPtr> sorted);

  /// The leftmost leaf node under `node` (null for null).
  static const TreeNode* first_leaf(const TreeNode* node);
  /// The leaf node after `leaf` in key order under `root`, or null after the last.
  static const TreeNode* next_leaf(const TreeNode* root, const TreeNode* leaf);

  /// Calls `f(const EntryPtr&)` for every entry under `node` in key order.
  template <class F>
  static void for_each(const TreeNode* node, F&& f) {
    if (node == nullptr) return;
    if (node->is_leaf()) {
      for (const auto& e : node->entries()) f(e.entry);
    } else {
      for (const auto& c : node->children()) for_each(c.node.get(), f);
    }
  }

 private:
  // The items live in the node itself (one allocation per node): an Item array in a leaf node,
  // a Child array in an inner node.
  static constexpr std::size_t kItemBytes = sizeof(Item) > sizeof(Child) ? sizeof(Item)
                                                                         : sizeof(Child);
  bool leaf_;
  std::uint32_t count_ = 0;
  alignas(Item) alignas(Child) std::byte storage_[kCapacity * kItemBytes];
};

/// A new boxed entry.
EntryPtr make_entry(std::string_view key, TreeValue value);

/// True when both values are the very same object (the same Array buffer and metadata, or the
/// same Tree root), so replacing one with the other changes nothing.
bool identical(const TreeValue& a, const TreeValue& b);

/// `t` with `value` at its direct key `key` (inserted or replacing); `t` itself when the value
/// there is already the very same object, so that a no-op edit keeps all sharing.
Tree assign_key(const Tree& t, std::string_view key, TreeValue value);

/// The keys of a path as string_views into the caller's storage, split and validated without
/// allocating for paths of up to kInline keys. ValueError (naming `op`) for an empty path or an
/// empty component of a string path.
class PathKeys {
 public:
  PathKeys(std::string_view path, std::string_view op);
  PathKeys(const Path& path, std::string_view op);
  std::span<const std::string_view> keys() const {
    return {heap_.empty() ? inline_.data() : heap_.data(), size_};
  }

 private:
  static constexpr std::size_t kInline = 8;
  void push(std::string_view key);
  std::array<std::string_view, kInline> inline_{};
  std::vector<std::string_view> heap_;
  std::size_t size_ = 0;
};

/// "a/b/c": the first `count` keys joined with '/'.
std::string join_path(std::span<const std::string_view> keys, std::size_t count);
/// `["bias", "kernel"]`: the keys of one level, quoted, the list cut after 20 keys.
std::string key_list(const Tree& t);
/// `"text"` with JSON-style escapes, for keys and paths in messages and JSON.
std::string quoted(std::string_view text);

}  // namespace jute::detail
