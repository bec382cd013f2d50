// libFuzzer harness: .npz (zip) bytes through io::parse_npz in memory, and what reads cleanly
// written back with to_npz (stored and deflated) and read again to the same bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/fuzz_common.hpp"
#include "jute/io/npy.hpp"

using namespace jute;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_clean([&] {
    const Tree t = io::parse_npz(std::span<const std::uint8_t>(data, size));
    for (const bool compress : {false, true}) {
      const io::Bytes written = io::to_npz(t, compress);
      fuzz::require(io::to_npz(io::parse_npz(written), compress) == written, "npz");
    }
  });
  return 0;
}
