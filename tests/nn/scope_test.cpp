// Scope, init and apply: Flax linen's semantics (../shared/spec/flax.md §1) with exact values.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "jute/nn/module.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"

using namespace jute;
using jute::nn::Scope;

namespace {

std::vector<std::uint32_t> key_words(const Array& k) { return k.to_vector<std::uint32_t>(); }

Array ones_init(const Array&, const Shape& shape, DType dtype) { return ones(shape, dtype); }
Array zeros_init(const Array&, const Shape& shape, DType dtype) { return zeros(shape, dtype); }

// A Dense layer written against the Scope API only (the real one lives in the layers).
struct TestDense {
  static constexpr const char* name = "Dense";
  std::int64_t features;
  nn::Initializer kernel_init = ones_init;
  Array operator()(Scope& s, const Array& x) const {
    Array kernel = s.param("kernel", kernel_init, {x.shape(-1), features});
    Array bias = s.param("bias", zeros_init, {features});
    return matmul(x, kernel) + bias;
  }
};

struct TwoDense {
  static constexpr const char* name = "MLP";
  Array operator()(Scope& s, const Array& x) const {
    return s.child(TestDense{2}, s.child(TestDense{3}, x));
  }
};

// Returns the keys of three make_rng calls, for the known-answer tests.
struct RngProbe {
  static constexpr const char* name = "RNGSubModule";
  std::string stream = "params";
  std::vector<Array> operator()(Scope& s) const {
    return {s.make_rng(stream), s.make_rng(stream), s.make_rng(stream)};
  }
};

}  // namespace

TEST_SUITE("nn.scope") {
  TEST_CASE("make_rng reproduces Flax linen's keys (rng guide)") {
    auto [keys, vars] = nn::init_with_output(RngProbe{}, random::key(0));
    CHECK(key_words(keys[0]) == std::vector<std::uint32_t>{1428664606u, 3351135085u});
    CHECK(key_words(keys[1]) == std::vector<std::uint32_t>{3456700291u, 3873160899u});
    CHECK(key_words(keys[2]) == std::vector<std::uint32_t>{2411773124u, 4124888837u});
    CHECK(vars.empty());
  }

  TEST_CASE("make_rng in submodules follows the module path") {
    struct Parent {
      static const char* name() { return "Parent"; }
      std::vector<std::vector<Array>> operator()(Scope& s) const {
        struct Sub {
          static const char* name() { return "RNGSubSubModule"; }
          Array operator()(Scope& s) const { return s.make_rng("params"); }
        };
        struct Mid {
          static const char* name() { return "RNGSubModule"; }
          std::vector<Array> operator()(Scope& s) const {
            Array a = s.make_rng("params");
            Array b = s.make_rng("params");
            return {a, b, s.child(Sub{})};
          }
        };
        return {s.child(Mid{}), s.child(Mid{})};
      }
    };
    auto [out, vars] = nn::init_with_output(Parent{}, random::key(0));
    CHECK(key_words(out[0][0]) == std::vector<std::uint32_t>{3858825717u, 2323087578u});
    CHECK(key_words(out[0][1]) == std::vector<std::uint32_t>{601859108u, 3782857444u});
    CHECK(key_words(out[0][2]) == std::vector<std::uint32_t>{234240654u, 1028548813u});
    CHECK(key_words(out[1][0]) == std::vector<std::uint32_t>{426957352u, 2006350344u});
  }

  TEST_CASE("a parameter's key is the Flax key: kernel count 1, bias count 2") {
    struct KeyDense {
      static const char* name() { return "Dense"; }
      std::vector<Array> operator()(Scope& s) const {
        std::vector<Array> seen;
        auto capture = [&seen](const Array& key, const Shape& shape, DType dtype) {
          seen.push_back(key);
          return zeros(shape, dtype);
        };
        s.param("kernel", capture, {3, 4});
        s.param("bias", capture, {4});
        return seen;
      }
    };
    struct Root {
      static const char* name() { return "Root"; }
      std::vector<Array> operator()(Scope& s) const {
        auto a = s.child(KeyDense{});
        auto b = s.child(KeyDense{});
        a.insert(a.end(), b.begin(), b.end());
        return a;
      }
    };
    auto [keys, vars] = nn::init_with_output(Root{}, random::key(0));
    REQUIRE(keys.size() == 4);
    CHECK(key_words(keys[0]) == std::vector<std::uint32_t>{3043437727u, 3662875008u});
    CHECK(key_words(keys[1]) == std::vector<std::uint32_t>{2912151818u, 3648475384u});
    CHECK(key_words(keys[2]) == std::vector<std::uint32_t>{3520776978u, 4166105696u});
    CHECK(vars.contains("params/Dense_0/kernel"));
    CHECK(vars.contains("params/Dense_1/bias"));
  }

  TEST_CASE("a nested path: MLP_0/Dense_0 and a dropout stream") {
    struct Leaf {
      static const char* name() { return "Dense"; }
      Array operator()(Scope& s) const { return s.make_rng("params"); }
    };
    struct Mlp {
      static const char* name() { return "MLP"; }
      Array operator()(Scope& s) const { return s.child(Leaf{}); }
    };
    struct Root {
      static const char* name() { return "Root"; }
      Array operator()(Scope& s) const { return s.child(Mlp{}); }
    };
    auto [key, vars] = nn::init_with_output(Root{}, random::key(0));
    CHECK(key_words(key) == std::vector<std::uint32_t>{574208156u, 4226884471u});

    struct Drop {
      static const char* name() { return "Dropout"; }
      Array operator()(Scope& s) const { return s.make_rng("dropout"); }
    };
    struct Root2 {
      static const char* name() { return "Root"; }
      Array operator()(Scope& s) const { return s.child(Drop{}); }
    };
    auto [k2, v2] = nn::apply(Root2{}, Variables{}, {.rngs = {{"dropout", random::key(1)}}});
    CHECK(key_words(k2) == std::vector<std::uint32_t>{4113325155u, 798010028u});
    CHECK(v2.empty());
  }

  TEST_CASE("counters continue when a named child is called again") {
    struct Twice {
      static const char* name() { return "Twice"; }
      std::vector<Array> operator()(Scope& s) const {
        Array a = s.child("probe", RngProbe{})[0];
        Array b = s.child("probe", RngProbe{})[0];
        return {a, b};
      }
    };
    auto [keys, vars] = nn::init_with_output(Twice{}, random::key(0));
    CHECK_FALSE(array_equal(keys[0], keys[1]));
  }

  TEST_CASE("init builds params with auto-names; apply returns {output, updated}") {
    Array x = ones({1, 4});
    Variables vars = nn::init(TwoDense{}, random::key(0), x);
    CHECK(vars.collections() == std::vector<std::string>{"params"});
    CHECK(vars.get("params/Dense_0/kernel").shape() == Shape{4, 3});
    CHECK(vars.get("params/Dense_1/kernel").shape() == Shape{3, 2});
    auto [y, updated] = nn::apply(TwoDense{}, vars, x);
    CHECK(updated.empty());
    // ones kernels: layer 1 gives 4 per unit, layer 2 gives 3*4 = 12.
    CHECK(array_equal(y, full({1, 2}, 12.0)));
  }

  TEST_CASE("a missing rng stream is an error, not a fallback to params") {
    struct Drop {
      static const char* name() { return "Dropout"; }
      Array operator()(Scope& s) const { return s.make_rng("dropout"); }
    };
    struct Root {
      static const char* name() { return "Root"; }
      Array operator()(Scope& s) const { return s.child(Drop{}); }
    };
    CHECK_THROWS_WITH_AS(nn::init(Root{}, random::key(0)),
                         doctest::Contains("\"/Dropout_0\" needs PRNG for \"dropout\""),
                         nn::InvalidRngError);
  }

  TEST_CASE("variables: created in init, immutable in apply unless declared mutable") {
    struct Counter {
      static const char* name() { return "Counter"; }
      Array operator()(Scope& s, const Array& x) const {
        auto count = s.variable("counter", "count", [] { return zeros({}, int32); });
        if (!s.is_initializing()) count.set(count.value() + 1);
        return x;
      }
    };
    Array x = ones({2});
    Variables vars = nn::init(Counter{}, random::key(0), x);
    CHECK(vars.get("counter/count").item<int>() == 0);
    auto [y, updated] = nn::apply(Counter{}, vars, x, {.mutable_ = {"counter"}});
    CHECK(updated.get("counter/count").item<int>() == 1);
    CHECK(vars.get("counter/count").item<int>() == 0);  // the input is unchanged
    CHECK_THROWS_WITH_AS(
        nn::apply(Counter{}, vars, x),
        "[apply] Cannot update variable \"count\" in \"/\" because collection \"counter\" is "
        "immutable; pass mutable = {\"counter\"} to apply.",
        nn::ModifyScopeVariableError);
  }

  TEST_CASE("apply returns exactly the mutable collections that exist") {
    Array x = ones({1, 4});
    Variables vars = nn::init(TwoDense{}, random::key(0), x);
    auto r1 = nn::apply(TwoDense{}, vars, x, {.mutable_ = true});
    CHECK(r1.updated.collections() == std::vector<std::string>{"params"});
    CHECK(r1.updated.collection("params") == vars.collection("params"));
    auto r2 = nn::apply(TwoDense{}, vars, x, {.mutable_ = {"batch_stats"}});
    CHECK(r2.updated.empty());
    auto r3 = nn::apply(TwoDense{}, vars, x, {.mutable_ = nn::Mutable::all_but({"params"})});
    CHECK(r3.updated.empty());
  }

  TEST_CASE("errors name the path: missing param, wrong shape, doubled params, bad variables") {
    Array x = ones({1, 4});
    Variables vars = nn::init(TwoDense{}, random::key(0), x);

    Variables missing =
        vars.with_collection("params", vars.collection("params").erase("Dense_1/bias"));
    CHECK_THROWS_WITH_AS(
        nn::apply(TwoDense{}, missing, x),
        doctest::Contains("Could not find parameter named \"bias\" in scope \"/Dense_1\""),
        nn::ScopeParamNotFoundError);

    CHECK_THROWS_WITH_AS(nn::apply(TwoDense{}, vars, ones({1, 5})),
                         doctest::Contains("the module expects shape (5,3) but the given variables "
                                           "hold shape (4,3) at params/Dense_0/kernel"),
                         nn::ScopeParamShapeError);

    Variables doubled =
        Variables{}.with_collection("params", Tree{{"params", vars.collection("params")}});
    CHECK_THROWS_AS(nn::apply(TwoDense{}, doubled, x), nn::InvalidVariablesError);

    Variables bare(vars.collection("params"));  // the params tree without its "params" key
    CHECK_THROWS_WITH_AS(nn::apply(TwoDense{}, bare, x),
                         doctest::Contains("pass {\"params\": params}"),
                         nn::ScopeCollectionNotFound);

    Variables leafy(Tree{{"params", ones({2})}});
    CHECK_THROWS_AS(nn::apply(TwoDense{}, leafy, x), nn::InvalidVariablesError);
  }

  TEST_CASE("duplicate names in one scope") {
    struct Dup {
      static const char* name() { return "Dup"; }
      void operator()(Scope& s) const {
        s.param("w", zeros_init, {1});
        s.param("w", zeros_init, {1});
      }
    };
    CHECK_THROWS_AS(nn::init(Dup{}, random::key(0)), nn::NameInUseError);

    struct SameNameOtherCollection {
      static const char* name() { return "Ok"; }
      void operator()(Scope& s) const {
        s.param("w", zeros_init, {1});
        s.variable("stats", "w", [] { return zeros({1}); });
      }
    };
    CHECK_NOTHROW(nn::init(SameNameOtherCollection{}, random::key(0)));

    struct ChildClash {
      static const char* name() { return "Clash"; }
      void operator()(Scope& s) const {
        s.param("Dense_0", zeros_init, {1});
        s.child(TestDense{1}, ones({1, 1}));
      }
    };
    CHECK_THROWS_AS(nn::init(ChildClash{}, random::key(0)), nn::NameInUseError);
  }

  TEST_CASE("sow appends in mutable collections and is a no-op during init") {
    struct Sower {
      static const char* name() { return "Sower"; }
      Array operator()(Scope& s, const Array& x) const {
        s.sow("intermediates", "h", x);
        s.sow("intermediates", "h", x * 2.0);
        return x;
      }
    };
    Array x = Array({1.f});
    Variables vars = nn::init(Sower{}, random::key(0), x);
    CHECK(vars.empty());
    auto [y, updated] = nn::apply(Sower{}, vars, x, {.mutable_ = {"intermediates"}});
    CHECK(updated.get("intermediates/h/0").item<float>() == 1.f);
    CHECK(updated.get("intermediates/h/1").item<float>() == 2.f);
  }

  TEST_CASE("Mutable filter algebra matches flax.core.scope") {
    using nn::Mutable;
    auto deny = [](std::vector<std::string> v) { return Mutable::all_but(std::move(v)); };
    CHECK((Mutable{"a", "b"} | Mutable{"b", "c"}) == Mutable{"a", "b", "c"});
    CHECK((Mutable(true) | Mutable(false)) == Mutable(true));
    CHECK((Mutable(false) | Mutable(false)) == Mutable(false));
    CHECK((deny({"a", "b"}) | deny({"b", "c"})) == deny({"b"}));
    CHECK((deny({"a", "b"}) | Mutable{"b", "c"}) == deny({"a"}));
    CHECK((Mutable{"b", "c"} | deny({"a", "b"})) == deny({"a"}));
    CHECK((Mutable{"a", "b"} & Mutable{"b", "c"}) == Mutable{"b"});
    CHECK((Mutable(true) & Mutable(false)) == Mutable(false));
    CHECK((deny({"a", "b"}) & deny({"b", "c"})) == deny({"a", "b", "c"}));
    CHECK((deny({"a", "b"}) & Mutable{"b", "c"}) == Mutable{"c"});
    CHECK((Mutable{"a", "b"} - Mutable{"b", "c"}) == Mutable{"a"});
    CHECK((Mutable(true) - Mutable(true)) == Mutable(false));
    CHECK((Mutable(true) - Mutable{"a"}) == deny({"a"}));
    CHECK((deny({"a", "b"}) - deny({"b", "c"})) == Mutable{"c"});
    CHECK((deny({"a", "b"}) - Mutable{"b", "c"}) == deny({"a", "b", "c"}));
    CHECK(Mutable(true).contains("anything"));
    CHECK_FALSE(Mutable().contains("params"));
    CHECK(deny({"intermediates"}).to_string() == "all but {intermediates}");
  }

  TEST_CASE("tabulate: per-module counts and bytes, and totals") {
    struct Mlp {
      static const char* name() { return "MLP"; }
      Array operator()(Scope& s, const Array& x) const {
        return s.child(TestDense{2}, s.child(TestDense{4}, x));
      }
    };
    std::string table = nn::tabulate(Mlp{}, random::key(0), ones({16, 9}));
    CHECK(table.find("Dense_0 | Dense  | f32[16,4] | 40 (160 B)") != std::string::npos);
    CHECK(table.find("Dense_1 | Dense  | f32[16,2] | 10 (40 B)") != std::string::npos);
    CHECK(table.find("Total Parameters: 50 (200 B)") != std::string::npos);
  }
}
