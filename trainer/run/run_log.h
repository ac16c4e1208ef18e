// The run log: what a run leaves for people and scripts besides checkpoints. metrics.jsonl (one
// JSON record per train interval and validation), manifest.json (each start's command line,
// resolved config, revision, libraries, ranks and hosts; the run's end), and the progress lines
// on stderr. Rank 0 writes; the other ranks' calls do nothing, so every rank may call.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "trainer/config/config.h"
#include "trainer/tasks/task.h"

namespace chorus {

// One optimizer step, as every rank saw it (all figures are all-reduced).
struct StepResult {
  int64_t step = 0;
  double loss = 0;      // nats per counted prediction, over all ranks
  double count = 0;     // counted predictions, over all ranks
  double grad_norm = 0; // before clipping
  double lr = 0;
  bool stop = false;    // some rank was asked to stop (signal): save and exit 3
  bool skipped = false; // the loss or gradient norm was not finite (on the reduced values, so
                        // every rank agrees): no update, the carried state reset
};

class RunLog {
 public:
  RunLog(const Config& config, const Task& task, bool writer, std::ostream& log);

  // Creates run.dir and records this start in manifest.json (the run's earlier starts kept).
  void start(const nlohmann::json& run_info, int64_t resumed_at_step);
  // Adds {"end": {"status", "reason", "step", "time", "best_valid_loss"}} to manifest.json.
  void end(const std::string& status, const std::string& reason, int64_t step,
           std::optional<double> best_valid);
  // A train record (metrics.jsonl) and the progress line (stderr).
  void train(const StepResult& r, double symbols_per_s, int64_t bad_steps);
  // A valid record and its line: the loss summed over `count` predictions in `songs` songs.
  void valid(int64_t step, double loss_sum, double count, int64_t songs);
  // Drops records after `step` (a resume continues from there).
  void truncate_after(int64_t step);
  // "chorus: <message>" on stderr (rank 0).
  void note(const std::string& message);

 private:
  void append(const nlohmann::json& record);
  std::string path(const char* file) const { return config_.run.dir + "/" + file; }

  const Config& config_;
  const Task& task_;
  bool writer_;
  std::ostream& log_;
};

}  // namespace chorus
