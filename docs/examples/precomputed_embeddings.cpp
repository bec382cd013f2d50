// Seed example 2 — precomputed embeddings kept as a buffer beside a trainable embedding.
//
// The precomputed table (say, from word2vec) is state the model reads but must never train: it
// lives in the "buffers" collection. A trainable correction of the same shape lives in "params".
// Gradients are taken over "params" only, so the buffer comes out of training bit-identical —
// and out of a checkpoint too: the trained variables are written in Flax's msgpack format and
// restored into the structure nn::init_shapes gives (no initialization needed to restore).
#include <iostream>

#include "jute/autodiff.hpp"
#include "jute/io/serialization.hpp"
#include "jute/nn/initializers.hpp"
#include "jute/nn/module.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "jute/tree.hpp"

namespace precomputed_embeddings {

struct Encoder {
  static constexpr const char* name = "Encoder";
  jute::Array pretrained;  // (vocab, features), computed elsewhere
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& ids) const {
    auto table = s.variable("buffers", "pretrained", [&] { return pretrained; });
    jute::Array tuned =
        s.param("embedding", jute::nn::initializers::zeros_init(), pretrained.shape());
    return jute::take(table.value() + tuned, ids, 0);
  }
};

struct Result {
  jute::Variables initial;
  jute::Variables trained;
  jute::Variables restored;  // `trained` after a round trip through checkpoint bytes
};

/// Five steps of plain SGD (learning rate 0.5) on the mean squared error to a target of ones.
inline Result run() {
  const Encoder model{jute::reshape(jute::arange(12).astype(jute::float32) / 12.0f, {4, 3})};
  const jute::Array ids({0, 2, 3});
  const jute::Array target = jute::ones({3, 3});
  const jute::Variables initial = jute::nn::init(model, jute::random::key(0), ids);

  // The loss is a function of the params alone; everything else the model reads is a constant.
  auto loss_fn = [&](const jute::Tree& params) {
    auto [y, updated] = jute::nn::apply(model, initial.with_collection("params", params), ids);
    return jute::mean(jute::square(y - target));
  };
  jute::Tree params = initial.collection("params");
  for (int step = 0; step < 5; ++step) {
    jute::Tree grads = jute::grad(loss_fn)(params);
    params = jute::tree_map([](const jute::Array& p, const jute::Array& g) { return p - 0.5f * g; },
                            params, grads);
  }
  const jute::Variables trained = initial.with_collection("params", params);

  // Checkpoint: Flax's msgpack bytes (what flax.serialization.to_bytes writes), restored into the
  // shapes of a fresh model, path by path (a wrong shape or a missing key would throw).
  const jute::io::Bytes checkpoint = jute::io::to_bytes(trained);
  const jute::Tree shapes = jute::nn::init_shapes(model, jute::random::key(0), ids);
  const jute::Variables restored(jute::io::from_bytes(shapes, checkpoint));
  return {initial, trained, restored};
}

}  // namespace precomputed_embeddings

#ifndef JUTE_EXAMPLE_NO_MAIN
int main() { std::cout << jute::to_json(precomputed_embeddings::run().trained) << "\n"; }
#endif
