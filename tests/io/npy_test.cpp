// .npy and .npz: files written by numpy (tests/io/make_golden.py) read with exact values and
// written back byte for byte; archives in both directions; malformed input.
#include "jute/io/npy.hpp"

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

namespace {
Array npy(const std::string& file) { return io::parse_npy(read_data(file), file); }
}  // namespace

TEST_SUITE("io.npy") {
  TEST_CASE("every dtype numpy wrote reads with its values and is written back byte for byte") {
    check_array(npy("bool.npy"), bool_, {2, 2}, {1, 0, 0, 1});
    check_array(npy("uint8.npy"), uint8, {6}, {250, 251, 252, 253, 254, 255});
    check_array(npy("int32.npy"), int32, {3}, {-2147483648.0, -1, 2147483647});
    check_array(npy("uint32.npy"), uint32, {2}, {0, 4294967295.0});
    std::vector<double> eighths;
    for (int i = 0; i < 24; ++i) eighths.push_back(i / 8.0);
    check_array(npy("float32.npy"), float32, {2, 3, 4}, eighths);
    check_array(npy("float64.npy"), float64, {}, {M_PI});
    CHECK(npy("empty.npy").shape() == Shape{0, 5});
    CHECK(npy("long_axis.npy").shape() == Shape{1234567, 0});
    for (const char* file : {"bool.npy", "uint8.npy", "int32.npy", "uint32.npy", "float32.npy",
                             "float64.npy", "empty.npy", "long_axis.npy"}) {
      CAPTURE(file);
      CHECK(io::to_npy(npy(file)) == read_data(file));
    }
  }

  TEST_CASE("Fortran order, big-endian values and format version 2.0") {
    check_array(npy("fortran.npy"), int32, {2, 3}, {0, 1, 2, 3, 4, 5});
    check_array(npy("big_endian.npy"), float64, {2}, {1.5, -2.0});
    check_array(npy("v2.npy"), uint8, {2}, {1, 2});
  }

  TEST_CASE("dtypes jute lacks are DtypeErrors") {
    CHECK(message_of([] { npy("int64.npy"); }) ==
          "[read_npy] int64.npy holds dtype '<i8', which jute does not support (|b1, |u1, <i4, "
          "<u4, <f4, <f8); convert it with .astype() before saving.");
  }

  TEST_CASE("files on disk") {
    ScratchDir dir("npy");
    const Array a = reshape(arange(6).astype(float64), {3, 2});
    io::write_npy(dir.path() / "a.npy", a);
    CHECK(array_equal(io::read_npy(dir.path() / "a.npy"), a));
  }

  TEST_CASE("an np.savez archive reads as a nested Tree; jute's archives read back") {
    const Tree t = io::parse_npz(read_data("params.npz"));
    CHECK(t ==
          Tree{{"params", Tree{{"Dense_0", Tree{{"kernel", ones({2, 3})}, {"bias", zeros({3})}}}}},
               {"step", Array::scalar(7, int32)}});
    const Tree c = io::parse_npz(read_data("compressed.npz"));
    CHECK(array_equal(c.get("a"), arange(1000).astype(float64)));
    CHECK(array_equal(c.get("b"), Array({true})));
    for (bool compress : {false, true}) {
      const io::Bytes z = io::to_npz(t, compress);
      CHECK(io::parse_npz(z) == t);
      CHECK(io::to_npz(t, compress) == z);  // reproducible bytes
    }
    ScratchDir dir("npz");
    io::write_npz(dir.path() / "c.npz", c, true);
    CHECK(io::read_npz(dir.path() / "c.npz") == c);
    CHECK(io::to_npz(c, true).size() < io::to_npz(c, false).size());
  }

  TEST_CASE("malformed .npy and .npz data is a FormatError") {
    const io::Bytes good = read_data("float32.npy");
    for (std::size_t n = 0; n < good.size(); ++n)
      CHECK_THROWS_AS(io::parse_npy(std::span(good.data(), n)), io::FormatError);
    io::Bytes longer = good;
    longer.push_back(0);
    CHECK_THROWS_AS(io::parse_npy(longer), io::FormatError);
    auto with_header = [](const std::string& header) {
      io::Bytes b{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
      b.push_back(static_cast<std::uint8_t>(header.size()));
      b.push_back(static_cast<std::uint8_t>(header.size() >> 8));
      b.insert(b.end(), header.begin(), header.end());
      return b;
    };
    // A huge declared shape with no data behind it allocates nothing.
    CHECK_THROWS_AS(
        io::parse_npy(with_header(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 100000), }\n")),
        io::FormatError);
    CHECK_THROWS_AS(
        io::parse_npy(with_header(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n")),
        io::FormatError);
    CHECK_THROWS_AS(io::parse_npy(with_header("{'descr': '<f4', 'shape': (1,), }\n")),
                    io::FormatError);
    CHECK_THROWS_AS(
        io::parse_npy(with_header("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}")),
        io::FormatError);
    CHECK_THROWS_AS(
        io::parse_npy(with_header("{'descr': 'O', 'fortran_order': False, 'shape': ()}")),
        DtypeError);
    CHECK_THROWS_AS(io::parse_npy(with_header("{'descr': [('a', '<f4')], 'fortran_order': False, "
                                              "'shape': ()}")),
                    DtypeError);
    const io::Bytes z = read_data("params.npz");
    for (std::size_t n = 0; n < z.size(); n += 7)
      CHECK_THROWS_AS(io::parse_npz(std::span(z.data(), n)), io::FormatError);
    const io::Bytes cz = read_data("compressed.npz");
    io::Bytes corrupt = cz;
    corrupt[200] ^= 0x55;  // inside the deflated data of "a.npy"
    CHECK_THROWS_AS(io::parse_npz(corrupt), io::FormatError);
  }

  TEST_CASE("fuzzing: huge dimensions beside a zero one are a FormatError, an empty shape reads") {
    auto npy = [](const std::string& shape) {
      const std::string header =
          "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }\n";
      io::Bytes b{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
      b.push_back(static_cast<std::uint8_t>(header.size()));
      b.push_back(0);
      b.insert(b.end(), header.begin(), header.end());
      return b;
    };
    // The product of the nonzero dimensions overflows std::int64_t before the 0 is reached.
    CHECK(message_of([&] { io::parse_npy(npy("(1234567,6745674567,674567,67, 0)")); }) ==
          "[read_npy] the .npy data is not a valid .npy file: its shape "
          "(1234567,6745674567,674567,67,0) has more than 2^63 bytes (counting only its nonzero "
          "dimensions).");
    const Array empty = io::parse_npy(npy("(1234567,0,674567)"));
    CHECK(empty.shape() == Shape{1234567, 0, 674567});
    CHECK(empty.size() == 0);
  }
}
