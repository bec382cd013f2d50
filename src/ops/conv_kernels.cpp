// The convolution kernels: im2col (or the input itself for a plain 1×1 convolution) into a
// cached buffer, then one BLAS GEMM per feature group; the input gradient is one GEMM per group
// followed by col2im, the kernel gradient one GEMM per group on im2col(x).
//
// Work is done in chunks of output lines (one line = the outputs along the last spatial axis for
// fixed batch index and outer spatial indices) so that the im2col buffer stays in cache between
// being written and being read by the GEMM.
//
// Index arithmetic, per spatial axis: output o and kernel tap j read the position
// q = o*stride + j*rhs_dilation - pad_lo of the dilated input, which holds x[q / lhs_dilation]
// when 0 <= q <= (in-1)*lhs_dilation and q is a multiple of lhs_dilation, and a zero otherwise.
// The plan below precomputes that once per call, so the hot loops only copy and never test a
// bound per element: for the outer axes a table per (o, j), for the last axis the run of outputs
// each tap reads (an arithmetic progression: contiguous without lhs dilation).
#include "ops/conv_kernels.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/parallel.hpp"
#include "ops/blas.hpp"
#include "ops/onednn_conv.hpp"

namespace jute::detail {

Shape ConvGeometry::lhs_shape() const {
  Shape s{batch};
  s.insert(s.end(), in.begin(), in.end());
  s.push_back(in_channels);
  return s;
}
Shape ConvGeometry::rhs_shape() const {
  Shape s = kernel;
  s.push_back(in_channels / groups);
  s.push_back(out_channels);
  return s;
}
Shape ConvGeometry::out_shape() const {
  Shape s{batch};
  s.insert(s.end(), out.begin(), out.end());
  s.push_back(out_channels);
  return s;
}

namespace {

// Row-major C = op(A) @ op(B) + beta * C (the GEMM wrapper matmul uses too).
template <class T>
void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const T* a,
          std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  detail::gemm("conv_general_dilated", ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

/// The outputs first, first+step, ... (count of them) along the last spatial axis that one tap
/// reads from the input, at input positions ix0, ix0+dix, ...
struct TapRun {
  std::int64_t first = 0, step = 1, count = 0, ix0 = 0, dix = 0;
};

/// About this many elements of im2col buffer per chunk (1 MiB of float32: fits in L2/L3).
constexpr std::int64_t kChunkElements = std::int64_t{1} << 18;

struct ConvPlan {
  int D = 0;  // spatial rank
  std::int64_t C = 0, G = 1, Cg = 0, O = 0, Og = 0;
  std::int64_t K = 1;                           // taps = prod(kernel)
  std::int64_t KC = 0;                          // im2col row length = K * C, laid out (G, K, Cg)
  std::int64_t klast = 1, kouter = 1;           // taps on the last axis / on the outer axes
  std::int64_t lines = 0, line_len = 0, M = 0;  // output lines, their length, rows in all
  std::int64_t batch_stride = 0;
  Shape in_stride;                                     // per spatial axis, in elements
  Shape out_outer, kernel;                             // outer output sizes, kernel sizes
  std::vector<std::vector<std::int64_t>> outer_index;  // per outer axis: [o * k + j] -> i or -1
  std::vector<TapRun> runs;                            // per tap of the last axis
  bool identity_col = false;  // im2col(x) is x itself (1×1, stride 1, no pad)
  // The common case (one group, no dilation on the last axis): the taps of one output along the
  // last axis read klast*C contiguous inputs into klast*C contiguous im2col entries, so they are
  // copied in one piece for the outputs in [inner_lo, inner_hi), whose taps are all inside.
  bool contiguous_taps = false;
  std::int64_t inner_lo = 0, inner_hi = 0;
  std::int64_t in_last = 0, stride_last = 1, pad_last = 0;

  explicit ConvPlan(const ConvGeometry& geo) {
    D = geo.spatial_rank();
    C = geo.in_channels;
    G = geo.groups;
    Cg = C / G;
    O = geo.out_channels;
    Og = O / G;
    kernel = geo.kernel;
    for (auto k : geo.kernel) K *= k;
    KC = K * C;
    klast = geo.kernel[D - 1];
    kouter = K / klast;
    in_stride.assign(D, C);
    for (int d = D - 2; d >= 0; --d) in_stride[d] = in_stride[d + 1] * geo.in[d + 1];
    batch_stride = in_stride[0] * geo.in[0];
    out_outer.assign(geo.out.begin(), geo.out.end() - 1);
    lines = geo.batch;
    for (auto o : out_outer) lines *= o;
    line_len = geo.out[D - 1];
    M = lines * line_len;

    auto input_index = [&](int d, std::int64_t o, std::int64_t j) -> std::int64_t {
      std::int64_t q = o * geo.strides[d] + j * geo.rhs_dilation[d] - geo.pad_lo[d];
      std::int64_t ld = geo.lhs_dilation[d];
      if (geo.in[d] == 0 || q < 0 || q > (geo.in[d] - 1) * ld || q % ld != 0) return -1;
      return q / ld;
    };
    outer_index.resize(D - 1);
    for (int d = 0; d < D - 1; ++d) {
      auto& t = outer_index[d];
      t.resize(static_cast<std::size_t>(geo.out[d] * geo.kernel[d]));
      for (std::int64_t o = 0; o < geo.out[d]; ++o)
        for (std::int64_t j = 0; j < geo.kernel[d]; ++j)
          t[static_cast<std::size_t>(o * geo.kernel[d] + j)] = input_index(d, o, j);
    }
    runs.resize(static_cast<std::size_t>(klast));
    for (std::int64_t j = 0; j < klast; ++j) {
      TapRun& r = runs[static_cast<std::size_t>(j)];
      for (std::int64_t o = 0; o < line_len; ++o) {
        std::int64_t i = input_index(D - 1, o, j);
        if (i < 0) continue;
        if (r.count == 0) {
          r.first = o;
          r.ix0 = i;
        } else if (r.count == 1) {
          r.step = o - r.first;
          r.dix = i - r.ix0;
        }
        ++r.count;
      }
    }

    in_last = geo.in[D - 1];
    stride_last = geo.strides[D - 1];
    pad_last = geo.pad_lo[D - 1];
    contiguous_taps = G == 1 && geo.lhs_dilation[D - 1] == 1 && geo.rhs_dilation[D - 1] == 1;
    // Outputs whose first tap is at >= 0 and whose last tap is at <= in - 1.
    inner_lo =
        std::min(line_len, (std::max<std::int64_t>(pad_last, 0) + stride_last - 1) / stride_last);
    inner_hi = in_last - klast + pad_last < 0 ? 0 : (in_last - klast + pad_last) / stride_last + 1;
    inner_hi = std::clamp(inner_hi, inner_lo, line_len);

    identity_col = true;
    for (int d = 0; d < D; ++d)
      identity_col = identity_col && geo.kernel[d] == 1 && geo.strides[d] == 1 &&
                     geo.pad_lo[d] == 0 && geo.lhs_dilation[d] == 1 && geo.out[d] == geo.in[d];
  }

  /// Lines per chunk and the im2col rows that a chunk needs.
  std::int64_t lines_per_chunk() const {
    std::int64_t per_line = std::max<std::int64_t>(1, line_len * KC);
    return std::clamp<std::int64_t>(kChunkElements / per_line, 1, std::max<std::int64_t>(lines, 1));
  }

  /// The input offset of each outer tap for output line `line` (-1 where the tap reads padding);
  /// `od` is scratch for the line's outer output indices (D - 1 entries).
  void line_bases(std::int64_t line, std::int64_t* od, std::int64_t* bases) const {
    std::int64_t rem = line;
    for (int d = D - 2; d >= 0; --d) {
      od[d] = rem % out_outer[d];
      rem /= out_outer[d];
    }
    const std::int64_t n = rem;
    for (std::int64_t t = 0; t < kouter; ++t) {
      std::int64_t base = n * batch_stride, tt = t;
      for (int d = D - 2; d >= 0 && base >= 0; --d) {
        std::int64_t j = tt % kernel[d];
        tt /= kernel[d];
        std::int64_t i = outer_index[d][static_cast<std::size_t>(od[d] * kernel[d] + j)];
        base = i < 0 ? -1 : base + i * in_stride[d];
      }
      bases[t] = base;
    }
  }
};

// ---- im2col / col2im of one output line ------------------------------------------------------
// The line's im2col rows are `col` (line_len rows of KC). Entry (ow, tap) of group g starts at
// col + ow*KC + g*K*Cg + tap*Cg and holds Cg channels.

template <class T>
inline void copy_run(T* dst, const T* src, std::int64_t n) {
  if (n >= 16)
    std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(T));
  else
    for (std::int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

template <class T>
inline void zero_run(T* dst, std::int64_t n) {
  if (n >= 16)
    std::memset(dst, 0, static_cast<std::size_t>(n) * sizeof(T));
  else
    for (std::int64_t i = 0; i < n; ++i) dst[i] = T(0);
}

template <class T>
inline void add_run(T* dst, const T* src, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

template <class T>
void zero_entries(const ConvPlan& p, T* dst0, std::int64_t from, std::int64_t to) {
  if (p.C == 1) {
    for (std::int64_t ow = from; ow < to; ++ow) dst0[ow * p.KC] = T(0);
    return;
  }
  for (std::int64_t ow = from; ow < to; ++ow)
    for (std::int64_t g = 0; g < p.G; ++g) zero_run(dst0 + ow * p.KC + g * p.K * p.Cg, p.Cg);
}

/// im2col of one line when `contiguous_taps`: per outer tap, one copy of klast*C per output in
/// the interior, and tap by tap at the edges.
template <class T>
void im2col_line_contiguous(const ConvPlan& p, const T* x, const std::int64_t* bases, T* col) {
  const std::int64_t C = p.C, KWC = p.klast * C;
  for (std::int64_t to = 0; to < p.kouter; ++to) {
    const std::int64_t base = bases[to];
    T* dst0 = col + to * KWC;
    if (base < 0) {
      for (std::int64_t ow = 0; ow < p.line_len; ++ow) zero_run(dst0 + ow * p.KC, KWC);
      continue;
    }
    const T* src0 = x + base;
    auto edge = [&](std::int64_t ow) {
      const std::int64_t start = ow * p.stride_last - p.pad_last;
      T* dst = dst0 + ow * p.KC;
      for (std::int64_t kw = 0; kw < p.klast; ++kw) {
        const std::int64_t ix = start + kw;
        if (ix >= 0 && ix < p.in_last)
          copy_run(dst + kw * C, src0 + ix * C, C);
        else
          zero_run(dst + kw * C, C);
      }
    };
    for (std::int64_t ow = 0; ow < p.inner_lo; ++ow) edge(ow);
    for (std::int64_t ow = p.inner_lo; ow < p.inner_hi; ++ow)
      copy_run(dst0 + ow * p.KC, src0 + (ow * p.stride_last - p.pad_last) * C, KWC);
    for (std::int64_t ow = p.inner_hi; ow < p.line_len; ++ow) edge(ow);
  }
}

/// The transpose of im2col_line_contiguous: adds the line's entries into dx.
template <class T>
void col2im_line_contiguous(const ConvPlan& p, const T* col, const std::int64_t* bases, T* dx) {
  const std::int64_t C = p.C, KWC = p.klast * C;
  for (std::int64_t to = 0; to < p.kouter; ++to) {
    const std::int64_t base = bases[to];
    if (base < 0) continue;
    const T* src0 = col + to * KWC;
    T* dst0 = dx + base;
    auto edge = [&](std::int64_t ow) {
      const std::int64_t start = ow * p.stride_last - p.pad_last;
      const T* src = src0 + ow * p.KC;
      for (std::int64_t kw = 0; kw < p.klast; ++kw) {
        const std::int64_t ix = start + kw;
        if (ix >= 0 && ix < p.in_last) add_run(dst0 + ix * C, src + kw * C, C);
      }
    };
    for (std::int64_t ow = 0; ow < p.inner_lo; ++ow) edge(ow);
    for (std::int64_t ow = p.inner_lo; ow < p.inner_hi; ++ow)
      add_run(dst0 + (ow * p.stride_last - p.pad_last) * C, src0 + ow * p.KC, KWC);
    for (std::int64_t ow = p.inner_hi; ow < p.line_len; ++ow) edge(ow);
  }
}

template <class T>
void im2col_line(const ConvPlan& p, const T* x, const std::int64_t* bases, T* col) {
  for (std::int64_t to = 0; to < p.kouter; ++to) {
    const std::int64_t base = bases[to];
    for (std::int64_t kw = 0; kw < p.klast; ++kw) {
      const std::int64_t tap = to * p.klast + kw;
      T* dst0 = col + tap * p.Cg;
      const TapRun& r = p.runs[static_cast<std::size_t>(kw)];
      const std::int64_t count = base < 0 ? 0 : r.count;
      if (count == 0 || r.step != 1) {
        zero_entries(p, dst0, 0, p.line_len);
      } else {
        zero_entries(p, dst0, 0, r.first);
        zero_entries(p, dst0, r.first + count, p.line_len);
      }
      if (count == 0) continue;
      const T* src0 = x + base + r.ix0 * p.C;
      const std::int64_t sstep = r.dix * p.C, dstep = r.step * p.KC;
      T* dst = dst0 + r.first * p.KC;
      if (p.C == 1) {
        for (std::int64_t t = 0; t < count; ++t) dst[t * dstep] = src0[t * sstep];
      } else if (p.G == 1) {
        for (std::int64_t t = 0; t < count; ++t)
          std::memcpy(dst + t * dstep, src0 + t * sstep, static_cast<std::size_t>(p.C) * sizeof(T));
      } else {
        for (std::int64_t t = 0; t < count; ++t)
          for (std::int64_t g = 0; g < p.G; ++g)
            std::memcpy(dst + t * dstep + g * p.K * p.Cg, src0 + t * sstep + g * p.Cg,
                        static_cast<std::size_t>(p.Cg) * sizeof(T));
      }
    }
  }
}

template <class T>
void col2im_line(const ConvPlan& p, const T* col, const std::int64_t* bases, T* dx) {
  for (std::int64_t to = 0; to < p.kouter; ++to) {
    const std::int64_t base = bases[to];
    if (base < 0) continue;
    for (std::int64_t kw = 0; kw < p.klast; ++kw) {
      const TapRun& r = p.runs[static_cast<std::size_t>(kw)];
      const std::int64_t tap = to * p.klast + kw;
      const T* src = col + r.first * p.KC + tap * p.Cg;
      T* dst0 = dx + base + r.ix0 * p.C;
      const std::int64_t dstep = r.dix * p.C, sstep = r.step * p.KC;
      if (p.C == 1) {
        for (std::int64_t t = 0; t < r.count; ++t) dst0[t * dstep] += src[t * sstep];
      } else {
        for (std::int64_t t = 0; t < r.count; ++t)
          for (std::int64_t g = 0; g < p.G; ++g) {
            T* d = dst0 + t * dstep + g * p.Cg;
            const T* s = src + t * sstep + g * p.K * p.Cg;
            for (std::int64_t c = 0; c < p.Cg; ++c) d[c] += s[c];
          }
      }
    }
  }
}

/// Calls f(line0, nlines, col) for each chunk of output lines after filling `col` with their
/// im2col rows (when `fill`); `col` has room for a chunk. When im2col(x) is x itself (and `fill`),
/// calls f once with x.
template <class T, class F>
void for_each_chunk(const ConvPlan& p, const T* x, bool fill, F&& f) {
  if (fill && p.identity_col) {
    f(std::int64_t{0}, p.lines, x);
    return;
  }
  const std::int64_t lpc = p.lines_per_chunk();
  Array colbuf = empty(dtype_of<T>(), {lpc * p.line_len * p.KC});
  T* col = mutable_data<T>(colbuf);
  for (std::int64_t l0 = 0; l0 < p.lines; l0 += lpc) {
    const std::int64_t nl = std::min(lpc, p.lines - l0);
    if (fill)  // each line fills its own rows: shared out among the threads
      parallel_for(nl, grain_for(p.line_len * p.KC), [&](std::int64_t first, std::int64_t last) {
        std::vector<std::int64_t> bases(static_cast<std::size_t>(p.kouter)), od(p.out_outer.size());
        for (std::int64_t l = first; l < last; ++l) {
          p.line_bases(l0 + l, od.data(), bases.data());
          T* line_col = col + l * p.line_len * p.KC;
          if (p.contiguous_taps)
            im2col_line_contiguous(p, x, bases.data(), line_col);
          else
            im2col_line(p, x, bases.data(), line_col);
        }
      });
    f(l0, nl, col);
  }
}

template <class T>
void forward(const ConvPlan& p, const T* x, const T* w, T* y) {
  if (p.M == 0 || p.O == 0) return;
  if (p.K * p.Cg == 0) {
    std::fill_n(y, p.M * p.O, T(0));
    return;
  }
  for_each_chunk<T>(p, x, true, [&](std::int64_t l0, std::int64_t nl, const T* col) {
    const std::int64_t rows = nl * p.line_len;
    T* yc = y + l0 * p.line_len * p.O;
    for (std::int64_t g = 0; g < p.G; ++g)
      gemm(false, false, rows, p.Og, p.K * p.Cg, col + g * p.K * p.Cg, p.KC, w + g * p.Og, p.O,
           T(0), yc + g * p.Og, p.O);
  });
}

template <class T>
void input_grad(const ConvPlan& p, std::int64_t dx_size, const T* gy, const T* w, T* dx) {
  if (p.identity_col && p.M > 0 && p.Cg > 0) {
    if (p.Og == 0) {
      std::fill_n(dx, dx_size, T(0));
      return;
    }
    for (std::int64_t g = 0; g < p.G; ++g)
      gemm(false, true, p.M, p.Cg, p.Og, gy + g * p.Og, p.O, w + g * p.Og, p.O, T(0), dx + g * p.Cg,
           p.C);
    return;
  }
  std::fill_n(dx, dx_size, T(0));
  if (p.M == 0 || p.O == 0 || p.K * p.Cg == 0) return;
  // Lines of different images add into disjoint parts of dx, lines of one image into shared
  // ones: the threads take whole images, and each image's lines are added in order.
  std::int64_t lines_per_image = 1;
  for (auto o : p.out_outer) lines_per_image *= o;
  for_each_chunk<T>(p, nullptr, false, [&](std::int64_t l0, std::int64_t nl, const T* col_c) {
    T* col = const_cast<T*>(col_c);  // the chunk buffer is ours to write
    const std::int64_t rows = nl * p.line_len;
    const T* gc = gy + l0 * p.line_len * p.O;
    for (std::int64_t g = 0; g < p.G; ++g)
      gemm(false, true, rows, p.K * p.Cg, p.Og, gc + g * p.Og, p.O, w + g * p.Og, p.O, T(0),
           col + g * p.K * p.Cg, p.KC);
    const std::int64_t first_image = l0 / lines_per_image;
    const std::int64_t images = (l0 + nl - 1) / lines_per_image - first_image + 1;
    parallel_for(images, grain_for(lines_per_image * p.line_len * p.KC),
                 [&](std::int64_t i0, std::int64_t i1) {
                   std::vector<std::int64_t> bases(static_cast<std::size_t>(p.kouter)),
                       od(p.out_outer.size());
                   const std::int64_t from = std::max(l0, (first_image + i0) * lines_per_image);
                   const std::int64_t to = std::min(l0 + nl, (first_image + i1) * lines_per_image);
                   for (std::int64_t line = from; line < to; ++line) {
                     p.line_bases(line, od.data(), bases.data());
                     const T* line_col = col + (line - l0) * p.line_len * p.KC;
                     if (p.contiguous_taps)
                       col2im_line_contiguous(p, line_col, bases.data(), dx);
                     else
                       col2im_line(p, line_col, bases.data(), dx);
                   }
                 });
  });
}

template <class T>
void kernel_grad(const ConvPlan& p, const T* x, const T* gy, T* dw) {
  const std::int64_t rows_all = p.K * p.Cg;
  if (p.M == 0 || rows_all == 0 || p.O == 0) {
    std::fill_n(dw, rows_all * p.O, T(0));
    return;
  }
  for_each_chunk<T>(p, x, true, [&](std::int64_t l0, std::int64_t nl, const T* col) {
    const std::int64_t rows = nl * p.line_len;
    const T* gc = gy + l0 * p.line_len * p.O;
    const T beta = l0 == 0 ? T(0) : T(1);
    for (std::int64_t g = 0; g < p.G; ++g)
      gemm(true, false, p.K * p.Cg, p.Og, rows, col + g * p.K * p.Cg, p.KC, gc + g * p.Og, p.O,
           beta, dw + g * p.Og, p.O);
  });
}

// ---- depthwise convolutions --------------------------------------------------------------------
// With one input channel per group (depthwise, possibly with a channel multiplier O/G), a GEMM per
// group would multiply by a single column. These loops work on the input directly instead,
// vectorized over the channels, which are contiguous in the input, the kernel and the output.

/// Calls f(row, tap, src) for every (output row, kernel tap) pair whose tap reads the input rather
/// than padding; `src` is the input offset of the position's channel 0.
template <class F>
void for_each_entry(const ConvPlan& p, F&& f) {
  std::vector<std::int64_t> bases(static_cast<std::size_t>(p.kouter)), od(p.out_outer.size());
  for (std::int64_t line = 0; line < p.lines; ++line) {
    p.line_bases(line, od.data(), bases.data());
    const std::int64_t row0 = line * p.line_len;
    for (std::int64_t to = 0; to < p.kouter; ++to) {
      const std::int64_t base = bases[static_cast<std::size_t>(to)];
      if (base < 0) continue;
      for (std::int64_t kw = 0; kw < p.klast; ++kw) {
        const TapRun& r = p.runs[static_cast<std::size_t>(kw)];
        for (std::int64_t t = 0; t < r.count; ++t)
          f(row0 + r.first + t * r.step, to * p.klast + kw, base + (r.ix0 + t * r.dix) * p.C);
      }
    }
  }
}

template <class T>
void depthwise_forward(const ConvPlan& p, const T* x, const T* w, T* y) {
  std::fill_n(y, p.M * p.O, T(0));
  const std::int64_t O = p.O, Og = p.Og;
  for_each_entry(p, [&](std::int64_t row, std::int64_t tap, std::int64_t src) {
    T* yr = y + row * O;
    const T* xs = x + src;
    const T* wt = w + tap * O;
    if (Og == 1) {
      for (std::int64_t c = 0; c < O; ++c) yr[c] += xs[c] * wt[c];
    } else {
      for (std::int64_t g = 0; g < p.G; ++g)
        for (std::int64_t j = 0; j < Og; ++j) yr[g * Og + j] += xs[g] * wt[g * Og + j];
    }
  });
}

template <class T>
void depthwise_input_grad(const ConvPlan& p, std::int64_t dx_size, const T* gy, const T* w, T* dx) {
  std::fill_n(dx, dx_size, T(0));
  const std::int64_t O = p.O, Og = p.Og;
  for_each_entry(p, [&](std::int64_t row, std::int64_t tap, std::int64_t src) {
    T* d = dx + src;
    const T* gr = gy + row * O;
    const T* wt = w + tap * O;
    if (Og == 1) {
      for (std::int64_t c = 0; c < O; ++c) d[c] += gr[c] * wt[c];
    } else {
      for (std::int64_t g = 0; g < p.G; ++g) {
        T acc = 0;
        for (std::int64_t j = 0; j < Og; ++j) acc += gr[g * Og + j] * wt[g * Og + j];
        d[g] += acc;
      }
    }
  });
}

template <class T>
void depthwise_kernel_grad(const ConvPlan& p, const T* x, const T* gy, T* dw) {
  std::fill_n(dw, p.K * p.O, T(0));
  const std::int64_t O = p.O, Og = p.Og;
  for_each_entry(p, [&](std::int64_t row, std::int64_t tap, std::int64_t src) {
    T* d = dw + tap * O;
    const T* xs = x + src;
    const T* gr = gy + row * O;
    if (Og == 1) {
      for (std::int64_t c = 0; c < O; ++c) d[c] += xs[c] * gr[c];
    } else {
      for (std::int64_t g = 0; g < p.G; ++g)
        for (std::int64_t j = 0; j < Og; ++j) d[g * Og + j] += xs[g] * gr[g * Og + j];
    }
  });
}

// ---- transposed convolutions --------------------------------------------------------------------
// With lhs dilation (and unit strides), im2col would mostly copy and multiply the inserted zeros.
// Exchanging input and output gives a geometry without them: output o and tap t read the dilated
// position o + t*rd - lo = i*ld, and with the flipped tap t' = k-1-t that is
// i*ld + t'*rd - ((k-1)*rd - lo) = o — input o of a convolution with stride ld and low padding
// (k-1)*rd - lo, read by its output i. So this geometry's forward op is that one's input
// gradient, and vice versa, with the kernel flipped and its channel roles exchanged.

/// The geometry with input and output exchanged (see above); `geo` has unit strides.
ConvGeometry exchanged(const ConvGeometry& geo) {
  ConvGeometry s = geo;
  s.in_channels = geo.out_channels;
  s.out_channels = geo.in_channels;
  s.in = geo.out;
  s.out = geo.in;
  s.strides = geo.lhs_dilation;
  s.lhs_dilation = geo.strides;
  for (std::size_t d = 0; d < geo.kernel.size(); ++d)
    s.pad_lo[d] = (geo.kernel[d] - 1) * geo.rhs_dilation[d] - geo.pad_lo[d];
  return s;
}

/// dst (K, cout, G*cin) from src (K, cin, G*cout): taps reversed (every spatial axis flipped),
/// input and output channels exchanged within each group. Its inverse swaps cin and cout.
template <class T>
void exchange_kernel(std::int64_t K, std::int64_t G, std::int64_t cin, std::int64_t cout,
                     const T* src, T* dst) {
  for (std::int64_t t = 0; t < K; ++t)
    for (std::int64_t ci = 0; ci < cin; ++ci)
      for (std::int64_t g = 0; g < G; ++g)
        for (std::int64_t co = 0; co < cout; ++co)
          dst[((K - 1 - t) * cout + co) * G * cin + g * cin + ci] =
              src[(t * cin + ci) * G * cout + g * cout + co];
}

bool is_transposed(const ConvGeometry& geo) {
  bool dilated = false, unit_strides = true;
  for (std::size_t d = 0; d < geo.kernel.size(); ++d) {
    dilated = dilated || geo.lhs_dilation[d] > 1;
    unit_strides = unit_strides && geo.strides[d] == 1;
  }
  return dilated && unit_strides;
}

/// conv_kernel for a transposed convolution, through the exchanged geometry.
template <class T>
void transposed_conv_kernel(ConvRole role, const ConvGeometry& geo, const T* a, const T* b,
                            T* out) {
  const ConvGeometry s = exchanged(geo);
  std::int64_t K = 1;
  for (auto k : geo.kernel) K *= k;
  const std::int64_t G = geo.groups, Cg = geo.in_channels / G, Og = geo.out_channels / G;
  Array kbuf = empty(dtype_of<T>(), {K * Cg * Og * G});
  T* wx = mutable_data<T>(kbuf);  // the exchanged kernel (k..., O/G, C)
  const DType dt = dtype_of<T>();
  switch (role) {
    case ConvRole::Output:  // y = exchanged input gradient of (cotangent x, kernel w')
      exchange_kernel(K, G, Cg, Og, b, wx);
      conv_kernel(ConvRole::Input, s, dt, a, wx, out);
      break;
    case ConvRole::Input:  // dx = exchanged forward of (g, w')
      exchange_kernel(K, G, Cg, Og, b, wx);
      conv_kernel(ConvRole::Output, s, dt, a, wx, out);
      break;
    case ConvRole::Kernel:  // dw = the exchange of the exchanged kernel gradient of (g, x)
      conv_kernel(ConvRole::Kernel, s, dt, b, a, wx);
      exchange_kernel(K, G, Og, Cg, wx, out);
      break;
  }
}

/// Whether oneDNN computes this convolution (transposed ones go through the exchanged geometry).
bool on_onednn(const ConvGeometry& geo, DType dtype) {
  return dtype == DType::Float32 && !is_transposed(geo) && onednn_conv_supported(geo);
}

/// Output positions: the rows of (N·out..., O).
std::int64_t output_rows(const ConvGeometry& geo) {
  std::int64_t rows = geo.batch;
  for (auto o : geo.out) rows *= o;
  return rows;
}

}  // namespace

std::pair<ConvRole, ConvRole> conv_operand_roles(ConvRole role) {
  switch (role) {
    case ConvRole::Input:
      return {ConvRole::Output, ConvRole::Kernel};
    case ConvRole::Kernel:
      return {ConvRole::Input, ConvRole::Output};
    case ConvRole::Output:
      break;
  }
  return {ConvRole::Input, ConvRole::Kernel};
}

void conv_kernel(ConvRole role, const ConvGeometry& geo, DType dtype, const void* a, const void* b,
                 void* out) {
  const bool transposed = is_transposed(geo);
  if (on_onednn(geo, dtype) && onednn_conv(role, geo, static_cast<const float*>(a),
                                           static_cast<const float*>(b), static_cast<float*>(out)))
    return;
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T* ta = static_cast<const T*>(a);
    const T* tb = static_cast<const T*>(b);
    T* to = static_cast<T*>(out);
    if (transposed) {
      transposed_conv_kernel(role, geo, ta, tb, to);
      return;
    }
    const ConvPlan p(geo);
    const std::int64_t dx_size = p.batch_stride * geo.batch;
    const bool depthwise = p.Cg == 1 && p.G > 1;
    switch (role) {
      case ConvRole::Output:
        if (depthwise)
          depthwise_forward(p, ta, tb, to);
        else
          forward(p, ta, tb, to);
        break;
      case ConvRole::Input:
        if (depthwise)
          depthwise_input_grad(p, dx_size, ta, tb, to);
        else
          input_grad(p, dx_size, ta, tb, to);
        break;
      case ConvRole::Kernel:
        if (depthwise)
          depthwise_kernel_grad(p, ta, tb, to);
        else
          kernel_grad(p, ta, tb, to);
        break;
    }
  };
  if (dtype == DType::Float32)
    run(float{});
  else
    run(double{});
}

void conv_bias_kernel(const ConvGeometry& geo, DType dtype, const void* x, const void* w,
                      const void* bias, void* out) {
  conv_kernel(ConvRole::Output, geo, dtype, x, w, out);
  auto add = [&](auto tag) {
    using T = decltype(tag);
    const T* b = static_cast<const T*>(bias);
    T* y = static_cast<T*>(out);
    const std::int64_t O = geo.out_channels, rows = output_rows(geo);
    parallel_for(rows, grain_for(O), [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t r = first; r < last; ++r)
        for (std::int64_t o = 0; o < O; ++o) y[r * O + o] += b[o];
    });
  };
  if (dtype == DType::Float32)
    add(float{});
  else
    add(double{});
}

}  // namespace jute::detail
