// The seed examples of docs/examples, run with exact expected values.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#define JUTE_EXAMPLE_NO_MAIN
#include "../../docs/examples/fixed_embedding.cpp"
#include "../../docs/examples/precomputed_embeddings.cpp"
#include "../../docs/examples/running_average.cpp"
#include "../../docs/examples/stateful_layer.cpp"
#include "../../docs/examples/two_buffers.cpp"

using namespace jute;

TEST_SUITE("examples") {
  TEST_CASE("running average: 0.12194999 after three applies, as PyTorch's register_buffer") {
    Variables vars = running_average::run();
    CHECK(vars.collections() == std::vector<std::string>{"buffers"});
    // avg ← 0.9·avg + 0.1·mean(x), three times from 0, in float32 (NumPy float32 gives the same
    // bits); PyTorch prints it as 0.12194999 (8 significant digits).
    const float avg = vars.get("buffers/running_avg").item<float>();
    CHECK(avg == 0.121949986f);
    char printed[32];
    std::snprintf(printed, sizeof printed, "%.8g", static_cast<double>(avg));
    CHECK(std::string(printed) == "0.12194999");
  }

  TEST_CASE("precomputed embeddings: only params train; the buffer stays bit-identical") {
    auto [initial, trained, restored] = precomputed_embeddings::run();
    (void)restored;
    const Array& before = initial.get("buffers/pretrained");
    const Array& after = trained.get("buffers/pretrained");
    CHECK(array_equal(before, after));
    CHECK(before.raw_data() == after.raw_data());  // not even copied
    // Each step scales the error of the looked-up rows by 8/9: tuned = (1 - pre)·(1 - (8/9)^5).
    const Array tuned = trained.get("params/embedding");
    const double shrink = 1.0 - std::pow(8.0 / 9.0, 5);
    for (int row : {0, 2, 3})
      for (int col = 0; col < 3; ++col) {
        double pre = (row * 3 + col) / 12.0;
        CHECK(tuned.at<double>({row, col}) == doctest::Approx((1.0 - pre) * shrink).epsilon(1e-6));
      }
    for (int col = 0; col < 3; ++col) CHECK(tuned.at<float>({1, col}) == 0.0f);  // never looked up
  }

  TEST_CASE("precomputed embeddings: the buffer stays bit-identical through a checkpoint") {
    auto [initial, trained, restored] = precomputed_embeddings::run();
    CHECK(restored.collections() == std::vector<std::string>{"buffers", "params"});
    CHECK(restored == trained);  // every leaf: same dtype, shape and bits
    CHECK(array_equal(restored.get("buffers/pretrained"), initial.get("buffers/pretrained")));
    CHECK_FALSE(restored.get("buffers/pretrained").is_abstract());
  }

  TEST_CASE("two buffers: an int32 counter and float32 column sums") {
    Variables vars = two_buffers::run();
    CHECK(vars.get("buffers/count").dtype() == int32);
    CHECK(vars.get("buffers/count").item<int>() == 3);
    CHECK(array_equal(vars.get("buffers/stats"), Array({18.f, 30.f, 42.f})));
  }

  TEST_CASE("fixed embedding: constants and stop_gradient keep the table, params train it") {
    using fixed_embedding::Placement;
    const Array table = reshape(arange(6).astype(float32), {3, 2});
    Variables constants = fixed_embedding::train(Placement::Constants);
    CHECK(array_equal(constants.get("constants/table"), table));
    CHECK_FALSE(constants.collection("params").contains("table"));
    CHECK_FALSE(array_equal(constants.get("params/proj"), ones({2, 1})));  // the rest trains

    Variables stopped = fixed_embedding::train(Placement::StopGradient);
    CHECK(array_equal(stopped.get("params/table"), table));

    Variables wrong = fixed_embedding::train(Placement::Params);
    const Array trained = wrong.get("params/table");
    CHECK_FALSE(array_equal(trained, table));
    CHECK(trained.at<float>({1, 0}) == 2.f);  // row 1 is never looked up
    CHECK(trained.at<float>({0, 0}) != 0.f);  // rows 0 and 2 are looked up and trained
    CHECK(trained.at<float>({2, 0}) != 4.f);
  }

  TEST_CASE("stateful layer: the running mean of every row seen so far") {
    auto [vars, y] = stateful_layer::run();
    CHECK(vars.get("state/count").item<float>() == 6.f);
    CHECK(array_equal(vars.get("state/mean"), Array({6.f, 7.f})));
    CHECK(array_equal(y, Array({{1.f, 1.f}, {3.f, 3.f}, {5.f, 5.f}})));
  }
}
