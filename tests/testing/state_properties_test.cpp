// Property-based state tests (RapidCheck) over random inputs and small models, using the
// reusable checks of jute/testing/state_properties.hpp — and checks that those checks catch
// models that break the laws.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <vector>

#include "jute/nn/initializers.hpp"
#include "jute/nn/module.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "jute/testing.hpp"

using namespace jute;
using jute::nn::Scope;

namespace {

struct SmallDense {
  static constexpr const char* name = "Dense";
  std::int64_t features;
  Array operator()(Scope& s, const Array& x) const {
    Array kernel = s.param("kernel", nn::initializers::lecun_normal(), {x.shape(-1), features});
    Array bias = s.param("bias", nn::initializers::zeros_init(), {features});
    return matmul(x, kernel) + bias;
  }
};

// A batch-norm-like model: a Dense, then centring with running means in "batch_stats".
struct Centred {
  static constexpr const char* name = "Centred";
  bool train = true;
  Array operator()(Scope& s, const Array& x) const {
    Array h = s.child(SmallDense{3}, x);
    auto mean = s.variable("batch_stats", "mean", [] { return zeros({3}); });
    if (!train) return h - mean.value();
    Array batch_mean = jute::mean(h, 0);
    if (!s.is_initializing()) mean.set(0.9f * mean.value() + 0.1f * batch_mean);
    return h - batch_mean;
  }
};

// A counter that writes "state" every call, and sows into "intermediates".
struct Counting {
  static constexpr const char* name = "Counting";
  Array operator()(Scope& s, const Array& x) const {
    auto count = s.variable("state", "count", [] { return zeros({}, int32); });
    if (count.is_mutable()) count.set(count.value() + 1);
    s.sow("intermediates", "x", x);
    return s.child(SmallDense{2}, x);
  }
};

Array random_input(const std::vector<float>& values, int rows, int cols) {
  std::vector<float> v(static_cast<std::size_t>(rows * cols));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = values.empty() ? 0.f : values[i % values.size()];
  return Array::from_vector(v, {rows, cols});
}

rc::Gen<std::vector<float>> finite_floats() {
  return rc::gen::container<std::vector<float>>(rc::gen::map(
      rc::gen::inRange(-1000, 1000), [](int i) { return static_cast<float>(i) / 100.0f; }));
}

}  // namespace

TEST_SUITE("testing.state_properties") {
  TEST_CASE("apply without mutable collections is pure, for random inputs") {
    CHECK(rc::check("apply is pure", [] {
      auto values = *finite_floats();
      int rows = *rc::gen::inRange(1, 5), cols = *rc::gen::inRange(1, 4);
      std::uint32_t seed = *rc::gen::arbitrary<std::uint32_t>();
      Array x = random_input(values, rows, cols);
      // Eval mode (train mode writes batch_stats, so it needs them mutable: next case).
      Variables vars = nn::init(Centred{false}, random::key(seed), x);
      testing::check_apply_is_pure(Centred{false}, vars, x);
      Variables counted = nn::init(Counting{}, random::key(seed), x);
      testing::check_apply_is_pure(Counting{}, counted, x);
    }));
  }

  TEST_CASE("updated holds exactly the declared collections; params never change") {
    CHECK(rc::check("updates only the declared collections", [] {
      auto values = *finite_floats();
      int rows = *rc::gen::inRange(1, 5), cols = *rc::gen::inRange(1, 4);
      Array x = random_input(values, rows, cols);
      Variables vars = nn::init(Centred{}, random::key(0), x);
      testing::check_updates_only(Centred{}, vars, {"batch_stats"}, x);
      Variables counted = nn::init(Counting{}, random::key(0), x);
      for (const nn::Mutable& m : {nn::Mutable{"state"}, nn::Mutable{"intermediates"},
                                   nn::Mutable{"state", "intermediates"}, nn::Mutable(true),
                                   nn::Mutable::all_but({"params"}), nn::Mutable{"absent"}})
        testing::check_updates_only(Counting{}, counted, m, x);
      auto [y, updated] = nn::apply(Centred{}, vars, x, {.mutable_ = {"batch_stats"}});
      RC_ASSERT(updated.collections() == std::vector<std::string>{"batch_stats"});
    }));
  }

  TEST_CASE("init is a pure function of the key") {
    CHECK(rc::check("same key, same variables; different keys, different params", [] {
      std::uint32_t a = *rc::gen::arbitrary<std::uint32_t>();
      std::uint32_t b = *rc::gen::distinctFrom(a);
      int cols = *rc::gen::inRange(1, 5);
      Array x = ones({2, cols});
      testing::check_init_is_pure(Centred{}, random::key(a), x);
      testing::check_init_depends_on_key(Centred{}, random::key(a), random::key(b), x);
    }));
  }

  TEST_CASE("the checks catch models that break the laws") {
    // An impure model: its output depends on a counter kept outside the variables.
    struct Impure {
      static const char* name() { return "Impure"; }
      int* calls;
      Array operator()(Scope&, const Array& x) const { return x + static_cast<float>((*calls)++); }
    };
    int calls = 0;
    Array x = ones({2, 2});
    Variables vars = nn::init(Impure{&calls}, random::key(0), x);
    CHECK_THROWS_WITH_AS(testing::check_apply_is_pure(Impure{&calls}, vars, x),
                         doctest::Contains("different outputs"), testing::StatePropertyError);

    // A model whose parameters ignore the key.
    struct Fixed {
      static const char* name() { return "Fixed"; }
      Array operator()(Scope& s, const Array& x) const {
        return x * s.param("w", nn::initializers::ones_init(), {});
      }
    };
    CHECK_THROWS_AS(testing::check_init_depends_on_key(Fixed{}, random::key(0), random::key(1), x),
                    testing::StatePropertyError);
    CHECK_NOTHROW(testing::check_init_is_pure(Fixed{}, random::key(0), x));
  }
}
