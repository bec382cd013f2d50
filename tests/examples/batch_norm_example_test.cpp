// The batch-normalisation seed example (docs/examples/batch_norm.cpp) with exact values.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#define JUTE_EXAMPLE_NO_MAIN
#include "../../docs/examples/batch_norm.cpp"

using namespace jute;

TEST_SUITE("examples") {
  TEST_CASE("batch norm: running statistics after three train steps, eval mode, immutable error") {
    const batch_norm::Result r = batch_norm::run();
    CHECK(r.variables.collections() == std::vector<std::string>{"batch_stats", "params"});
    // ra ← 0.9·ra + 0.1·batch statistic from mean 0 / var 1, with batch means (3+k, 4+k) and
    // variances 5 for k = 0, 1, 2: mean 0.1·(0.81·3 + 0.9·4 + 5) = 1.103 (col 0) and 1.374,
    // var 0.729 + 0.271·5 = 2.084. These are the float32 bits of that recurrence rounded after
    // every operation (computed independently).
    const Array mean = r.variables.get("batch_stats/BatchNorm_0/mean");
    const Array var = r.variables.get("batch_stats/BatchNorm_0/var");
    CHECK(mean.to_vector<float>() == std::vector<float>{0x1.1a5e34p+0f, 0x1.5fbe78p+0f});
    CHECK(var.to_vector<float>() == std::vector<float>{0x1.0ac084p+1f, 0x1.0ac084p+1f});
    // params are untouched by apply: scale ones, bias zeros.
    CHECK(array_equal(r.variables.get("params/BatchNorm_0/scale"), ones({2})));
    CHECK(array_equal(r.variables.get("params/BatchNorm_0/bias"), zeros({2})));
    // Eval mode: (x − running mean)·rsqrt(running var + 1e-5), bit for bit.
    const Array x = batch_norm::batch(0);
    CHECK(array_equal(r.eval_output, (x - mean) * rsqrt(var + 1e-5f)));
    CHECK(r.eval_output.at<float>({0, 0}) == doctest::Approx(-1.103 / std::sqrt(2.08401)));
    // Train mode without a mutable batch_stats names the variable, the path and the collection.
    CHECK(r.immutable_error.find("\"mean\"") != std::string::npos);
    CHECK(r.immutable_error.find("\"/BatchNorm_0\"") != std::string::npos);
    CHECK(r.immutable_error.find("\"batch_stats\"") != std::string::npos);
  }
}
