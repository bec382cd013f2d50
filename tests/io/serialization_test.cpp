// Flax msgpack serialization: the golden files of tests/io/make_golden.py (written the way
// flax.serialization writes them) are read and written back byte for byte.
#include "jute/io/serialization.hpp"

#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>

#include "io/io_test_util.hpp"
#include "jute/ops.hpp"
#include "jute/optim.hpp"
#include "tree/tree_helpers.hpp"

using namespace jute;
using jute::io_test::read_data;
using jute_test::message_of;

namespace {

/// i/8 - 0.5 for i in [start, start + n), as the golden script's ramp.
Array ramp(std::int64_t start, std::int64_t n, const Shape& shape) {
  return reshape(arange(start, start + n).astype(float32) / 8.0f - 0.5f, shape);
}

Tree mlp_params() {
  return Tree{{"Dense_0", Tree{{"bias", ramp(6, 3, {3})}, {"kernel", ramp(0, 6, {2, 3})}}},
              {"Dense_1", Tree{{"bias", ramp(12, 1, {1})}, {"kernel", ramp(9, 3, {3, 1})}}}};
}

/// The file read and written back gives the very same bytes.
Tree check_round_trip(const std::string& file, const io::WriteOptions& options = {}) {
  const io::Bytes bytes = read_data(file);
  const Tree t = io::from_bytes(bytes);
  CHECK(io::to_bytes(t, options) == bytes);
  return t;
}

}  // namespace

TEST_SUITE("io.serialization") {
  TEST_CASE("spec/flax.md's worked example: 70 bytes, read in Flax's key order, written sorted") {
    const io::Bytes unsorted = read_data("unsorted.msgpack");
    const io::Bytes sorted = read_data("unsorted_sorted.msgpack");
    REQUIRE(unsorted.size() == 70);
    const Tree t = io::from_bytes(unsorted);
    CHECK(t == Tree{{"params", Tree{{"kernel", Array({{1.f, 2.f}})}, {"bias", zeros({2})}}}});
    CHECK(io::to_bytes(t) == sorted);
    CHECK(io::from_bytes(sorted) == t);
  }

  TEST_CASE("a float32 scalar, an int32 scalar and an empty dict: the spec's bytes") {
    const io::Bytes b = io::to_bytes(
        Tree{{"e", Tree{}}, {"s", Array::scalar(3, int32)}, {"x", Array::scalar(1.5, float32)}});
    const io::Bytes expected = {
        0x83, 0xa1, 'e',  0x80,                                                       // "e": {}
        0xa1, 's',  0xc7, 0x0e, 0x01, 0x93, 0x90, 0xa5, 'i',  'n',  't',  '3',  '2',  // "s": ext 1
        0xc4, 0x04, 0x03, 0x00, 0x00, 0x00, 0xa1, 'x',  0xd8, 0x01, 0x93, 0x90, 0xa7,
        'f',  'l',  'o',  'a',  't',  '3',  '2',  0xc4, 0x04, 0x00, 0x00, 0xc0, 0x3f};
    CHECK(b == expected);
  }

  TEST_CASE("MLP params: values and bytes") {
    const Tree t = check_round_trip("mlp_params.msgpack");
    CHECK(t == Tree{{"params", mlp_params()}});
  }

  TEST_CASE(
      "Optax adam state: chain {\"0\": {count, mu, nu}, \"1\": {}} as jute's adam builds it") {
    const Tree t = check_round_trip("adam_state.msgpack");
    const Tree params = mlp_params();
    CHECK(same_structure(t, optim::adam(1e-3).init(params)));
    CHECK(t.get("0/count").dtype() == int32);
    CHECK(t.get("0/count").ndim() == 0);
    CHECK(t.get("0/count").item<int>() == 3);
    CHECK(t.subtree("1").empty());
    CHECK(t.subtree("0/mu") == tree_map([](const Array& p) { return p * 0.25f; }, params));
  }

  TEST_CASE("a Flax TrainState with batch_stats restores into a jute TrainState and back") {
    const io::Bytes bytes = read_data("train_state.msgpack");
    const Tree stats{{"BatchNorm_0", Tree{{"mean", zeros({2})}, {"var", ones({2})}}}};
    const auto tx = optim::adam(1e-3);
    const auto target = optim::TrainState::create(
        tree_map([](const Array& p) { return zeros_like(p); }, mlp_params()), tx,
        Tree{{"batch_stats", stats}});
    const auto state = optim::TrainState::from_tree(io::from_bytes(target.to_tree(), bytes), tx);
    CHECK(state.step().item<int>() == 7);
    CHECK(state.params() == mlp_params());
    CHECK(state.opt_state().get("0/count").item<int>() == 7);
    CHECK(array_equal(state.collections().get("batch_stats/BatchNorm_0/mean"),
                      Array({0.5f, -0.25f})));
    CHECK(io::to_bytes(state.to_tree()) == bytes);
  }

  TEST_CASE("a fresh Flax TrainState: step is the native int 0 and restores into an int32 step") {
    const Tree t = check_round_trip("train_state_fresh.msgpack");
    CHECK(t.get("step").weak_type());
    CHECK(t.get("step").dtype() == int32);
    const auto tx = optim::adam(1e-3);
    const auto target = optim::TrainState::create(
        mlp_params(), tx,
        Tree{{"batch_stats",
              Tree{{"BatchNorm_0", Tree{{"mean", zeros({2})}, {"var", ones({2})}}}}}});
    const auto state = optim::TrainState::from_tree(io::from_state_dict(target.to_tree(), t), tx);
    CHECK(state.step().item<int>() == 0);
    CHECK(state.opt_state() == target.opt_state());
  }

  TEST_CASE("every dtype jute has, zero-size and 0-d arrays, long axes, empty and nested dicts") {
    const Tree t = check_round_trip("dtypes.msgpack");
    CHECK(array_equal(t.get("a_bool"), Array({true, false, true})));
    CHECK(t.get("b_uint8").dtype() == uint8);
    CHECK(t.get("b_uint8").to_vector<int>() == std::vector<int>{250, 251, 252, 253, 254, 255});
    CHECK(t.get("c_int32").to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{-2147483648LL, -1, 0, 1, 2147483647});
    CHECK(t.get("d_uint32").to_vector<std::uint32_t>() ==
          std::vector<std::uint32_t>{0, 4294967295u});
    const auto f = t.get("e_float32").to_vector<float>();
    CHECK(f[0] == 0.1f);
    CHECK(std::signbit(f[1]));
    CHECK(f[2] == INFINITY);
    CHECK(f[3] == -INFINITY);
    CHECK(std::isnan(f[4]));
    CHECK(f[5] == 1e-45f);
    CHECK(t.get("f_float64").at<double>({1, 1}) == M_PI);
    CHECK(t.get("f_float64").at<double>({1, 0}) == 5e-324);
    CHECK(t.get("g_scalar_f32").shape().empty());
    CHECK_FALSE(t.get("g_scalar_f32").weak_type());
    CHECK(t.get("i_empty").shape() == Shape{0, 3});
    CHECK(t.get("j_long_axis").shape() == Shape{300, 1});
    CHECK(t.get("k_wide_axis").shape() == Shape{0, 70000});
    CHECK(t.subtree("l_empty_dict").empty());
    CHECK(t.subtree("m_nested/x/y/z").empty());
    CHECK(t.contains(Path{"o_\xc3\xa9t\xc3\xa9"}));
  }

  TEST_CASE("native msgpack numbers are weakly typed scalars and are written back natively") {
    const Tree t = check_round_trip("native.msgpack");
    for (const auto& [key, value] : t) {
      CAPTURE(key);
      CHECK(value.array().weak_type());
      CHECK(value.array().ndim() == 0);
    }
    CHECK(t.get("bool_true").dtype() == bool_);
    CHECK(t.get("bool_true").item<bool>());
    CHECK(t.get("float_tenth").dtype() == float64);
    CHECK(t.get("float_tenth").item<double>() == 0.1);
    CHECK(t.get("float_neg").item<double>() == -2.5);
    CHECK(t.get("int_min").dtype() == int32);
    CHECK(t.get("int_min").item<std::int64_t>() == -2147483648LL);
    CHECK(t.get("int_neg_i32").item<int>() == -70000);
    CHECK(t.get("int_u32").item<int>() == 70000);
    // C++ numbers in a Tree (weakly typed, like Python numbers in JAX) are written the same way;
    // a C++ bool is a strongly typed bool in jute (as in JAX), so it is an array.
    CHECK(io::to_bytes(Tree{{"a", Array(200)}, {"b", Array(-0.5)}}) ==
          io::Bytes{0x82, 0xa1, 'a', 0xcc, 200, 0xa1, 'b', 0xcb, 0xbf, 0xe0, 0, 0, 0, 0, 0, 0});
  }

  TEST_CASE("chunked arrays: Flax's 91·8-byte chunks of a float64 (10,10) array") {
    const io::Bytes bytes = read_data("chunked.msgpack");
    const Tree t = check_round_trip("chunked.msgpack", {.max_chunk_bytes = 91 * 8});
    CHECK(array_equal(t.get("a"), reshape(arange(100).astype(float64), {10, 10}) / 4.0));
    CHECK(t.get("b").dtype() == float64);
    const io::Bytes whole = io::to_bytes(t);  // 800 bytes are far below 2^30: no chunks
    CHECK(whole.size() < bytes.size());
    CHECK(io::from_bytes(whole) == t);
    // A float64 of 728 bytes is not chunked (Flax chunks strictly above the limit).
    const Tree small{{"x", zeros({91}, float64)}};
    CHECK(io::to_bytes(small, {.max_chunk_bytes = 91 * 8}) == io::to_bytes(small));
  }

  TEST_CASE("numpy scalars (ext 3) read as 0-d arrays") {
    const Tree t = io::from_bytes(read_data("np_scalars.msgpack"));
    CHECK(Tree{{"v", t.get("f")}} == Tree{{"v", Array::scalar(1.5, float32)}});
    CHECK(Tree{{"v", t.get("i")}} == Tree{{"v", Array::scalar(-3, int32)}});
    CHECK(Tree{{"v", t.get("u")}} == Tree{{"v", Array::scalar(7, uint8)}});
  }

  TEST_CASE("dtypes jute lacks are DtypeErrors naming the leaf") {
    CHECK(message_of([] { io::from_bytes(read_data("int64.msgpack")); }) ==
          "[from_bytes] Leaf \"x\" has dtype \"int64\", which jute does not support (bool, uint8, "
          "int32, uint32, float32, float64); convert it before saving, e.g. with "
          ".astype(np.float32).");
    CHECK_THROWS_AS(io::from_bytes(read_data("bfloat16.msgpack")), DtypeError);
    CHECK_THROWS_AS(io::from_bytes(read_data("complex.msgpack")), DtypeError);
  }

  TEST_CASE("shape-only leaves cannot be written") {
    CHECK_THROWS_AS(io::to_bytes(Tree{{"w", abstract_array({2})}}), ValueError);
  }

  TEST_CASE("property: from_bytes(to_bytes(t)) == t and writing again gives the same bytes") {
    CHECK(rc::check("msgpack round trip", [] {
      const Tree t = *jute::tree_test::gen_tree(3, true);
      const io::Bytes b = io::to_bytes(t);
      const Tree back = io::from_bytes(b);
      RC_ASSERT(back == t);
      RC_ASSERT(io::to_bytes(back) == b);
    }));
  }
}

TEST_SUITE("io.restore") {
  const Tree target{{"params", Tree{{"bias", zeros({2})}, {"kernel", zeros({1, 2})}}},
                    {"step", Array::scalar(0, int32)}};
  const Tree state{{"params", Tree{{"bias", ones({2})}, {"kernel", ones({1, 2})}}},
                   {"step", Array::scalar(5, int32)}};

  TEST_CASE("a matching state replaces every leaf") {
    CHECK(io::from_state_dict(target, state) == state);
    CHECK(io::from_bytes(target, io::to_bytes(state)) == state);
  }

  TEST_CASE("missing keys: MissingKeyError naming the path, or a partial restore") {
    const Tree partial = state.erase("params/bias");
    CHECK(message_of([&] { io::from_state_dict(target, partial); }) ==
          "[from_state_dict] The state lacks the key(s) [\"bias\"] that the target has under "
          "\"params\"; pass RestoreOptions{.allow_missing = true} for a partial restore.");
    CHECK_THROWS_AS(io::from_state_dict(target, partial), io::MissingKeyError);
    const Tree restored = io::from_state_dict(target, partial, {.allow_missing = true});
    CHECK(restored == state.set("params/bias", zeros({2})));
  }

  TEST_CASE("extra keys: ExtraKeyError naming the path, or ignored on request") {
    const Tree extra = state.set("params/scale", ones({2})).set("other", zeros({1}));
    CHECK(message_of([&] { io::from_state_dict(target, extra); }) ==
          "[from_state_dict] The state has the key(s) [\"scale\"] that the target lacks under "
          "\"params\"; pass RestoreOptions{.allow_extra = true} to ignore them.");
    CHECK(message_of([&] { io::from_state_dict(target, state.set("other", zeros({1}))); }) ==
          "[from_state_dict] The state has the key(s) [\"other\"] that the target lacks at the "
          "top level; pass RestoreOptions{.allow_extra = true} to ignore them.");
    CHECK_THROWS_AS(io::from_state_dict(target, extra), io::ExtraKeyError);
    CHECK(io::from_state_dict(target, extra, {.allow_extra = true}) == state);
  }

  TEST_CASE("shape and dtype differences name the leaf") {
    CHECK(message_of([&] {
            io::from_state_dict(target, state.set("params/kernel", ones({2, 1})));
          }) ==
          "[from_state_dict] Leaf \"params/kernel\" has shape (2,1) in the state but the target "
          "expects (1,2); the checkpoint is of another model.");
    CHECK_THROWS_AS(io::from_state_dict(target, state.set("params/bias", ones({2}, float64))),
                    DtypeError);
    CHECK(message_of(
              [&] { io::from_state_dict(target, state.set("params/bias", ones({2}, float64))); }) ==
          "[from_state_dict] Leaf \"params/bias\" is float64 in the state but the target expects "
          "float32; convert the state with tree_map and astype first.");
    CHECK_THROWS_AS(io::from_state_dict(target, state.set("params", ones({2}))), ValueError);
    CHECK_THROWS_AS(io::from_state_dict(target, state.set("step", Tree{})), ValueError);
  }

  TEST_CASE("a native number restores into a scalar of any dtype that holds it exactly") {
    const Tree t{{"lr", Array::scalar(0, float32)}, {"n", Array::scalar(0, uint8)}};
    const Tree restored = io::from_state_dict(t, Tree{{"lr", Array(0.5)}, {"n", Array(7)}});
    CHECK(restored.get("lr").dtype() == float32);
    CHECK_FALSE(restored.get("lr").weak_type());
    CHECK(restored.get("lr").item<float>() == 0.5f);
    CHECK(restored.get("n").item<int>() == 7);
    const Tree weak64 = io::from_bytes(io::to_bytes(Tree{{"lr", Array(0.1)}, {"n", Array(300)}}));
    CHECK_THROWS_AS(io::from_state_dict(t, weak64), DtypeError);  // 0.1 is not a float32 value
  }

  TEST_CASE("shape-only targets (nn::init_shapes) accept the real arrays") {
    const Tree shapes =
        tree_map([](const Array& a) { return abstract_array(a.shape(), a.dtype()); }, target);
    CHECK(io::from_state_dict(shapes, state) == state);
  }
}

TEST_SUITE("io.serialization") {
  TEST_CASE("every truncation of every golden file is a FormatError") {
    for (const char* file : {"mlp_params.msgpack", "train_state.msgpack", "dtypes.msgpack",
                             "native.msgpack", "chunked.msgpack"}) {
      const io::Bytes bytes = read_data(file);
      for (std::size_t n = 0; n < bytes.size(); ++n) {
        CAPTURE(file);
        CAPTURE(n);
        CHECK_THROWS_AS(io::from_bytes(std::span(bytes.data(), n)), io::FormatError);
      }
    }
  }

  TEST_CASE("nesting: kMaxDepth levels of dicts read, one more is a FormatError") {
    auto nested = [](int depth) {
      io::Bytes b;
      for (int i = 1; i < depth; ++i) b.insert(b.end(), {0x81, 0xa1, 'k'});
      b.push_back(0x80);
      return b;
    };
    Tree t = io::from_bytes(nested(io::kMaxDepth));
    CHECK(io::to_bytes(t) == nested(io::kMaxDepth));
    CHECK_THROWS_AS(io::from_bytes(nested(io::kMaxDepth + 1)), io::FormatError);
    CHECK_THROWS_AS(io::from_bytes(nested(100000)), io::FormatError);
  }

  TEST_CASE("fuzzing: huge dimensions beside a zero one are a FormatError, an empty shape reads") {
    // ext 1 holding (shape, "float32", b"") with no values: a zero dimension makes it empty, but
    // 2^40 x 2^40 elements overflow every count jute derives from the shape.
    auto leaf = [](std::uint64_t d0, std::uint64_t d1) {
      io::Bytes payload{0x93, 0x93};
      for (std::uint64_t d : {d0, d1}) {
        payload.push_back(0xcf);
        for (int s = 56; s >= 0; s -= 8) payload.push_back(static_cast<std::uint8_t>(d >> s));
      }
      payload.push_back(0x00);
      payload.insert(payload.end(), {0xa7, 'f', 'l', 'o', 'a', 't', '3', '2', 0xc4, 0x00});
      io::Bytes b{0x81, 0xa1, 'x', 0xc7, static_cast<std::uint8_t>(payload.size()), 0x01};
      for (std::uint8_t byte : payload) b.push_back(byte);
      return b;
    };
    CHECK(message_of([&] { io::from_bytes(leaf(1ULL << 40, 1ULL << 40)); }) ==
          "[from_bytes] At \"x\": a float32 array of shape (1099511627776,1099511627776,0) has "
          "more than 2^63 bytes (counting only its nonzero dimensions).");
    const Tree t = io::from_bytes(leaf(3, 1ULL << 40));
    CHECK(t.at("x").array().shape() == Shape{3, 1LL << 40, 0});
    CHECK(t.at("x").array().size() == 0);
  }
}
