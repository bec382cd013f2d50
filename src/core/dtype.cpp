#include "jute/dtype.hpp"

#include <string>

#include "jute/errors.hpp"

namespace jute {

std::string_view name(DType t) {
  switch (t) {
    case DType::Bool:
      return "bool";
    case DType::UInt8:
      return "uint8";
    case DType::Int32:
      return "int32";
    case DType::UInt32:
      return "uint32";
    case DType::Float32:
      return "float32";
    case DType::Float64:
      return "float64";
  }
  return "unknown";
}

std::string_view short_name(DType t) {
  switch (t) {
    case DType::Bool:
      return "bool";
    case DType::UInt8:
      return "u8";
    case DType::Int32:
      return "i32";
    case DType::UInt32:
      return "u32";
    case DType::Float32:
      return "f32";
    case DType::Float64:
      return "f64";
  }
  return "unknown";
}

DType dtype_from_name(std::string_view n) {
  for (DType t :
       {DType::Bool, DType::UInt8, DType::Int32, DType::UInt32, DType::Float32, DType::Float64})
    if (n == name(t) || n == short_name(t)) return t;
  throw DtypeError("[dtype] Unknown or unsupported dtype name \"" + std::string(n) +
                   "\"; jute supports bool, uint8, int32, uint32, float32 and float64.");
}

namespace {
int rank(DType t) {
  switch (t) {
    case DType::Bool:
      return 0;
    case DType::UInt8:
      return 1;
    case DType::Int32:
    case DType::UInt32:
      return 2;
    case DType::Float32:
      return 3;
    case DType::Float64:
      return 4;
  }
  return 0;
}
}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  if ((a == DType::Int32 && b == DType::UInt32) || (a == DType::UInt32 && b == DType::Int32))
    return DType::Int32;
  return rank(a) >= rank(b) ? a : b;
}

DType promote_weak(DType strong, DType weak) {
  if (is_floating(weak)) return is_floating(strong) ? strong : DType::Float32;
  if (is_integer(weak)) return strong == DType::Bool ? DType::Int32 : strong;
  return strong;  // a weak bool never changes the other operand
}

namespace detail {
std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}
}  // namespace detail

}  // namespace jute
