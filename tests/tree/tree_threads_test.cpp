// Two threads reading one shared Tree and deriving new Trees from it at the same time.
#include <doctest/doctest.h>

#include <thread>

#include "jute/tree.hpp"
#include "tree/tree_helpers.hpp"

using namespace jute;
using jute::tree_test::cat;

TEST_SUITE("tree") {
  TEST_CASE("tree: two threads read and derive from one shared Tree concurrently") {
    // 20 layers x 3 sub-modules x 2 leaves, plus one wide level of 500 keys.
    Tree shared;
    for (int l = 0; l < 20; ++l) {
      for (int m = 0; m < 3; ++m) {
        const std::string base = cat("params/layer_", l, "/sub_", m);
        shared = shared.set(base + "/kernel", full({2, 2}, l));
        shared = shared.set(base + "/bias", full({2}, m));
      }
    }
    for (int i = 0; i < 500; ++i) shared = shared.set(cat("wide/k", i), full({}, i));
    const std::string before = shared.to_string();
    const Tree copy = shared;

    auto worker = [&shared](int id, bool& ok) {
      ok = true;
      Tree mine = shared;
      std::vector<Tree> kept;
      for (int i = 0; i < 2000; ++i) {
        const std::string path = cat("params/layer_", i % 20, "/sub_", i % 3, "/kernel");
        const Array v = full({1}, id * 10000 + i);
        const Tree derived = shared.set(path, v).erase(cat("wide/k", i % 500));
        ok = ok && derived.get(path).impl() == v.impl();
        ok = ok && shared.get(path).at<float>({0, 0}) == static_cast<float>(i % 20);
        ok = ok && derived.subtree(cat("params/layer_", (i + 1) % 20)).identity() ==
                       shared.subtree(cat("params/layer_", (i + 1) % 20)).identity();
        ok = ok && derived.size() == 2 && derived.subtree("wide").size() == 499;
        mine = mine.set(cat("wide/k", i % 500), v);  // a private chain of versions
        if (i % 100 == 0) kept.push_back(derived);
      }
      ok = ok && mine.get("wide/k499").item<float>() == static_cast<float>(id * 10000 + 1999);
      for (const auto& k : kept) ok = ok && k.num_leaves() == shared.num_leaves() - 1;
    };
    bool ok1 = false;
    bool ok2 = false;
    std::thread t1(worker, 1, std::ref(ok1));
    std::thread t2(worker, 2, std::ref(ok2));
    t1.join();
    t2.join();
    CHECK(ok1);
    CHECK(ok2);
    CHECK(shared.to_string() == before);
    CHECK(shared.identity() == copy.identity());
    CHECK(shared == copy);
  }

}  // TEST_SUITE
