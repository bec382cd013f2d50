#include <doctest/doctest.h>

#include "jute/array.hpp"

using namespace jute;

TEST_CASE("array: construction from nested lists") {
  Array a({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
  CHECK(a.dtype() == float32);
  CHECK(a.shape() == Shape{2, 3});
  CHECK(a.at<float>({1, 2}) == 6.f);
  CHECK(a.type_string() == "f32[2,3]");
  Array i({1, 2, 3});
  CHECK(i.dtype() == int32);
  CHECK_THROWS_AS(Array({{1, 2}, {3}}), ShapeError);
}
