// Whole-array comparisons (array_equal, allclose) and the resolution of reduction axes.
#include <algorithm>
#include <cmath>

#include "ops/kernels.hpp"

namespace jute {

std::vector<int> Axes::resolve(int ndim, const char* op) const {
  std::vector<int> out;
  if (all_) {
    out.resize(static_cast<std::size_t>(ndim));
    for (int i = 0; i < ndim; ++i) out[static_cast<std::size_t>(i)] = i;
    return out;
  }
  out.reserve(axes_.size());
  for (int ax : axes_) {
    const int a = ax < 0 ? ax + ndim : ax;
    if (a < 0 || a >= ndim)
      throw ShapeError(std::string("[") + op + "] Axis " + std::to_string(ax) +
                       " is out of range for an array with " + std::to_string(ndim) +
                       " dimensions; use an axis in [" + std::to_string(-ndim) + ", " +
                       std::to_string(ndim) + ").");
    out.push_back(a);
  }
  std::sort(out.begin(), out.end());
  const auto dup = std::adjacent_find(out.begin(), out.end());
  if (dup != out.end())
    throw ShapeError(std::string("[") + op + "] Axis " + std::to_string(*dup) +
                     " appears more than once in the axes; list each axis once.");
  return out;
}

namespace {
/// Calls `f(i, x, y)` with the elements of a and b at flat index i as doubles, until it returns
/// false; returns whether every call returned true.
template <class F>
bool all_pairs(const Array& a, const Array& b, F f) {
  return visit_dtype(a.dtype(), [&](auto ta) {
    using TA = decltype(ta);
    return visit_dtype(b.dtype(), [&](auto tb) {
      using TB = decltype(tb);
      const TA* x = a.data<TA>();
      const TB* y = b.data<TB>();
      for (std::int64_t i = 0; i < a.size(); ++i)
        if (!f(static_cast<double>(x[i]), static_cast<double>(y[i]))) return false;
      return true;
    });
  });
}

}  // namespace

bool array_equal(const Array& a, const Array& b, bool equal_nan) {
  detail::require_valid(a, "array_equal");
  detail::require_valid(b, "array_equal");
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  return all_pairs(a, b, [equal_nan](double x, double y) {
    return x == y || (equal_nan && std::isnan(x) && std::isnan(y));
  });
}

bool allclose(const Array& a, const Array& b, double rtol, double atol, bool equal_nan) {
  detail::require_valid(a, "allclose");
  detail::require_valid(b, "allclose");
  if (a.shape() != b.shape()) return false;
  return all_pairs(a, b, [=](double x, double y) {
    if (x == y) return true;  // also equal infinities
    if (std::isnan(x) || std::isnan(y)) return equal_nan && std::isnan(x) && std::isnan(y);
    if (std::isinf(x) || std::isinf(y)) return false;  // unequal infinities are never close
    return std::fabs(x - y) <= atol + rtol * std::fabs(y);
  });
}

}  // namespace jute
