// Shape-only arrays: every op checks its operands as usual and returns a shape-only result of the
// shape and dtype it would compute, without computing anything.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <functional>
#include <string>
#include <vector>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "ops/op_checks.hpp"

using namespace jute;
using jute_test::message_of;

namespace {

// The shape-only result of `f` on shape-only inputs agrees with its real result on real inputs.
void check_like_real(const std::function<Array(const std::vector<Array>&)>& f,
                     const std::vector<Array>& real) {
  std::vector<Array> shapes;
  for (const auto& x : real) shapes.push_back(abstract_array(x.shape(), x.dtype()));
  const Array want = f(real);
  const Array got = f(shapes);
  CHECK(got.is_abstract());
  CHECK(got.type_string() == want.type_string());
  CHECK(got.weak_type() == want.weak_type());
}

Array f32_iota(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return reshape(arange(0.0, static_cast<double>(n), 1.0, float32), shape);
}

}  // namespace

TEST_SUITE("abstract") {
  TEST_CASE("abstract_array has a shape and a dtype and no values") {
    Array a = abstract_array({3, 4});
    CHECK(a.is_abstract());
    CHECK(a.type_string() == "f32[3,4]");
    CHECK(a.nbytes() == 48);
    CHECK(a.to_string() == "f32[3,4] (shape only)");
    CHECK_FALSE(Array({1.f}).is_abstract());
    CHECK(message_of([&] {
            (void)a.at<float>({0, 0});
          }).find("shape-only array f32[3,4]") != std::string::npos);
    CHECK_THROWS_AS((void)a.data<float>(), ValueError);
    CHECK_THROWS_AS((void)a.to_vector<float>(), ValueError);
    CHECK_THROWS_AS((void)array_equal(a, a), ValueError);
  }

  TEST_CASE("elementwise, where, clip and astype propagate shapes and promotion") {
    check_like_real([](const auto& v) { return v[0] * 2.0 + v[1]; },
                    {f32_iota({2, 1, 3}), f32_iota({4, 1})});
    check_like_real([](const auto& v) { return exp(v[0]) + sqrt(abs(v[0])); }, {f32_iota({5})});
    check_like_real([](const auto& v) { return v[0] > v[1]; }, {f32_iota({2, 3}), f32_iota({3})});
    check_like_real([](const auto& v) { return v[0] + v[1]; },
                    {arange(6).astype(int32), f32_iota({6}).astype(float64)});
    check_like_real([](const auto& v) { return where(v[0] > 1.0, v[0], v[1]); },
                    {f32_iota({2, 3}), f32_iota({1, 3})});
    check_like_real([](const auto& v) { return clip(v[0], 0.0, 1.0); }, {f32_iota({4})});
    check_like_real([](const auto& v) { return v[0].astype(int32); }, {f32_iota({2, 2})});
    check_like_real([](const auto& v) { return zeros_like(v[0]) + ones_like(v[0]); },
                    {f32_iota({3})});
  }

  TEST_CASE("reductions, shape ops and indexing") {
    check_like_real([](const auto& v) { return sum(v[0], Axes{1}); }, {f32_iota({2, 3, 4})});
    check_like_real(
        [](const auto& v) {
          return mean(v[0], Axes{0, 2}, true);
        },
        {f32_iota({2, 3, 4})});
    check_like_real([](const auto& v) { return max(v[0], Axes{0, 2}); }, {f32_iota({2, 3, 4})});
    check_like_real([](const auto& v) { return logsumexp(v[0], Axes{-1}); }, {f32_iota({2, 3})});
    check_like_real([](const auto& v) { return argmax(v[0], 1); }, {f32_iota({2, 3})});
    check_like_real(
        [](const auto& v) {
          return transpose(v[0], {2, 0, 1});
        },
        {f32_iota({2, 3, 4})});
    check_like_real(
        [](const auto& v) {
          return broadcast_to(v[0], {5, 2, 3});
        },
        {f32_iota({2, 3})});
    check_like_real([](const auto& v) { return reshape(v[0], {3, -1}); }, {f32_iota({2, 3})});
    check_like_real(
        [](const auto& v) {
          return concatenate({v[0], v[1]}, 1);
        },
        {f32_iota({2, 3}), f32_iota({2, 5})});
    check_like_real([](const auto& v) { return slice(v[0], {0, 1}, {2, 3}); }, {f32_iota({2, 3})});
    check_like_real(
        [](const auto& v) {
          return pad(v[0], {{1, 2}}, PadMode::Reflect);
        },
        {f32_iota({3, 4})});
    check_like_real([](const auto& v) { return take(v[0], Array({2, 0}), 0); }, {f32_iota({3, 4})});
    check_like_real([](const auto& v) { return one_hot(v[0], 5); }, {arange(4)});
  }

  TEST_CASE("matmul, convolution and pooling") {
    check_like_real([](const auto& v) { return matmul(v[0], v[1]); },
                    {f32_iota({2, 3, 4}), f32_iota({4, 5})});
    check_like_real(
        [](const auto& v) {
          return conv_general_dilated(v[0], v[1], {2, 2}, Padding::same());
        },
        {f32_iota({2, 7, 7, 3}), f32_iota({3, 3, 3, 8})});
    check_like_real(
        [](const auto& v) {
          return reduce_window(v[0], ReduceOp::Max, {1, 2, 2, 1}, {1, 2, 2, 1});
        },
        {f32_iota({2, 6, 6, 3})});
    check_like_real(
        [](const auto& v) {
          return reduce_window(v[0], ReduceOp::Sum, {1, 3, 3, 1}, {}, Padding::same());
        },
        {f32_iota({1, 5, 5, 2})});
  }

  TEST_CASE("shape errors are raised for shape-only operands too") {
    CHECK_THROWS_AS((void)matmul(abstract_array({2, 3}), abstract_array({4, 5})), ShapeError);
    CHECK_THROWS_AS((void)(abstract_array({2, 3}) + abstract_array({4})), ShapeError);
    CHECK_THROWS_AS((void)where(abstract_array({2}), 1.0, 0.0), DtypeError);
  }

  TEST_CASE("a shape-only huge computation allocates nothing") {
    // 200000 x 200000 float32 would be 160 GB.
    Array x = abstract_array({200000, 200000});
    Array y = sum(matmul(x, x) * 2.0, Axes{0});
    CHECK(y.type_string() == "f32[200000]");
  }

  TEST_CASE("a gradient of shape-only inputs has their shapes") {
    Array g = grad([](const Array& x) { return sum(tanh(matmul(x, x))); })(abstract_array({3, 3}));
    CHECK(g.is_abstract());
    CHECK(g.type_string() == "f32[3,3]");
  }

  TEST_CASE("property: elementwise chains over broadcast shapes agree with real arrays") {
    CHECK(rc::check("shape-only broadcasting", [] {
      const auto rank = *rc::gen::inRange(0, 4);
      Shape a, b;
      for (int d = 0; d < rank; ++d) {
        const auto n = *rc::gen::inRange<std::int64_t>(1, 4);
        a.push_back(*rc::gen::element<std::int64_t>(1, n));
        b.push_back(*rc::gen::element<std::int64_t>(1, n));
      }
      const Array x = zeros(a), y = ones(b);
      const Array real = tanh(x * y + 1.0) - y;
      const Array shape_only = tanh(abstract_array(a) * y + 1.0) - abstract_array(b);
      RC_ASSERT(shape_only.is_abstract());
      RC_ASSERT(shape_only.type_string() == real.type_string());
    }));
  }
}
