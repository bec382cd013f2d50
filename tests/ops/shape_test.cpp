// Shape ops: exact values (NumPy as reference), error paths, derivative rules against central
// differences, and RapidCheck properties.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <limits>
#include <numeric>
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

namespace {

std::vector<double> iota(std::int64_t n, double start = 0) {
  std::vector<double> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), start);
  return v;
}

std::int64_t detail_size(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

Array iota_array(const Shape& shape, DType dtype = float32) {
  return Array::from_vector(iota(detail_size(shape)), shape, dtype);
}

/// Values 0, 1, ..., 250, 0, 1, ... (fit every dtype).
Array pattern_array(const Shape& shape, DType dtype) {
  std::vector<double> v = iota(detail_size(shape));
  for (auto& x : v) x = static_cast<double>(static_cast<int>(x) % 251);
  return Array::from_vector(v, shape, dtype);
}

/// The NumPy result of a[idx] with one index array per axis, computed the slow obvious way.
std::vector<double> naive_transpose(const Array& a, const std::vector<int>& perm) {
  const Shape& s = a.shape();
  const std::size_t n = s.size();
  Shape out(n);
  for (std::size_t d = 0; d < n; ++d) out[d] = s[static_cast<std::size_t>(perm[d])];
  const std::vector<double> v = a.to_vector<double>();
  std::vector<double> r(v.size());
  Shape idx(n, 0);
  for (std::size_t flat = 0; flat < r.size(); ++flat) {
    std::int64_t src = 0;
    for (std::size_t d = 0; d < n; ++d) {
      std::int64_t in_idx = 0;
      for (std::size_t e = 0; e < n; ++e)
        if (static_cast<std::size_t>(perm[e]) == d) in_idx = idx[e];
      src = src * s[d] + in_idx;
    }
    r[flat] = v[static_cast<std::size_t>(src)];
    for (std::size_t d = n; d-- > 0;)
      if (++idx[d] < out[d])
        break;
      else
        idx[d] = 0;
  }
  return r;
}

}  // namespace

TEST_SUITE("shape") {
  TEST_CASE("shape: reshape relabels the buffer without copying") {
    const Array a = iota_array({2, 3});
    const Array r = reshape(a, {3, 2});
    check_array(r, float32, {3, 2}, iota(6));
    CHECK(r.raw_data() == a.raw_data());
    check_array(reshape(a, {-1}), float32, {6}, iota(6));
    check_array(reshape(a, {3, -1, 1}), float32, {3, 2, 1}, iota(6));
    check_array(reshape(Array(2.5f), {1, 1}), float32, {1, 1}, {2.5});
    check_array(reshape(zeros({0, 3}), {-1, 3}), float32, {0, 3}, {});
    CHECK(reshape(a, {2, 3}).impl() == a.impl());  // same shape: the very same value
  }

  TEST_CASE("shape: reshape errors") {
    const Array a = iota_array({2, 3});
    CHECK_THROWS_AS(reshape(a, {4, 2}), ShapeError);
    CHECK(message_of([&] {
            reshape(a, {4, 2});
          }) == "[reshape] Cannot reshape array of size 6 with shape (2,3) into shape (4,2).");
    CHECK(message_of([&] {
            reshape(a, {4, -1});
          }) == "[reshape] Cannot reshape array of size 6 with shape (2,3) into shape (4,-1).");
    CHECK_THROWS_AS(reshape(a, {-1, -1}), ShapeError);
    CHECK(message_of([&] { reshape(a, {-1, -1}); }).starts_with("[reshape] Can only infer one"));
    CHECK_THROWS_AS(reshape(a, {-2, -3}), ShapeError);
    CHECK_THROWS_AS(reshape(zeros({0, 3}), {0, -1}), ShapeError);
  }

  TEST_CASE("shape: ravel, expand_dims, squeeze") {
    const Array a = iota_array({2, 3});
    check_array(ravel(a), float32, {6}, iota(6));
    check_array(ravel(Array(3)), int32, {1}, {3});
    CHECK(expand_dims(a, 0).shape() == Shape{1, 2, 3});
    CHECK(expand_dims(a, -1).shape() == Shape{2, 3, 1});
    CHECK(expand_dims(a, {0, 3}).shape() == Shape{1, 2, 3, 1});
    CHECK(expand_dims(a, {1, -1}).shape() == Shape{2, 1, 3, 1});
    CHECK(expand_dims(a, {0, 3}).raw_data() == a.raw_data());
    const Array b = zeros({1, 2, 1, 3, 1});
    CHECK(squeeze(b).shape() == Shape{2, 3});
    CHECK(squeeze(b, {0, -1}).shape() == Shape{2, 1, 3});
    CHECK(squeeze(b, 2).shape() == Shape{1, 2, 3, 1});
    CHECK(squeeze(zeros({1, 1})).shape() == Shape{});
    CHECK(squeeze(a).shape() == Shape{2, 3});
  }

  TEST_CASE("shape: expand_dims and squeeze errors") {
    const Array a = iota_array({2, 3});
    CHECK_THROWS_AS(expand_dims(a, Axes()), ValueError);
    CHECK_THROWS_AS(expand_dims(a, 3), ShapeError);
    CHECK_THROWS_AS(expand_dims(a, {0, 0}), ShapeError);
    CHECK_THROWS_AS(squeeze(a, 0), ShapeError);
    CHECK(message_of([&] { squeeze(a, 1); }) ==
          "[squeeze] Cannot squeeze axis 1 of an array of shape (2,3) because its size is 3, not "
          "1; squeeze only size-1 axes.");
    CHECK_THROWS_AS(squeeze(zeros({1, 2}), 2), ShapeError);
  }

  TEST_CASE("shape: transpose") {
    const Array a = iota_array({2, 3});
    check_array(transpose(a), float32, {3, 2}, {0, 3, 1, 4, 2, 5});
    const Array x = iota_array({2, 3, 4}, int32);
    check_array(
        transpose(x, {1, 2, 0}), int32, {3, 4, 2},
        {0, 12, 1, 13, 2, 14, 3, 15, 4, 16, 5, 17, 6, 18, 7, 19, 8, 20, 9, 21, 10, 22, 11, 23});
    check_array(transpose(x, {-2, -1, 0}), int32, {3, 4, 2}, naive_transpose(x, {1, 2, 0}));
    check_array(transpose(x), int32, {4, 3, 2}, naive_transpose(x, {2, 1, 0}));
    CHECK(transpose(x, {0, 1, 2}).impl() == x.impl());
    check_array(transpose(Array(1.5)), float32, {}, {1.5});
    check_array(swapaxes(x, 0, -1), int32, {4, 3, 2}, naive_transpose(x, {2, 1, 0}));
    check_array(swapaxes(x, 1, 2), int32, {2, 4, 3}, naive_transpose(x, {0, 2, 1}));
    // Big enough for the cache-blocked path, with ragged tiles, for every element size.
    for (DType t : {uint8, int32, float64}) {
      const Array big = pattern_array({67, 45}, t);
      check_array(transpose(big), t, {45, 67}, naive_transpose(big, {1, 0}));
      const Array batch = pattern_array({3, 40, 33}, t);
      check_array(transpose(batch, {0, 2, 1}), t, {3, 33, 40}, naive_transpose(batch, {0, 2, 1}));
      check_array(transpose(batch, {2, 0, 1}), t, {33, 3, 40}, naive_transpose(batch, {2, 0, 1}));
    }
  }

  TEST_CASE("shape: transpose errors") {
    const Array x = iota_array({2, 3, 4});
    CHECK(message_of([&] {
            transpose(x, {0, 0, 1});
          }) ==
          "[transpose] Axes (0,0,1) are not a permutation of the axes of an array of shape "
          "(2,3,4); give each axis exactly once.");
    CHECK_THROWS_AS(transpose(x, {0, 1}), ShapeError);
    CHECK_THROWS_AS(transpose(x, {0, 1, 3}), ShapeError);
    CHECK_THROWS_AS(swapaxes(x, 0, 3), ShapeError);
    CHECK(message_of([&] { swapaxes(x, 0, 3); }) ==
          "[swapaxes] Axis 3 is out of bounds for an array of dimension 3; use an axis in [-3,3).");
  }

  TEST_CASE("shape: broadcast_to") {
    check_array(broadcast_to(Array({1.f, 2.f, 3.f}), {2, 3}), float32, {2, 3}, {1, 2, 3, 1, 2, 3});
    check_array(broadcast_to(Array({{1}, {2}}), {2, 3}), int32, {2, 3}, {1, 1, 1, 2, 2, 2});
    check_array(broadcast_to(Array::scalar(7, uint8), {2, 2}), uint8, {2, 2}, {7, 7, 7, 7});
    check_array(broadcast_to(Array({{1.f}, {2.f}}), {2, 2, 3}), float32, {2, 2, 3},
                {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2});
    check_array(broadcast_to(Array({{1, 2}}), {3, 1, 2}), int32, {3, 1, 2}, {1, 2, 1, 2, 1, 2});
    check_array(broadcast_to(Array({1.f}), {0}), float32, {0}, {});
    CHECK(broadcast_to(Array(2.0), {2}).weak_type());
    const Array a = iota_array({2, 3});
    CHECK(broadcast_to(a, {2, 3}).impl() == a.impl());
  }

  TEST_CASE("shape: broadcast_to errors") {
    const Array a = iota_array({2, 3});
    CHECK(message_of([&] {
            broadcast_to(a, {4, 3});
          }) ==
          "[broadcast_to] Cannot broadcast an array of shape (2,3) to shape (4,3); each dimension "
          "must equal the target's or be 1.");
    CHECK_THROWS_AS(broadcast_to(a, {3}), ShapeError);
    CHECK_THROWS_AS(broadcast_to(Array({1.f}), {-1}), ShapeError);
  }

  TEST_CASE("shape: concatenate") {
    const Array a = iota_array({2, 3});
    const Array b = iota_array({2, 1}, float32);
    check_array(concatenate({a, b}, 1), float32, {2, 4}, {0, 1, 2, 0, 3, 4, 5, 1});
    check_array(concatenate({a, a}, 0), float32, {4, 3}, {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5});
    check_array(concatenate({a, b, a}, -1), float32, {2, 7},
                {0, 1, 2, 0, 0, 1, 2, 3, 4, 5, 1, 3, 4, 5});
    // Dtypes promote as in a binary op.
    check_array(concatenate({Array({1, 2}), Array({0.5f})}), float32, {3}, {1, 2, 0.5});
    check_array(concatenate({Array({1, 2}, uint8), Array({3}, int32)}), int32, {3}, {1, 2, 3});
    check_array(concatenate({zeros({0, 2}), ones({1, 2})}), float32, {1, 2}, {1, 1});
    check_array(concatenate({a}), float32, {2, 3}, iota(6));
  }

  TEST_CASE("shape: concatenate errors") {
    const Array a = iota_array({2, 3});
    CHECK_THROWS_AS(concatenate({}), ValueError);
    CHECK_THROWS_AS(concatenate({Array(1.f), Array(2.f)}), ShapeError);
    CHECK(message_of([&] {
            concatenate({a, iota_array({3, 3})}, 1);
          }) ==
          "[concatenate] All dimensions except axis 1 must match, but array 0 has shape (2,3) and "
          "array 1 has shape (3,3).");
    CHECK_THROWS_AS(concatenate({a, iota_array({6})}), ShapeError);
    CHECK_THROWS_AS(concatenate({a, a}, 2), ShapeError);
  }

  TEST_CASE("shape: stack") {
    const Array a = Array({1.f, 2.f}), b = Array({3.f, 4.f});
    check_array(stack({a, b}), float32, {2, 2}, {1, 2, 3, 4});
    check_array(stack({a, b}, 1), float32, {2, 2}, {1, 3, 2, 4});
    check_array(stack({a, b}, -1), float32, {2, 2}, {1, 3, 2, 4});
    check_array(stack({Array(1.f), Array(2.f)}), float32, {2}, {1, 2});
    CHECK_THROWS_AS(stack({}), ValueError);
    CHECK(message_of([&] {
            stack({a, Array({1.f})});
          }) ==
          "[stack] All input arrays must have the same shape, but array 0 has shape (2,) and array "
          "1 has shape (1,).");
    CHECK_THROWS_AS(stack({a, b}, 2), ShapeError);
  }

  TEST_CASE("shape: split into sections and at indices") {
    const Array a = iota_array({10});
    auto pieces = split(a, 5);
    REQUIRE(pieces.size() == 5);
    check_array(pieces[4], float32, {2}, {8, 9});
    pieces = split(a, std::vector<std::int64_t>{3, -2, 12});
    REQUIRE(pieces.size() == 4);
    check_array(pieces[0], float32, {3}, {0, 1, 2});
    check_array(pieces[1], float32, {5}, {3, 4, 5, 6, 7});
    check_array(pieces[2], float32, {2}, {8, 9});
    check_array(pieces[3], float32, {0}, {});
    pieces = split(a, std::vector<std::int64_t>{5, 2});
    check_array(pieces[1], float32, {0}, {});
    check_array(pieces[2], float32, {8}, {2, 3, 4, 5, 6, 7, 8, 9});
    pieces = split(iota_array({2, 4}), 2, 1);
    check_array(pieces[0], float32, {2, 2}, {0, 1, 4, 5});
    check_array(pieces[1], float32, {2, 2}, {2, 3, 6, 7});
    CHECK(split(a, 1)[0].impl() == a.impl());
  }

  TEST_CASE("shape: split errors") {
    const Array a = iota_array({5, 2});
    CHECK(message_of([&] { split(a, 2); }) ==
          "[split] Array split does not result in an equal division: axis 0 of an array of shape "
          "(5,2) has size 5, which 2 sections do not divide; pass split indices instead.");
    CHECK_THROWS_AS(split(a, 2), ShapeError);
    CHECK_THROWS_AS(split(a, 0), ValueError);
    CHECK_THROWS_AS(split(a, 1, 2), ShapeError);
    CHECK_THROWS_AS(split(Array(1.f), 1), ShapeError);
  }

  TEST_CASE("shape: slice (lax.slice)") {
    const Array x = iota_array({4, 5});
    check_array(slice(x, {1, 0}, {3, 5}), float32, {2, 5}, {5, 6, 7, 8, 9, 10, 11, 12, 13, 14});
    check_array(slice(x, {0, 1}, {4, 5}, {2, 3}), float32, {2, 2}, {1, 4, 11, 14});
    check_array(slice(x, {1, 1}, {1, 4}), float32, {0, 3}, {});
    CHECK(slice(x, {0, 0}, {4, 5}).impl() == x.impl());
    check_array(slice(iota_array({2, 3, 4}, int32), {0, 1, 1}, {2, 3, 3}), int32, {2, 2, 2},
                {5, 6, 9, 10, 17, 18, 21, 22});
  }

  TEST_CASE("shape: slice errors") {
    const Array x = iota_array({4, 5});
    CHECK(
        message_of([&] {
          slice(x, {1, 0}, {5, 5});
        }) ==
        "[slice] Slice from (1,0) to (5,5) is out of bounds on axis 0 of an array of shape (4,5); "
        "need 0 <= start <= stop <= size on every axis.");
    CHECK_THROWS_AS(slice(x, {-1, 0}, {2, 2}), ShapeError);
    CHECK_THROWS_AS(slice(x, {3, 0}, {2, 2}), ShapeError);
    CHECK_THROWS_AS(slice(x, {0}, {2}), ShapeError);
    CHECK_THROWS_AS(slice(x, {0, 0}, {2, 2}, {1}), ShapeError);
    CHECK_THROWS_AS(slice(x, {0, 0}, {2, 2}, {1, 0}), ValueError);
  }

  TEST_CASE("shape: slice_axis has Python slice semantics") {
    const Array r = iota_array({10}, int32);
    check_array(slice_axis(r, 0, 8, 1, -3), int32, {3}, {8, 5, 2});
    check_array(slice_axis(r, 0, -3, 100), int32, {3}, {7, 8, 9});
    check_array(slice_axis(r, 0, -100, 3), int32, {3}, {0, 1, 2});
    check_array(slice_axis(r, 0, 5, -100, -1), int32, {6}, {5, 4, 3, 2, 1, 0});
    check_array(slice_axis(r, 0, std::numeric_limits<std::int64_t>::max(),
                           std::numeric_limits<std::int64_t>::min(), -4),
                int32, {3}, {9, 5, 1});
    check_array(slice_axis(r, 0, 7, 2), int32, {0}, {});
    check_array(slice_axis(r, 0, 2, 7, -1), int32, {0}, {});
    const Array x = iota_array({2, 3, 4});
    check_array(slice_axis(x, 1, 100, -100, -2), float32, {2, 2, 4},
                {8, 9, 10, 11, 0, 1, 2, 3, 20, 21, 22, 23, 12, 13, 14, 15});
    check_array(slice_axis(x, -1, 1, 3), float32, {2, 3, 2},
                {1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22});
    CHECK_THROWS_AS(slice_axis(x, 0, 0, 1, 0), ValueError);
    CHECK_THROWS_AS(slice_axis(x, 3, 0, 1), ShapeError);
  }

  TEST_CASE("shape: flip") {
    const Array x = iota_array({2, 3}, int32);
    check_array(flip(x), int32, {2, 3}, {5, 4, 3, 2, 1, 0});
    check_array(flip(x, 0), int32, {2, 3}, {3, 4, 5, 0, 1, 2});
    check_array(flip(x, -1), int32, {2, 3}, {2, 1, 0, 5, 4, 3});
    check_array(flip(Array(2.f)), float32, {}, {2});
    check_array(flip(zeros({0, 2})), float32, {0, 2}, {});
    CHECK_THROWS_AS(flip(x, 2), ShapeError);
  }

  TEST_CASE("shape: pad in each mode (NumPy's values)") {
    const Array a = iota_array({2, 3}, int32);
    const std::vector<std::pair<std::int64_t, std::int64_t>> w = {{1, 2}, {2, 3}};
    check_array(pad(a, {{1, 0}, {0, 2}}, PadMode::Constant, 9), int32, {3, 5},
                {9, 9, 9, 9, 9, 0, 1, 2, 9, 9, 3, 4, 5, 9, 9});
    check_array(pad(a, w, PadMode::Reflect), int32, {5, 8},
                {5, 4, 3, 4, 5, 4, 3, 4, 2, 1, 0, 1, 2, 1, 0, 1, 5, 4, 3, 4,
                 5, 4, 3, 4, 2, 1, 0, 1, 2, 1, 0, 1, 5, 4, 3, 4, 5, 4, 3, 4});
    check_array(pad(a, w, PadMode::Wrap), int32, {5, 8},
                {4, 5, 3, 4, 5, 3, 4, 5, 1, 2, 0, 1, 2, 0, 1, 2, 4, 5, 3, 4,
                 5, 3, 4, 5, 1, 2, 0, 1, 2, 0, 1, 2, 4, 5, 3, 4, 5, 3, 4, 5});
    check_array(pad(a, w, PadMode::Edge), int32, {5, 8},
                {0, 0, 0, 1, 2, 2, 2, 2, 0, 0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 4,
                 5, 5, 5, 5, 3, 3, 3, 4, 5, 5, 5, 5, 3, 3, 3, 4, 5, 5, 5, 5});
    // Widths wider than the axis repeat the pattern, as NumPy.
    check_array(pad(Array({1, 2, 3}), {{4, 7}}, PadMode::Wrap), int32, {14},
                {3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1});
    check_array(pad(Array({1, 2, 3, 4}), {{7, 8}}, PadMode::Reflect), int32, {19},
                {2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2});
    check_array(pad(Array({7.f}), {{3, 3}}, PadMode::Reflect), float32, {7}, {7, 7, 7, 7, 7, 7, 7});
    // One pair pads every axis; a constant pad may extend an empty axis.
    check_array(pad(Array({{1.f}}), {{1, 1}}, PadMode::Constant, 0.5), float32, {3, 3},
                {.5, .5, .5, .5, 1, .5, .5, .5, .5});
    check_array(pad(zeros({0, 1}), {{1, 0}, {0, 0}}, PadMode::Constant, 2), float32, {1, 1}, {2});
    CHECK(pad(a, {{0, 0}, {0, 0}}).impl() == a.impl());
  }

  TEST_CASE("shape: pad errors") {
    const Array a = iota_array({2, 3});
    CHECK(message_of([&] {
            pad(a, {{-1, 2}, {0, 0}});
          }) == "[pad] Pad widths must be >= 0, got (-1,2) for axis 0 of an array of shape (2,3).");
    CHECK_THROWS_AS(pad(a, {{-1, 2}, {0, 0}}), ValueError);
    CHECK_THROWS_AS(pad(a, {{1, 1}, {1, 1}, {1, 1}}), ShapeError);
    CHECK_THROWS_AS(pad(zeros({0, 2}), {{1, 1}, {0, 0}}, PadMode::Reflect), ValueError);
    CHECK(message_of([&] {
            pad(zeros({0, 2}), {{1, 1}, {0, 0}}, PadMode::Wrap);
          }) ==
          "[pad] Cannot extend the empty axis 0 of an array of shape (0,2) in wrap mode; only "
          "constant mode can pad an empty axis.");
  }

  // ---- derivatives
  // -------------------------------------------------------------------------------

  TEST_CASE("shape: vjp rules match finite differences") {
    const Array x = rand_f64({2, 3, 4}, 1);
    check_vjp1([](const Array& a) { return reshape(a, {4, -1}); }, x);
    check_vjp1([](const Array& a) { return transpose(a, {2, 0, 1}); }, x);
    check_vjp1([](const Array& a) { return swapaxes(a, 0, 2); }, x);
    check_vjp1([](const Array& a) { return expand_dims(a, {0, 2}); }, x);
    check_vjp1([](const Array& a) { return squeeze(a, 1); }, rand_f64({2, 1, 3}, 2));
    check_vjp1([](const Array& a) { return ravel(a); }, x);
    check_vjp1(
        [](const Array& a) {
          return broadcast_to(a, {2, 3, 3, 4});
        },
        rand_f64({3, 1, 4}, 3));
    check_vjp1([](const Array& a) { return slice(a, {0, 1, 0}, {2, 3, 4}, {1, 1, 3}); }, x);
    check_vjp1([](const Array& a) { return slice_axis(a, 2, 3, -10, -2); }, x);
    check_vjp1([](const Array& a) { return flip(a, {0, 2}); }, x);
    check_vjp1([](const Array& a) { return split(a, std::vector<std::int64_t>{1, 3}, 2)[1]; }, x);
    for (PadMode mode : {PadMode::Constant, PadMode::Reflect, PadMode::Wrap, PadMode::Edge}) {
      INFO("pad mode ", static_cast<int>(mode));
      check_vjp1([mode](const Array& a) { return pad(a, {{1, 2}, {0, 0}, {5, 3}}, mode, 1.5); }, x);
    }
    jute_test::check_vjp(
        [](const std::vector<Array>& v) {
          return concatenate({v[0], v[1], v[0]}, 1);
        },
        {rand_f64({2, 3}, 4), rand_f64({2, 2}, 5)});
    jute_test::check_vjp(
        [](const std::vector<Array>& v) {
          return stack({v[0], v[1]}, 1);
        },
        {rand_f64({2, 3}, 6), rand_f64({2, 3}, 7)});
  }

  TEST_CASE("shape: second-order rules (the scatter ops are differentiable)") {
    // vjp_of(f, u)(x) is linear in its cotangent path; its own vjp goes through the transposed ops
    // (strided_scatter → strided_gather, pad_transpose → pad).
    const Array x = rand_f64({3, 6}, 8);
    auto sliced = [](const Array& a) { return slice(a, {0, 1}, {3, 6}, {2, 2}); };
    check_vjp1(jute_test::vjp_of(sliced, rand_f64({2, 3}, 9)), x);
    auto padded = [](const Array& a) { return pad(a, {{2, 1}, {3, 4}}, PadMode::Reflect); };
    check_vjp1(jute_test::vjp_of(padded, rand_f64({6, 13}, 10)), x);
    // A rule that recorded nothing would give zeros; check the transposed ops' values directly.
    auto [y, fn] = vjp(sliced, x);
    const Array g = fn(ones({2, 3}, float64));
    check_array(g, float64, {3, 6}, {0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1});
    auto [p, pfn] = vjp(
        [](const Array& a) {
          return pad(a, {{3, 2}}, PadMode::Reflect);
        },
        Array({1., 2., 3.}, float64));
    // Padded [2 3 2 1 2 3 2 1]: element 1 appears twice, 2 four times, 3 twice.
    check_array(pfn(ones({8}, float64)), float64, {3}, {2, 4, 2});
  }

  // ---- properties
  // --------------------------------------------------------------------------------

  TEST_CASE("shape: properties") {
    CHECK(rc::check("reshape round-trips", [] {
      const auto d0 = *rc::gen::inRange<std::int64_t>(1, 5);
      const auto d1 = *rc::gen::inRange<std::int64_t>(1, 5);
      const auto d2 = *rc::gen::inRange<std::int64_t>(1, 5);
      const Array a = rand_f64({d0, d1, d2}, *rc::gen::inRange<std::uint32_t>(0, 1000));
      const Array r = reshape(reshape(a, {d2, -1}), {d0, d1, d2});
      RC_ASSERT(r.shape() == a.shape());
      RC_ASSERT(r.to_vector<double>() == a.to_vector<double>());
    }));
    CHECK(rc::check("transpose twice (with the inverse permutation) is the identity", [] {
      const auto rank = *rc::gen::inRange(1, 5);
      Shape shape;
      for (int d = 0; d < rank; ++d) shape.push_back(*rc::gen::inRange<std::int64_t>(1, 12));
      std::vector<int> perm(static_cast<std::size_t>(rank));
      std::iota(perm.begin(), perm.end(), 0);
      for (std::size_t i = perm.size(); i-- > 1;)  // Fisher-Yates with generated choices
        std::swap(perm[i], perm[*rc::gen::inRange<std::size_t>(0, i + 1)]);
      std::vector<int> inverse(perm.size());
      for (std::size_t d = 0; d < perm.size(); ++d)
        inverse[static_cast<std::size_t>(perm[d])] = static_cast<int>(d);
      const Array a = rand_f64(shape, *rc::gen::inRange<std::uint32_t>(0, 1000));
      const Array t = transpose(a, perm);
      RC_ASSERT(t.to_vector<double>() == naive_transpose(a, perm));
      const Array back = transpose(t, inverse);
      RC_ASSERT(back.shape() == a.shape());
      RC_ASSERT(back.to_vector<double>() == a.to_vector<double>());
      RC_ASSERT(transpose(transpose(a)).to_vector<double>() == a.to_vector<double>());
    }));
    CHECK(rc::check("concatenate of split is the identity", [] {
      const auto rows = *rc::gen::inRange<std::int64_t>(0, 9);
      const auto cols = *rc::gen::inRange<std::int64_t>(1, 6);
      const int axis = *rc::gen::inRange(0, 2);
      const std::int64_t n = axis == 0 ? rows : cols;
      auto cuts = *rc::gen::container<std::vector<std::int64_t>>(
          *rc::gen::inRange<std::size_t>(0, 4), rc::gen::inRange<std::int64_t>(0, n + 1));
      std::sort(cuts.begin(), cuts.end());
      const Array a = rand_f64({rows, cols}, *rc::gen::inRange<std::uint32_t>(0, 1000));
      const auto pieces = split(a, cuts, axis);
      RC_ASSERT(pieces.size() == cuts.size() + 1);
      const Array b = concatenate(pieces, axis);
      RC_ASSERT(b.shape() == a.shape());
      RC_ASSERT(b.to_vector<double>() == a.to_vector<double>());
      if (n % 3 == 0) {
        const Array c = concatenate(split(a, 3, axis), axis);
        RC_ASSERT(c.to_vector<double>() == a.to_vector<double>());
      }
    }));
    CHECK(rc::check("pad then slice gives back the array", [] {
      const Array a =
          rand_f64({*rc::gen::inRange<std::int64_t>(1, 5), *rc::gen::inRange<std::int64_t>(1, 5)},
                   *rc::gen::inRange<std::uint32_t>(0, 1000));
      const auto lo = *rc::gen::inRange<std::int64_t>(0, 7),
                 hi = *rc::gen::inRange<std::int64_t>(0, 7);
      const auto mode =
          *rc::gen::element(PadMode::Constant, PadMode::Reflect, PadMode::Wrap, PadMode::Edge);
      const Array p = pad(a, {{lo, hi}, {hi, lo}}, mode);
      const Array back = slice(p, {lo, hi}, {lo + a.shape()[0], hi + a.shape()[1]});
      RC_ASSERT(back.to_vector<double>() == a.to_vector<double>());
    }));
  }

  TEST_CASE("shape: check_grads to second order, forward and reverse") {
    using testing::check_grads;
    const Array x = rand_f64({2, 3, 4}, 51);
    CHECK_NOTHROW(check_grads([](const Array& a) { return transpose(a, {1, 2, 0}); }, x, 2));
    CHECK_NOTHROW(check_grads([](const Array& a) { return broadcast_to(a, {2, 2, 3, 4}); }, x, 2));
    CHECK_NOTHROW(check_grads(
        [](const Array& a) {
          return slice(a, {0, 0, 1}, {2, 3, 4}, {1, 2, 2});
        },
        x, 2));
    CHECK_NOTHROW(check_grads([](const Array& a) { return slice_axis(a, 1, -1, -4, -1); }, x, 2));
    CHECK_NOTHROW(check_grads([](const Array& a) { return flip(a, -1); }, x, 2));
    CHECK_NOTHROW(check_grads(
        [](const Array& a) {
          const auto p = split(a, std::vector<std::int64_t>{1}, 2);
          return concatenate({p[1], p[0]}, 2);
        },
        x, 2));
    for (PadMode mode : {PadMode::Constant, PadMode::Reflect, PadMode::Wrap, PadMode::Edge})
      CHECK_NOTHROW(check_grads(
          [mode](const Array& a) {
            return pad(a, {{0, 1}, {2, 1}, {4, 5}}, mode);
          },
          x, 2));
    // A nonlinear function of shape ops, so second derivatives are not all zero.
    CHECK_NOTHROW(check_grads(
        [](const Array& a) {
          return reshape(a, {6, 4}) * reshape(flip(transpose(a), 0), {6, 4});
        },
        x, 2));
  }
}  // TEST_SUITE
