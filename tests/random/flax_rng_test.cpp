// Flax linen's key derivation: every row of the tables in shared/spec/random.md section 11 and
// flax.md section 1.7 (hash values and the keys they give under key(0)).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "jute/random.hpp"

using namespace jute;
namespace jr = jute::random;

namespace {

struct Row {
  std::vector<std::string> path;
  std::uint64_t counter;
  std::uint32_t hash;
  std::uint32_t k0, k1;
};

}  // namespace

TEST_SUITE("random") {
  TEST_CASE("random.flax_path_hash: the flax.md 1.7 table, hashes and keys under key(0)") {
    const std::vector<Row> rows = {
        {{}, 1, 3213575472u, 1428664606u, 3351135085u},
        {{}, 2, 3303678395u, 3456700291u, 3873160899u},
        {{}, 3, 2554499690u, 2411773124u, 4124888837u},
        {{"RNGSubModule_0"}, 1, 3780147575u, 3858825717u, 2323087578u},
        {{"RNGSubModule_0"}, 2, 2777431570u, 601859108u, 3782857444u},
        {{"RNGSubModule_0", "RNGSubSubModule_0"}, 1, 1407989119u, 234240654u, 1028548813u},
        {{"RNGSubModule_1"}, 1, 1670030853u, 426957352u, 2006350344u},
        {{"Dense_0"}, 1, 2998342421u, 3043437727u, 3662875008u},
        {{"Dense_0"}, 2, 2299943050u, 2912151818u, 3648475384u},
        {{"Dense_1"}, 1, 111800540u, 3520776978u, 4166105696u},
        {{"MLP_0", "Dense_0"}, 1, 2159469907u, 574208156u, 4226884471u},
    };
    for (const Row& r : rows) {
      CAPTURE(r.hash);
      CHECK(jr::flax_path_hash(r.path, r.counter) == r.hash);
      CHECK(jr::fold_in_path(jr::key(0), r.path, r.counter).to_vector<std::uint32_t>() ==
            std::vector<std::uint32_t>{r.k0, r.k1});
    }
    // Another stream's root: rngs={'dropout': key(1)}.
    CHECK(jr::flax_path_hash({"Dropout_0"}, 1) == 2711844646u);
    CHECK(jr::fold_in_path(jr::key(1), {"Dropout_0"}, 1).to_vector<std::uint32_t>() ==
          std::vector<std::uint32_t>{4113325155u, 798010028u});
  }

  TEST_CASE("random.flax_path_hash: the separator collision and Flax's fix_separator option") {
    CHECK(jr::flax_path_hash({"A", "B", "C"}, 1) == 947574064u);
    CHECK(jr::flax_path_hash({"AB", "C"}, 1) == 947574064u);
    CHECK(jr::flax_path_hash({"ABC"}, 1) == 947574064u);
    // With flax_fix_rng_separator, a 0 byte precedes every item (values from Python's hashlib).
    CHECK(jr::flax_path_hash({"A", "B", "C"}, 1, true) == 3219676923u);
    CHECK(jr::flax_path_hash({"AB", "C"}, 1, true) == 850072091u);
    CHECK(jr::flax_path_hash({"ABC"}, 1, true) == 1629548331u);
    CHECK(jr::flax_path_hash({}, 1, true) == 1059673188u);
  }

  TEST_CASE("random.flax_path_hash: the counter is a minimal big-endian integer") {
    // 0 -> no bytes: the SHA-1 of the empty message starts da39a3ee.
    CHECK(jr::flax_path_hash({}, 0) == 0xDA39A3EEu);
    // 256 -> 0x01 0x00 (Python's hashlib).
    CHECK(jr::flax_path_hash({}, 256) == 238381989u);
    // Names are hashed as their UTF-8 bytes: ("é", 1) is the SHA-1 of C3 A9 01 (Python's hashlib).
    CHECK(jr::flax_path_hash({"\xC3\xA9"}, 1) == 1732116081u);
  }
}
