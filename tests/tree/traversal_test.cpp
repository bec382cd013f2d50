#include <doctest/doctest.h>

#include "jute/tree.hpp"
#include "tree/tree_helpers.hpp"

using namespace jute;
using jute::tree_test::message_of;

namespace {

Tree sample() {
  return Tree{{"params", Tree{{"Dense_0", Tree{{"kernel", zeros({3, 4})}, {"bias", zeros({4})}}},
                              {"Dense_1", Tree{{"kernel", zeros({4, 2})}, {"bias", zeros({2})}}}}},
              {"opt", Tree{{"count", Array::scalar(0, int32)}, {"empty", Tree{}}}}};
}

std::vector<std::string> paths_of(const std::vector<std::pair<std::string, Array>>& flat) {
  std::vector<std::string> out;
  for (const auto& [p, a] : flat) out.push_back(p);
  return out;
}

Array plus(const Array& a, float d) {
  std::vector<float> v = a.to_vector<float>();
  for (auto& x : v) x += d;
  return Array::from_vector(v, a.shape());
}

}  // namespace

TEST_SUITE("tree") {
  TEST_CASE("tree: flatten in iteration order, with and without empty nodes") {
    const Tree t = sample();
    const auto flat = flatten(t);
    CHECK(paths_of(flat) == std::vector<std::string>{"opt/count", "params/Dense_0/bias",
                                                     "params/Dense_0/kernel", "params/Dense_1/bias",
                                                     "params/Dense_1/kernel"});
    CHECK(flat[2].second.impl() == t.get("params/Dense_0/kernel").impl());
    const auto with_empty = flatten(t, true);
    CHECK(paths_of(with_empty) ==
          std::vector<std::string>{"opt/count", "opt/empty", "params/Dense_0/bias",
                                   "params/Dense_0/kernel", "params/Dense_1/bias",
                                   "params/Dense_1/kernel"});
    CHECK_FALSE(with_empty[1].second.valid());
    CHECK(unflatten(with_empty) == t);
    CHECK(unflatten(flat) == t.erase("opt/empty"));
  }

  TEST_CASE("tree: flatten order is key order at each level, not string order of paths") {
    // "a" < "a-b" as keys, though "a-b" < "a/x" as strings ('-' sorts before '/').
    const Tree t{{"a", Tree{{"x", zeros({1})}}}, {"a-b", zeros({1})}};
    CHECK(paths_of(flatten(t)) == std::vector<std::string>{"a/x", "a-b"});
  }

  TEST_CASE("tree: flatten rejects keys that a '/'-joined path cannot name") {
    const Tree t = Tree().set(Path{"p", "a/b"}, zeros({1}));
    CHECK_THROWS_AS(flatten(t), ValueError);
    CHECK(message_of([&] { flatten(t); }) ==
          "[flatten] The key \"a/b\" in \"p/a/b\" contains '/', so a '/'-joined path cannot name "
          "it; use flatten_paths for such Trees.");
    const Tree e = Tree().set(Path{"p", ""}, zeros({1}));
    CHECK(message_of([&] { flatten(e); }) ==
          "[flatten] The key \"\" in \"p/\" is empty, so a '/'-joined path cannot name it; use "
          "flatten_paths for such Trees.");
    // flatten_paths handles both.
    const auto fp = flatten_paths(t.merge(e));
    REQUIRE(fp.size() == 2);
    CHECK(fp[0].first == Path{"p", ""});
    CHECK(fp[1].first == Path{"p", "a/b"});
    CHECK(unflatten_paths(fp) == t.merge(e));
  }

  TEST_CASE("tree: unflatten accepts any order and rejects conflicts") {
    const Tree t = unflatten({{"b/y", ones({1})}, {"a", zeros({2})}, {"b/x", zeros({3})}});
    CHECK(t.to_string() == "a f32[2]\nb/x f32[3]\nb/y f32[1]");
    CHECK(unflatten({}).empty());
    CHECK(unflatten({{"e", Array()}}).to_string() == "e {}");
    CHECK_THROWS_AS(unflatten({{"a/b", zeros({1})}, {"a/b", ones({1})}}), ValueError);
    CHECK(message_of([] {
            unflatten({{"a/b", zeros({1})}, {"a/b", ones({1})}});
          }) == "[unflatten] Path \"a/b\" appears more than once; give each path once.");
    CHECK(message_of([] {
            unflatten({{"a/b/c", zeros({1})}, {"a/b", ones({1})}});
          }) ==
          "[unflatten] Path \"a/b\" holds a value and is also a prefix of \"a/b/c\"; a path "
          "cannot be both a leaf and a sub-Tree.");
    CHECK_THROWS_AS(unflatten({{"a//b", zeros({1})}}), ValueError);
    CHECK(message_of([] {
            unflatten_paths({{Path{}, zeros({1})}});
          }) == "[unflatten_paths] Invalid path []: it is empty; give at least one key.");
  }

  TEST_CASE("tree: leaves and with_leaves") {
    const Tree t = sample();
    const auto ls = leaves(t);
    REQUIRE(ls.size() == 5);
    CHECK(ls[0].impl() == t.get("opt/count").impl());
    CHECK(ls[4].impl() == t.get("params/Dense_1/kernel").impl());
    std::vector<Array> replaced;
    for (const auto& a : ls) replaced.push_back(ones(a.shape(), a.dtype()));
    const Tree u = with_leaves(t, replaced);
    CHECK(same_structure(t, u));
    CHECK(u.get("params/Dense_0/kernel").to_vector<float>() == std::vector<float>(12, 1.f));
    CHECK(u.get("opt/count").item<int>() == 1);
    CHECK(u.subtree("opt/empty").empty());
    CHECK_THROWS_AS(with_leaves(t, {zeros({1})}), ValueError);
    CHECK(message_of([&] { with_leaves(t, {zeros({1})}); }) ==
          "[with_leaves] The Tree has 5 leaves but 1 Arrays were given; give one Array per leaf, "
          "in flatten order.");
  }

  TEST_CASE("tree: tree_map over one, two and many trees") {
    const Tree t = Tree{{"a", Array({1.f, 2.f})}, {"b", Tree{{"c", Array({3.f})}, {"e", Tree{}}}}};
    const Tree u = tree_map([](const Array& a) { return plus(a, 10.f); }, t);
    CHECK(u.get("a").to_vector<float>() == std::vector<float>{11.f, 12.f});
    CHECK(u.get("b/c").to_vector<float>() == std::vector<float>{13.f});
    CHECK(u.subtree("b/e").empty());
    const Tree s = tree_map(
        [](const Array& x, const Array& y) {
          std::vector<float> a = x.to_vector<float>(), b = y.to_vector<float>();
          for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
          return Array::from_vector(a, x.shape());
        },
        t, u);
    CHECK(s.get("a").to_vector<float>() == std::vector<float>{12.f, 14.f});
    CHECK(s.get("b/c").to_vector<float>() == std::vector<float>{16.f});
    const Tree n = tree_map(
        [](const std::vector<Array>& xs) {
          return Array::from_vector(std::vector<float>{static_cast<float>(xs.size())}, {1});
        },
        {t, u, s});
    CHECK(n.get("a").to_vector<float>() == std::vector<float>{3.f});
    CHECK(same_structure(n, t));
    // The function is called in flatten order.
    std::vector<std::string> order;
    tree_map_with_path(
        [&](const std::string& path, const Array& a) {
          order.push_back(path);
          return a;
        },
        t);
    CHECK(order == std::vector<std::string>{"a", "b/c"});
  }

  TEST_CASE("tree: tree_map errors") {
    const Tree t{{"a", zeros({1})}, {"b", Tree{{"c", zeros({1})}}}};
    const Tree other{{"a", zeros({1})}, {"b", Tree{{"d", zeros({1})}}}};
    CHECK_THROWS_AS(tree_map([](const Array& x, const Array&) { return x; }, t, other), ValueError);
    CHECK(message_of([&] { tree_map([](const Array& x, const Array&) { return x; }, t, other); }) ==
          "[tree_map] Tree 1 differs in structure from Tree 0 (at b/c the first tree has a leaf "
          "and the second has none); map over Trees of the same structure.");
    CHECK(message_of([] { tree_map([](const std::vector<Array>& x) { return x[0]; }, {}); }) ==
          "[tree_map] No Trees were given; give at least one.");
    CHECK(message_of([&] { tree_map([](const Array&) { return Array(); }, t); }) ==
          "[tree_map] The function returned a null Array for \"a\"; return a valid Array for every "
          "leaf.");
    CHECK(message_of([&] {
            tree_map_with_path(
                [](const std::string& p, const Array& a) { return p == "b/c" ? Array() : a; }, t);
          }) ==
          "[tree_map_with_path] The function returned a null Array for \"b/c\"; return a valid "
          "Array for every leaf.");
  }

  TEST_CASE("tree: num_params and nbytes") {
    const Tree t = sample();
    CHECK(num_params(t) == 12 + 4 + 8 + 2 + 1);
    CHECK(nbytes(t) == (12 + 4 + 8 + 2) * 4 + 4);
    const Tree mixed{{"d", zeros({2, 3}, float64)}, {"u", zeros({5}, uint8)}, {"z", zeros({0, 7})}};
    CHECK(num_params(mixed) == 11);
    CHECK(nbytes(mixed) == 6 * 8 + 5);
    CHECK(num_params(Tree()) == 0);
    CHECK(nbytes(Tree()) == 0);
  }

}  // TEST_SUITE
