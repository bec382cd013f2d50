// Checkpoint directories: atomic file replacement with POSIX calls (open, write, fsync, rename,
// fsync of the directory) and Flax's `<prefix><step>` file names.
#include "jute/io/checkpoint.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>

namespace jute::io {

namespace fs = std::filesystem;

namespace {

std::string quoted(const fs::path& p) { return "\"" + p.string() + "\""; }

[[noreturn]] void system_error(const std::string& op, const std::string& what, int err) {
  throw IOError("[" + op + "] Cannot " + what + ": " + std::strerror(err) + ".");
}

/// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  /// Closes now and reports close's error (it can be the first sign of a failed write).
  int close() {
    const int r = ::close(fd_);
    fd_ = -1;
    return r;
  }

 private:
  int fd_;
};

void fsync_directory(const fs::path& dir, const char* op) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) system_error(op, "open the directory " + quoted(dir), errno);
  if (::fsync(fd.get()) != 0) system_error(op, "fsync the directory " + quoted(dir), errno);
}

/// The temporary name of `path` for this process: ".<name>.tmp-<pid>" beside it (a hidden file,
/// so Flax's `checkpoint_*` glob never sees it).
fs::path temp_path_of(const fs::path& path) {
  return path.parent_path() /
         ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()));
}

/// The step of a file named `<prefix><digits>`, or nullopt.
std::optional<std::int64_t> step_of(const std::string& name, const std::string& prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + name.size();
  if (!std::all_of(first, last, [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  if (last - first > 1 && *first == '0') return std::nullopt;  // "checkpoint_007" is not ours
  std::int64_t step = 0;
  const auto r = std::from_chars(first, last, step);
  if (r.ec != std::errc() || r.ptr != last) return std::nullopt;
  return step;
}

/// Removes temporary files of saves whose process is gone (a crash mid-save leaves one).
void remove_stale_temps(const fs::path& dir, const std::string& prefix) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string head = "." + prefix;
    const auto tmp = name.rfind(".tmp-");
    if (name.compare(0, head.size(), head) != 0 || tmp == std::string::npos) continue;
    long pid = 0;
    const auto r = std::from_chars(name.data() + tmp + 5, name.data() + name.size(), pid);
    if (r.ec != std::errc() || r.ptr != name.data() + name.size() || pid <= 0) continue;
    if (pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove(entry.path(), ec);
  }
}

std::string step_list(const std::vector<std::int64_t>& steps) {
  std::string s = "[";
  for (std::size_t i = 0; i < steps.size(); ++i) s += (i ? ", " : "") + std::to_string(steps[i]);
  return s + "]";
}

}  // namespace

void write_file_atomic(const fs::path& path, std::span<const std::uint8_t> bytes) {
  const char* op = "write_file_atomic";
  const fs::path tmp = temp_path_of(path);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) system_error(op, "create " + quoted(tmp), errno);
  auto fail = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());
    system_error(op, what, err);
  };
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write " + quoted(tmp), errno);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) fail("fsync " + quoted(tmp), errno);
  if (fd.close() != 0) fail("close " + quoted(tmp), errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    fail("rename " + quoted(tmp) + " to " + quoted(path), errno);
  fsync_directory(path.parent_path().empty() ? fs::path(".") : path.parent_path(), op);
}

Bytes read_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw IOError("[read_file] Cannot open " + quoted(path) + ": " + std::strerror(errno) + ".");
  Bytes out((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw IOError("[read_file] Cannot read " + quoted(path) + ".");
  return out;
}

CheckpointManager::CheckpointManager(fs::path directory, int max_to_keep, std::string prefix)
    : directory_(std::move(directory)), max_to_keep_(max_to_keep), prefix_(std::move(prefix)) {
  if (max_to_keep_ < 0)
    throw ValueError(
        "[CheckpointManager] max_to_keep must be >= 0 (0 keeps every checkpoint), got " +
        std::to_string(max_to_keep_) + ".");
  if (prefix_.empty() || prefix_.find('/') != std::string::npos)
    throw ValueError("[CheckpointManager] The prefix \"" + prefix_ +
                     "\" must be a non-empty file name without '/'.");
}

fs::path CheckpointManager::path_of(std::int64_t step) const {
  return directory_ / (prefix_ + std::to_string(step));
}

std::vector<std::int64_t> CheckpointManager::all_steps() const {
  std::vector<std::int64_t> steps;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory_, ec))
    if (auto s = step_of(entry.path().filename().string(), prefix_)) steps.push_back(*s);
  std::sort(steps.begin(), steps.end());
  return steps;
}

std::optional<std::int64_t> CheckpointManager::latest_step() const {
  const auto steps = all_steps();
  if (steps.empty()) return std::nullopt;
  return steps.back();
}

void CheckpointManager::save(std::int64_t step, const Tree& tree,
                             const WriteOptions& options) const {
  if (step < 0)
    throw ValueError("[CheckpointManager.save] The step must be >= 0, got " + std::to_string(step) +
                     ".");
  if (const auto latest = latest_step(); latest && step < *latest)
    throw ValueError("[CheckpointManager.save] Step " + std::to_string(step) +
                     " is older than the latest checkpoint (step " + std::to_string(*latest) +
                     ") in " + quoted(directory_) +
                     "; remove the newer checkpoints first or use another directory.");
  const Bytes bytes = to_bytes(tree, options);
  std::error_code ec;
  fs::create_directories(directory_, ec);
  if (ec)
    throw IOError("[CheckpointManager.save] Cannot create the directory " + quoted(directory_) +
                  ": " + ec.message() + ".");
  remove_stale_temps(directory_, prefix_);
  write_file_atomic(path_of(step), bytes);
  if (max_to_keep_ == 0) return;
  const auto steps = all_steps();
  if (steps.size() <= static_cast<std::size_t>(max_to_keep_)) return;
  for (std::size_t i = 0; i + static_cast<std::size_t>(max_to_keep_) < steps.size(); ++i)
    if (::unlink(path_of(steps[i]).c_str()) != 0 && errno != ENOENT)
      system_error("CheckpointManager.save",
                   "delete the old checkpoint " + quoted(path_of(steps[i])), errno);
  fsync_directory(directory_, "CheckpointManager.save");
}

void CheckpointManager::save(const optim::TrainState& state) const {
  save(state.step().item<std::int64_t>(), state.to_tree());
}

Tree CheckpointManager::restore(std::int64_t step) const {
  const fs::path p = path_of(step);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec))
    throw NoCheckpointError("[CheckpointManager.restore] No checkpoint for step " +
                            std::to_string(step) + " in " + quoted(directory_) +
                            "; the steps present are " + step_list(all_steps()) + ".");
  return from_bytes(read_file(p));
}

Tree CheckpointManager::restore(std::int64_t step, const Tree& target,
                                const RestoreOptions& options) const {
  return from_state_dict(target, restore(step), options);
}

std::int64_t CheckpointManager::latest_or_throw(const char* op) const {
  const auto latest = latest_step();
  if (!latest)
    throw NoCheckpointError(std::string("[") + op + "] No checkpoint in " + quoted(directory_) +
                            " (no file named " + prefix_ +
                            "<step>); check the directory, or start from fresh state.");
  return *latest;
}

Tree CheckpointManager::restore_latest() const {
  return restore(latest_or_throw("CheckpointManager.restore_latest"));
}

Tree CheckpointManager::restore_latest(const Tree& target, const RestoreOptions& options) const {
  return restore(latest_or_throw("CheckpointManager.restore_latest"), target, options);
}

optim::TrainState CheckpointManager::restore(std::int64_t step, const optim::TrainState& target,
                                             const RestoreOptions& options) const {
  return optim::TrainState::from_tree(restore(step, target.to_tree(), options), target.tx());
}

optim::TrainState CheckpointManager::restore_latest(const optim::TrainState& target,
                                                    const RestoreOptions& options) const {
  return restore(latest_or_throw("CheckpointManager.restore_latest"), target, options);
}

}  // namespace jute::io
