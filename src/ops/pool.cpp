// reduce_window (lax.reduce_window with max or add over every axis) and the recorded ops behind
// its derivatives.
//
// Two loop schemes, neither testing a bound per element:
// - interior: every window lies inside the input (VALID pooling, and SAME when no padding is
//   needed, e.g. 2×2 stride 2 on even sizes): one pass over the outputs, each reducing its taps
//   at precomputed offsets;
// - general (padding): one pass per window tap over the box of outputs whose tap lands inside
//   the input, computed per axis, so padded positions are simply never visited (they hold the
//   reduction's identity, -inf or 0, as lax pads).
// Trailing axes with window 1, stride 1 and no padding (the channels of NHWC pooling) are merged
// into a contiguous vector that the innermost loops run over.
//
// Derivatives:
// - Sum is linear: its transpose scatters each output's cotangent to its window
//   (window_sum_transpose), whose own transpose is the windowed sum again.
// - Max sends each output's cotangent to the position that the forward pass selected: the first
//   maximum in row-major window order (as JAX's select_and_scatter_add with `ge`); once a NaN is
//   seen it is the maximum. The forward pass records those flat positions, and the rule is
//   select_scatter (cotangent → input positions), whose transpose is select_gather (input-shaped
//   values → outputs) and back: both linear in their operand, so every order is defined (the
//   second derivative of max with respect to its input is zero almost everywhere). A window that
//   lies wholly in the padding passes no gradient.
// Dtypes: float32/float64 (differentiable) and the integer dtypes; bool is a DtypeError.
#include <algorithm>
#include <climits>
#include <cstring>
#include <limits>
#include <string>

#include "core/parallel.hpp"
#include "core/trace.hpp"
#include "jute/ops.hpp"

namespace jute {
namespace detail {
namespace {

constexpr const char* kOp = "[reduce_window] ";

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/// Resolved geometry of one reduce_window call, with trailing vector axes merged.
struct WindowPlan {
  Shape in_shape, out_shape;           // the full shapes
  int R = 0;                           // window axes (the leading ones; >= 1 for rank >= 1)
  std::int64_t V = 1;                  // elements of the merged trailing axes
  Shape in, out, window, strides, lo;  // per window axis
  Shape in_stride, out_stride;         // per window axis, in elements
  std::int64_t in_size = 0, out_size = 0;
  bool interior = true;               // every window lies inside the input
  bool tiles = false;                 // interior, and the windows partition the input exactly
  std::vector<std::int64_t> tap_off;  // interior: input offsets of the taps, row-major

  WindowPlan(const Shape& in_full, const Shape& win, const Shape& str, const Shape& pad_lo,
             const Shape& out_full)
      : in_shape(in_full), out_shape(out_full) {
    const int r = static_cast<int>(in_full.size());
    R = r;
    while (R > 1 && win[R - 1] == 1 && str[R - 1] == 1 && pad_lo[R - 1] == 0 &&
           out_full[R - 1] == in_full[R - 1])
      --R;
    for (int a = R; a < r; ++a) V *= in_full[a];
    in.assign(in_full.begin(), in_full.begin() + R);
    out.assign(out_full.begin(), out_full.begin() + R);
    window.assign(win.begin(), win.begin() + R);
    strides.assign(str.begin(), str.begin() + R);
    lo.assign(pad_lo.begin(), pad_lo.begin() + R);
    in_stride.assign(R, V);
    out_stride.assign(R, V);
    for (int a = R - 2; a >= 0; --a) {
      in_stride[a] = in_stride[a + 1] * in[a + 1];
      out_stride[a] = out_stride[a + 1] * out[a + 1];
    }
    in_size = shape_size(in_full);
    out_size = shape_size(out_full);
    for (int a = 0; a < R; ++a)
      interior = interior && lo[a] <= 0 &&
                 (out[a] == 0 || (out[a] - 1) * strides[a] + window[a] - lo[a] <= in[a]);
    if (interior) {
      tap_off.assign(1, 0);
      for (int a = 0; a < R; ++a) {
        std::vector<std::int64_t> next;
        next.reserve(tap_off.size() * static_cast<std::size_t>(window[a]));
        for (auto off : tap_off)
          for (std::int64_t j = 0; j < window[a]; ++j) next.push_back(off + j * in_stride[a]);
        tap_off = std::move(next);
      }
      tiles = true;
      for (int a = 0; a < R; ++a)
        tiles = tiles && lo[a] == 0 && window[a] == strides[a] && out[a] * strides[a] == in[a];
    }
  }

  /// Interior scheme: f(out_off, in_base) for every output position (a vector of V elements);
  /// the window's taps are at in_base + tap_off[t].
  /// With `parallel`, lines of outputs are shared out among the threads (`parallel_for`): only
  /// for an `f` whose writes for different outputs are disjoint.
  template <class F>
  void for_each_output(F&& f, bool parallel = false) const {
    if (out_size == 0) return;
    const std::int64_t olast = out[R - 1], lines = out_size / V / olast;
    const std::int64_t in_step = strides[R - 1] * V;
    const auto run = [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t line = first; line < last; ++line) {
        std::int64_t rem = line, in_base = -lo[R - 1] * V;
        for (int a = R - 2; a >= 0; --a) {
          in_base += ((rem % out[a]) * strides[a] - lo[a]) * in_stride[a];
          rem /= out[a];
        }
        for (std::int64_t o = 0; o < olast; ++o) f((line * olast + o) * V, in_base + o * in_step);
      }
    };
    if (parallel)
      parallel_for(lines, grain_for(olast * V * static_cast<std::int64_t>(tap_off.size())), run);
    else
      run(0, lines);
  }

  /// General scheme: for each tap (row-major), f(out_off, in_off, n) for runs of n outputs along
  /// the last window axis (output step V, input step strides[R-1] * V) whose tap is inside the
  /// input.
  template <class F>
  void for_each_tap_run(F&& f) const {
    if (out_size == 0) return;
    std::int64_t ntaps = 1;
    for (auto w : window) ntaps *= w;
    std::vector<std::int64_t> j(R), olo(R), ohi(R), o(R);
    for (std::int64_t t = 0; t < ntaps; ++t) {
      std::int64_t rem = t;
      bool empty_box = false;
      for (int a = R - 1; a >= 0; --a) {
        j[a] = rem % window[a];
        rem /= window[a];
        olo[a] = std::max<std::int64_t>(0, ceil_div(lo[a] - j[a], strides[a]));
        ohi[a] =
            std::min<std::int64_t>(out[a], floor_div(in[a] - 1 + lo[a] - j[a], strides[a]) + 1);
        empty_box = empty_box || olo[a] >= ohi[a];
      }
      if (empty_box) continue;
      const std::int64_t n = ohi[R - 1] - olo[R - 1];
      for (int a = 0; a < R; ++a) o[a] = olo[a];
      while (true) {
        std::int64_t out_off = 0, in_off = 0;
        for (int a = 0; a < R; ++a) {
          out_off += o[a] * out_stride[a];
          in_off += (o[a] * strides[a] + j[a] - lo[a]) * in_stride[a];
        }
        f(out_off, in_off, n);
        int a = R - 2;  // odometer over the outer axes of the box
        for (; a >= 0; --a) {
          if (++o[a] < ohi[a]) break;
          o[a] = olo[a];
        }
        if (a < 0) break;
      }
    }
  }
};

template <class T>
constexpr T max_identity() {
  if constexpr (std::numeric_limits<T>::has_infinity)
    return -std::numeric_limits<T>::infinity();
  else
    return std::numeric_limits<T>::lowest();
}

/// x replaces the running maximum m: larger, or the first NaN (lax.max propagates NaN).
template <class T>
inline bool beats(T x, T m) {
  if constexpr (std::is_floating_point_v<T>)
    return x > m || (x != x && m == m);
  else
    return x > m;
}

/// y = the reduction of each window with `combine(acc, x)`, starting from `identity` (only
/// needed where padding is).
template <class T, class Combine>
void window_reduce(const WindowPlan& p, const T* x, T* y, T identity, Combine combine) {
  const std::int64_t V = p.V;
  if (p.interior) {
    p.for_each_output(
        [&](std::int64_t oo, std::int64_t ib) {
          T* yo = y + oo;
          const T* x0 = x + ib + p.tap_off[0];
          for (std::int64_t v = 0; v < V; ++v) yo[v] = x0[v];
          for (std::size_t t = 1; t < p.tap_off.size(); ++t) {
            const T* xt = x + ib + p.tap_off[t];
            for (std::int64_t v = 0; v < V; ++v) yo[v] = combine(yo[v], xt[v]);
          }
        },
        true);
    return;
  }
  std::fill_n(y, p.out_size, identity);
  const std::int64_t in_step = p.strides[p.R - 1] * V;
  p.for_each_tap_run([&](std::int64_t oo, std::int64_t io, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
      T* yo = y + oo + i * V;
      const T* xi = x + io + i * in_step;
      for (std::int64_t v = 0; v < V; ++v) yo[v] = combine(yo[v], xi[v]);
    }
  });
}

/// y = max over windows and idx = the flat input position each output took (-1 when the window
/// lies wholly in the padding): the first maximum in row-major window order.
template <class T>
void window_argmax(const WindowPlan& p, const T* x, T* y, std::int32_t* idx) {
  std::fill_n(y, p.out_size, max_identity<T>());
  std::fill_n(idx, p.out_size, -1);
  // Both schemes visit a window's taps in row-major order, and a tap replaces the running
  // maximum only when it beats it, so the first maximum stays.
  auto take = [&](std::int64_t oo, std::int64_t io) {
    for (std::int64_t v = 0; v < p.V; ++v)
      if (idx[oo + v] < 0 || beats(x[io + v], y[oo + v])) {
        y[oo + v] = x[io + v];
        idx[oo + v] = static_cast<std::int32_t>(io + v);
      }
  };
  if (p.interior) {
    p.for_each_output(
        [&](std::int64_t oo, std::int64_t ib) {
          for (auto off : p.tap_off) take(oo, ib + off);
        },
        true);
    return;
  }
  const std::int64_t in_step = p.strides[p.R - 1] * p.V;
  p.for_each_tap_run([&](std::int64_t oo, std::int64_t io, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) take(oo + i * p.V, io + i * in_step);
  });
}

/// dx = the transpose of window_sum applied to g: each output's value added to its window.
template <class T>
void window_sum_transpose(const WindowPlan& p, const T* g, T* dx) {
  const std::int64_t V = p.V;
  if (p.tiles) {
    // Every input element lies in exactly one window (2×2 stride-2 pooling): one write each,
    // no zero fill. `T(0) + g` keeps the bits of the general path (a -0 cotangent becomes +0).
    p.for_each_output(
        [&](std::int64_t oo, std::int64_t ib) {
          const T* go = g + oo;
          for (auto off : p.tap_off) {
            T* d = dx + ib + off;
            for (std::int64_t v = 0; v < V; ++v) d[v] = T(0) + go[v];
          }
        },
        true);
    return;
  }
  std::fill_n(dx, p.in_size, T(0));
  if (p.interior) {
    p.for_each_output([&](std::int64_t oo, std::int64_t ib) {
      const T* go = g + oo;
      for (auto off : p.tap_off) {
        T* d = dx + ib + off;
        for (std::int64_t v = 0; v < V; ++v) d[v] += go[v];
      }
    });
    return;
  }
  const std::int64_t in_step = p.strides[p.R - 1] * V;
  p.for_each_tap_run([&](std::int64_t oo, std::int64_t io, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
      const T* go = g + oo + i * V;
      T* d = dx + io + i * in_step;
      for (std::int64_t v = 0; v < V; ++v) d[v] += go[v];
    }
  });
}

template <class F>
void visit_float(DType t, F&& f) {
  if (t == DType::Float32)
    f(float{});
  else
    f(double{});
}

// ---- the recorded ops ---------------------------------------------------------------------------

Array select_gather(const Array& values, const Array& idx);

/// out (shaped `in_shape`) = zeros, then out[idx[o]] += g[o] for every output o with idx >= 0.
Array select_scatter(const Array& g, const Array& idx, const Shape& in_shape) {
  if (any_abstract(g, idx)) return abstract(g.dtype(), in_shape);
  Array out = empty(g.dtype(), in_shape);
  visit_float(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* o = mutable_data<T>(out);
    std::fill_n(o, out.size(), T(0));
    const T* gv = g.data<T>();
    const std::int32_t* id = idx.data<std::int32_t>();
    for (std::int64_t i = 0; i < g.size(); ++i)
      if (id[i] >= 0) o[id[i]] += gv[i];
  });
  if (!any_traced(g)) return out;
  return record("select_scatter", out, {g},
                [idx](const Array& ct, const std::vector<Array>&, const Array&) {
                  return std::vector<Array>{select_gather(ct, idx)};
                });
}

/// out (shaped like idx) = values[idx[o]], or 0 where idx < 0.
Array select_gather(const Array& values, const Array& idx) {
  if (any_abstract(values, idx)) return abstract(values.dtype(), idx.shape());
  Array out = empty(values.dtype(), idx.shape());
  visit_float(values.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* o = mutable_data<T>(out);
    const T* v = values.data<T>();
    const std::int32_t* id = idx.data<std::int32_t>();
    parallel_for(out.size(), kParallelGrain, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) o[i] = id[i] >= 0 ? v[id[i]] : T(0);
    });
  });
  if (!any_traced(values)) return out;
  Shape in_shape = values.shape();
  return record("select_gather", out, {values},
                [idx, in_shape](const Array& ct, const std::vector<Array>&, const Array&) {
                  return std::vector<Array>{select_scatter(ct, idx, in_shape)};
                });
}

struct WindowArgs {
  Shape window, strides, pad_lo, out;
};

Array window_sum_op(const Array& x, const WindowArgs& w);

Array window_sum_transpose_op(const Array& g, const Shape& in_shape, const WindowArgs& w) {
  WindowPlan p(in_shape, w.window, w.strides, w.pad_lo, w.out);
  if (g.is_abstract()) return abstract(g.dtype(), in_shape);
  Array dx = empty(g.dtype(), in_shape);
  visit_float(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    window_sum_transpose(p, g.data<T>(), mutable_data<T>(dx));
  });
  if (!any_traced(g)) return dx;
  return record("window_sum_transpose", dx, {g},
                [w](const Array& ct, const std::vector<Array>&, const Array&) {
                  return std::vector<Array>{window_sum_op(ct, w)};
                });
}

Array window_sum_op(const Array& x, const WindowArgs& w) {
  WindowPlan p(x.shape(), w.window, w.strides, w.pad_lo, w.out);
  // Shape-only: no derivative is recorded; a gradient through it is a shape-only zeros_like.
  if (x.is_abstract()) return abstract(x.dtype(), w.out);
  Array y = empty(x.dtype(), w.out);
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>)
      window_reduce(p, x.data<T>(), mutable_data<T>(y), T(0),
                    [](T acc, T v) { return static_cast<T>(acc + v); });
  });
  if (!any_traced(x)) return y;
  Shape in_shape = x.shape();
  return record("reduce_window_sum", y, {x},
                [w, in_shape](const Array& g, const std::vector<Array>&, const Array&) {
                  return std::vector<Array>{window_sum_transpose_op(g, in_shape, w)};
                },
                {.output = false, .values_of = 0});
}

Array window_max_op(const Array& x, const WindowArgs& w) {
  WindowPlan p(x.shape(), w.window, w.strides, w.pad_lo, w.out);
  if (x.is_abstract()) return abstract(x.dtype(), w.out);
  Array y = empty(x.dtype(), w.out);
  const bool track = is_floating(x.dtype()) && any_traced(x);
  if (track && x.size() > INT_MAX)
    throw ValueError(std::string(kOp) + "Differentiating a max over an operand of shape " +
                     shape_str(x.shape()) + " needs positions beyond the int32 range; reduce " +
                     "the operand in smaller pieces.");
  Array idx = track ? empty(DType::Int32, w.out) : Array();
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      if (track)
        window_argmax(p, x.data<T>(), mutable_data<T>(y), mutable_data<std::int32_t>(idx));
      else
        window_reduce(p, x.data<T>(), mutable_data<T>(y), max_identity<T>(),
                      [](T acc, T v) { return beats(v, acc) ? v : acc; });
    }
  });
  if (!track) return y;
  Shape in_shape = x.shape();
  return record("reduce_window_max", y, {x},
                [idx, in_shape](const Array& g, const std::vector<Array>&, const Array&) {
                  return std::vector<Array>{select_scatter(g, idx, in_shape)};
                });
}

}  // namespace
}  // namespace detail

Array reduce_window(const Array& a, ReduceOp op, const Shape& window, const Shape& strides_in,
                    const Padding& padding) {
  using detail::kOp;
  const std::string as = detail::shape_str(a.shape());
  const int r = a.ndim();
  if (a.dtype() == DType::Bool)
    throw DtypeError(std::string(kOp) + "Operand of shape " + as +
                     " has dtype bool, which reduce_window does not support; convert it with "
                     "astype (e.g. to int32 or float32).");
  if (static_cast<int>(window.size()) != r)
    throw ShapeError(std::string(kOp) + "window " + detail::shape_str(window) + " has " +
                     std::to_string(window.size()) + " entries but the operand with shape " + as +
                     " has " + std::to_string(r) + " axes; give one entry per axis.");
  Shape strides = strides_in.empty() ? Shape(static_cast<std::size_t>(r), 1) : strides_in;
  if (static_cast<int>(strides.size()) != r)
    throw ShapeError(std::string(kOp) + "strides " + detail::shape_str(strides) + " has " +
                     std::to_string(strides.size()) + " entries but the operand with shape " + as +
                     " has " + std::to_string(r) + " axes; give one entry per axis (or none).");
  for (int i = 0; i < r; ++i)
    if (window[i] < 1 || strides[i] < 1)
      throw ValueError(std::string(kOp) + "window " + detail::shape_str(window) + " and strides " +
                       detail::shape_str(strides) + " must be positive.");
  if (padding.kind() == Padding::Kind::Explicit && static_cast<int>(padding.pads().size()) != r)
    throw ShapeError(std::string(kOp) + "Explicit padding has " +
                     std::to_string(padding.pads().size()) +
                     " (low, high) pairs but the operand with shape " + as + " has " +
                     std::to_string(r) + " axes; give one pair per axis.");
  if (r == 0) return a;
  const auto pads = padding.resolve(a.shape(), window, strides);
  detail::WindowArgs w{window, strides, {}, {}};
  for (int i = 0; i < r; ++i) {
    const std::int64_t padded = a.shape(i) + pads[i].first + pads[i].second;
    if (padded < 0)
      throw ValueError(std::string(kOp) + "Negative padding (" + std::to_string(pads[i].first) +
                       ", " + std::to_string(pads[i].second) + ") crops more than the size " +
                       std::to_string(a.shape(i)) + " of axis " + std::to_string(i) +
                       " of the operand with shape " + as + ".");
    w.pad_lo.push_back(pads[i].first);
    w.out.push_back(padded < window[i] ? 0 : (padded - window[i]) / strides[i] + 1);
  }
  return op == ReduceOp::Max ? detail::window_max_op(a, w) : detail::window_sum_op(a, w);
}

}  // namespace jute
