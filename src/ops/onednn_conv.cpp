// float32 convolutions on oneDNN's primitives (see onednn_conv.hpp).
//
// Layouts: jute's arrays are described to oneDNN by their strides — activations (N, spatial...,
// C) as oneDNN's (N, C, spatial...) with C innermost (format_tag nhwc and its 1-D/3-D siblings),
// kernels (spatial..., C/G, O) as oneDNN's (O, C, spatial...) or, grouped, (G, O/G, C/G,
// spatial...) with O innermost (hwio / hwigo). The primitives take the activations in that
// layout (oneDNN's brgemm kernels work on nhwc directly) and choose the kernel's
// (`format_tag::any`: a blocked one, reordered to and from jute's, which costs little for a
// kernel). Letting them choose the activations' layout too (blocked, reordered each call) was
// no faster on the MNIST CNN (cnn_step 40.8 vs 40.6 ms, cnn_fwd 13.4 vs 13.8 ms, one thread).
//
// Memory: every primitive runs with `scratchpad_mode::user`, its scratchpad an Array from jute's
// buffer cache, so oneDNN allocates nothing per call. Primitives come from oneDNN's own primitive
// cache (keyed by the primitive descriptor, which includes the thread count), so a training loop
// JIT-compiles each convolution once.
//
// Threads: every primitive runs on one OpenMP thread over a fixed part of the batch, the parts on
// jute's threads (kBatchParts below).
#include "ops/onednn_conv.hpp"

#include <algorithm>
#include <dnnl.hpp>
#include <unordered_map>

#include "core/onednn.hpp"
#include "core/parallel.hpp"

namespace jute::detail {

namespace {

using dnnl::memory;
using dims = memory::dims;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

/// (N, C, spatial...) dims and the strides of jute's (N, spatial..., C) layout.
memory::desc activation_desc(std::int64_t n, std::int64_t c, const Shape& spatial) {
  const std::size_t D = spatial.size();
  dims d{n, c}, s(D + 2);
  d.insert(d.end(), spatial.begin(), spatial.end());
  s[1] = 1;
  std::int64_t stride = c;
  for (std::size_t i = D; i-- > 0;) {
    s[i + 2] = stride;
    stride *= spatial[i];
  }
  s[0] = stride;
  return {d, memory::data_type::f32, s};
}

/// oneDNN's (O, C, k...) or (G, O/G, C/G, k...) dims and the strides of jute's (k..., C/G, O).
memory::desc kernel_desc(const ConvGeometry& geo) {
  const std::size_t D = geo.kernel.size();
  const std::int64_t G = geo.groups, O = geo.out_channels, Cg = geo.in_channels / G;
  dims d, s;
  if (G > 1) {
    d = {G, O / G, Cg};
    s = {O / G, 1, O};
  } else {
    d = {O, Cg};
    s = {1, O};
  }
  const std::size_t first = d.size();
  d.insert(d.end(), geo.kernel.begin(), geo.kernel.end());
  s.resize(d.size());
  std::int64_t stride = Cg * O;
  for (std::size_t i = D; i-- > 0;) {
    s[first + i] = stride;
    stride *= geo.kernel[i];
  }
  return {d, memory::data_type::f32, s};
}

/// The high padding that gives oneDNN's output size formula geo.out; -1 when none >= 0 does.
std::int64_t pad_high(const ConvGeometry& geo, std::size_t d) {
  const std::int64_t window = (geo.kernel[d] - 1) * geo.rhs_dilation[d] + 1;
  // Any value in [least, least + stride - 1] gives the same (floored) output size.
  const std::int64_t least = (geo.out[d] - 1) * geo.strides[d] + window - geo.in[d] - geo.pad_lo[d];
  if (least >= 0) return least;
  return least + geo.strides[d] - 1 >= 0 ? 0 : -1;
}

struct Problem {
  memory::desc src, weights, dst;
  dims strides, dilates, pad_l, pad_r;

  explicit Problem(const ConvGeometry& geo)
      : src(activation_desc(geo.batch, geo.in_channels, geo.in)),
        weights(kernel_desc(geo)),
        dst(activation_desc(geo.batch, geo.out_channels, geo.out)) {
    for (std::size_t d = 0; d < geo.in.size(); ++d) {
      strides.push_back(geo.strides[d]);
      dilates.push_back(geo.rhs_dilation[d] - 1);
      pad_l.push_back(geo.pad_lo[d]);
      pad_r.push_back(pad_high(geo, d));
    }
  }
};

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

/// Runs the primitive of `pd` (taken from oneDNN's primitive cache) with `args` plus a
/// scratchpad from jute's buffer cache.
template <class Primitive, class PD>
void execute(const PD& pd, std::unordered_map<int, memory> args) {
  const memory::desc sd = pd.scratchpad_desc();
  Array scratch;
  if (sd.get_size() > 0) {
    scratch = empty(DType::UInt8, {static_cast<std::int64_t>(sd.get_size())});
    args.emplace(DNNL_ARG_SCRATCHPAD, memory(sd, cpu_engine(), mutable_raw(scratch)));
  }
  dnnl::stream stream(cpu_engine());
  Primitive(pd).execute(stream, args);
  stream.wait();
}

void reorder(const memory& from, const memory& to) {
  execute<dnnl::reorder>(dnnl::reorder::primitive_desc(from, to, user_scratchpad()),
                         {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
}

/// One operand of a primitive: jute's buffer, and the memory the primitive uses — the buffer
/// itself when the primitive takes jute's layout, else a buffer from jute's cache in the
/// primitive's layout (an input is reordered into it at once, an output out of it by `finish`).
class Operand {
 public:
  Operand(const memory::desc& jute_layout, const memory::desc& wanted, const void* data, bool input)
      : user_(jute_layout, cpu_engine(), const_cast<void*>(data)) {
    if (wanted == jute_layout) {
      used_ = user_;
      return;
    }
    buffer_ = empty(DType::UInt8, {static_cast<std::int64_t>(wanted.get_size())});
    used_ = memory(wanted, cpu_engine(), mutable_raw(buffer_));
    if (input) reorder(user_, used_);
  }
  const memory& used() const { return used_; }
  void finish() {
    if (buffer_.impl()) reorder(used_, user_);
  }

 private:
  memory user_, used_;
  Array buffer_;
};

memory::desc any_like(const memory::desc& md) {
  return {md.dims(), memory::data_type::f32, memory::format_tag::any};
}

std::int64_t numel_of(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

}  // namespace

bool onednn_conv_supported(const ConvGeometry& geo) {
  const std::size_t D = geo.in.size();
  if (D < 1 || D > 3 || geo.batch < 1 || geo.in_channels < 1 || geo.out_channels < 1) return false;
  for (std::size_t d = 0; d < D; ++d)
    if (geo.lhs_dilation[d] != 1 || geo.in[d] < 1 || geo.out[d] < 1 || geo.pad_lo[d] < 0 ||
        pad_high(geo, d) < 0)
      return false;
  return true;
}

namespace {

/// Every primitive runs on one OpenMP thread, over a part of the batch: the batch is cut into
/// this many parts (fewer for a smaller batch) whatever the thread count, and jute's threads take
/// whole parts. oneDNN's own OpenMP team would give other bits at another thread count (its
/// kernel gradient adds per-thread partial sums over the batch) and leaves libgomp's workers
/// spinning after each call, which starved jute's pool at 2 threads (cnn_step took twice its
/// 1-thread time on a busy machine). The kernel gradient's parts are added in order.
constexpr std::int64_t kBatchParts = 8;

/// The number of elements of one batch item of an array of `shape`.
std::int64_t image_size(const Shape& shape, std::int64_t batch) { return numel_of(shape) / batch; }

/// Calls f(part, i, first) for each part i of the batch (see kBatchParts), where `part` is the
/// geometry of that part and `first` its first batch item, on jute's threads with one OpenMP
/// thread each.
struct BatchParts {
  std::int64_t per, count;  // batch items per part (the last part may have fewer), parts
};
BatchParts batch_parts(std::int64_t batch) {
  const std::int64_t per = (batch + kBatchParts - 1) / kBatchParts;
  return {per, (batch + per - 1) / per};
}

template <class F>
void for_batch_parts(const ConvGeometry& geo, F&& f) {
  const auto [per, parts] = batch_parts(geo.batch);
  parallel_for(parts, 1, [&](std::int64_t first, std::int64_t last) {
    const OneDnnThreads one(1);
    for (std::int64_t i = first; i < last; ++i) {
      ConvGeometry part = geo;
      part.batch = std::min(per, geo.batch - i * per);
      f(part, i, i * per);
    }
  });
}

/// The primitive descriptor of `role` (the forward one for Output, with the other two's hint).
struct Primitives {
  Problem p;
  dnnl::convolution_forward::primitive_desc fwd;

  Primitives(const ConvGeometry& geo, ConvRole role)
      : p(geo), fwd(forward_desc(role), user_scratchpad(), cpu_engine()) {}

  /// Activations in jute's layout; the kernel in the one the primitive chooses (its JIT kernels
  /// want blocked ones).
  memory::desc src() const { return p.src; }
  memory::desc dst() const { return p.dst; }
  memory::desc weights() const { return any_like(p.weights); }

  // oneDNN's fused bias (convolution_forward with a bias, backward-weights with its gradient)
  // was slower on the MNIST CNN than a separate pass: 3.9 vs 2.8 ms per call for the first
  // layer's forward, 8.8 vs 7.3 ms for the second's kernel gradient. So conv_general_dilated_bias
  // adds the bias afterwards and sums its gradient separately.
  dnnl::convolution_forward::desc forward_desc(ConvRole role) const {
    const auto kind = role == ConvRole::Output ? dnnl::prop_kind::forward_inference
                                               : dnnl::prop_kind::forward_training;
    return {kind, kAlg, src(), weights(), dst(), p.strides, p.dilates, p.pad_l, p.pad_r};
  }
  dnnl::convolution_backward_data::primitive_desc backward_data() const {
    return {dnnl::convolution_backward_data::desc(kAlg, src(), weights(), dst(), p.strides,
                                                  p.dilates, p.pad_l, p.pad_r),
            user_scratchpad(), cpu_engine(), fwd};
  }
  dnnl::convolution_backward_weights::primitive_desc backward_weights() const {
    return {dnnl::convolution_backward_weights::desc(kAlg, src(), weights(), dst(), p.strides,
                                                     p.dilates, p.pad_l, p.pad_r),
            user_scratchpad(), cpu_engine(), fwd};
  }

  static constexpr dnnl::algorithm kAlg = dnnl::algorithm::convolution_direct;
};

void forward_part(const ConvGeometry& geo, const float* x, const float* w, float* y) {
  const Primitives pr(geo, ConvRole::Output);
  const Problem& p = pr.p;
  Operand xs(p.src, pr.fwd.src_desc(), x, true), ws(p.weights, pr.fwd.weights_desc(), w, true),
      ys(p.dst, pr.fwd.dst_desc(), y, false);
  execute<dnnl::convolution_forward>(
      pr.fwd,
      {{DNNL_ARG_SRC, xs.used()}, {DNNL_ARG_WEIGHTS, ws.used()}, {DNNL_ARG_DST, ys.used()}});
  ys.finish();
}

void input_grad_part(const ConvGeometry& geo, const float* g, const float* w, float* dx) {
  const Primitives pr(geo, ConvRole::Input);
  const Problem& p = pr.p;
  const auto bwd = pr.backward_data();
  Operand gs(p.dst, bwd.diff_dst_desc(), g, true), ws(p.weights, bwd.weights_desc(), w, true),
      dxs(p.src, bwd.diff_src_desc(), dx, false);
  execute<dnnl::convolution_backward_data>(bwd, {{DNNL_ARG_DIFF_DST, gs.used()},
                                                 {DNNL_ARG_WEIGHTS, ws.used()},
                                                 {DNNL_ARG_DIFF_SRC, dxs.used()}});
  dxs.finish();
}

void kernel_grad_part(const ConvGeometry& geo, const float* x, const float* g, float* dw) {
  const Primitives pr(geo, ConvRole::Kernel);
  const Problem& p = pr.p;
  const auto bwd = pr.backward_weights();
  Operand xs(p.src, bwd.src_desc(), x, true), gs(p.dst, bwd.diff_dst_desc(), g, true),
      dws(p.weights, bwd.diff_weights_desc(), dw, false);
  execute<dnnl::convolution_backward_weights>(bwd, {{DNNL_ARG_SRC, xs.used()},
                                                    {DNNL_ARG_DIFF_DST, gs.used()},
                                                    {DNNL_ARG_DIFF_WEIGHTS, dws.used()}});
  dws.finish();
}

void forward(const ConvGeometry& geo, const float* x, const float* w, float* y) {
  const std::int64_t x_image = image_size(geo.lhs_shape(), geo.batch);
  const std::int64_t y_image = image_size(geo.out_shape(), geo.batch);
  for_batch_parts(geo, [&](const ConvGeometry& part, std::int64_t, std::int64_t n) {
    forward_part(part, x + n * x_image, w, y + n * y_image);
  });
}

void input_grad(const ConvGeometry& geo, const float* g, const float* w, float* dx) {
  const std::int64_t x_image = image_size(geo.lhs_shape(), geo.batch);
  const std::int64_t g_image = image_size(geo.out_shape(), geo.batch);
  for_batch_parts(geo, [&](const ConvGeometry& part, std::int64_t, std::int64_t n) {
    input_grad_part(part, g + n * g_image, w, dx + n * x_image);
  });
}

void kernel_grad(const ConvGeometry& geo, const float* x, const float* g, float* dw) {
  const std::int64_t parts = batch_parts(geo.batch).count;
  const std::int64_t x_image = image_size(geo.lhs_shape(), geo.batch);
  const std::int64_t g_image = image_size(geo.out_shape(), geo.batch);
  const std::int64_t w_size = numel_of(geo.rhs_shape());
  // Part 0 writes into dw, the others into rows of `partial`.
  Array partial = empty(DType::Float32, {(parts - 1) * w_size});
  float* rest = parts > 1 ? mutable_data<float>(partial) : nullptr;
  for_batch_parts(geo, [&](const ConvGeometry& part, std::int64_t i, std::int64_t n) {
    kernel_grad_part(part, x + n * x_image, g + n * g_image, i == 0 ? dw : rest + (i - 1) * w_size);
  });
  for (std::int64_t i = 1; i < parts; ++i) {
    const float* pw = rest + (i - 1) * w_size;
    for (std::int64_t j = 0; j < w_size; ++j) dw[j] += pw[j];
  }
}

}  // namespace

bool onednn_conv(ConvRole role, const ConvGeometry& geo, const float* a, const float* b,
                 float* out) {
  try {
    switch (role) {
      case ConvRole::Output:  // a = x, b = w
        forward(geo, a, b, out);
        break;
      case ConvRole::Input:  // a = g, b = w
        input_grad(geo, a, b, out);
        break;
      case ConvRole::Kernel:  // a = x, b = g
        kernel_grad(geo, a, b, out);
        break;
    }
  } catch (const dnnl::error& e) {
    if (e.status == dnnl_unimplemented) return false;
    throw;
  }
  return true;
}

}  // namespace jute::detail
