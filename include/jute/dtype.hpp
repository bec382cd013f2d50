// jute/dtype.hpp — element types and their promotion rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace jute {

/// The element type of an Array. Names follow NumPy (`name`) and JAX's short form (`short_name`).
enum class DType : std::uint8_t { Bool, UInt8, Int32, UInt32, Float32, Float64 };

inline constexpr DType bool_ = DType::Bool;
inline constexpr DType uint8 = DType::UInt8;
inline constexpr DType int32 = DType::Int32;
inline constexpr DType uint32 = DType::UInt32;
inline constexpr DType float32 = DType::Float32;
inline constexpr DType float64 = DType::Float64;

/// Bytes per element.
constexpr std::size_t itemsize(DType t) {
  switch (t) {
    case DType::Bool:
    case DType::UInt8:
      return 1;
    case DType::Int32:
    case DType::UInt32:
    case DType::Float32:
      return 4;
    case DType::Float64:
      return 8;
  }
  return 0;
}

/// NumPy's name: "bool", "uint8", "int32", "uint32", "float32", "float64".
std::string_view name(DType t);
/// JAX's short name used when printing shapes: "bool", "u8", "i32", "u32", "f32", "f64".
std::string_view short_name(DType t);
/// Parses a NumPy dtype name; throws DtypeError for names jute does not support.
DType dtype_from_name(std::string_view numpy_name);

constexpr bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }
constexpr bool is_integer(DType t) {
  return t == DType::UInt8 || t == DType::Int32 || t == DType::UInt32;
}
constexpr bool is_unsigned(DType t) { return t == DType::UInt8 || t == DType::UInt32; }

/// Result dtype of a binary op between two strongly typed operands (JAX's lattice without
/// 64-bit integers):
///   bool < uint8 < {int32, uint32} < float32 < float64, and int32 ⊕ uint32 = int32.
/// Any integer or bool with float32 gives float32 (JAX), not float64 (NumPy).
DType promote_types(DType a, DType b);

/// Result dtype when one operand is a weakly typed scalar (a C++ number written in an
/// expression, like a Python scalar in JAX): the strong operand's dtype wins within its kind;
/// a weak float with an integer or bool array gives float32; a weak int with a bool array
/// gives int32.
DType promote_weak(DType strong, DType weak);

/// The DType corresponding to a C++ element type.
template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<bool>() {
  return DType::Bool;
}
template <>
constexpr DType dtype_of<std::uint8_t>() {
  return DType::UInt8;
}
template <>
constexpr DType dtype_of<std::int32_t>() {
  return DType::Int32;
}
template <>
constexpr DType dtype_of<std::uint32_t>() {
  return DType::UInt32;
}
template <>
constexpr DType dtype_of<float>() {
  return DType::Float32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::Float64;
}

/// Calls `f(T{})` with T the C++ type of `t` (bool, uint8_t, int32_t, uint32_t, float, double).
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::Bool:
      return f(bool{});
    case DType::UInt8:
      return f(std::uint8_t{});
    case DType::Int32:
      return f(std::int32_t{});
    case DType::UInt32:
      return f(std::uint32_t{});
    case DType::Float32:
      return f(float{});
    case DType::Float64:
      break;
  }
  return f(double{});
}

}  // namespace jute
