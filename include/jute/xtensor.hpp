// jute/xtensor.hpp — opt-in bridges between jute Arrays and xtensor expressions.
//
// The only public jute header that includes xtensor (xtensor headers cost seconds of compile time
// per file, so nothing else pulls them in). Include it where you want xtensor's algorithms on
// jute data:
//
//   jute::Array a = ...;
//   auto x = jute::to_xtensor<float>(a);          // zero-copy, read-only, keeps `a`'s buffer alive
//   jute::Array b = jute::from_xtensor(xt::cumsum(x, 1));
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xexpression.hpp>

#include "jute/array.hpp"

namespace jute {

/// A read-only xtensor view of `a`'s elements (no copy). T must be `a`'s element type exactly
/// (DtypeError otherwise). The view holds a reference to `a`'s buffer, so it stays valid after `a`
/// itself goes away; Arrays are immutable, so the view never sees its elements change.
template <class T>
auto to_xtensor(const Array& a) {
  const T* data = a.data<T>();
  std::vector<std::size_t> shape(a.shape().begin(), a.shape().end());
  // A shared reference to the Array's storage travels with the adaptor as its "smart pointer":
  // xtensor keeps it for as long as the adaptor (or a copy of it) exists.
  std::shared_ptr<const void> keep = a.impl();
  return xt::adapt_smart_ptr(static_cast<const T*>(data), shape, std::move(keep));
}

/// Evaluates an xtensor expression into a new Array of the matching dtype (bool, uint8, int32,
/// uint32, float32 or float64 elements). A row-major container is copied once; any other
/// expression is first evaluated into a row-major xarray.
template <class E>
Array from_xtensor(const xt::xexpression<E>& expression) {
  using T = std::decay_t<typename E::value_type>;
  static_assert(std::is_same_v<T, bool> || std::is_same_v<T, std::uint8_t> ||
                    std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::uint32_t> ||
                    std::is_same_v<T, float> || std::is_same_v<T, double>,
                "from_xtensor: jute arrays hold bool, uint8, int32, uint32, float or double");
  const E& e = expression.derived_cast();
  if constexpr (std::is_same_v<T, bool>) {
    // xtensor's bool containers need not store one byte per element; go through a vector.
    const xt::xarray<T, xt::layout_type::row_major> values = e;
    return Array::from_vector(std::vector<bool>(values.begin(), values.end()),
                              Shape(values.shape().begin(), values.shape().end()), bool_);
  } else {
    if constexpr (xt::has_data_interface<E>::value) {
      if (e.layout() == xt::layout_type::row_major)
        return Array::from_raw(e.data() + e.data_offset(), dtype_of<T>(),
                               Shape(e.shape().begin(), e.shape().end()), dtype_of<T>());
    }
    const xt::xarray<T, xt::layout_type::row_major> values = e;
    return Array::from_raw(values.data(), dtype_of<T>(),
                           Shape(values.shape().begin(), values.shape().end()), dtype_of<T>());
  }
}

}  // namespace jute
