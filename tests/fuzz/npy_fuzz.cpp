// libFuzzer harness: .npy bytes through io::parse_npy, and what reads cleanly written back with
// to_npy and read again to the same bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/fuzz_common.hpp"
#include "jute/io/npy.hpp"

using namespace jute;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::expect_clean([&] {
    const Array a = io::parse_npy(std::span<const std::uint8_t>(data, size));
    const io::Bytes written = io::to_npy(a);
    fuzz::require(io::to_npy(io::parse_npy(written)) == written, "npy");
  });
  return 0;
}
