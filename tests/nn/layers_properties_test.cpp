// RapidCheck properties of the layers: Conv in every padding mode against a direct loop
// reference (exact, on small integers in float64), avg_pool without counting the padding against
// a loop, Dropout's outputs, and the README's hand-written Dense compiled against jute/nn.hpp.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jute/nn.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"

using namespace jute;
namespace nn = jute::nn;
namespace jr = jute::random;

namespace {

/// Where a convolution's (padded, dilated) input position p along one axis reads the input:
/// an index, or nothing (a zero).
struct AxisMap {
  std::int64_t n = 1, k = 1, stride = 1, kdil = 1, idil = 1, lo = 0, hi = 0;
  std::string mode = "ZERO";  // ZERO (SAME, VALID, explicit), CIRCULAR, REFLECT, CAUSAL

  std::int64_t length() const {
    return mode == "ZERO" ? (n - 1) * idil + 1 + lo + hi : n + lo + hi;
  }
  std::int64_t out() const {
    const std::int64_t span = length() - ((k - 1) * kdil + 1);
    return span < 0 ? 0 : span / stride + 1;
  }
  std::optional<std::int64_t> source(std::int64_t p) const {
    const std::int64_t q = p - lo;
    if (mode == "ZERO") {
      if (q < 0 || q >= (n - 1) * idil + 1 || q % idil != 0) return std::nullopt;
      return q / idil;
    }
    if (mode == "CAUSAL") return q < 0 ? std::nullopt : std::optional<std::int64_t>(q);
    if (mode == "CIRCULAR") return ((q % n) + n) % n;
    if (n == 1) return 0;  // REFLECT (numpy): period 2(n − 1)
    const std::int64_t period = 2 * (n - 1), j = ((q % period) + period) % period;
    return j < n ? j : period - j;
  }
};

/// y[b, i, j, f] = Σ x[b, src_h, src_w, g·cg + c] · K[th, tw, c, f] + bias[f], on (N, H, W, C).
std::vector<double> reference_conv(const std::vector<double>& x, std::int64_t batch,
                                   std::int64_t cin, const std::vector<double>& kernel,
                                   const std::vector<double>& bias, std::int64_t features,
                                   std::int64_t groups, const AxisMap& h, const AxisMap& w) {
  const std::int64_t cg = cin / groups, fg = features / groups;
  std::vector<double> y;
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < h.out(); ++i)
      for (std::int64_t j = 0; j < w.out(); ++j)
        for (std::int64_t f = 0; f < features; ++f) {
          double acc = bias[static_cast<std::size_t>(f)];
          const std::int64_t g = f / fg;
          for (std::int64_t th = 0; th < h.k; ++th)
            for (std::int64_t tw = 0; tw < w.k; ++tw) {
              const auto sh = h.source(i * h.stride + th * h.kdil);
              const auto sw = w.source(j * w.stride + tw * w.kdil);
              if (!sh || !sw) continue;
              for (std::int64_t c = 0; c < cg; ++c)
                acc +=
                    x[static_cast<std::size_t>(((b * h.n + *sh) * w.n + *sw) * cin + g * cg + c)] *
                    kernel[static_cast<std::size_t>(((th * w.k + tw) * cg + c) * features + f)];
            }
          y.push_back(acc);
        }
  return y;
}

std::vector<double> small_ints(std::size_t n) {
  return *rc::gen::container<std::vector<double>>(
      n, rc::gen::map(rc::gen::inRange(-3, 4), [](int v) { return static_cast<double>(v); }));
}

nn::Initializer fixed(const Array& value) {
  return [value](const Array&, const Shape&, DType) { return value; };
}

// The README's example module, verbatim: it must compile against jute/nn.hpp.
struct Dense {  // a module is a plain struct of hyperparameters
  static constexpr const char* name = "Dense";
  std::int64_t features;
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& x) const {
    auto kernel = s.param("kernel", jute::nn::lecun_normal(), {x.shape(-1), features});
    return jute::matmul(x, kernel) + s.param("bias", jute::nn::zeros_init(), {features});
  }
};

}  // namespace

TEST_SUITE("nn.layers.properties") {
  TEST_CASE("nn.layers.properties: Conv equals the loop reference in every padding mode") {
    CHECK(rc::check("Conv = direct loops", [] {
      const bool two_d = *rc::gen::arbitrary<bool>();
      const std::string padding = *rc::gen::element<std::string>("SAME", "VALID", "EXPLICIT",
                                                                 "CIRCULAR", "REFLECT", "CAUSAL");
      const bool causal = padding == "CAUSAL";
      const bool zero_mode = padding == "SAME" || padding == "VALID" || padding == "EXPLICIT";
      const std::int64_t groups = *rc::gen::inRange<std::int64_t>(1, 3);
      const std::int64_t cin = groups * *rc::gen::inRange<std::int64_t>(1, 3);
      const std::int64_t features = groups * *rc::gen::inRange<std::int64_t>(1, 3);
      const std::int64_t batch = *rc::gen::inRange<std::int64_t>(1, 3);
      auto axis = [&](bool real) {
        AxisMap a;
        if (!real) return a;
        a.n = *rc::gen::inRange<std::int64_t>(1, 7);
        a.k = *rc::gen::inRange<std::int64_t>(1, 4);
        a.stride = *rc::gen::inRange<std::int64_t>(1, 3);
        a.kdil = *rc::gen::inRange<std::int64_t>(1, 3);
        a.idil = zero_mode ? *rc::gen::inRange<std::int64_t>(1, 3) : 1;
        const std::int64_t kd = (a.k - 1) * a.kdil + 1;
        if (padding == "SAME") {
          const std::int64_t out = (a.n + a.stride - 1) / a.stride;
          const std::int64_t total = std::max<std::int64_t>((out - 1) * a.stride + kd - a.n, 0);
          a.lo = total / 2;
          a.hi = total - a.lo;
        } else if (padding == "EXPLICIT") {
          a.lo = *rc::gen::inRange<std::int64_t>(0, 3);
          a.hi = *rc::gen::inRange<std::int64_t>(0, 3);
        } else if (padding == "CIRCULAR" || padding == "REFLECT") {
          a.mode = padding;
          a.lo = (kd - 1) / 2;
          a.hi = kd / 2;
        } else if (causal) {
          a.mode = "CAUSAL";
          a.lo = kd - 1;
        }
        return a;
      };
      const AxisMap h = axis(two_d && !causal), w = axis(true);
      RC_PRE(h.out() > 0 && w.out() > 0);

      const std::vector<double> xv = small_ints(static_cast<std::size_t>(batch * h.n * w.n * cin));
      const std::vector<double> kv =
          small_ints(static_cast<std::size_t>(h.k * w.k * (cin / groups) * features));
      const std::vector<double> bv = small_ints(static_cast<std::size_t>(features));
      const bool spatial2 = two_d && !causal;
      const Shape x_shape = spatial2 ? Shape{batch, h.n, w.n, cin} : Shape{batch, w.n, cin};
      Shape k_shape = spatial2 ? Shape{h.k, w.k} : Shape{w.k};
      k_shape.insert(k_shape.end(), {cin / groups, features});
      nn::ConvPadding pad_arg =
          padding == "EXPLICIT"
              ? nn::ConvPadding(
                    spatial2 ? std::vector<std::pair<std::int64_t, std::int64_t>>{{h.lo, h.hi},
                                                                                  {w.lo, w.hi}}
                             : std::vector<std::pair<std::int64_t, std::int64_t>>{{w.lo, w.hi}})
              : nn::ConvPadding(padding);
      const Shape dims = spatial2 ? Shape{h.stride, w.stride} : Shape{w.stride};
      const nn::Conv conv{.features = features,
                          .kernel_size = spatial2 ? Shape{h.k, w.k} : Shape{w.k},
                          .strides = dims,
                          .padding = pad_arg,
                          .input_dilation = spatial2 ? Shape{h.idil, w.idil} : Shape{w.idil},
                          .kernel_dilation = spatial2 ? Shape{h.kdil, w.kdil} : Shape{w.kdil},
                          .feature_group_count = groups,
                          .param_dtype = float64,
                          .kernel_init = fixed(Array::from_vector(kv, k_shape, float64)),
                          .bias_init = fixed(Array::from_vector(bv, {features}, float64))};
      const Array x = Array::from_vector(xv, x_shape, float64);
      const Array y = nn::init_with_output(conv, jr::key(0), x).output;
      RC_ASSERT(y.to_vector<double>() ==
                reference_conv(xv, batch, cin, kv, bv, features, groups, h, w));
    }));
  }

  TEST_CASE("nn.layers.properties: avg_pool without the padding is the mean of the real elements") {
    CHECK(rc::check("avg_pool(count_include_pad=false) = loop mean", [] {
      const std::int64_t n = *rc::gen::inRange<std::int64_t>(1, 9);
      const std::int64_t k = *rc::gen::inRange<std::int64_t>(1, 4);
      const std::int64_t s = *rc::gen::inRange<std::int64_t>(1, 3);
      const std::int64_t lo = *rc::gen::inRange<std::int64_t>(0, k);
      const std::int64_t hi = *rc::gen::inRange<std::int64_t>(0, k);
      RC_PRE(n + lo + hi >= k);
      const std::vector<double> xv = small_ints(static_cast<std::size_t>(n));
      const Array x = Array::from_vector(xv, {1, n, 1}, float64);
      const Array y = nn::avg_pool(
          x, {k}, {s}, std::vector<std::pair<std::int64_t, std::int64_t>>{{lo, hi}}, false);
      std::vector<double> expected;
      for (std::int64_t o = 0; (o * s) + k <= n + lo + hi; ++o) {
        double total = 0;
        int count = 0;
        for (std::int64_t t = 0; t < k; ++t) {
          const std::int64_t i = o * s + t - lo;
          if (i >= 0 && i < n) {
            total += xv[static_cast<std::size_t>(i)];
            ++count;
          }
        }
        expected.push_back(count ? total / count : std::nan(""));
      }
      const std::vector<double> got = y.to_vector<double>();
      RC_ASSERT(got.size() == expected.size());
      for (std::size_t i = 0; i < got.size(); ++i)
        RC_ASSERT((std::isnan(expected[i]) ? std::isnan(got[i]) : got[i] == expected[i]));
    }));
  }

  TEST_CASE("nn.layers.properties: Dropout keeps x / keep or drops to 0, by Flax's mask") {
    CHECK(rc::check("dropout values", [] {
      const double rate = *rc::gen::element(0.1, 0.3, 0.5, 0.8);
      const auto seed = *rc::gen::inRange<std::int64_t>(0, 1000);
      const Array x = jr::normal(jr::key(seed), {5, 4});
      const Array key = jr::key(seed + 1);
      const Array y = nn::apply(nn::Dropout{.rate = rate}, Variables(), x, false, key).output;
      const Array mask = jr::bernoulli(key, 1 - rate, {5, 4});
      RC_ASSERT(array_equal(y, where(mask, x / Array::scalar(1 - rate, float32), zeros({5, 4}))));
    }));
  }

  TEST_CASE("nn.layers.properties: the README's Dense compiles and matches nn::Dense") {
    const Array x = jr::normal(jr::key(1), {2, 3});
    auto vars = nn::init(Dense{3}, jr::key(0), x);
    auto [y, updated] = nn::apply(Dense{3}, vars, x);
    CHECK(updated.collections().empty());
    const Variables layer_vars = nn::init(nn::Dense{.features = 3}, jr::key(0), x);
    CHECK(static_cast<const Tree&>(vars) == static_cast<const Tree&>(layer_vars));
    CHECK(array_equal(y, nn::apply(nn::Dense{.features = 3}, layer_vars, x).output));
  }
}
