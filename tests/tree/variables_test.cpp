#include <doctest/doctest.h>

#include "jute/tree.hpp"
#include "tree/tree_helpers.hpp"

using namespace jute;
using jute::tree_test::message_of;

TEST_SUITE("tree") {
  TEST_CASE("tree: Variables collections") {
    const Tree params{{"Dense_0", Tree{{"kernel", zeros({3, 4})}, {"bias", zeros({4})}}}};
    const Variables v{{"params", params}, {"batch_stats", Tree{{"mean", zeros({4})}}}};
    CHECK(v.has_collection("params"));
    CHECK_FALSE(v.has_collection("cache"));
    CHECK(v.collections() == std::vector<std::string>{"batch_stats", "params"});
    CHECK(v.collection("params").identity() == params.identity());
    CHECK(v.collection_or_empty("cache").empty());
    CHECK(v.collection_or_empty("params").identity() == params.identity());

    const Variables w = v.with_collection("cache", Tree{{"k", ones({2})}});
    CHECK(w.collections() == std::vector<std::string>{"batch_stats", "cache", "params"});
    CHECK_FALSE(v.has_collection("cache"));
    CHECK(w.collection("params").identity() == params.identity());
    const Variables r = w.with_collection("batch_stats", Tree{});
    CHECK(r.collection("batch_stats").empty());
    CHECK(w.collection("batch_stats").size() == 1);
    CHECK(v.with_collection("params", params).identity() == v.identity());

    const Variables d = w.without_collection("cache");
    CHECK(d == v);
    CHECK(d.without_collection("nope").identity() == d.identity());
    CHECK(d.without_collection("params").without_collection("batch_stats").empty());
    // A Variables is a Tree.
    CHECK(v.get("params/Dense_0/kernel").shape() == Shape{3, 4});
    const Variables from_tree = v.set("params/Dense_0/bias", ones({4}));
    CHECK(from_tree.collection("params").get("Dense_0/bias").to_vector<float>() ==
          std::vector<float>(4, 1.f));
  }

  TEST_CASE("tree: Variables.collection errors") {
    const Variables v{{"params", Tree{{"w", zeros({1})}}}, {"batch_stats", Tree{}}};
    CHECK_THROWS_AS((void)v.collection("cache"), KeyError);
    CHECK(message_of([&] { (void)v.collection("cache"); }) ==
          "[Variables.collection] No collection \"cache\": the Variables have collections "
          "[\"batch_stats\", \"params\"]; check the collection name, or use collection_or_empty.");
    CHECK(message_of([] { (void)Variables().collection("params"); }) ==
          "[Variables.collection] No collection \"params\": the Variables are empty; check the "
          "collection name, or use collection_or_empty.");
    const Variables bad{{"step", Array::scalar(1, int32)}};
    CHECK_THROWS_AS((void)bad.collection("step"), KeyError);
    CHECK(message_of([&] { (void)bad.collection("step"); }) ==
          "[Variables.collection] \"step\" is an Array leaf i32[], not a collection; a collection "
          "must be a Tree of variables.");
  }

}  // TEST_SUITE
