// The opt-in xtensor bridge: zero-copy read-only views of Arrays and evaluation of xtensor
// expressions into Arrays.
#include "jute/xtensor.hpp"

#include <doctest/doctest.h>

#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "jute/ops.hpp"

using namespace jute;

TEST_SUITE("xtensor") {
  TEST_CASE("xtensor: to_xtensor is a zero-copy view that keeps the buffer alive") {
    Array a({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
    auto x = to_xtensor<float>(a);
    CHECK(x.data() == a.data<float>());
    CHECK(x.shape() == std::vector<std::size_t>{2, 3});
    CHECK(x(1, 2) == 6.f);
    CHECK(xt::sum(x)() == 21.f);
    static_assert(std::is_const_v<std::remove_reference_t<decltype(*x.data())>>,
                  "the view must be read-only");
    const float* buffer = a.data<float>();
    a = Array();  // the view alone keeps the elements alive
    CHECK(x.data() == buffer);
    CHECK(x(0, 1) == 2.f);
    auto copy = x;  // copies share ownership too
    CHECK(copy(1, 0) == 4.f);
  }

  TEST_CASE("xtensor: to_xtensor checks the element type") {
    const Array a({1, 2, 3});
    CHECK_THROWS_AS(to_xtensor<float>(a), DtypeError);
    auto x = to_xtensor<std::int32_t>(a);
    CHECK(x(2) == 3);
    auto s = to_xtensor<double>(Array::scalar(2.5, float64));
    CHECK(s.dimension() == 0);
    CHECK(s() == 2.5);
  }

  TEST_CASE("xtensor: from_xtensor evaluates expressions into Arrays") {
    const Array a({{1., 2., 3.}, {4., 5., 6.}}, float64);
    const Array sums = from_xtensor(xt::cumsum(to_xtensor<double>(a), 1));
    CHECK(sums.dtype() == float64);
    CHECK(sums.shape() == Shape{2, 3});
    CHECK(sums.to_vector<double>() == std::vector<double>{1, 3, 6, 4, 9, 15});
    // A container is copied straight from its buffer; a strided view is evaluated first.
    xt::xtensor<std::int32_t, 2> t = {{1, 2}, {3, 4}};
    const Array ti = from_xtensor(t);
    CHECK(ti.dtype() == int32);
    CHECK(ti.to_vector<int>() == std::vector<int>{1, 2, 3, 4});
    const Array col = from_xtensor(xt::view(t, xt::all(), 1));
    CHECK(col.shape() == Shape{2});
    CHECK(col.to_vector<int>() == std::vector<int>{2, 4});
    const xt::xtensor<double, 2> grid = {{1, 2}, {3, 4}, {5, 6}};
    const Array every_other = from_xtensor(xt::view(grid, xt::range(0, 3, 2), xt::all()));
    CHECK(every_other.shape() == Shape{2, 2});
    CHECK(every_other.to_vector<double>() == std::vector<double>{1, 2, 5, 6});
    const Array last_rows = from_xtensor(xt::view(grid, xt::range(1, 3), xt::all()));
    CHECK(last_rows.to_vector<double>() == std::vector<double>{3, 4, 5, 6});
    const Array flags = from_xtensor(xt::xarray<bool>{true, false, true});
    CHECK(flags.dtype() == bool_);
    CHECK(flags.to_vector<int>() == std::vector<int>{1, 0, 1});
    const xt::xtensor<std::uint8_t, 2> byte_values = {{7}, {9}};
    const Array bytes = from_xtensor(byte_values);
    CHECK(bytes.dtype() == uint8);
    CHECK(bytes.shape() == Shape{2, 1});
    // Round trip through a view of a jute Array.
    const Array f = from_xtensor(to_xtensor<float>(Array({1.5f, -2.f})));
    CHECK(f.to_vector<float>() == std::vector<float>{1.5f, -2.f});
  }

}  // TEST_SUITE
