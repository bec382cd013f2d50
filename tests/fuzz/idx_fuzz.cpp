// libFuzzer harness: IDX bytes, plain or gzip-compressed, through io::parse_idx. Every input is
// read as it is (gzip input reaches the gunzip code that way) and, unless it is gzip already,
// also gzip-compressed first, so the fuzzer reaches the header and size checks behind gunzip
// without having to forge CRCs. What reads cleanly is written back with to_idx, plain and
// compressed, and read again to the same bytes.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/fuzz_common.hpp"
#include "jute/io/idx.hpp"

using namespace jute;

namespace {

/// `in` as one gzip member (zlib's deflate with the gzip wrapper).
io::Bytes gzip(std::span<const std::uint8_t> in) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  io::Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void read_and_round_trip(std::span<const std::uint8_t> bytes) {
  fuzz::expect_clean([&] {
    const Array a = io::parse_idx(bytes);
    for (const bool compress : {false, true}) {
      const io::Bytes written = io::to_idx(a, compress);
      fuzz::require(io::to_idx(io::parse_idx(written), compress) == written, "idx");
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  read_and_round_trip(bytes);
  if (size < 2 || data[0] != 0x1f || data[1] != 0x8b) read_and_round_trip(gzip(bytes));
  return 0;
}
