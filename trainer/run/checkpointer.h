// Per-worker checkpoints (llm.c's protocol) on top of CheckpointStore: cadence, keep, best, save,
// load and the resume checks. Rank 0 writes model, optimizer, config and the task's sidecar; every
// rank writes its own streams (cursor and recurrent state); a barrier; rank 0 commits (manifest,
// DONE, rename). Resume restores each global stream, so a checkpoint resumes on any rank count;
// training state holds no random generator (masks are counter-based).
#pragma once
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include <torch/torch.h>

#include "data/streams.h"
#include "trainer/comm/communicator.h"
#include "trainer/config/config.h"
#include "trainer/models/model.h"
#include "trainer/run/checkpoint_store.h"
#include "trainer/tasks/task.h"

namespace chorus {

// The live training state a checkpoint saves and restores (references into the Trainer).
struct TrainingState {
  SequenceModelImpl& model;
  torch::optim::Optimizer& optimizer;
  StreamBatcher& batcher;
  RecurrentState& state;   // this rank's streams' carried state
  int64_t& step;
  std::optional<double>& best_valid;
};

class Checkpointer {
 public:
  Checkpointer(const Config& config, const Task& task, Communicator& comm, std::ostream& log);

  // At step `step` (the run's last when `last`): due by checkpoint.every and not yet saved.
  bool due(int64_t step, bool last) const;
  bool saved(int64_t step) const { return last_saved_ == step; }
  // Writes a complete checkpoint of `s` (a collective); marks it the best when `best`; keeps the
  // newest checkpoint.keep and the best. Returns its directory (on rank 0; "" elsewhere).
  std::string save(const TrainingState& s, bool best);
  // Where to start (a collective): with `resume`, the newest valid checkpoint of run.dir, or ""
  // (saying so) when there is none; without, "" — and InputError when run.dir holds checkpoints.
  std::string resume_point(bool resume);
  // Restores `s` from checkpoint `dir` after the resume checks (keys fixed for a run, the task's
  // sidecar); tensors are mapped to `device`.
  void load(const std::string& dir, TrainingState& s, torch::Device device);

 private:
  const Config& config_;
  const Task& task_;
  Communicator& comm_;
  std::ostream& log_;
  CheckpointStore store_;
  int64_t last_saved_ = -1;
};

// A trained model with what it needs to run: its config, its task (vocabulary and artists, or
// time grid) and the step it was saved at.
struct LoadedModel {
  Config config;
  std::unique_ptr<Task> task;
  SequenceModel model;
  int64_t step = 0;
};
// Loads the model of a checkpoint directory (verified) or a run directory (its best, else its
// newest) onto the CPU, in eval mode.
LoadedModel load_model(const std::string& path, std::ostream& log);

}  // namespace chorus
