// The on-disk checkpoint protocol (no LibTorch here): temporary directory, manifest of checksums,
// DONE marker, rename; listing, verification, best marker and pruning.
// Layout: <run.dir>/checkpoints/step-00000100/{...files..., MANIFEST.json, DONE}
//         <run.dir>/checkpoints/best.json   {"step": 100, "metric": 2.31}
// A directory is complete when it has DONE; it is valid when every file in MANIFEST.json has the
// recorded size and sha256. Only valid checkpoints are ever loaded.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace chorus {

struct CheckpointEntry {
  int64_t step = 0;
  std::string path;  // the step-XXXXXXXX directory
};

class CheckpointStore {
 public:
  explicit CheckpointStore(std::string run_dir);

  const std::string& root() const { return root_; }  // <run.dir>/checkpoints
  // Creates (emptied if it exists) the temporary directory for `step` and returns its path;
  // every rank writes its files there. Rank 0 calls this, then a barrier, then the others use
  // staging_path(step).
  std::string begin(int64_t step) const;
  std::string staging_path(int64_t step) const;
  // Rank 0, after every rank's files are written and a barrier: fsyncs every file, writes
  // MANIFEST.json (each file's size and sha256, plus `meta`), writes DONE, fsyncs, renames the
  // temporary directory to its final name (replacing an older one of the same step), fsyncs the
  // parent. Returns the final path.
  std::string commit(int64_t step, const nlohmann::json& meta) const;

  // Complete checkpoints (DONE present), ascending by step. Not verified.
  std::vector<CheckpointEntry> complete() const;
  // "" when valid, else why not (missing DONE, missing file, size or sha256 mismatch, ...).
  static std::string verify(const std::string& checkpoint_dir);
  // Newest complete checkpoint that verifies; each newer one that does not is reported on `log`
  // ("skipping <dir>: <reason>").
  std::optional<CheckpointEntry> newest_valid(std::ostream& log) const;

  // Records the best checkpoint (atomically); best() returns it if its directory still exists.
  void mark_best(int64_t step, double metric) const;
  std::optional<CheckpointEntry> best() const;
  std::optional<double> best_metric() const;

  // Removes all but the newest `keep` complete checkpoints, never the best; removes stale
  // temporary directories.
  void prune(int64_t keep) const;

  // --checkpoint: a checkpoint directory (must verify) or a run directory (its best valid
  // checkpoint, else its newest valid). Throws InputError naming the path otherwise.
  static std::string resolve(const std::string& path, std::ostream& log);

 private:
  std::string root_;
};

}  // namespace chorus
