// IDX files: the committed small files of tests/io/make_golden.py, Fashion-MNIST itself when
// installed, writing, and malformed input.
#include "jute/io/idx.hpp"

#include <doctest/doctest.h>

#include <cmath>

#include "io/io_test_util.hpp"
#include "jute/ops.hpp"
#include "ops/op_checks.hpp"

using namespace jute;
using jute::io_test::read_data;
using jute::io_test::ScratchDir;
using jute_test::check_array;
using jute_test::message_of;

TEST_SUITE("io.idx") {
  TEST_CASE("an MNIST-like split: gzip images, plain labels") {
    const io::MnistSplit s = io::read_mnist(JUTE_TEST_DATA_DIR, "mini");
    CHECK(s.size() == 5);
    std::vector<double> pixels;
    for (int i = 0; i < 60; ++i) pixels.push_back(i * 7 % 256);
    check_array(s.images, uint8, {5, 4, 3}, pixels);
    check_array(s.labels, int32, {5}, {3, 1, 4, 1, 5});
    CHECK_THROWS_AS(io::read_mnist(JUTE_TEST_DATA_DIR, "train"), IOError);
  }

  TEST_CASE("every element type, converted from big-endian") {
    const std::string dir = JUTE_TEST_DATA_DIR;
    check_array(io::read_idx(dir + "/int8.idx"), int32, {4}, {-128, -1, 0, 127});
    check_array(io::read_idx(dir + "/int16.idx"), int32, {2, 2}, {-32768, -2, 300, 32767});
    check_array(io::read_idx(dir + "/int32.idx"), int32, {3}, {-2147483648.0, 2147483647, 65536});
    const Array f = io::read_idx(dir + "/float32.idx");
    CHECK(f.dtype() == float32);
    CHECK(f.to_vector<float>() == std::vector<float>{0.1f, -2.5f, INFINITY});
    const Array d = io::read_idx(dir + "/float64.idx");
    CHECK(d.shape() == Shape{2, 1});
    CHECK(d.to_vector<double>() == std::vector<double>{0.1, -1e300});
  }

  TEST_CASE("to_idx writes the same bytes as the Python script, plain and gzip round trips") {
    for (const char* file : {"mini-labels-idx1-ubyte", "int32.idx", "float32.idx", "float64.idx"}) {
      CAPTURE(file);
      const io::Bytes bytes = read_data(file);
      const Array a = io::parse_idx(bytes);
      CHECK(io::to_idx(a) == bytes);
      CHECK(array_equal(io::parse_idx(io::to_idx(a, true)), a));
    }
    ScratchDir dir("idx_write");
    const Array img = reshape(arange(24).astype(uint8), {2, 3, 4});
    io::write_idx(dir.path() / "x-images-idx3-ubyte.gz", img, true);
    io::write_idx(dir.path() / "x-labels-idx1-ubyte", Array({7, 9}).astype(uint8));
    const io::MnistSplit s = io::read_mnist(dir.path(), "x");
    CHECK(array_equal(s.images, img));
    CHECK_THROWS_AS(io::to_idx(Array({true})), DtypeError);
    CHECK_THROWS_AS(io::to_idx(Array::scalar(1, uint8)), ShapeError);
  }

  TEST_CASE("Debian's Fashion-MNIST test split (dataset-fashion-mnist)") {
    const std::filesystem::path dir = "/usr/share/datasets/fashion-mnist";
    if (!std::filesystem::exists(dir / "t10k-labels-idx1-ubyte.gz")) {
      MESSAGE("dataset-fashion-mnist is not installed (scripts/setup.sh installs it)");
      return;
    }
    const io::MnistSplit s = io::read_mnist(dir, "t10k");
    CHECK(s.images.shape() == Shape{10000, 28, 28});
    CHECK(slice_axis(s.labels, 0, 0, 10).to_vector<int>() ==
          std::vector<int>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});  // numpy on the same file
    CHECK(sum(s.images.astype(float64)).item<double>() == 573469082.0);
  }

  TEST_CASE("malformed IDX data is a FormatError, never a crash or a huge allocation") {
    const io::Bytes good = read_data("int16.idx");
    for (std::size_t n = 0; n < good.size(); ++n)
      CHECK_THROWS_AS(io::parse_idx(std::span(good.data(), n)), io::FormatError);
    io::Bytes longer = good;
    longer.push_back(0);
    CHECK_THROWS_AS(io::parse_idx(longer), io::FormatError);
    CHECK(message_of([] {
            io::parse_idx(io::Bytes{1, 0, 8, 1, 0, 0, 0, 0});
          }) ==
          "[read_idx] the IDX data is not a valid IDX file: it does not start with two zero bytes "
          "(the IDX magic number).");
    CHECK_THROWS_AS(io::parse_idx(io::Bytes{0, 0, 7, 1, 0, 0, 0, 0}), io::FormatError);
    CHECK_THROWS_AS(io::parse_idx(io::Bytes{0, 0, 8, 0}), io::FormatError);
    // A header declaring 2^32-1 x 2^32-1 x 2^32-1 bytes with nothing behind it, plain and gzip.
    const io::Bytes huge{0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255};
    CHECK_THROWS_AS(io::parse_idx(huge), io::FormatError);
    const io::Bytes gz = read_data("mini-images-idx3-ubyte.gz");
    for (std::size_t n = 2; n < gz.size(); ++n)
      CHECK_THROWS_AS(io::parse_idx(std::span(gz.data(), n)), io::FormatError);
    io::Bytes corrupt = gz;
    corrupt[gz.size() / 2] ^= 0xff;
    CHECK_THROWS_AS(io::parse_idx(corrupt), io::FormatError);
    CHECK_THROWS_AS(io::read_idx(std::string(JUTE_TEST_DATA_DIR) + "/no-such-file"), IOError);
  }

  TEST_CASE("fuzzing: huge dimensions beside a zero one are a FormatError, an empty shape reads") {
    // (2^32-1, 2^32-1, 0) holds no values, but the first two dimensions overflow std::int64_t.
    const io::Bytes header{0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0};
    const std::string expected =
        "[read_idx] the IDX data is not a valid IDX file: its shape (4294967295,4294967295,0) has "
        "more than 2^63 bytes (counting only its nonzero dimensions).";
    CHECK(message_of([&] { io::parse_idx(header); }) == expected);
    // An empty uint8 array (fuzzing: memcpy was handed a null pointer for it, which UBSan flags).
    CHECK(io::parse_idx(io::Bytes{0, 0, 8, 1, 0, 0, 0, 0}).shape() == Shape{0});
    // An empty array with a large dimension still reads, plain and gzip.
    for (const bool gzip : {false, true}) {
      const Array empty = io::parse_idx(io::to_idx(zeros({65535, 0, 1000}, uint8), gzip));
      CHECK(empty.shape() == Shape{65535, 0, 1000});
    }
  }
}
