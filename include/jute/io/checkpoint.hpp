// jute/io/checkpoint.hpp — a directory of checkpoints that a crash cannot corrupt.
//
//   io::CheckpointManager ckpt("runs/mlp", /*max_to_keep=*/3);
//   ckpt.save(state);                                   // a TrainState, at its step
//   if (ckpt.latest_step()) state = ckpt.restore_latest(state);   // checked against `state`
//
// Each checkpoint is one file `<prefix><step>` (default "checkpoint_1200") holding
// io::to_bytes of the Tree: the layout and bytes of Flax's legacy msgpack checkpoints
// (flax.training.checkpoints), so either side reads the other's. A save writes a temporary
// file, fsyncs it, renames it into place and fsyncs the directory: a crash at any moment leaves
// the previous checkpoints intact and the new one either complete or absent. See docs/io.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "jute/errors.hpp"
#include "jute/io/serialization.hpp"
#include "jute/optim/train_state.hpp"
#include "jute/tree.hpp"

namespace jute::io {

/// No checkpoint where one was asked for (an empty or missing directory, an absent step).
class NoCheckpointError : public IOError {
 public:
  using IOError::IOError;
};

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename
/// over `path`, fsync of the directory. IOError (with the system's reason) on failure; the
/// temporary file is removed then.
void write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);
/// The whole file (IOError when it cannot be read).
Bytes read_file(const std::filesystem::path& path);

class CheckpointManager {
 public:
  /// Checkpoints in `directory` (created on the first save), keeping the newest `max_to_keep`
  /// (0 keeps all; ValueError when negative). `prefix` must be non-empty without '/'.
  explicit CheckpointManager(std::filesystem::path directory, int max_to_keep = 3,
                             std::string prefix = "checkpoint_");

  /// Saves `tree` as step `step` (>= 0) atomically, then deletes the oldest checkpoints beyond
  /// max_to_keep. Saving an existing step replaces it (atomically); saving a step older than the
  /// latest is a ValueError (as Flax's "outdated checkpoint"), since it could delete newer ones.
  void save(std::int64_t step, const Tree& tree, const WriteOptions& options = {}) const;
  /// Saves `state.to_tree()` ({step, params, opt_state, <collections>}) at `state.step()`.
  void save(const optim::TrainState& state) const;

  /// The steps present, ascending (empty when the directory is empty or missing).
  std::vector<std::int64_t> all_steps() const;
  /// The newest step, or nullopt.
  std::optional<std::int64_t> latest_step() const;
  /// The file of `step` (whether or not it exists).
  std::filesystem::path path_of(std::int64_t step) const;

  /// The state saved at `step` (NoCheckpointError naming the steps present when absent;
  /// FormatError for a damaged file).
  Tree restore(std::int64_t step) const;
  /// `restore(step)` checked against `target` (see io::from_state_dict).
  Tree restore(std::int64_t step, const Tree& target, const RestoreOptions& options = {}) const;
  /// The newest checkpoint; NoCheckpointError when there is none (Flax silently returns the
  /// target instead, which hides a wrong directory).
  Tree restore_latest() const;
  Tree restore_latest(const Tree& target, const RestoreOptions& options = {}) const;
  /// A TrainState with `target`'s optimizer, restored from `step` / the newest checkpoint and
  /// checked against `target.to_tree()`.
  optim::TrainState restore(std::int64_t step, const optim::TrainState& target,
                            const RestoreOptions& options = {}) const;
  optim::TrainState restore_latest(const optim::TrainState& target,
                                   const RestoreOptions& options = {}) const;

  const std::filesystem::path& directory() const { return directory_; }
  int max_to_keep() const { return max_to_keep_; }
  const std::string& prefix() const { return prefix_; }

 private:
  std::int64_t latest_or_throw(const char* op) const;
  std::filesystem::path directory_;
  int max_to_keep_;
  std::string prefix_;
};

}  // namespace jute::io
