// Data-parallel TBPTT training (docs/design.md "One training step"): a short train() around an
// explicit step(), with the run's other concerns in their own parts — the Checkpointer, the
// RunLog, the Evaluator — and the gradients summed by one GradientReducer.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "data/streams.h"
#include "trainer/comm/accelerator.h"
#include "trainer/comm/communicator.h"
#include "trainer/comm/gradient_reducer.h"
#include "trainer/config/config.h"
#include "trainer/models/dropout.h"
#include "trainer/models/model.h"
#include "trainer/run/checkpointer.h"
#include "trainer/run/evaluator.h"
#include "trainer/run/run_log.h"
#include "trainer/tasks/task.h"

namespace chorus {

class Trainer {
 public:
  // Builds the model (rank 0's initial parameters broadcast to all) and this rank's streams.
  // Throws InputError on a config that does not fit the data or the rank count. `task` must have
  // a corpus. `placement`: this rank's device and gradient backend; `reducer`: how gradients
  // are summed (default: made from the placement — a collective for NCCL). Scalars, strings and
  // barriers always go over `comm`.
  Trainer(Config config, const Task& task, Communicator& comm, std::ostream& log,
          Placement placement = {}, std::unique_ptr<GradientReducer> reducer = nullptr);

  // Loads the newest valid checkpoint of run.dir when resuming (starting fresh, saying so, when
  // there is none); refuses a run.dir holding checkpoints when not resuming.
  void start(bool resume);
  // Loads a given checkpoint directory (resume semantics: same shape, batch, seq_len, data).
  void load_checkpoint(const std::string& dir);

  // One optimizer step: train.accumulate windows, one reduction, clip, Adam.
  StepResult step();
  // Validation on data.valid_split (capped at eval.max_symbols), each song from a zero state.
  // A valid split without songs turns validation off (with a warning), as "" does.
  EvalResult validate();
  // Writes a complete checkpoint of the current step (collective); returns its directory.
  std::string save_checkpoint(bool best);

  // The whole run: steps until train.steps, with logging, validation, samples, checkpoints.
  // Returns the exit code: 0 finished (or stopped early by train.patience), 1 too many bad
  // steps in a row, 3 stopped on request after a complete checkpoint.
  int train(const nlohmann::json& run_info);

  int64_t current_step() const { return step_; }
  int64_t bad_steps() const { return bad_steps_; }
  // Fault injection for tests: this rank's gradient gets a NaN before the reduction of `step`.
  void inject_nan_gradient_at(int64_t step) { inject_nan_at_ = step; }
  SequenceModel& model() { return model_; }
  const std::vector<StreamCursor>& cursors() const { return batcher_->cursors(); }
  const Config& config() const { return config_; }
  const Placement& placement() const { return placement_; }

 private:
  // How a run ends: status and reason for the manifest, and the exit code.
  struct RunEnd {
    std::string status, reason;
    int code = 0;
  };
  void broadcast_parameters();
  WindowDropout dropout_for(const Window& window, int64_t window_index) const;
  TrainingState training_state();
  // The cadences of train(), each its own decision.
  std::optional<RunEnd> check_bad_steps(const StepResult& r, int64_t* bad_in_a_row);
  std::optional<RunEnd> validate_and_keep_best();
  void write_sample();
  int finish(const RunEnd& end);

  Config config_;
  const Task& task_;
  Communicator& comm_;
  Placement placement_;
  std::unique_ptr<GradientReducer> reducer_;
  std::ostream& log_;
  RunLog run_log_;
  Checkpointer checkpointer_;
  Evaluator evaluator_;
  SequenceModel model_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::shared_ptr<const SongSource> training_source_;  // the task's corpus as training reads it
  std::unique_ptr<StreamBatcher> batcher_;
  RecurrentState state_;
  bool validating_ = false;          // data.valid_split names a split with songs
  int64_t step_ = 0;
  std::optional<double> best_valid_;
  int64_t validations_without_gain_ = 0;
  int64_t bad_steps_ = 0;            // skipped steps so far (this process)
  int64_t inject_nan_at_ = -1;
};

}  // namespace chorus
