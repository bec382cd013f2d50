#include <doctest/doctest.h>

#include <limits>

#include "jute/tree.hpp"

using namespace jute;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();

Array f32(std::vector<double> v) {
  const auto n = static_cast<std::int64_t>(v.size());
  return Array::from_vector(v, {n}, float32);
}
}  // namespace

TEST_SUITE("tree") {
  TEST_CASE("tree: equality compares keys, structure, dtypes, shapes and bits") {
    const Tree a{{"p", Tree{{"w", f32({1, 2})}, {"b", zeros({2})}}}};
    CHECK(a == a);
    CHECK(a == Tree{{"p", Tree{{"b", zeros({2})}, {"w", f32({1, 2})}}}});  // separate storage
    CHECK(a != a.set("p/w", f32({1, 3})));
    CHECK(a != a.set("p/w", zeros({2}, float64)));  // same values, another dtype
    CHECK(a != a.set("p/w", f32({1, 2, 0})));
    CHECK(a != a.set("p/w", Array::from_vector(std::vector<float>{1, 2}, {1, 2})));  // shape
    CHECK(a != a.set("p/c", zeros({1})));
    CHECK(a != a.erase("p/b"));
    CHECK(a != a.set("p/b", Tree{}));  // a leaf vs an empty sub-Tree
    CHECK(a != Tree{{"q", Tree{{"w", f32({1, 2})}, {"b", zeros({2})}}}});
    CHECK(Tree() == Tree());
    CHECK(Tree{{"e", Tree{}}} == Tree{{"e", Tree{}}});
    CHECK(Tree{{"e", Tree{}}} != Tree());
  }

  TEST_CASE("tree: equality treats NaN as equal to NaN and -0.0 as differing from 0.0") {
    const Tree n1{{"x", f32({1, kNaN})}};
    const Tree n2{{"x", f32({1, -kNaN})}};
    CHECK(n1 == n2);
    CHECK(Tree{{"x", zeros({1}, float64)}} != Tree{{"x", full({1}, -0.0, float64)}});
    CHECK(Tree{{"x", Array::from_vector(std::vector<double>{kNaN}, {1}, float64)}} ==
          Tree{{"x", Array::from_vector(std::vector<double>{kNaN}, {1}, float64)}});
    CHECK(Tree{{"x", f32({kNaN})}} != Tree{{"x", f32({1})}});
  }

  TEST_CASE("tree: equality ignores the weak-type flag of scalars") {
    CHECK(Tree{{"s", Array(2.0f)}} == Tree{{"s", Array::scalar(2.0, float32)}});
  }

  TEST_CASE("tree: same_structure and structure_difference") {
    const Tree a{{"p", Tree{{"w", zeros({2})}, {"s", Tree{{"x", zeros({1})}}}}}};
    CHECK(same_structure(a, a));
    CHECK(structure_difference(a, a).empty());
    // Leaf shapes and dtypes are not structure.
    CHECK(same_structure(a, a.set("p/w", ones({7, 7}, int32))));
    CHECK(structure_difference(a, a.erase("p/w")) ==
          "at p/w the first tree has a leaf and the second has none");
    CHECK(structure_difference(a.erase("p/w"), a) ==
          "at p/w the first tree has none and the second has a leaf");
    CHECK(structure_difference(a, a.set("p/s", zeros({1}))) ==
          "at p/s the first tree has a sub-Tree and the second has a leaf");
    CHECK(structure_difference(a, a.set("p/s/y", zeros({1}))) ==
          "at p/s/y the first tree has none and the second has a leaf");
    CHECK(structure_difference(a, a.set("p/a", Tree{})) ==
          "at p/a the first tree has none and the second has a sub-Tree");
    // The first difference in iteration order is named.
    CHECK(structure_difference(a, a.erase("p/w").erase("p/s/x")) ==
          "at p/s/x the first tree has a leaf and the second has none");
    CHECK_FALSE(same_structure(a, Tree()));
  }

}  // TEST_SUITE

TEST_SUITE("tree") {
  TEST_CASE("tree: allclose compares structure, shapes and values within tolerance") {
    const Tree a{{"p", Tree{{"w", f32({1, 2})}, {"b", f32({kNaN})}}}, {"e", Tree{}}};
    CHECK(allclose(a, a));
    CHECK(allclose(a, a.set("p/w", f32({1.000001, 2}))));
    CHECK_FALSE(allclose(a, a.set("p/w", f32({1.1, 2}))));
    CHECK(allclose(a, a.set("p/w", f32({1.1, 2})), 0.0, 0.2));
    CHECK(allclose(a, a.set("p/w", f32({1.1, 2})), 0.1, 0.0));
    CHECK_FALSE(allclose(a, a.set("p/b", f32({1}))));  // NaN only equals NaN
    CHECK(allclose(a, a.set("p/b", f32({-kNaN}))));
    CHECK_FALSE(allclose(a, a.set("p/w", f32({1, 2, 3}))));  // shape
    CHECK(allclose(a, a.set("p/w", Array::from_vector(std::vector<double>{1, 2}, {2}, float64))));
    CHECK_FALSE(allclose(a, a.erase("e")));  // structure
    CHECK_FALSE(allclose(a, a.set("e", f32({1}))));
    CHECK_FALSE(allclose(a, a.set("p/x", f32({1}))));
  }

}  // TEST_SUITE
