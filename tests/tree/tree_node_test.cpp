// The persistent B+-tree behind one Tree level, checked against std::map and its invariants.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <map>

#include "jute/tree.hpp"
#include "tree/tree_helpers.hpp"
#include "tree/tree_node.hpp"

using namespace jute;
using detail::TreeNode;
using jute::tree_test::cat;

namespace {

/// Checks the B+-tree invariants under `n` and returns the depth of its leaf nodes: item counts
/// within bounds (at least half full except the root), keys strictly increasing and inside
/// [lo, hi), min_key pointing at the leftmost key, and the cached counts right.
int check_node(const TreeNode& n, bool is_root, const std::string* lo, const std::string* hi) {
  const std::size_t items = n.item_count();
  RC_ASSERT(items <= TreeNode::kCapacity);
  RC_ASSERT(items >= (is_root ? (n.is_leaf() ? 1u : 2u) : TreeNode::kMinItems));
  std::size_t size = 0;
  std::size_t leaves = 0;
  int depth = 0;
  if (n.is_leaf()) {
    for (std::size_t i = 0; i < n.entries().size(); ++i) {
      const std::string& k = n.entries()[i].entry->key;
      RC_ASSERT(n.entries()[i].prefix.len == k.size());
      RC_ASSERT(n.entries()[i].prefix.hi == detail::KeyPrefix::of(k).hi);
      RC_ASSERT(n.entries()[i].prefix.lo == detail::KeyPrefix::of(k).lo);
      if (i > 0) RC_ASSERT(n.entries()[i - 1].entry->key < k);
      if (lo != nullptr) RC_ASSERT(*lo <= k);
      if (hi != nullptr) RC_ASSERT(k < *hi);
      const TreeValue& v = n.entries()[i].entry->value;
      leaves += v.is_array() ? 1 : v.tree().num_leaves();
    }
    size = n.entries().size();
  } else {
    for (std::size_t i = 0; i < n.children().size(); ++i) {
      const auto& c = n.children()[i];
      RC_ASSERT(c.min_key == &TreeNode::first_leaf(c.node.get())->entries().front().entry->key);
      RC_ASSERT(c.min_prefix.len == c.min_key->size());
      RC_ASSERT(c.min_prefix.hi == detail::KeyPrefix::of(*c.min_key).hi);
      RC_ASSERT(c.min_prefix.lo == detail::KeyPrefix::of(*c.min_key).lo);
      const std::string* child_hi = i + 1 < n.children().size() ? n.children()[i + 1].min_key : hi;
      const int d = check_node(*c.node, false, c.min_key, child_hi);
      if (i > 0) RC_ASSERT(d == depth);
      depth = d;
      size += c.node->size;
      leaves += c.node->num_leaves;
    }
    ++depth;
  }
  RC_ASSERT(n.size == size);
  RC_ASSERT(n.num_leaves == leaves);
  return depth;
}

void check_level(const Tree& t, const std::map<std::string, int>& model) {
  if (const auto& root = TreeNode::root(t)) {
    check_node(*root, true, nullptr, nullptr);
  } else {
    RC_ASSERT(model.empty());
  }
  RC_ASSERT(t.size() == model.size());
  auto m = model.begin();
  for (const auto& [key, value] : t) {
    RC_ASSERT(m != model.end());
    RC_ASSERT(key == m->first);
    RC_ASSERT(value.array().item<int>() == m->second);
    ++m;
  }
  RC_ASSERT(m == model.end());
}

}  // namespace

TEST_SUITE("tree") {
  TEST_CASE("tree: one level behaves as a std::map through inserts, replacements and erases") {
    CHECK(rc::check("B+-tree level equals std::map model", [] {
      const int key_space = *rc::gen::element(20, 200, 600);
      const int steps = *rc::gen::inRange(1, 400);
      Tree t;
      std::map<std::string, int> model;
      std::vector<std::pair<Tree, std::map<std::string, int>>> versions;
      for (int s = 0; s < steps; ++s) {
        const bool erase = !model.empty() && *rc::gen::inRange(0, 3) == 0;
        if (erase) {
          const auto it = std::next(
              model.begin(),
              *rc::gen::inRange<std::ptrdiff_t>(0, static_cast<std::ptrdiff_t>(model.size())));
          t = t.erase(Path{it->first});
          model.erase(it);
        } else {
          const std::string key = cat("k", *rc::gen::inRange(0, key_space));
          t = t.set(Path{key}, Array::scalar(s, int32));
          model[key] = s;
        }
        check_level(t, model);
        if (s % 16 == 0) versions.emplace_back(t, model);
      }
      for (const auto& [old, old_model] : versions) check_level(old, old_model);
    }));
  }

  TEST_CASE("tree: erasing every key of a large level in random order empties it") {
    CHECK(rc::check("erase all", [] {
      const int n = *rc::gen::inRange(1, 300);  // up to three B+-tree levels
      std::vector<std::pair<std::string, TreeValue>> items;
      std::map<std::string, int> model;
      for (int i = 0; i < n; ++i) {
        items.emplace_back(cat("key", i), Array::scalar(i, int32));
        model[cat("key", i)] = i;
      }
      Tree t = Tree::from_entries(items);
      check_level(t, model);
      while (!model.empty()) {
        const auto it = std::next(model.begin(), *rc::gen::inRange<std::ptrdiff_t>(
                                                     0, static_cast<std::ptrdiff_t>(model.size())));
        t = t.erase(Path{it->first});
        model.erase(it);
        check_level(t, model);
      }
      RC_ASSERT(t.empty());
    }));
  }

  TEST_CASE("tree: a level of 100,000 keys") {
    std::vector<std::pair<std::string, TreeValue>> items;
    const Array leaf = zeros({1});
    for (int i = 0; i < 100000; ++i) items.emplace_back(cat("param_", i), leaf);
    const Tree t = Tree::from_entries(items);
    CHECK(t.size() == 100000);
    CHECK(t.num_leaves() == 100000);
    const Tree u = t.set("param_5000", ones({1}));
    CHECK(u.get("param_5000").item<float>() == 1.f);
    CHECK(t.get("param_5000").item<float>() == 0.f);
    const Tree v = u.erase("param_77777").set("zzz", ones({2}));
    CHECK(v.size() == 100000);
    CHECK_FALSE(v.contains("param_77777"));
    CHECK(u.contains("param_77777"));
    std::size_t count = 0;
    for (auto it = v.begin(); it != v.end(); ++it) ++count;
    CHECK(count == 100000);
  }

}  // TEST_SUITE
