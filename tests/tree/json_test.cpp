#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "jute/tree.hpp"

using namespace jute;

TEST_SUITE("tree") {
  TEST_CASE("tree: to_json writes nested objects with one leaf per line") {
    const double inf = std::numeric_limits<double>::infinity();
    const Tree t{
        {"params",
         Tree{{"Dense_0",
               Tree{{"kernel", Array({{0.1f, -2.f, 3.5f}, {1e-7f, 0.f, 100.f}})},
                    {"bias", Array::from_vector(std::vector<double>{0.1, -inf}, {2}, float64)}}},
              {"empty", Tree{}}}},
        {"step", Array::scalar(7, int32)},
        {"flags", Array({true, false})},
        {"odd \"key\"", Array::from_vector(std::vector<double>{std::nan(""), inf}, {2})},
        {"none", zeros({0, 2}, uint8)},
    };
    CHECK(to_json(t) == R"({
  "flags": {"dtype": "bool", "shape": [2], "values": [true, false]},
  "none": {"dtype": "uint8", "shape": [0, 2], "values": []},
  "odd \"key\"": {"dtype": "float32", "shape": [2], "values": ["nan", "inf"]},
  "params": {
    "Dense_0": {
      "bias": {"dtype": "float64", "shape": [2], "values": [0.1, "-inf"]},
      "kernel": {"dtype": "float32", "shape": [2, 3], "values": [[0.1, -2, 3.5], [1e-07, 0, 100]]}
    },
    "empty": {}
  },
  "step": {"dtype": "int32", "shape": [], "values": 7}
})");
    CHECK(to_json(Tree{{"a", Tree{{"b", Array({1, 2})}}}}, -1) ==
          R"({"a": {"b": {"dtype": "int32", "shape": [2], "values": [1, 2]}}})");
    CHECK(to_json(Tree{{"a", zeros({1})}}, 0) ==
          "{\n\"a\": {\"dtype\": \"float32\", \"shape\": [1], \"values\": [0]}\n}");
    CHECK(to_json(Tree()) == "{}");
  }

  TEST_CASE("tree: to_json prints float32 and float64 values in their shortest round-trip form") {
    const Tree t{{"f", Array({0.3f})},
                 {"d", Array::from_vector(std::vector<double>{0.3}, {1}, float64)},
                 {"tiny", Array({1.17549435e-38f})},
                 {"neg0", Array({-0.f})}};
    CHECK(to_json(t, -1) ==
          R"({"d": {"dtype": "float64", "shape": [1], "values": [0.3]}, )"
          R"("f": {"dtype": "float32", "shape": [1], "values": [0.3]}, )"
          R"("neg0": {"dtype": "float32", "shape": [1], "values": [-0]}, )"
          R"("tiny": {"dtype": "float32", "shape": [1], "values": [1.1754944e-38]}})");
  }

}  // TEST_SUITE
