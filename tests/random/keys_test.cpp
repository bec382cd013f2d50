// Keys: seeding, split, fold_in, key_at and the key checks every random function makes.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cstdint>
#include <string>
#include <vector>

#include "jute/random.hpp"

using namespace jute;
namespace jr = jute::random;

namespace {

std::vector<std::uint32_t> words(const Array& a) { return a.to_vector<std::uint32_t>(); }

}  // namespace

TEST_SUITE("random") {
  TEST_CASE("random.key: seeds follow JAX with x64 off ([0, seed mod 2^32]) and on") {
    const Array k = jr::key(0);
    CHECK(k.dtype() == uint32);
    CHECK(k.shape() == Shape{2});
    CHECK(words(k) == std::vector<std::uint32_t>{0, 0});
    CHECK(words(jr::key(42)) == std::vector<std::uint32_t>{0, 42});
    CHECK(words(jr::key(-1)) == std::vector<std::uint32_t>{0, 4294967295u});
    CHECK(words(jr::key(2147483747)) == std::vector<std::uint32_t>{0, 2147483747u});
    CHECK(words(jr::key(-2147483748)) == std::vector<std::uint32_t>{0, 2147483548u});
    CHECK(words(jr::key(std::int64_t{1} << 40)) == std::vector<std::uint32_t>{0, 0});
    CHECK(words(jr::key(-1, true)) == std::vector<std::uint32_t>{4294967295u, 4294967295u});
    CHECK(words(jr::key(std::int64_t{1} << 40, true)) == std::vector<std::uint32_t>{256, 0});
    CHECK(words(jr::key(2147483747, true)) == std::vector<std::uint32_t>{0, 2147483747u});
  }

  TEST_CASE("random.split: JAX's partitionable split of key(0)") {
    const Array ks = jr::split(jr::key(0));
    CHECK(ks.dtype() == uint32);
    CHECK(ks.shape() == Shape{2, 2});
    CHECK(words(ks) ==
          std::vector<std::uint32_t>{1797259609u, 2579123966u, 928981903u, 3453687069u});
    CHECK(words(jr::split(jr::key(0), 0)).empty());
    CHECK(jr::split(jr::key(0), 0).shape() == Shape{0, 2});
    const Array grid = jr::split(jr::key(0), Shape{2, 3});
    CHECK(grid.shape() == Shape{2, 3, 2});
    CHECK(words(jr::split(jr::key(0), Shape{})) == words(jr::fold_in(jr::key(0), 0)));
  }

  TEST_CASE("random.fold_in: known answers") {
    CHECK(words(jr::fold_in(jr::key(0), 0)) ==
          std::vector<std::uint32_t>{1797259609u, 2579123966u});
    CHECK(words(jr::fold_in(jr::key(0), 1)) == std::vector<std::uint32_t>{928981903u, 3453687069u});
    // Flax's first make_rng under key(0) (flax.md 1.7): fold_in(key(0), 3213575472).
    CHECK(words(jr::fold_in(jr::key(0), 3213575472u)) ==
          std::vector<std::uint32_t>{1428664606u, 3351135085u});
  }

  TEST_CASE("random.split: split(k, n)[i] == fold_in(k, i), also for grids") {
    CHECK(rc::check("split(k, n)[i] == fold_in(k, i)", [](std::int64_t seed) {
      const auto n = static_cast<std::int64_t>(*rc::gen::inRange(1, 40));
      const auto i = *rc::gen::inRange<std::int64_t>(0, n);
      const Array k = jr::key(seed);
      const Array ks = jr::split(k, n);
      RC_ASSERT(words(jr::key_at(ks, i)) == words(jr::fold_in(k, static_cast<std::uint32_t>(i))));
      const Array grid = jr::split(k, Shape{n, 3});
      const auto g = grid.to_vector<std::uint32_t>();
      const auto j = static_cast<std::size_t>(3 * i + 2);
      RC_ASSERT((std::vector<std::uint32_t>{g[2 * j], g[2 * j + 1]}) ==
                words(jr::fold_in(k, static_cast<std::uint32_t>(j))));
    }));
  }

  TEST_CASE("random.key_at: picks one key, negative indices count from the end") {
    const Array ks = jr::split(jr::key(3), 4);
    CHECK(words(jr::key_at(ks, -1)) == words(jr::key_at(ks, 3)));
    CHECK(jr::key_at(ks, 0).shape() == Shape{2});
    CHECK_THROWS_AS(jr::key_at(ks, 4), IndexError);
    CHECK_THROWS_AS(jr::key_at(ks, -5), IndexError);
    CHECK_THROWS_AS(jr::key_at(jr::key(0), 0), ShapeError);
    CHECK_THROWS_AS(jr::key_at(Array({{1.f, 2.f}}), 0), DtypeError);
  }

  TEST_CASE("random: a key of the wrong shape or dtype is a typed error naming the function") {
    CHECK_THROWS_WITH_AS(jr::uniform(Array({1.f, 2.f, 3.f})),
                         "[random.uniform] Expected a key of shape (2,) and dtype uint32, got "
                         "f32[3]; make one with jute::random::key(seed).",
                         DtypeError);
    CHECK_THROWS_WITH_AS(jr::normal(Array({1u, 2u, 3u})),
                         "[random.normal] Expected a key of shape (2,) and dtype uint32, got "
                         "u32[3]; make one with jute::random::key(seed).",
                         ShapeError);
    CHECK_THROWS_AS(jr::split(jr::split(jr::key(0), 2)), ShapeError);  // a batch, not one key
    CHECK_THROWS_AS(jr::fold_in(Array({1, 2}), 0), DtypeError);
    CHECK_THROWS_AS(jr::bits(Array()), ValueError);
    for (auto f : {+[](const Array& k) { return jr::bits(k); },
                   +[](const Array& k) { return jr::uniform(k); },
                   +[](const Array& k) { return jr::normal(k); },
                   +[](const Array& k) { return jr::truncated_normal(k, -1, 1); },
                   +[](const Array& k) { return jr::bernoulli(k); },
                   +[](const Array& k) { return jr::randint(k, {}, 0, 3); },
                   +[](const Array& k) { return jr::permutation(k, 3); },
                   +[](const Array& k) {
                     return jr::categorical(k, Array({1.f, 2.f}));
                   },
                   +[](const Array& k) { return jr::gumbel(k); },
                   +[](const Array& k) { return jr::exponential(k); },
                   +[](const Array& k) { return jr::choice(k, 3); },
                   +[](const Array& k) { return jr::split(k); },
                   +[](const Array& k) { return jr::fold_in_path(k, {}, 1); }})
      CHECK_THROWS_AS(f(Array({0u, 0u, 0u})), ShapeError);
  }

  TEST_CASE("random.split: a negative count or dimension is a ValueError/ShapeError") {
    CHECK_THROWS_WITH_AS(jr::split(jr::key(0), -1),
                         "[random.split] The number of keys must be non-negative, got -1.",
                         ValueError);
    CHECK_THROWS_WITH_AS(jr::split(jr::key(0), Shape{2, -3}),
                         "[random.split] Shape (2,-3) has a negative dimension; every dimension "
                         "must be >= 0.",
                         ShapeError);
  }
}
