// The examples and error messages of docs/ops.md (reductions, shape, indexing and matmul
// sections), checked exactly so the page cannot drift from the code.
#include <doctest/doctest.h>

#include <cmath>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "ops/helpers.hpp"
#include "ops/op_checks.hpp"

using namespace jute;
using jute_test::message_of;

TEST_SUITE("ops.docs") {
  TEST_CASE("docs/ops.md: reduction examples") {
    const Array x = reshape(arange(6).astype(float32), {2, 3});
    CHECK_ARRAY(sum(x), Array::scalar(15, float32));
    CHECK_ARRAY(sum(x, 0), Array({3.f, 5.f, 7.f}));
    CHECK_ARRAY(sum(x, -1, true), Array({{3.f}, {12.f}}));
    CHECK_ARRAY(mean(arange(4)), Array::scalar(1.5, float32));
    CHECK_ARRAY(sum(Array({true, true, false})), Array::scalar(2, int32));
    CHECK_ARRAY(sum(Array({200, 100}, uint8)), Array::scalar(300, uint32));
    CHECK_ARRAY(max(x, {0, 1}, true), Array({{5.f}}));
    CHECK_ARRAY(argmax(Array({1, 3, 3, 0})), Array::scalar(1, int32));
    CHECK_ARRAY(argmax(x, 1, true), Array({{2}, {2}}));
    CHECK(message_of([&] { sum(x, 2); }) ==
          "[sum] Axis 2 is out of range for an array with 2 dimensions; use an axis in [-2, 2).");
    CHECK_THROWS_AS(sum(x, {0, -2}), ShapeError);
    CHECK(message_of([] { max(zeros({0})); })
              .find("[max] Cannot reduce an array of shape (0,) "
                    "over an empty axis") == 0);
    CHECK_ARRAY(grad([](const Array& v) { return max(v); })(Array({1., 3., 3.}, float64)),
                Array({0., 0.5, 0.5}, float64));
  }

  TEST_CASE("docs/ops.md: shape op examples and errors") {
    CHECK(ravel(Array(3)).shape() == Shape{1});
    CHECK(expand_dims(zeros({2, 3}), {0, -1}).shape() == Shape{1, 2, 3, 1});
    const auto pieces = split(arange(5), std::vector<std::int64_t>{2, 9});
    REQUIRE(pieces.size() == 3);
    CHECK_ARRAY(pieces[0], Array({0, 1}));
    CHECK_ARRAY(pieces[1], Array({2, 3, 4}));
    CHECK(pieces[2].shape() == Shape{0});
    const Array v({1, 2, 3});
    CHECK_ARRAY(pad(v, {{2, 2}}), Array({0, 0, 1, 2, 3, 0, 0}));
    CHECK_ARRAY(pad(v, {{2, 2}}, PadMode::Reflect), Array({3, 2, 1, 2, 3, 2, 1}));
    CHECK_ARRAY(pad(v, {{2, 2}}, PadMode::Wrap), Array({2, 3, 1, 2, 3, 1, 2}));
    CHECK_ARRAY(pad(v, {{2, 2}}, PadMode::Edge), Array({1, 1, 1, 2, 3, 3, 3}));

    CHECK(message_of([] {
            reshape(zeros({2, 3}), {4, 2});
          }) == "[reshape] Cannot reshape array of size 6 with shape (2,3) into shape (4,2).");
    CHECK(message_of([] {
            reshape(zeros({2, 3}), {-1, -1});
          }) == "[reshape] Can only infer one dimension, but shape (-1,-1) has more than one -1.");
    CHECK(message_of([] {
            squeeze(zeros({2, 1}), 0);
          })
              .find("[squeeze] Cannot squeeze axis 0 of an array of shape (2,1) because its size "
                    "is 2, not 1;") == 0);
    CHECK(message_of([] {
            transpose(zeros({2, 3}), {0, 0});
          })
              .find("[transpose] Axes (0,0) are not a permutation of the axes of an array of "
                    "shape (2,3);") == 0);
    CHECK(message_of([] {
            broadcast_to(zeros({3}), {2, 4});
          }).find("[broadcast_to] Cannot broadcast an array of shape (3,) to shape (2,4);") == 0);
    CHECK(message_of([] {
            concatenate({zeros({2, 3}), zeros({2, 4})});
          }) ==
          "[concatenate] All dimensions except axis 0 must match, but array 0 has shape (2,3) and "
          "array 1 has shape (2,4).");
    CHECK(message_of([] { split(zeros({5}), 2); })
              .find("[split] Array split does not result in an equal division: axis 0 of an "
                    "array of shape (5,) has size 5,") == 0);
    CHECK(message_of([] { slice(zeros({4}), {1}, {5}); })
              .find("[slice] Slice from (1,) to (5,) is out of bounds on axis 0 of an array of "
                    "shape (4,);") == 0);
    CHECK(message_of([] {
            pad(zeros({2}), {{-1, 0}});
          }) == "[pad] Pad widths must be >= 0, got (-1,0) for axis 0 of an array of shape (2,).");
  }

  TEST_CASE("docs/ops.md: indexing examples and errors") {
    CHECK_ARRAY(take(Array({10, 20, 30}), Array({2, -3})), Array({30, 10}));
    CHECK_ARRAY(take(reshape(arange(6), {3, 2}), Array({2, 0}), 0), Array({{4, 5}, {0, 1}}));
    CHECK_ARRAY(one_hot(Array({0, 2, 5}), 3),
                Array({{1.f, 0.f, 0.f}, {0.f, 0.f, 1.f}, {0.f, 0.f, 0.f}}));
    CHECK(message_of([] { take(zeros({3}), Array({0.f})); }) ==
          "[take] Indices must have an integer dtype, got float32; convert them with "
          "astype(int32).");
    CHECK(message_of([] {
            take(zeros({3, 2}), Array({3}), 0);
          }) ==
          "[take] Index 3 is out of bounds for axis 0 with size 3 of an array of shape (3,2); "
          "indices must lie in [-size, size).");
  }

  TEST_CASE("docs/ops.md: matmul shapes and errors") {
    CHECK(matmul(zeros({2, 1, 3, 4}), zeros({5, 4, 6})).shape() == Shape{2, 5, 3, 6});
    CHECK(matmul(zeros({3}), zeros({3})).shape() == Shape{});
    CHECK(matmul(zeros({2, 3}), zeros({3})).shape() == Shape{2});
    CHECK(matmul(zeros({2, 3}, int32), zeros({3, 2})).dtype() == float32);
    CHECK_ARRAY(matmul(zeros({2, 0}), zeros({0, 2})), zeros({2, 2}));
    CHECK(message_of([] {
            matmul(zeros({2, 3}), zeros({4, 5}));
          }) ==
          "[matmul] Last dimension of first input with shape (2,3) must match second to last "
          "dimension of second input with shape (4,5).");
    CHECK(message_of([] {
            matmul(zeros({2, 2, 3}), zeros({3, 3, 4}));
          }) ==
          "[matmul] Batch dimensions of first input with shape (2,2,3) and second input with "
          "shape (3,3,4) cannot be broadcast together; they must match or be 1.");
  }
}
