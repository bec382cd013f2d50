// jute-demo — the main job until the Fashion-MNIST program takes its place:
// builds the parameters of a small multilayer perceptron ("init"), runs it on a
// batch ("apply") and prints the results.
//
// The parameters are a deterministic wave for now; they will come from
// jute::random keys and the nn module's initializers once those exist.
#include <cmath>
#include <cstdint>
#include <iostream>
#include <vector>

#include <jute/array.hpp>
#include <jute/ops.hpp>

namespace {

struct Layer {
  jute::Array kernel;  // (in, out)
  jute::Array bias;    // (out,)
};

/// One Dense layer per consecutive pair of `sizes`: kernels sin(0.7·i)/sqrt(fan_in) over the
/// element index i (mixed signs, no two rows alike), biases 0.1.
std::vector<Layer> init(const std::vector<std::int64_t>& sizes) {
  std::vector<Layer> layers;
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    const std::int64_t in = sizes[i], out = sizes[i + 1];
    const double scale = 1.0 / std::sqrt(static_cast<double>(in));
    const jute::Array wave = jute::sin(jute::arange(in * out, jute::float32) * 0.7) * scale;
    layers.push_back({jute::reshape(wave, {in, out}), jute::full({out}, 0.1)});
  }
  return layers;
}

/// Dense → ReLU for every layer but the last, which returns logits.
jute::Array apply(const std::vector<Layer>& layers, jute::Array x) {
  for (std::size_t i = 0; i < layers.size(); ++i) {
    x = jute::matmul(x, layers[i].kernel) + layers[i].bias;
    if (i + 1 < layers.size()) x = jute::maximum(std::move(x), 0.0f);
  }
  return x;
}

}  // namespace

int main() {
  const std::vector<Layer> layers = init({4, 8, 8, 3});
  const jute::Array x = jute::reshape(jute::linspace(-1.0, 1.0, 2 * 4), {2, 4});
  const jute::Array logits = apply(layers, x);

  std::cout << "jute demo: a 4-8-8-3 MLP applied to a batch of 2\n";
  std::cout << "input " << x << "\n";
  std::cout << "logits " << logits << "\n";
  std::cout << "predicted classes " << jute::argmax(logits, -1) << "\n";
  return 0;
}
