#include <doctest/doctest.h>

#include <sstream>

#include "jute/tree.hpp"
#include "tree/tree_helpers.hpp"

using namespace jute;
using jute::tree_test::cat;
using jute::tree_test::message_of;

namespace {

/// The params of a Dense(4) layer on 3 inputs, plus a batch-norm-like collection.
Tree model_vars() {
  return Tree{
      {"params", Tree{{"Dense_0", Tree{{"kernel", zeros({3, 4})}, {"bias", zeros({4})}}}}},
      {"batch_stats", Tree{{"BatchNorm_0", Tree{{"mean", zeros({4})}, {"var", ones({4})}}}}},
  };
}

}  // namespace

TEST_SUITE("tree") {
  TEST_CASE("tree: empty tree") {
    Tree t;
    CHECK(t.empty());
    CHECK(t.size() == 0);
    CHECK(t.num_leaves() == 0);
    CHECK(t.begin() == t.end());
    CHECK(t.keys().empty());
    CHECK(t.to_string() == "{}");
    CHECK_FALSE(t.contains("a"));
    CHECK(t.find("a") == nullptr);
  }

  TEST_CASE("tree: construction sorts keys and counts leaves") {
    Tree t{{"b", zeros({2})}, {"a", Tree{{"y", ones({1})}, {"x", ones({1})}}}, {"c", Tree{}}};
    CHECK(t.size() == 3);
    CHECK(t.num_leaves() == 3);
    CHECK(t.keys() == std::vector<std::string>{"a", "b", "c"});
    CHECK(t.subtree("a").keys() == std::vector<std::string>{"x", "y"});
    CHECK(t.subtree("c").empty());
    CHECK_FALSE(t.empty());
  }

  TEST_CASE("tree: a repeated key throws ValueError") {
    CHECK_THROWS_AS((Tree{{"a", zeros({1})}, {"a", ones({1})}}), ValueError);
    CHECK(message_of([] {
            Tree{{"a", zeros({1})}, {"a", ones({1})}};
          }) == "[Tree] Key \"a\" appears more than once; give each key once.");
    CHECK(message_of([] {
            Tree::from_entries({{"k", zeros({1})}, {"k", Tree{}}});
          }) == "[Tree.from_entries] Key \"k\" appears more than once; give each key once.");
  }

  TEST_CASE("tree: from_entries takes any order") {
    std::vector<std::pair<std::string, TreeValue>> items;
    for (int i = 99; i >= 0; --i) items.emplace_back(cat("k", i), full({}, i));
    Tree t = Tree::from_entries(items);
    CHECK(t.size() == 100);
    std::string prev;
    int count = 0;
    for (const auto& [key, value] : t) {
      CHECK(prev < key);
      CHECK(value.array().item<int>() == std::stoi(key.substr(1)));
      prev = key;
      ++count;
    }
    CHECK(count == 100);
  }

  TEST_CASE("tree: TreeValue accessors") {
    TreeValue leaf(zeros({3, 4}));
    TreeValue sub(Tree{{"w", zeros({1})}});
    CHECK(leaf.is_array());
    CHECK(sub.is_tree());
    CHECK(leaf.array().shape() == Shape{3, 4});
    CHECK(sub.tree().size() == 1);
    CHECK(message_of([&] { (void)leaf.tree(); }) ==
          "[TreeValue.tree] The value is an Array leaf f32[3,4], not a sub-Tree; check is_tree() "
          "or use array().");
    CHECK(message_of([&] { (void)sub.array(); }) ==
          "[TreeValue.array] The value is a sub-Tree with keys [\"w\"], not an Array leaf; check "
          "is_array() or use tree().");
    CHECK_THROWS_AS((void)leaf.tree(), ValueError);
    CHECK_THROWS_AS((void)sub.array(), ValueError);
    CHECK_THROWS_AS(TreeValue{Array{}}, ValueError);
    CHECK(message_of([] { TreeValue v{Array()}; }) ==
          "[TreeValue] A null Array cannot be a Tree leaf; store a valid Array or an empty Tree.");
  }

  TEST_CASE("tree: lookups by string path and by Path") {
    const Tree t = model_vars();
    CHECK(t.get("params/Dense_0/kernel").shape() == Shape{3, 4});
    CHECK(t.get(Path{"params", "Dense_0", "bias"}).shape() == Shape{4});
    CHECK(t.contains("params/Dense_0"));
    CHECK(t.contains(Path{"batch_stats", "BatchNorm_0", "var"}));
    CHECK_FALSE(t.contains("params/Dense_1"));
    CHECK_FALSE(t.contains("params/Dense_0/kernel/x"));  // through a leaf: absent, no error
    CHECK(t.find("params/Dense_0")->is_tree());
    CHECK(t.find("params/Dense_0/kernel")->is_array());
    CHECK(t.find("params/nope") == nullptr);
    CHECK(t.find(Path{"params", "Dense_0", "kernel", "x"}) == nullptr);
    CHECK(t.at("params").tree().size() == 1);
    CHECK(t.subtree("params/Dense_0").size() == 2);
    CHECK(&t.subtree(Path{"params"}) == &t.at("params").tree());
  }

  TEST_CASE("tree: a key may contain '/' in a Path") {
    Tree t = Tree().set(Path{"a/b", "c"}, ones({2}));
    CHECK(t.keys() == std::vector<std::string>{"a/b"});
    CHECK(t.contains(Path{"a/b", "c"}));
    CHECK_FALSE(t.contains("a/b/c"));  // the string path means three keys
    CHECK(t.get(Path{"a/b", "c"}).shape() == Shape{2});
    CHECK(t.erase(Path{"a/b", "c"}).subtree(Path{"a/b"}).empty());
  }

  TEST_CASE("tree: invalid paths throw ValueError") {
    const Tree t = model_vars();
    for (const char* bad : {"", "/params", "params/", "params//Dense_0"}) {
      CAPTURE(bad);
      CHECK_THROWS_AS((void)t.get(bad), ValueError);
      CHECK_THROWS_AS((void)t.contains(bad), ValueError);
      CHECK_THROWS_AS((void)t.set(bad, zeros({1})), ValueError);
    }
    CHECK(message_of([&] { (void)t.get("params//Dense_0"); }) ==
          "[Tree.get] Invalid path \"params//Dense_0\": it has an empty key; write keys separated "
          "by single '/' characters.");
    CHECK(message_of([&] { (void)t.find(""); }) ==
          "[Tree.find] Invalid path \"\": it is empty; write keys separated by single '/' "
          "characters.");
    CHECK(message_of([&] { (void)t.erase(Path{}); }) ==
          "[Tree.erase] Invalid path []: it is empty; give at least one key.");
  }

  TEST_CASE("tree: KeyError names the full path and the keys that exist") {
    const Tree t = model_vars();
    CHECK_THROWS_AS((void)t.get("params/Dense_0/kernal"), KeyError);
    CHECK(message_of([&] { (void)t.get("params/Dense_0/kernal"); }) ==
          "[Tree.get] No entry \"params/Dense_0/kernal\": \"params/Dense_0\" has keys [\"bias\", "
          "\"kernel\"].");
    CHECK(message_of([&] { (void)t.at("parms/Dense_0"); }) ==
          "[Tree.at] No entry \"parms/Dense_0\": the top level has keys [\"batch_stats\", "
          "\"params\"].");
    CHECK(message_of([&] {
            (void)t.subtree(Path{"params", "Dense_1"});
          }) == "[Tree.subtree] No entry \"params/Dense_1\": \"params\" has keys [\"Dense_0\"].");
    CHECK(message_of([] { (void)Tree().get("a"); }) ==
          "[Tree.get] No entry \"a\": the Tree is empty.");
    CHECK(message_of([] {
            (void)Tree{{"e", Tree{}}}.get("e/x");
          }) == "[Tree.get] No entry \"e/x\": \"e\" is an empty sub-Tree.");
  }

  TEST_CASE("tree: KeyError when descending into a leaf") {
    const Tree t = model_vars();
    CHECK_THROWS_AS((void)t.get("params/Dense_0/kernel/x"), KeyError);
    CHECK(message_of([&] { (void)t.get("params/Dense_0/kernel/x"); }) ==
          "[Tree.get] Cannot descend into \"params/Dense_0/kernel/x\": \"params/Dense_0/kernel\" "
          "is an Array leaf f32[3,4].");
    CHECK(message_of([&] { (void)t.set("params/Dense_0/bias/b/c", zeros({1})); }) ==
          "[Tree.set] Cannot descend into \"params/Dense_0/bias/b/c\": \"params/Dense_0/bias\" is "
          "an Array leaf f32[4].");
    CHECK(message_of([&] { (void)t.erase("params/Dense_0/bias/b"); }) ==
          "[Tree.erase] Cannot descend into \"params/Dense_0/bias/b\": \"params/Dense_0/bias\" is "
          "an Array leaf f32[4].");
    CHECK_THROWS_AS((void)t.set("params/Dense_0/bias/b", zeros({1})), KeyError);
  }

  TEST_CASE("tree: get of a sub-Tree and subtree of a leaf throw KeyError") {
    const Tree t = model_vars();
    CHECK_THROWS_AS((void)t.get("params/Dense_0"), KeyError);
    CHECK(message_of([&] { (void)t.get("params/Dense_0"); }) ==
          "[Tree.get] \"params/Dense_0\" is a sub-Tree with keys [\"bias\", \"kernel\"], not an "
          "Array leaf; use subtree() to read it.");
    CHECK_THROWS_AS((void)t.subtree("params/Dense_0/bias"), KeyError);
    CHECK(message_of([&] { (void)t.subtree("params/Dense_0/bias"); }) ==
          "[Tree.subtree] \"params/Dense_0/bias\" is an Array leaf f32[4], not a sub-Tree; use "
          "get() to read it.");
  }

  TEST_CASE("tree: the key list in a message is cut after 20 keys") {
    Tree t;
    for (int i = 0; i < 25; ++i) t = t.set(Path{cat("k", 100 + i)}, zeros({1}));
    const std::string msg = message_of([&] { (void)t.get("zz"); });
    CHECK(msg.find("\"k119\", ... and 5 more].") != std::string::npos);
    CHECK(msg.find("k120") == std::string::npos);
  }

  TEST_CASE("tree: set returns a new Tree and leaves the old one unchanged") {
    const Tree t = model_vars();
    const Array k2 = ones({3, 4});
    const Tree u = t.set("params/Dense_0/kernel", k2);
    CHECK(u.get("params/Dense_0/kernel").impl() == k2.impl());
    CHECK(t.get("params/Dense_0/kernel").impl() != k2.impl());
    CHECK(t.get("params/Dense_0/kernel").to_vector<float>() == std::vector<float>(12, 0.f));
    // Untouched parts are shared.
    CHECK(u.subtree("batch_stats").identity() == t.subtree("batch_stats").identity());
    CHECK(u.get("params/Dense_0/bias").impl() == t.get("params/Dense_0/bias").impl());
    CHECK(u.identity() != t.identity());
  }

  TEST_CASE("tree: set creates intermediate sub-Trees and can replace a sub-Tree") {
    const Tree t = Tree().set("a/b/c", zeros({1}));
    CHECK(t.to_string() == "a/b/c f32[1]");
    const Tree u = t.set("a/b", ones({2}));  // a sub-Tree replaced by a leaf
    CHECK(u.to_string() == "a/b f32[2]");
    const Tree v = u.set("a/b", Tree{});
    CHECK(v.to_string() == "a/b {}");
    CHECK(v.num_leaves() == 0);
  }

  TEST_CASE("tree: setting the very same value returns the same Tree") {
    const Tree t = model_vars();
    const Tree u = t.set("params/Dense_0/kernel", t.get("params/Dense_0/kernel"));
    CHECK(u.identity() == t.identity());
    const Tree v = t.set("params", t.subtree("params"));
    CHECK(v.identity() == t.identity());
  }

  TEST_CASE("tree: erase") {
    const Tree t = model_vars();
    const Tree u = t.erase("params/Dense_0/bias");
    CHECK_FALSE(u.contains("params/Dense_0/bias"));
    CHECK(u.contains("params/Dense_0/kernel"));
    CHECK(t.contains("params/Dense_0/bias"));
    CHECK(u.num_leaves() == 3);
    // Erasing the last key of a sub-Tree leaves an empty sub-Tree.
    const Tree v = u.erase("params/Dense_0/kernel");
    CHECK(v.subtree("params/Dense_0").empty());
    CHECK(v.erase("batch_stats").erase("params").empty());
    CHECK_THROWS_AS((void)t.erase("params/Dense_0/w"), KeyError);
    CHECK(message_of([&] { (void)t.erase("params/Dense_0/w"); }) ==
          "[Tree.erase] No entry \"params/Dense_0/w\": \"params/Dense_0\" has keys [\"bias\", "
          "\"kernel\"].");
  }

  TEST_CASE("tree: merge is deep and right-biased") {
    const Tree a{
        {"params", Tree{{"x", zeros({1})}, {"y", zeros({2})}, {"s", Tree{{"p", zeros({3})}}}}},
        {"stats", Tree{{"m", zeros({1})}}}};
    const Tree b{{"params", Tree{{"y", ones({5})}, {"z", ones({1})}, {"s", ones({4})}}},
                 {"extra", Tree{}}};
    const Tree m = a.merge(b);
    CHECK(m.to_string() ==
          "extra {}\n"
          "params/s f32[4]\n"  // a leaf of b replaces a sub-Tree of a
          "params/x f32[1]\n"
          "params/y f32[5]\n"
          "params/z f32[1]\n"
          "stats/m f32[1]");
    CHECK(m.get("params/y").impl() == b.get("params/y").impl());
    CHECK(m.subtree("stats").identity() == a.subtree("stats").identity());
    // A sub-Tree on the right replaces a leaf on the left; an empty sub-Tree merges as nothing.
    const Tree c{{"params", Tree{{"x", Tree{{"q", ones({1})}}}, {"s", Tree{}}}}};
    CHECK(a.merge(c).to_string() ==
          "params/s/p f32[3]\nparams/x/q f32[1]\nparams/y f32[2]\nstats/m f32[1]");
    CHECK(a.merge(Tree()).identity() == a.identity());
    CHECK(Tree().merge(b).identity() == b.identity());
    CHECK(a.merge(a).identity() == a.identity());
  }

  TEST_CASE("tree: to_string and operator<<") {
    const Tree t = model_vars().set("params/Empty_0", Tree{});
    const std::string expected =
        "batch_stats/BatchNorm_0/mean f32[4]\n"
        "batch_stats/BatchNorm_0/var f32[4]\n"
        "params/Dense_0/bias f32[4]\n"
        "params/Dense_0/kernel f32[3,4]\n"
        "params/Empty_0 {}";
    CHECK(t.to_string() == expected);
    std::ostringstream os;
    os << t;
    CHECK(os.str() == expected);
    CHECK(Tree{{"s", Array::scalar(2, int32)}}.to_string() == "s i32[]");
  }

  TEST_CASE("tree: iteration visits keys in byte order across many B+-tree nodes") {
    Tree t;
    std::vector<std::string> expected;
    for (int i = 0; i < 1000; ++i) {
      const std::string key = std::to_string((i * 7919) % 1000);
      t = t.set(Path{key}, full({}, i));
      expected.push_back(key);
    }
    std::sort(expected.begin(), expected.end());
    std::vector<std::string> seen;
    for (auto it = t.begin(); it != t.end(); it++) seen.push_back(it->key);
    CHECK(seen == expected);
    CHECK(t.keys() == expected);
    CHECK(t.size() == 1000);
    CHECK(t.num_leaves() == 1000);
    // Byte order: uppercase before underscore before lowercase.
    const Tree u{{"b", zeros({1})}, {"_", zeros({1})}, {"B", zeros({1})}, {"a", zeros({1})}};
    CHECK(u.keys() == std::vector<std::string>{"B", "_", "a", "b"});
  }

}  // TEST_SUITE
