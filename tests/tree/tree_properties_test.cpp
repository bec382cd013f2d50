// RapidCheck properties of Trees: set/get laws, persistence, sharing, round trips, equality.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include "jute/tree.hpp"
#include "tree/tree_helpers.hpp"

using namespace jute;
using namespace jute::tree_test;

namespace {

/// A path for an edit of `t`: an existing path, an existing path extended by a new key, or a
/// fresh path of one to four keys.
Path gen_edit_path(const Tree& t, bool any_key) {
  const std::vector<Path> existing = all_paths(t);
  const int kind = *rc::gen::inRange(0, 3);
  if (kind < 2 && !existing.empty()) {
    Path p = *rc::gen::elementOf(existing);
    if (kind == 1) p.push_back(*gen_key(any_key));
    return p;
  }
  const std::size_t len = *rc::gen::inRange<std::size_t>(1, 5);
  Path p;
  for (std::size_t i = 0; i < len; ++i) p.push_back(*gen_key(any_key));
  return p;
}

/// True when `p` runs through a leaf of `t` (so that set and erase must throw KeyError).
bool through_leaf(const Tree& t, const Path& p) {
  for (std::size_t i = 1; i < p.size(); ++i) {
    const TreeValue* v = t.find(Path(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(i)));
    if (v == nullptr) return false;
    if (v->is_array()) return true;
  }
  return false;
}

/// One random edit of `t` (set a leaf, set a sub-Tree, erase, merge); edits that must fail are
/// checked to throw KeyError and leave `t` as it was.
Tree random_edit(const Tree& t, bool any_key) {
  const int kind = *rc::gen::inRange(0, 4);
  if (kind == 3) return t.merge(*gen_tree(2, any_key));
  const Path p = gen_edit_path(t, any_key);
  if (kind == 2) {
    if (t.find(p) == nullptr) {
      RC_ASSERT_THROWS_AS(t.erase(p), KeyError);
      return t;
    }
    return t.erase(p);
  }
  const TreeValue v = kind == 0 ? TreeValue(*gen_array()) : TreeValue(*gen_tree(2, any_key));
  if (through_leaf(t, p)) {
    RC_ASSERT_THROWS_AS(t.set(p, v), KeyError);
    return t;
  }
  return t.set(p, v);
}

/// Everything a Tree holds, as (path, leaf identity) pairs with empty sub-Trees marked null.
using Snapshot = std::vector<std::pair<Path, std::uintptr_t>>;
Snapshot snapshot(const Tree& t) {
  Snapshot out;
  for (const auto& [path, leaf] : flatten_paths(t, true)) {
    out.emplace_back(path, leaf.valid() ? reinterpret_cast<std::uintptr_t>(leaf.impl().get()) : 0);
  }
  return out;
}

bool same_value(const TreeValue& a, const TreeValue& b) {
  if (a.is_array() != b.is_array()) return false;
  return a.is_array() ? same_leaf(a.array(), b.array()) : a.tree() == b.tree();
}

}  // namespace

TEST_SUITE("tree") {
  TEST_CASE("tree: set/get laws") {
    CHECK(rc::check("get(set(t, p, v), p) is v and nothing else changes", [] {
      const Tree t = *gen_tree(3, true);
      const Path p = gen_edit_path(t, true);
      RC_PRE(!through_leaf(t, p));
      const Array v = *gen_array();
      const Tree u = t.set(p, v);
      RC_ASSERT(same_leaf(u.get(p), v));
      RC_ASSERT(u.contains(p));
      // Every path of t that is neither on p nor under it holds the same value in u.
      for (const Path& q : all_paths(t)) {
        if (is_prefix(q, p) || is_prefix(p, q)) continue;
        RC_ASSERT(same_value(t.at(q), u.at(q)));
      }
      // Setting twice is setting once; setting what is there changes nothing.
      const Array w = *gen_array();
      RC_ASSERT(u.set(p, w) == t.set(p, w));
      RC_ASSERT(same_node(u.set(p, u.get(p)), u));
      // Erasing what was set removes it and keeps the rest.
      const Tree e = u.erase(p);
      RC_ASSERT(!e.contains(p));
      RC_ASSERT(e.num_leaves() == u.num_leaves() - 1);
      if (t.contains(p)) RC_ASSERT(e == t.erase(p));
    }));
    CHECK(rc::check("size, leaf count, keys and iteration agree", [] {
      const Tree t = *gen_tree(3, true);
      std::vector<std::string> keys;
      std::size_t leaves = 0;
      for (const auto& [key, value] : t) {
        if (!keys.empty()) RC_ASSERT(keys.back() < key);
        keys.push_back(key);
        leaves += value.is_array() ? 1 : value.tree().num_leaves();
      }
      RC_ASSERT(keys == t.keys());
      RC_ASSERT(t.size() == keys.size());
      RC_ASSERT(t.num_leaves() == leaves);
      RC_ASSERT(t.num_leaves() == jute::leaves(t).size());
      RC_ASSERT(t.empty() == keys.empty());
    }));
  }

  TEST_CASE("tree: every earlier version is unchanged after any sequence of edits") {
    CHECK(rc::check("persistence", [] {
      Tree t = *gen_tree(3, true);
      std::vector<std::pair<Tree, Snapshot>> versions;
      versions.emplace_back(t, snapshot(t));
      const int steps = *rc::gen::inRange(1, 25);
      for (int s = 0; s < steps; ++s) {
        t = random_edit(t, true);
        versions.emplace_back(t, snapshot(t));
      }
      for (const auto& [version, snap] : versions) RC_ASSERT(snapshot(version) == snap);
    }));
  }

  TEST_CASE("tree: untouched subtrees stay shared after an edit") {
    CHECK(rc::check("structural sharing", [] {
      const Tree t = *gen_tree(3, true);
      const Path p = gen_edit_path(t, true);
      RC_PRE(!through_leaf(t, p));
      const bool erase = t.contains(p) && *rc::gen::arbitrary<bool>();
      const Tree u = erase ? t.erase(p) : t.set(p, *gen_array());
      for (const Path& q : all_paths(t)) {
        if (is_prefix(q, p) || is_prefix(p, q)) continue;
        const TreeValue& a = t.at(q);
        const TreeValue& b = u.at(q);
        if (a.is_tree()) {
          RC_ASSERT(same_node(a.tree(), b.tree()));
        } else {
          RC_ASSERT(same_leaf(a.array(), b.array()));
        }
      }
    }));
  }

  TEST_CASE("tree: flatten round trips") {
    CHECK(rc::check("unflatten(flatten(t, keep_empty_nodes)) == t", [] {
      const Tree t = *gen_tree(3, false);
      RC_ASSERT(unflatten(flatten(t, true)) == t);
      const auto flat = flatten(t);
      const auto again = flatten(unflatten(flat));
      RC_ASSERT(again.size() == flat.size());
      RC_ASSERT(flat.size() == t.num_leaves());
      for (std::size_t i = 0; i < flat.size(); ++i) {
        RC_ASSERT(again[i].first == flat[i].first);
        RC_ASSERT(same_leaf(again[i].second, flat[i].second));
      }
    }));
    CHECK(rc::check("unflatten_paths(flatten_paths(t)) == t for any keys", [] {
      const Tree t = *gen_tree(3, true);
      RC_ASSERT(unflatten_paths(flatten_paths(t, true)) == t);
    }));
    CHECK(rc::check("unflatten accepts any order", [] {
      const Tree t = *gen_tree(3, false);
      auto flat = flatten(t, true);
      std::reverse(flat.begin(), flat.end());
      RC_ASSERT(unflatten(flat) == t);
    }));
  }

  TEST_CASE("tree: tree_map(identity) equals the input") {
    CHECK(rc::check("tree_map identity", [] {
      const Tree t = *gen_tree(3, true);
      const Tree m = tree_map([](const Array& a) { return a; }, t);
      RC_ASSERT(m == t);
      RC_ASSERT(same_structure(m, t));
      RC_ASSERT(with_leaves(t, leaves(t)) == t);
      RC_ASSERT(tree_map([](const Array&, const Array& b) { return b; }, t, m) == t);
    }));
  }

  TEST_CASE("tree: equality is an equivalence relation") {
    CHECK(rc::check("reflexive, symmetric, transitive", [] {
      const Tree a = *gen_tree(3, true);
      const Tree b = deep_copy(a);  // equal, sharing nothing
      const Tree c = *rc::gen::arbitrary<bool>() ? deep_copy(b) : random_edit(b, true);
      RC_ASSERT(a == a);
      RC_ASSERT(a == b);
      RC_ASSERT((b == c) == (c == b));
      RC_ASSERT((a == c) == (c == a));
      if (a == b && b == c) RC_ASSERT(a == c);
      if (a == c) RC_ASSERT(same_structure(a, c));
      const Tree d = *gen_tree(2, true);
      RC_ASSERT((a == d) == (d == a));
    }));
  }

  TEST_CASE("tree: merge keeps every leaf of the right and the unshadowed leaves of the left") {
    CHECK(rc::check("merge semantics", [] {
      const Tree a = *gen_tree(3, true);
      const Tree b = *gen_tree(3, true);
      const Tree m = a.merge(b);
      for (const auto& [p, leaf] : flatten_paths(b)) RC_ASSERT(same_leaf(m.get(p), leaf));
      for (const auto& [p, leaf] : flatten_paths(a)) {
        bool shadowed = false;
        for (std::size_t i = 1; i <= p.size() && !shadowed; ++i) {
          const TreeValue* v = b.find(Path(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(i)));
          shadowed = v != nullptr && (v->is_array() || i == p.size());
        }
        if (!shadowed) RC_ASSERT(same_leaf(m.get(p), leaf));
      }
      RC_ASSERT(m.num_leaves() <= a.num_leaves() + b.num_leaves());
      RC_ASSERT(m.merge(b) == m);
    }));
  }

}  // TEST_SUITE
