// Datasets: batching, drop_remainder, deterministic shuffling by a key, lazy maps, normalisation.
#include "jute/io/dataset.hpp"

#include <doctest/doctest.h>

#include <set>

#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "ops/op_checks.hpp"

using namespace jute;
using jute_test::check_array;

namespace {
io::Dataset ten() {
  return io::Dataset(Tree{{"x", reshape(arange(20), {10, 2})}, {"y", arange(10).astype(uint8)}});
}
}  // namespace

TEST_SUITE("io.dataset") {
  TEST_CASE("in-order batches, with and without the remainder") {
    const io::Dataset ds = ten();
    CHECK(ds.size() == 10);
    const io::Epoch e = ds.batches({.batch_size = 4});
    CHECK(e.size() == 3);
    std::vector<std::vector<int>> ys;
    for (const Tree& b : e) {
      ys.push_back(b.get("y").to_vector<int>());
      CHECK(b.get("x").shape(0) == b.get("y").shape(0));
    }
    CHECK(ys == std::vector<std::vector<int>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}});
    check_array(e[2].get("x"), int32, {2, 2}, {16, 17, 18, 19});
    CHECK(ds.batches({.batch_size = 4, .drop_remainder = true}).size() == 2);
    CHECK(ds.num_batches({.batch_size = 10, .drop_remainder = true}) == 1);
    CHECK(ds.num_batches({.batch_size = 11, .drop_remainder = true}) == 0);
    CHECK_THROWS_AS(ds.batches({.batch_size = 0}), ValueError);
    CHECK_THROWS_AS(e[3], IndexError);
  }

  TEST_CASE("shuffling follows random::permutation(key, n): deterministic, a permutation") {
    const io::Dataset ds = ten();
    const Array key = random::key(42);
    const io::Epoch a = ds.batches({.batch_size = 3}, key);
    const io::Epoch b = ds.batches({.batch_size = 3}, key);
    CHECK(array_equal(a.order(), random::permutation(key, 10)));
    std::vector<int> seen;
    for (std::int64_t i = 0; i < a.size(); ++i) {
      CHECK(a[i] == b[i]);
      for (int y : a[i].get("y").to_vector<int>()) seen.push_back(y);
      // x rows travel with their labels.
      const auto x = a[i].get("x").to_vector<int>();
      const auto y = a[i].get("y").to_vector<int>();
      for (std::size_t r = 0; r < y.size(); ++r) CHECK(x[2 * r] == 2 * y[r]);
    }
    CHECK(seen == random::permutation(key, 10).to_vector<int>());
    CHECK(std::set<int>(seen.begin(), seen.end()).size() == 10);
    const io::Epoch other = ds.batches({.batch_size = 3}, random::key(43));
    CHECK_FALSE(array_equal(other.order(), a.order()));
  }

  TEST_CASE("map applies per batch, in order; take keeps the first examples") {
    const io::Dataset ds =
        ten().map([](Tree t) { return t.set("y", t.get("y").astype(int32) * 2); }).map([](Tree t) {
          return t.set("y", t.get("y") + 1);
        });
    check_array(ds.batches({.batch_size = 4})[0].get("y"), int32, {4}, {1, 3, 5, 7});
    const io::Dataset few = ds.take(3);
    CHECK(few.size() == 3);
    check_array(few.batches({.batch_size = 8})[0].get("y"), int32, {3}, {1, 3, 5});
    CHECK(ten().examples().get("y").dtype() == uint8);  // the stored examples are untouched
  }

  TEST_CASE("leaves must agree on the number of examples") {
    CHECK_THROWS_AS(io::Dataset(Tree{{"x", zeros({3, 2})}, {"y", zeros({4})}}), ValueError);
    CHECK_THROWS_AS(io::Dataset(Tree{{"x", Array::scalar(1, int32)}}), ValueError);
    CHECK_THROWS_AS(io::Dataset(Tree{}), ValueError);
  }

  TEST_CASE("normalisation: [0, 1] and mean/std") {
    const Array px = Array({0, 51, 255}).astype(uint8);
    check_array(io::scale_to_unit(px), float32, {3}, {0.0, 0.2f, 1.0});
    const auto [mean, stddev] = io::mean_std(Array({1.f, 3.f}));
    CHECK(mean == 2.0);
    CHECK(stddev == 1.0);
    check_array(io::standardize(Array({1.f, 3.f}), mean, stddev), float32, {2}, {-1, 1});
    CHECK_THROWS_AS(io::standardize(px, 0, 0), ValueError);
  }
}
