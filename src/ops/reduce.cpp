// Reductions (sum, mean, prod, max, min, var, std, logsumexp, argmax, argmin, any, all) and their
// derivative rules.
//
// Every reduction views its input as (outer, reduced, inner) — see `ReducePlan` — so the common
// cases (all axes, last axes, leading axes, one middle block) run without per-element index
// arithmetic; other axis sets reduce one block of adjacent axes at a time. Floating-point sums are
// pairwise (NumPy's scheme), so the error of a sum of n float32 values grows as O(log n)·eps
// instead of O(n)·eps.
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

#include "ops/kernels.hpp"

namespace jute {

namespace detail {

ReducePlan make_reduce_plan(const Shape& shape, const Axes& axes, const char* op) {
  ReducePlan p;
  const int nd = static_cast<int>(shape.size());
  p.axes = axes.resolve(nd, op);
  std::vector<bool> reduced(static_cast<std::size_t>(nd), false);
  for (int ax : p.axes) reduced[static_cast<std::size_t>(ax)] = true;
  for (int d = 0; d < nd; ++d) {
    const std::int64_t n = shape[static_cast<std::size_t>(d)];
    if (reduced[static_cast<std::size_t>(d)]) {
      p.keep_shape.push_back(1);
    } else {
      p.keep_shape.push_back(n);
      p.out_shape.push_back(n);
    }
  }
  // Group the axes (ignoring size-1 ones, which do not affect the layout) into runs of reduced
  // and kept axes; one run of reduced axes gives (outer, reduced, inner) directly.
  struct Run {
    bool reduced;
    std::int64_t size;
  };
  std::vector<Run> runs;
  for (int d = 0; d < nd; ++d) {
    const std::int64_t n = shape[static_cast<std::size_t>(d)];
    if (n == 1) continue;
    const bool r = reduced[static_cast<std::size_t>(d)];
    if (!runs.empty() && runs.back().reduced == r)
      runs.back().size *= n;
    else
      runs.push_back({r, n});
  }
  int reduced_runs = 0;
  for (const Run& r : runs) reduced_runs += r.reduced ? 1 : 0;
  if (reduced_runs <= 1) {
    bool after = false;
    for (const Run& r : runs) {
      if (r.reduced) {
        p.reduced = r.size;
        after = true;
      } else if (after) {
        p.inner *= r.size;
      } else {
        p.outer *= r.size;
      }
    }
    return p;
  }
  p.single_block = false;
  return p;
}

Array unbroadcast(const Array& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const int lead = g.ndim() - static_cast<int>(shape.size());
  std::vector<int> ones;
  for (std::size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 1 && g.shape()[static_cast<std::size_t>(lead) + i] != 1)
      ones.push_back(lead + static_cast<int>(i));
  Array r = g;
  if (!ones.empty()) r = sum(r, Axes(ones), true);
  if (lead > 0) {
    std::vector<int> leading(static_cast<std::size_t>(lead));
    std::iota(leading.begin(), leading.end(), 0);
    r = sum(r, Axes(leading), false);
  }
  return r;
}

Array expand_reduced(const Array& g, const ReducePlan& plan, const Shape& shape) {
  const Array keep = g.shape() == plan.keep_shape ? g : reshape(g, plan.keep_shape);
  return keep.shape() == shape ? keep : broadcast_to(keep, shape);
}

}  // namespace detail

namespace {

using detail::ReducePlan;

template <class T>
constexpr bool is_int_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

/// The number of elements each output element reduces over.
std::int64_t reduced_count(const Shape& shape, const ReducePlan& plan) {
  std::int64_t n = 1;
  for (int ax : plan.axes) n *= shape[static_cast<std::size_t>(ax)];
  return n;
}

/// sum and prod accumulate bool as int32 and uint8 as uint32 (as JAX), others in their own dtype.
DType accumulate_dtype(DType t) {
  if (t == DType::Bool) return DType::Int32;
  if (t == DType::UInt8) return DType::UInt32;
  return t;
}

/// Runs the associative reduction `Op` (a functor with `init<T>()` and `operator()(T, T)`) over
/// `a` converted to `dtype`. The value only: the caller records the derivative rule. Axes that
/// are not one block (e.g. axes 0 and 2 of a rank-3 array) are reduced one block at a time,
/// the last block first.
template <class Op>
Array run_reduce(const Array& a, const ReducePlan& plan, DType dtype, bool keepdims, Op op) {
  if (a.is_abstract())
    return detail::abstract(dtype, keepdims ? plan.keep_shape : plan.out_shape, a.weak_type());
  Array x = detail::cast(detail::detach(a), dtype);
  if (!plan.single_block) {
    for (std::size_t end = plan.axes.size(); end > 0;) {
      std::size_t begin = end - 1;
      while (begin > 0 && plan.axes[begin - 1] + 1 == plan.axes[begin]) --begin;
      const std::vector<int> block(plan.axes.begin() + static_cast<std::ptrdiff_t>(begin),
                                   plan.axes.begin() + static_cast<std::ptrdiff_t>(end));
      x = run_reduce(x, detail::make_reduce_plan(x.shape(), Axes(block), "reduce"), dtype, true,
                     op);
      end = begin;
    }
    return detail::with_shape(x, keepdims ? plan.keep_shape : plan.out_shape);
  }
  Array out = detail::empty(dtype, keepdims ? plan.keep_shape : plan.out_shape, a.weak_type());
  visit_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    detail::reduce_plan(plan, x.data<T>(), detail::mutable_data<T>(out), op.template init<T>(),
                        [&](T u, T v) { return op(u, v); });
  });
  return out;
}

struct SumOp {
  template <class T>
  T init() const {
    return T(0);
  }
  template <class T>
  T operator()(T x, T y) const {
    if constexpr (std::is_same_v<T, bool>)
      return x || y;
    else if constexpr (is_int_v<T>) {
      using U = std::make_unsigned_t<T>;
      return static_cast<T>(static_cast<U>(static_cast<U>(x) + static_cast<U>(y)));
    } else {
      return x + y;
    }
  }
};

struct ProdOp {
  template <class T>
  T init() const {
    return T(1);
  }
  template <class T>
  T operator()(T x, T y) const {
    if constexpr (std::is_same_v<T, bool>)
      return x && y;
    else if constexpr (is_int_v<T>) {
      using U = std::make_unsigned_t<T>;
      return static_cast<T>(static_cast<U>(static_cast<U>(x) * static_cast<U>(y)));
    } else {
      return x * y;
    }
  }
};

/// max (Greater = true) or min, propagating NaN as NumPy does.
template <bool Greater>
struct ExtremumOp {
  template <class T>
  T init() const {
    if constexpr (std::is_floating_point_v<T>)
      return Greater ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    else
      return Greater ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
  template <class T>
  T operator()(T x, T y) const {
    const bool keep_x = Greater ? x > y : x < y;
    if constexpr (std::is_floating_point_v<T>)
      return (keep_x || x != x) ? x : y;
    else
      return keep_x ? x : y;
  }
};

void check_nonempty(const Shape& shape, const ReducePlan& plan, const char* op) {
  if (reduced_count(shape, plan) == 0 && detail::shape_size(plan.out_shape) > 0)
    throw ValueError(std::string("[") + op + "] Cannot reduce an array of shape " +
                     detail::shape_str(shape) +
                     " over an empty axis: the operation has no identity; reduce over non-empty "
                     "axes or use a reduction with an identity (sum, prod).");
}

Array sum_planned(const Array& a, const ReducePlan& plan, bool keepdims) {
  Array out = run_reduce(a, plan, accumulate_dtype(a.dtype()), keepdims, SumOp{});
  if (detail::any_traced(a)) {
    out = detail::record(
        "sum", out, {a}, [plan](const Array& g, const std::vector<Array>& in, const Array&) {
          return std::vector<Array>{detail::expand_reduced(g, plan, in[0].shape())};
        });
  }
  return out;
}

/// a as a float array (integers and bool as float32), keeping its weak flag.
Array as_float(const Array& a) {
  return detail::with_weak(detail::cast(a, detail::float_compute_dtype(a.dtype())), a.weak_type());
}

template <bool Greater>
Array extremum(const char* op, const Array& a, const Axes& axes, bool keepdims) {
  detail::require_valid(a, op);
  const ReducePlan plan = detail::make_reduce_plan(a.shape(), axes, op);
  check_nonempty(a.shape(), plan, op);
  Array out = run_reduce(a, plan, a.dtype(), keepdims, ExtremumOp<Greater>{});
  if (detail::any_traced(a)) {
    // JAX's rule: the cotangent goes to the positions equal to the result, shared equally among
    // ties.
    out = detail::record(
        op, out, {a}, [plan](const Array& g, const std::vector<Array>& in, const Array& y) {
          const Array& x = in[0];
          Array hit = equal(x, detail::expand_reduced(y, plan, x.shape())).astype(g.dtype());
          Array share = hit / sum(hit, Axes(plan.axes), true);
          return std::vector<Array>{share * detail::expand_reduced(g, plan, x.shape())};
        });
  }
  return out;
}

/// Index of the first extremum along one axis (or the flattened array), int32. NaN counts as the
/// extremum (the first NaN wins), as NumPy.
template <bool Greater>
Array arg_extremum(const char* op, const Array& a, std::optional<int> axis, bool keepdims) {
  detail::require_valid(a, op);
  const Array flat = axis ? a : detail::with_shape(a, {a.size()});
  const int ax = axis ? *axis : 0;
  const ReducePlan plan = detail::make_reduce_plan(flat.shape(), Axes(ax), op);
  if (reduced_count(flat.shape(), plan) == 0)
    throw ValueError(std::string("[") + op + "] Cannot take the " + op +
                     " of an empty axis of an array of shape " + detail::shape_str(a.shape()) +
                     "; the result would be undefined.");
  Shape out_shape =
      keepdims ? (axis ? plan.keep_shape : Shape(a.shape().size(), 1)) : plan.out_shape;
  if (a.is_abstract()) return detail::abstract(DType::Int32, out_shape);
  Array out = detail::empty(DType::Int32, out_shape);
  std::int32_t* idx = detail::mutable_data<std::int32_t>(out);
  visit_dtype(a.dtype(), [&](auto t) {
    using T = decltype(t);
    const T* x = flat.data<T>();
    auto better = [](T v, T best) {
      const bool b = Greater ? v > best : v < best;
      if constexpr (std::is_floating_point_v<T>)
        return b || (v != v && best == best);
      else
        return b;
    };
    const std::int64_t n = plan.reduced, inner = plan.inner;
    std::vector<T> best(static_cast<std::size_t>(inner));
    for (std::int64_t o = 0; o < plan.outer; ++o) {
      const T* block = x + o * n * inner;
      std::int32_t* oi = idx + o * inner;
      for (std::int64_t j = 0; j < inner; ++j) {
        best[static_cast<std::size_t>(j)] = block[j];
        oi[j] = 0;
      }
      for (std::int64_t r = 1; r < n; ++r) {
        const T* row = block + r * inner;
        for (std::int64_t j = 0; j < inner; ++j) {
          if (better(row[j], best[static_cast<std::size_t>(j)])) {
            best[static_cast<std::size_t>(j)] = row[j];
            oi[j] = static_cast<std::int32_t>(r);
          }
        }
      }
    }
  });
  return out;
}

}  // namespace

Array sum(const Array& a, const Axes& axes, bool keepdims) {
  detail::require_valid(a, "sum");
  return sum_planned(a, detail::make_reduce_plan(a.shape(), axes, "sum"), keepdims);
}

Array mean(const Array& a, const Axes& axes, bool keepdims) {
  detail::require_valid(a, "mean");
  const ReducePlan plan = detail::make_reduce_plan(a.shape(), axes, "mean");
  Array x = as_float(a);
  return divide(
      sum_planned(x, plan, keepdims),
      detail::weak_scalar(static_cast<double>(reduced_count(a.shape(), plan)), x.dtype()));
}

Array prod(const Array& a, const Axes& axes, bool keepdims) {
  detail::require_valid(a, "prod");
  const ReducePlan plan = detail::make_reduce_plan(a.shape(), axes, "prod");
  Array out = run_reduce(a, plan, accumulate_dtype(a.dtype()), keepdims, ProdOp{});
  if (detail::any_traced(a)) {
    // ∂prod/∂x_i is the product of the other elements. Computed without dividing by zero: with
    // no zero it is prod/x_i; with exactly one zero it is the product of the nonzero elements at
    // the zero and 0 elsewhere; with two or more zeros it is 0 everywhere.
    out = detail::record(
        "prod", out, {a}, [plan](const Array& g, const std::vector<Array>& in, const Array&) {
          const Array& x = in[0];
          const Axes ax(plan.axes);
          Array is_zero = equal(x, 0);
          Array zeros = sum(is_zero, ax, true);
          Array x_safe = where(is_zero, Array(1.0), x);
          Array p_nonzero = prod(x_safe, ax, true);
          Array others = where(is_zero, where(equal(zeros, 1), p_nonzero, Array(0.0)),
                               where(equal(zeros, 0), p_nonzero / x_safe, Array(0.0)));
          return std::vector<Array>{others * detail::expand_reduced(g, plan, x.shape())};
        });
  }
  return out;
}

Array max(const Array& a, const Axes& axes, bool keepdims) {
  return extremum<true>("max", a, axes, keepdims);
}

Array min(const Array& a, const Axes& axes, bool keepdims) {
  return extremum<false>("min", a, axes, keepdims);
}

Array var(const Array& a, const Axes& axes, bool keepdims, int ddof) {
  detail::require_valid(a, "var");
  const ReducePlan plan = detail::make_reduce_plan(a.shape(), axes, "var");
  // Two passes (mean, then squared deviations) for accuracy; written with public ops so that
  // the derivative (and higher ones) follows from theirs. NumPy's convention for ddof >= n: the
  // divisor is max(n - ddof, 0), so the result is inf or nan.
  Array x = as_float(a);
  Array d = x - mean(x, axes, true);
  const auto n = reduced_count(a.shape(), plan);
  const double divisor = static_cast<double>(std::max<std::int64_t>(n - ddof, 0));
  return divide(sum_planned(square(d), plan, keepdims), detail::weak_scalar(divisor, x.dtype()));
}

Array std(const Array& a, const Axes& axes, bool keepdims, int ddof) {
  detail::require_valid(a, "std");
  return sqrt(var(a, axes, keepdims, ddof));
}

Array logsumexp(const Array& a, const Axes& axes, bool keepdims) {
  detail::require_valid(a, "logsumexp");
  const ReducePlan plan = detail::make_reduce_plan(a.shape(), axes, "logsumexp");
  Array x = as_float(a);
  // Shift by the (constant) maximum so exp never overflows; an infinite or empty maximum
  // (-inf) shifts by 0, so all -inf gives -inf, +inf gives +inf and an empty reduction gives -inf.
  Array m = run_reduce(x, plan, x.dtype(), true, ExtremumOp<true>{});
  m = where(isfinite(m), m, Array(0.0));
  Array s = sum_planned(exp(x - m), plan, keepdims);
  return log(s) + (keepdims ? m : detail::with_shape(m, plan.out_shape));
}

Array argmax(const Array& a, std::optional<int> axis, bool keepdims) {
  return arg_extremum<true>("argmax", a, axis, keepdims);
}

Array argmin(const Array& a, std::optional<int> axis, bool keepdims) {
  return arg_extremum<false>("argmin", a, axis, keepdims);
}

Array any(const Array& a, const Axes& axes, bool keepdims) {
  detail::require_valid(a, "any");
  const ReducePlan plan = detail::make_reduce_plan(a.shape(), axes, "any");
  return detail::with_weak(run_reduce(a, plan, DType::Bool, keepdims, SumOp{}), false);
}

Array all(const Array& a, const Axes& axes, bool keepdims) {
  detail::require_valid(a, "all");
  const ReducePlan plan = detail::make_reduce_plan(a.shape(), axes, "all");
  return detail::with_weak(run_reduce(a, plan, DType::Bool, keepdims, ProdOp{}), false);
}

}  // namespace jute
