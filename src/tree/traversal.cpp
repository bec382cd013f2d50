// Whole-Tree traversals: flatten/unflatten, leaves, tree_map, printing and sizes.
#include <algorithm>
#include <ostream>

#include "jute/tree.hpp"
#include "tree/tree_node.hpp"

namespace jute {

using detail::EntryPtr;
using detail::TreeNode;
using KeyStack = std::vector<std::string_view>;

namespace {

/// Depth first, in key order: `leaf(keys, array)` for every leaf and `empty(keys)` for every
/// empty sub-Tree, with `keys` the path to it.
template <class Leaf, class Empty>
void visit(const Tree& t, KeyStack& keys, Leaf& leaf, Empty& empty) {
  TreeNode::for_each(TreeNode::root(t).get(), [&](const EntryPtr& e) {
    keys.push_back(e->key);
    if (e->value.is_array()) {
      leaf(keys, e->value.array());
    } else if (e->value.tree().empty()) {
      empty(keys);
    } else {
      visit(e->value.tree(), keys, leaf, empty);
    }
    keys.pop_back();
  });
}

/// Every leaf, depth first in key order, without building paths.
template <class F>
void for_each_leaf(const Tree& t, F& f) {
  TreeNode::for_each(TreeNode::root(t).get(), [&](const EntryPtr& e) {
    if (e->value.is_array()) {
      f(e->value.array());
    } else {
      for_each_leaf(e->value.tree(), f);
    }
  });
}

std::string joined(const KeyStack& keys) { return detail::join_path(keys, keys.size()); }

/// The '/'-joined path; ValueError when a key would make it ambiguous.
std::string flat_path(const KeyStack& keys) {
  for (const auto& k : keys) {
    if (k.empty() || k.find('/') != std::string_view::npos) {
      throw ValueError("[flatten] The key " + detail::quoted(k) + " in " +
                       detail::quoted(joined(keys)) + (k.empty() ? " is empty" : " contains '/'") +
                       ", so a '/'-joined path cannot name it; use flatten_paths for such Trees.");
    }
  }
  return joined(keys);
}

template <class P, class MakePath>
std::vector<std::pair<P, Array>> flatten_with(const Tree& t, bool keep_empty_nodes,
                                              MakePath make_path) {
  std::vector<std::pair<P, Array>> out;
  out.reserve(t.num_leaves());
  KeyStack keys;
  auto leaf = [&](const KeyStack& k, const Array& a) { out.emplace_back(make_path(k), a); };
  auto empty = [&](const KeyStack& k) {
    if (keep_empty_nodes) out.emplace_back(make_path(k), Array());
  };
  visit(t, keys, leaf, empty);
  return out;
}

// ---- unflatten ----------------------------------------------------------------------------------

struct FlatItem {
  KeyStack keys;
  const Array* value;  // null Array: an empty sub-Tree
};

/// Builds the level at `depth` from items that share their first `depth` keys, sorted by keys.
Tree unflatten_level(std::span<const FlatItem* const> items, std::size_t depth,
                     std::string_view op) {
  std::vector<EntryPtr> entries;
  for (std::size_t g = 0; g < items.size();) {
    const std::string_view key = items[g]->keys[depth];
    std::size_t end = g + 1;
    while (end < items.size() && items[end]->keys[depth] == key) ++end;
    const FlatItem& first = *items[g];  // the shortest path of the group sorts first
    if (first.keys.size() == depth + 1) {
      if (end - g > 1) {
        const FlatItem& second = *items[g + 1];
        const std::string p = detail::quoted(joined(first.keys));
        throw ValueError("[" + std::string(op) + "] " +
                         (second.keys.size() == depth + 1
                              ? "Path " + p + " appears more than once; give each path once."
                              : "Path " + p + " holds a value and is also a prefix of " +
                                    detail::quoted(joined(second.keys)) +
                                    "; a path cannot be both a leaf and a sub-Tree."));
      }
      entries.push_back(first.value->valid() ? detail::make_entry(key, *first.value)
                                             : detail::make_entry(key, Tree()));
    } else {
      entries.push_back(
          detail::make_entry(key, unflatten_level(items.subspan(g, end - g), depth + 1, op)));
    }
    g = end;
  }
  return TreeNode::make_tree(TreeNode::build(std::move(entries)));
}

/// The Tree of `items`, (path, Array) pairs with string paths or Path vectors.
template <class P>
Tree unflatten_items(const std::vector<std::pair<P, Array>>& items, std::string_view op) {
  std::vector<FlatItem> flat;
  flat.reserve(items.size());
  for (const auto& [path, value] : items) {
    const detail::PathKeys pk(path, op);
    flat.push_back({KeyStack(pk.keys().begin(), pk.keys().end()), &value});
  }
  std::vector<const FlatItem*> order;
  order.reserve(flat.size());
  for (const auto& it : flat) order.push_back(&it);
  std::stable_sort(order.begin(), order.end(), [](const FlatItem* a, const FlatItem* b) {
    return std::lexicographical_compare(a->keys.begin(), a->keys.end(), b->keys.begin(),
                                        b->keys.end());
  });
  return unflatten_level(order, 0, op);
}

// ---- mapping ------------------------------------------------------------------------------------

/// A Tree with the structure of `trees[0]` (which all share) whose leaves are
/// `f(keys, entries)`, `entries` holding the corresponding entry of each tree.
template <class F>
Tree map_leaves(std::span<const Tree* const> trees, KeyStack& keys, F& f, std::string_view op) {
  const std::size_t n = trees.size();
  std::vector<detail::TreeIterator> its;
  its.reserve(n);
  for (const Tree* t : trees) its.push_back(t->begin());
  std::vector<const TreeEntry*> row(n);
  std::vector<EntryPtr> out;
  out.reserve(trees[0]->size());
  for (const auto end = trees[0]->end(); its[0] != end;) {
    for (std::size_t j = 0; j < n; ++j) row[j] = &*its[j];
    const TreeEntry& e = *row[0];
    keys.push_back(e.key);
    if (e.value.is_array()) {
      Array r = f(keys, std::span<const TreeEntry* const>(row));
      if (!r.valid()) {
        throw ValueError("[" + std::string(op) + "] The function returned a null Array for " +
                         detail::quoted(joined(keys)) + "; return a valid Array for every leaf.");
      }
      out.push_back(detail::make_entry(e.key, std::move(r)));
    } else {
      std::vector<const Tree*> subs(n);
      for (std::size_t j = 0; j < n; ++j) subs[j] = &row[j]->value.tree();
      out.push_back(detail::make_entry(e.key, map_leaves(subs, keys, f, op)));
    }
    keys.pop_back();
    for (auto& it : its) ++it;
  }
  return TreeNode::make_tree(TreeNode::build(std::move(out)));
}

template <class F>
Tree map_one(const Tree& t, F&& f, std::string_view op) {
  const Tree* trees[] = {&t};
  KeyStack keys;
  return map_leaves(trees, keys, f, op);
}

}  // namespace

std::vector<std::pair<std::string, Array>> flatten(const Tree& t, bool keep_empty_nodes) {
  return flatten_with<std::string>(t, keep_empty_nodes, flat_path);
}

std::vector<std::pair<Path, Array>> flatten_paths(const Tree& t, bool keep_empty_nodes) {
  return flatten_with<Path>(t, keep_empty_nodes,
                            [](const KeyStack& k) { return Path(k.begin(), k.end()); });
}

Tree unflatten(const std::vector<std::pair<std::string, Array>>& items) {
  return unflatten_items(items, "unflatten");
}

Tree unflatten_paths(const std::vector<std::pair<Path, Array>>& items) {
  return unflatten_items(items, "unflatten_paths");
}

std::vector<Array> leaves(const Tree& t) {
  std::vector<Array> out;
  out.reserve(t.num_leaves());
  auto push = [&](const Array& a) { out.push_back(a); };
  for_each_leaf(t, push);
  return out;
}

Tree with_leaves(const Tree& t, const std::vector<Array>& leaves) {
  if (leaves.size() != t.num_leaves()) {
    throw ValueError("[with_leaves] The Tree has " + std::to_string(t.num_leaves()) +
                     " leaves but " + std::to_string(leaves.size()) +
                     " Arrays were given; give one Array per leaf, in flatten order.");
  }
  std::size_t next = 0;
  return map_one(
      t, [&](const KeyStack&, std::span<const TreeEntry* const>) { return leaves[next++]; },
      "with_leaves");
}

Tree tree_map(const std::function<Array(const Array&)>& f, const Tree& t) {
  return map_one(
      t,
      [&](const KeyStack&, std::span<const TreeEntry* const> e) { return f(e[0]->value.array()); },
      "tree_map");
}

Tree tree_map_with_path(const std::function<Array(const std::string&, const Array&)>& f,
                        const Tree& t) {
  return map_one(
      t,
      [&](const KeyStack& keys, std::span<const TreeEntry* const> e) {
        return f(joined(keys), e[0]->value.array());
      },
      "tree_map_with_path");
}

Tree tree_map(const std::function<Array(const Array&, const Array&)>& f, const Tree& a,
              const Tree& b) {
  return tree_map([&](const std::vector<Array>& x) { return f(x[0], x[1]); },
                  std::vector<Tree>{a, b});
}

Tree tree_map(const std::function<Array(const std::vector<Array>&)>& f,
              const std::vector<Tree>& trees) {
  if (trees.empty()) {
    throw ValueError("[tree_map] No Trees were given; give at least one.");
  }
  for (std::size_t j = 1; j < trees.size(); ++j) {
    if (std::string d = structure_difference(trees[0], trees[j]); !d.empty()) {
      throw ValueError("[tree_map] Tree " + std::to_string(j) +
                       " differs in structure from Tree 0 (" + d +
                       "); map over Trees of the same structure.");
    }
  }
  std::vector<const Tree*> ptrs;
  ptrs.reserve(trees.size());
  for (const auto& t : trees) ptrs.push_back(&t);
  std::vector<Array> args(trees.size());
  auto call = [&](const KeyStack&, std::span<const TreeEntry* const> e) {
    for (std::size_t j = 0; j < e.size(); ++j) args[j] = e[j]->value.array();
    return f(args);
  };
  KeyStack keys;
  return map_leaves(ptrs, keys, call, "tree_map");
}

std::string Tree::to_string() const {
  if (empty()) return "{}";
  std::string out;
  KeyStack keys;
  auto line = [&](const KeyStack& k, std::string_view tail) {
    if (!out.empty()) out += '\n';
    out += joined(k);
    out += ' ';
    out += tail;
  };
  auto leaf = [&](const KeyStack& k, const Array& a) { line(k, a.type_string()); };
  auto empty = [&](const KeyStack& k) { line(k, "{}"); };
  visit(*this, keys, leaf, empty);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Tree& t) { return os << t.to_string(); }

std::int64_t num_params(const Tree& t) {
  std::int64_t n = 0;
  auto add = [&](const Array& a) { n += a.size(); };
  for_each_leaf(t, add);
  return n;
}

std::size_t nbytes(const Tree& t) {
  std::size_t n = 0;
  auto add = [&](const Array& a) { n += a.nbytes(); };
  for_each_leaf(t, add);
  return n;
}

}  // namespace jute
