// Indexing ops: exact values (NumPy / JAX as reference), error paths, derivative rules (first and
// second order) against central differences, and RapidCheck properties.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <string>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "jute/testing/check_grads.hpp"
#include "ops/op_checks.hpp"

using namespace jute;
using jute_test::check_array;
using jute_test::check_vjp1;
using jute_test::message_of;
using jute_test::rand_f64;

TEST_SUITE("index") {
  TEST_CASE("index: take along an axis and from the flattened array") {
    const Array a = arange(12).astype(float32);
    const Array m = reshape(a, {3, 4});
    check_array(take(m, Array({{2, -1}, {0, 0}}), 1), float32, {3, 2, 2},
                {2, 3, 0, 0, 6, 7, 4, 4, 10, 11, 8, 8});
    check_array(take(m, Array({5, 11, -1})), float32, {3}, {5, 11, 11});
    check_array(take(m, Array({2, 0}), 0), float32, {2, 4}, {8, 9, 10, 11, 0, 1, 2, 3});
    check_array(take(m, Array(1), 0), float32, {4}, {4, 5, 6, 7});
    check_array(take(m, Array({1u, 1u}, uint32), -1), float32, {3, 2}, {1, 1, 5, 5, 9, 9});
    check_array(take(m, Array({3}, uint8), 1), float32, {3, 1}, {3, 7, 11});
    check_array(take(m, zeros({0}, int32), 1), float32, {3, 0}, {});
    check_array(take(arange(6, int32), Array({{0, 5}, {1, 2}})), int32, {2, 2}, {0, 5, 1, 2});
  }

  TEST_CASE("index: take errors") {
    const Array m = reshape(arange(12).astype(float32), {3, 4});
    CHECK(message_of([&] { take(m, Array({4}), 1); }) ==
          "[take] Index 4 is out of bounds for axis 1 with size 4 of an array of shape (3,4); "
          "indices must lie in [-size, size).");
    CHECK_THROWS_AS(take(m, Array({4}), 1), IndexError);
    CHECK_THROWS_AS(take(m, Array({-5}), 1), IndexError);
    CHECK_THROWS_AS(take(m, Array({12})), IndexError);
    CHECK_THROWS_AS(take(zeros({0}), Array({0})), IndexError);
    CHECK_THROWS_AS(take(m, Array({1.f}), 0), DtypeError);
    CHECK_THROWS_AS(take(m, Array({true}), 0), DtypeError);
    CHECK_THROWS_AS(take(m, Array({0}), 2), ShapeError);
  }

  TEST_CASE("index: take_along_axis") {
    const Array a = reshape(arange(12), {3, 4});
    check_array(take_along_axis(a, Array({{3}, {0}, {1}}), 1), int32, {3, 1}, {3, 4, 9});
    check_array(take_along_axis(a, Array({{2, 1, 0, 0}}), 0), int32, {1, 4}, {8, 5, 2, 3});
    check_array(take_along_axis(a, Array({{-1, 0}}), 1), int32, {3, 2}, {3, 0, 7, 4, 11, 8});
    // The array broadcasts against the indices too (as NumPy's fancy indexing).
    check_array(take_along_axis(Array({{1.f, 2.f, 3.f}}), Array({{0}, {2}}), 1), float32, {2, 1},
                {1, 3});
    const Array x = reshape(arange(24).astype(float64), {2, 3, 4});
    check_array(take_along_axis(x, Array({{{1}, {0}, {2}}, {{0}, {0}, {1}}}), 2), float64,
                {2, 3, 1}, {1, 4, 10, 12, 16, 21});
  }

  TEST_CASE("index: take_along_axis errors") {
    const Array a = reshape(arange(12), {3, 4});
    CHECK(message_of([&] { take_along_axis(a, Array({1}), 1); }) ==
          "[take_along_axis] Indices must have the same number of dimensions as the array, got "
          "indices of shape (1,) for an array of shape (3,4).");
    CHECK(message_of([&] {
            take_along_axis(a, Array({{0}, {0}}), 1);
          }) ==
          "[take_along_axis] Indices of shape (2,1) do not broadcast against the array of shape "
          "(3,4) on axis 0; every axis but the gather axis must match or be 1.");
    CHECK_THROWS_AS(take_along_axis(a, Array({{0}, {0}}), 1), ShapeError);
    CHECK_THROWS_AS(take_along_axis(a, Array({{4}}), 1), IndexError);
    CHECK_THROWS_AS(take_along_axis(a, Array({{0.f}}), 1), DtypeError);
    CHECK_THROWS_AS(take_along_axis(a, Array({{0}}), 2), ShapeError);
  }

  TEST_CASE("index: one_hot (as jax.nn.one_hot)") {
    check_array(one_hot(Array({0, 2, -1, 3}), 3), float32, {4, 3},
                {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0});
    check_array(one_hot(Array({{1}, {0}}, uint8), 2, int32), int32, {2, 1, 2}, {0, 1, 1, 0});
    check_array(one_hot(Array(1), 2, bool_), bool_, {2}, {0, 1});
    check_array(one_hot(Array({4000000000u}, uint32), 2, float64), float64, {1, 2}, {0, 0});
    check_array(one_hot(Array({1}), 0), float32, {1, 0}, {});
    CHECK_THROWS_AS(one_hot(Array({1.f}), 2), DtypeError);
    CHECK(message_of([&] { one_hot(Array({1.f}), 2); }) ==
          "[one_hot] Indices must have an integer dtype, got float32; convert them with "
          "astype(int32).");
    CHECK_THROWS_AS(one_hot(Array({true}), 2), DtypeError);
    CHECK_THROWS_AS(one_hot(Array({1}), -1), ValueError);
  }

  TEST_CASE("index: vjp rules (scatter-add of the cotangent) match finite differences") {
    const Array x = rand_f64({3, 4}, 11);
    const Array idx = Array({{2, 0, 2}, {-1, 1, 2}});
    check_vjp1([&](const Array& a) { return take(a, idx, 1); }, x);
    check_vjp1([&](const Array& a) { return take(a, idx, 0); }, x);
    check_vjp1([&](const Array& a) { return take(a, idx); }, x);
    check_vjp1([](const Array& a) { return take_along_axis(a, Array({{3}, {3}, {0}}), 1); }, x);
    check_vjp1([](const Array& a) { return take_along_axis(a, Array({{0, 0, 2, 1}}), 0); }, x);
    // Repeated indices accumulate.
    auto [y, fn] = vjp(
        [](const Array& a) {
          return take(a, Array({1, 1, 0, 1}));
        },
        Array({1., 2., 3.}, float64));
    check_array(fn(Array({1., 2., 3., 4.}, float64)), float64, {3}, {3, 7, 0});
  }

  TEST_CASE("index: second order through take and take_along_axis") {
    const Array x = rand_f64({3, 4}, 12);
    auto taken = [](const Array& a) { return take(a, Array({3, 3, 1}), 1); };
    check_vjp1(jute_test::vjp_of(taken, rand_f64({3, 3}, 13)), x);
    auto along = [](const Array& a) { return take_along_axis(a, Array({{1}, {0}, {1}}), 1); };
    check_vjp1(jute_test::vjp_of(along, rand_f64({3, 1}, 14)), x);
  }

  TEST_CASE("index: properties") {
    CHECK(rc::check("take with arange is the identity", [] {
      const auto rows = *rc::gen::inRange<std::int64_t>(1, 6);
      const auto cols = *rc::gen::inRange<std::int64_t>(1, 6);
      const int axis = *rc::gen::inRange(-2, 2);
      const Array a = rand_f64({rows, cols}, *rc::gen::inRange<std::uint32_t>(0, 1000));
      const Array t = take(a, arange(a.shape(axis)), axis);
      RC_ASSERT(t.shape() == a.shape());
      RC_ASSERT(t.to_vector<double>() == a.to_vector<double>());
      RC_ASSERT(take(a, arange(a.size())).to_vector<double>() == a.to_vector<double>());
    }));
    CHECK(rc::check("take_along_axis picks what take picks on each row", [] {
      const auto rows = *rc::gen::inRange<std::int64_t>(1, 5);
      const auto cols = *rc::gen::inRange<std::int64_t>(1, 5);
      const Array a = rand_f64({rows, cols}, *rc::gen::inRange<std::uint32_t>(0, 1000));
      std::vector<int> picks;
      for (std::int64_t r = 0; r < rows; ++r)
        picks.push_back(*rc::gen::inRange<int>(static_cast<int>(-cols), static_cast<int>(cols)));
      const Array got = take_along_axis(a, Array::from_vector(picks, {rows, 1}), 1);
      for (std::int64_t r = 0; r < rows; ++r) {
        const Array row =
            take(take(a, Array(static_cast<int>(r)), 0), Array(picks[static_cast<std::size_t>(r)]));
        RC_ASSERT(got.at<double>({r, 0}) == row.item<double>());
      }
    }));
  }

  TEST_CASE("index: check_grads to second order, forward and reverse") {
    using testing::check_grads;
    const Array x = rand_f64({3, 4}, 52);
    CHECK_NOTHROW(check_grads(
        [](const Array& a) {
          return take(a, Array({{1, 1}, {0, 3}}), 1);
        },
        x, 2));
    CHECK_NOTHROW(check_grads(
        [](const Array& a) {
          const Array t = take_along_axis(a, Array({{2}, {0}, {2}}), 1);
          return t * t;
        },
        x, 2));
  }
}  // TEST_SUITE
