// Checkpoint directories: atomic saves (a child process killed mid-save), keep-newest-N,
// restores, TrainState round trips.
#include "jute/io/checkpoint.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "io/io_test_util.hpp"
#include "jute/ops.hpp"
#include "jute/optim.hpp"
#include "ops/op_checks.hpp"

using namespace jute;
using jute::io_test::ScratchDir;
using jute_test::message_of;
namespace fs = std::filesystem;

namespace {

Tree small_tree(float v) {
  return Tree{{"params", Tree{{"w", full({2, 3}, v)}, {"b", full({3}, -v)}}},
              {"step", Array::scalar(v, int32)}};
}

std::vector<std::string> file_names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_SUITE("io.checkpoint") {
  TEST_CASE("save and restore by step; Flax's file names; the newest max_to_keep remain") {
    ScratchDir dir("keep");
    const io::CheckpointManager ckpt(dir.path() / "run", 2);
    CHECK_FALSE(ckpt.latest_step());
    CHECK(ckpt.all_steps().empty());
    for (int step : {1, 5, 10}) ckpt.save(step, small_tree(static_cast<float>(step)));
    CHECK(ckpt.all_steps() == std::vector<std::int64_t>{5, 10});
    CHECK(ckpt.latest_step() == 10);
    CHECK(file_names(dir.path() / "run") ==
          std::vector<std::string>{"checkpoint_10", "checkpoint_5"});
    CHECK(ckpt.restore_latest() == small_tree(10));
    CHECK(ckpt.restore(5) == small_tree(5));
    CHECK(io::read_file(ckpt.path_of(10)) == io::to_bytes(small_tree(10)));
    // Re-saving the latest step replaces it; an older step is refused.
    ckpt.save(10, small_tree(11));
    CHECK(ckpt.restore(10) == small_tree(11));
    CHECK_THROWS_AS(ckpt.save(7, small_tree(7)), ValueError);
    CHECK(ckpt.all_steps() == std::vector<std::int64_t>{5, 10});
  }

  TEST_CASE("max_to_keep 0 keeps every checkpoint; unrelated files are left alone") {
    ScratchDir dir("all");
    std::ofstream(dir.path() / "checkpoint_notes.txt") << "x";
    std::ofstream(dir.path() / "checkpoint_007") << "x";  // not a name jute writes
    const io::CheckpointManager ckpt(dir.path(), 0);
    for (int step = 0; step < 5; ++step) ckpt.save(step, small_tree(static_cast<float>(step)));
    CHECK(ckpt.all_steps() == std::vector<std::int64_t>{0, 1, 2, 3, 4});
    CHECK(fs::exists(dir.path() / "checkpoint_notes.txt"));
    CHECK(fs::exists(dir.path() / "checkpoint_007"));
  }

  TEST_CASE("an empty or missing directory is a NoCheckpointError, not a silent no-op") {
    ScratchDir dir("empty");
    const io::CheckpointManager empty(dir.path());
    CHECK_THROWS_AS(empty.restore_latest(), io::NoCheckpointError);
    CHECK_THROWS_AS(empty.restore_latest(small_tree(0)), io::NoCheckpointError);
    const io::CheckpointManager missing(dir.path() / "nope");
    CHECK(message_of([&] { missing.restore_latest(); }) ==
          "[CheckpointManager.restore_latest] No checkpoint in \"" +
              (dir.path() / "nope").string() +
              "\" (no file named checkpoint_<step>); check the directory, or start from fresh "
              "state.");
    empty.save(3, small_tree(3));
    CHECK(message_of([&] { empty.restore(4); }) ==
          "[CheckpointManager.restore] No checkpoint for step 4 in \"" + dir.path().string() +
              "\"; the steps present are [3].");
    CHECK_THROWS_AS(io::CheckpointManager(dir.path(), -1), ValueError);
    CHECK_THROWS_AS(io::CheckpointManager(dir.path(), 1, "a/b"), ValueError);
  }

  TEST_CASE("restoring against a target checks paths, shapes and dtypes") {
    ScratchDir dir("target");
    const io::CheckpointManager ckpt(dir.path());
    ckpt.save(1, small_tree(1));
    CHECK(ckpt.restore_latest(small_tree(0)) == small_tree(1));
    const Tree other = small_tree(0).set("params/w", zeros({3, 2}));
    CHECK_THROWS_AS(ckpt.restore_latest(other), ShapeError);
    CHECK_THROWS_AS(ckpt.restore(1, small_tree(0).set("params/extra", zeros({1}))),
                    io::MissingKeyError);
  }

  TEST_CASE("a damaged checkpoint file is a FormatError") {
    ScratchDir dir("damaged");
    const io::CheckpointManager ckpt(dir.path());
    ckpt.save(1, small_tree(1));
    io::Bytes b = io::read_file(ckpt.path_of(1));
    b.resize(b.size() / 2);
    std::ofstream(ckpt.path_of(2), std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    CHECK_THROWS_AS(ckpt.restore_latest(), io::FormatError);
    CHECK(ckpt.restore(1) == small_tree(1));
  }

  TEST_CASE("TrainState (params, opt_state, step, batch_stats) round-trips through a checkpoint") {
    ScratchDir dir("train_state");
    const io::CheckpointManager ckpt(dir.path(), 1);
    const Tree params{{"Dense_0", Tree{{"kernel", reshape(arange(6).astype(float32), {2, 3})},
                                       {"bias", zeros({3})}}}};
    const Tree stats{{"BatchNorm_0", Tree{{"mean", Array({0.5f, 1.f, 2.f})}}}};
    auto state = optim::TrainState::create(params, optim::adam(0.1), Tree{{"batch_stats", stats}});
    const Tree grads = tree_map([](const Array& p) { return ones_like(p); }, params);
    for (int i = 0; i < 3; ++i) state = state.apply_gradients(grads);
    ckpt.save(state);
    CHECK(ckpt.latest_step() == 3);
    const auto fresh =
        optim::TrainState::create(params, optim::adam(0.1), Tree{{"batch_stats", stats}});
    const auto restored = ckpt.restore_latest(fresh);
    CHECK(restored.step().item<int>() == 3);
    CHECK(restored.to_tree() == state.to_tree());
    // Training on from the restored state gives the same bits as training on without a break.
    CHECK(restored.apply_gradients(grads).to_tree() == state.apply_gradients(grads).to_tree());
  }

  TEST_CASE("a process killed in the middle of save leaves the previous checkpoint loadable") {
    ScratchDir dir("kill");
    const io::CheckpointManager ckpt(dir.path(), 2);
    const Tree good = small_tree(1);
    ckpt.save(1, good);
    // 32 MiB: writing and fsyncing it takes long enough to be interrupted.
    const Tree big{{"w", full({8, 1024, 1024}, 2.0f)}};
    int killed_mid_save = 0;
    for (int attempt = 0; attempt < 6; ++attempt) {
      const pid_t child = ::fork();
      REQUIRE(child >= 0);
      if (child == 0) {
        try {
          ckpt.save(2, big);
        } catch (...) {
          ::_exit(1);
        }
        ::_exit(0);
      }
      // Wait until the child's temporary file exists (the save is under way), then let it run
      // a little longer each attempt before killing it.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      int status = 0;
      bool reaped = false, writing = false;
      while (!writing && !reaped && std::chrono::steady_clock::now() < deadline) {
        for (const auto& e : fs::directory_iterator(dir.path()))
          if (e.path().filename().string().find(".tmp-") != std::string::npos) writing = true;
        if (!writing) {
          reaped = ::waitpid(child, &status, WNOHANG) == child;
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
      }
      if (!reaped) {
        std::this_thread::sleep_for(std::chrono::milliseconds(attempt * 3));
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
      }
      const bool was_killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
      CAPTURE(attempt);
      if (was_killed && !fs::exists(ckpt.path_of(2))) ++killed_mid_save;
      // Whatever the moment, the newest checkpoint is complete: step 1, or step 2 if the rename
      // happened before the kill.
      const auto latest = ckpt.latest_step();
      REQUIRE(latest);
      if (*latest == 1) {
        CHECK(ckpt.restore_latest() == good);
      } else {
        CHECK(*latest == 2);
        CHECK(ckpt.restore_latest() == big);
        fs::remove(ckpt.path_of(2));
      }
      CHECK(ckpt.restore(1) == good);
    }
    CHECK(killed_mid_save > 0);
    // The next save removes the dead children's temporary files.
    ckpt.save(3, small_tree(3));
    CHECK(file_names(dir.path()) == std::vector<std::string>{"checkpoint_1", "checkpoint_3"});
  }
}
