// The dtype promotion table of binary ops (docs/ops.md), checked through the ops themselves.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <utility>

#include "jute/ops.hpp"
#include "ops/helpers.hpp"

using namespace jute;

namespace {
const DType kAll[] = {bool_, uint8, int32, uint32, float32, float64};

// The table of docs/ops.md for two strongly typed operands (symmetric; upper triangle listed).
DType expected_strong(DType a, DType b) {
  static const std::map<std::pair<DType, DType>, DType> table = {
      {{bool_, bool_}, bool_},       {{bool_, uint8}, uint8},       {{bool_, int32}, int32},
      {{bool_, uint32}, uint32},     {{bool_, float32}, float32},   {{bool_, float64}, float64},
      {{uint8, uint8}, uint8},       {{uint8, int32}, int32},       {{uint8, uint32}, uint32},
      {{uint8, float32}, float32},   {{uint8, float64}, float64},   {{int32, int32}, int32},
      {{int32, uint32}, int32},      {{int32, float32}, float32},   {{int32, float64}, float64},
      {{uint32, uint32}, uint32},    {{uint32, float32}, float32},  {{uint32, float64}, float64},
      {{float32, float32}, float32}, {{float32, float64}, float64}, {{float64, float64}, float64}};
  auto it = table.find({a, b});
  if (it == table.end()) it = table.find({b, a});
  REQUIRE(it != table.end());
  return it->second;
}
}  // namespace

TEST_SUITE("ops.promotion") {
  TEST_CASE("promotion: every pair of strongly typed operands") {
    for (DType a : kAll) {
      for (DType b : kAll) {
        INFO(name(a) << " with " << name(b));
        const DType want = expected_strong(a, b);
        CHECK(promote_types(a, b) == want);
        Array x = ones({2}, a), y = ones({1}, b);
        Array s = add(x, y);
        CHECK(s.dtype() == want);
        CHECK_FALSE(s.weak_type());
        CHECK(multiply(x, y).dtype() == want);
        CHECK(maximum(x, y).dtype() == want);
        CHECK(minimum(x, y).dtype() == want);
        CHECK(where(Array({true, false}), x, y).dtype() == want);
        CHECK(clip(x, y, y).dtype() == want);
        CHECK(equal(x, y).dtype() == bool_);
        CHECK(divide(x, y).dtype() == (is_floating(want) ? want : float32));
        if (want != bool_) {
          CHECK(subtract(x, y).dtype() == want);
          CHECK(power(x, y).dtype() == want);
        }
        // The promoted arithmetic is exact for small values in every dtype.
        CHECK_ARRAY(s.astype(float64),
                    Array({1., 1.}, float64) + Array({want == bool_ ? 0. : 1.}, float64));
      }
    }
  }

  TEST_CASE("promotion: a weakly typed scalar takes the other operand's dtype within its kind") {
    for (DType t : kAll) {
      INFO(name(t));
      Array x = ones({2}, t);
      // A weak float: float arrays keep their dtype; integer and bool arrays become float32.
      const DType with_float = is_floating(t) ? t : float32;
      CHECK(promote_weak(t, float32) == with_float);
      CHECK((x * 1.5).dtype() == with_float);
      CHECK((1.5 * x).dtype() == with_float);
      CHECK_FALSE((x * 1.5).weak_type());
      // A weak int: numeric arrays keep their dtype; bool arrays become int32.
      const DType with_int = t == bool_ ? int32 : t;
      CHECK(promote_weak(t, int32) == with_int);
      CHECK((x + 2).dtype() == with_int);
      CHECK((2 + x).dtype() == with_int);
      CHECK((x + 2u).dtype() == with_int);
      CHECK(maximum(x, 0).dtype() == with_int);
      CHECK(where(Array({true, true}), x, 0).dtype() == with_int);
      // Comparisons with a weak scalar compare in the promoted dtype.
      CHECK_ARRAY(x > 0.5, Array({true, true}));
    }
  }

  TEST_CASE("promotion: weak with weak stays weak; a strong scalar is strong") {
    Array a = Array(2) + Array(3);
    CHECK(a.dtype() == int32);
    CHECK(a.weak_type());
    Array b = Array(2) * Array(1.5);
    CHECK(b.dtype() == float32);
    CHECK(b.weak_type());
    CHECK_ARRAY(b, Array::scalar(3, float32));
    CHECK(exp(Array(0.0)).weak_type());
    CHECK(exp(Array(1)).weak_type());
    CHECK(exp(Array(1)).dtype() == float32);
    CHECK(sum(Array(3)).weak_type());
    CHECK(mean(Array(3)).weak_type());
    CHECK_FALSE(exp(Array::scalar(1, int32)).weak_type());
    // A weak result still yields to a strong operand.
    CHECK((Array({1, 2}, uint8) + a).dtype() == uint8);
    // A strong scalar (Array::scalar) promotes like an array.
    CHECK((Array({1, 2}, uint8) + Array::scalar(1, int32)).dtype() == int32);
    CHECK((ones({2}, float32) * Array::scalar(2, float64)).dtype() == float64);
    // C++ bool values are strongly typed bools.
    CHECK((Array({1.f}) + true).dtype() == float32);
    CHECK((Array({true}) + true).dtype() == bool_);
  }

  TEST_CASE("promotion: values convert with C++ rules when a weak scalar meets a narrow dtype") {
    // A weak int keeps the array's uint8 and converts with wraparound (JAX raises instead).
    CHECK_ARRAY(Array({10}, uint8) + 300, Array({54}, uint8));
    CHECK_ARRAY(Array({10}, uint8) - 11, Array({255}, uint8));
    CHECK_ARRAY(Array({1, 2}) * 2.5, Array({2.5f, 5.f}));
    CHECK_ARRAY(Array({true, false}) + 1.5, Array({2.5f, 1.5f}));
  }

  TEST_CASE("promotion: a C++ double meets a float64 array with its full double value") {
    const Array x64 = Array({1., 3.}, float64);
    // 3 * 0.1 in double is 0.30000000000000004; with 0.1f widened it would be 0.30000000447...
    CHECK_ARRAY(x64 * 0.1, Array({0.1, 3 * 0.1}, float64));
    CHECK_ARRAY(0.1 * x64, Array({0.1, 3 * 0.1}, float64));
    CHECK_ARRAY(x64 + 0.1, Array({1.1, 3.1}, float64));
    CHECK_ARRAY(x64 - 0.1, Array({1 - 0.1, 3 - 0.1}, float64));
    CHECK_ARRAY(x64 / 0.1, Array({1 / 0.1, 3 / 0.1}, float64));
    CHECK_ARRAY(maximum(x64 * 0.1, 0.2), Array({0.2, 3 * 0.1}, float64));
    CHECK_ARRAY(minimum(x64, 0.1), Array({0.1, 0.1}, float64));
    CHECK_ARRAY(clip(x64, 0.1, 2.7), Array({1., 2.7}, float64));
    CHECK_ARRAY(where(Array({true, false}), x64, 0.1), Array({1., 0.1}, float64));
    CHECK_ARRAY(power(x64, 0.1), Array({1., std::pow(3., 0.1)}, float64));
    CHECK_ARRAY(Array({0.1}, float64) == 0.1, Array({true}));
    CHECK_ARRAY(Array({0.1}, float64) > 0.1, Array({false}));
    // Reshaping the scalar keeps the value; a float32 array uses the float32 rounding.
    CHECK_ARRAY(x64 * reshape(Array(0.1), {1}), Array({0.1, 3 * 0.1}, float64));
    CHECK_ARRAY(Array({3.f}) * 0.1, Array({3.f * 0.1f}));
    // The scalar itself is a weak float32 holding 0.1f; a strong float32 forgets the double.
    const Array w = 0.1;
    CHECK(w.dtype() == float32);
    CHECK(w.weak_type());
    CHECK(w.item<double>() == static_cast<double>(0.1f));
    CHECK(w.astype(float64).item<double>() == 0.1);
    CHECK(w.astype(float32).astype(float64).item<double>() == static_cast<double>(0.1f));
    // Arithmetic between weak scalars happens in float32 (JAX's default float).
    CHECK_ARRAY(x64 * (Array(0.1) * Array(1.0)), Array({1., 3.}, float64) * 0.1f);
    // The derivative sees the same constant.
    CHECK_ARRAY(grad([](const Array& x) { return sum(x * 0.1); })(x64), Array({0.1, 0.1}, float64));
    // A temporary weak scalar is never overwritten in place with another value.
    CHECK_ARRAY(x64 * exp(Array(0.0)) * 0.1, Array({0.1, 3 * 0.1}, float64));
  }

  TEST_CASE("promotion: float math and divide on integer and bool inputs give float32") {
    for (DType t : {bool_, uint8, int32, uint32}) {
      INFO(name(t));
      Array x = ones({2}, t);
      using Unary = Array (*)(Array);
      const Unary float_math[] = {&jute::exp,  &jute::log,        &jute::log1p, &jute::expm1,
                                  &jute::sqrt, &jute::rsqrt,      &jute::tanh,  &jute::sigmoid,
                                  &jute::erf,  &jute::reciprocal, &jute::sin,   &jute::cos};
      for (Unary f : float_math) CHECK(f(x).dtype() == float32);
      CHECK(divide(x, x).dtype() == float32);
      CHECK(mean(x).dtype() == float32);
      CHECK(var(x).dtype() == float32);
      CHECK(logsumexp(x).dtype() == float32);
      // Rounding, abs and square keep the dtype.
      CHECK(floor(x).dtype() == t);
      CHECK(abs(x).dtype() == t);
      CHECK(square(x).dtype() == t);
    }
  }

}  // TEST_SUITE
