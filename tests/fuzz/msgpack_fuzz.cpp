// libFuzzer harness: Flax msgpack bytes through io::from_bytes, restored into a small target
// Tree (strict and lenient), and what reads cleanly written back and read again to the same bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/fuzz_common.hpp"
#include "jute/array.hpp"
#include "jute/io/serialization.hpp"
#include "jute/tree.hpp"

using namespace jute;

namespace {

const Tree& target() {
  static const Tree t{
      {"params",
       Tree{{"Dense_0", Tree{{"bias", abstract_array({3})}, {"kernel", abstract_array({2, 3})}}}}},
      {"step", Array::scalar(0, int32)},
      {"flag", Array::scalar(1, bool_)},
      {"batch_stats", Tree{{"mean", abstract_array({3}, float64)}}}};
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  fuzz::expect_clean([&] {
    const Tree state = io::from_bytes(bytes);
    fuzz::expect_clean([&] {
      const io::Bytes written = io::to_bytes(state);
      fuzz::require(io::to_bytes(io::from_bytes(written)) == written, "msgpack");
    });
    fuzz::expect_clean([&] { io::from_state_dict(target(), state); });
    fuzz::expect_clean([&] {
      io::from_state_dict(target(), state, {.allow_missing = true, .allow_extra = true});
    });
  });
  fuzz::expect_clean([&] { io::from_bytes(target(), bytes); });
  return 0;
}
