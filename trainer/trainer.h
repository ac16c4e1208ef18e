// Data-parallel TBPTT training of the character LSTM (DESIGN.md "One training step").
#pragma once
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "data/corpus.h"
#include "data/pianoroll_corpus.h"
#include "data/streams.h"
#include "trainer/sequence_model.h"
#include "trainer/accelerator.h"
#include "trainer/checkpoint_store.h"
#include "trainer/communicator.h"
#include "trainer/config.h"
#include "trainer/dropout.h"

namespace chorus {

struct StepResult {
  int64_t step = 0;
  double loss = 0;      // nats per counted symbol, over all ranks
  double count = 0;     // counted symbols, over all ranks
  double grad_norm = 0; // before clipping
  double lr = 0;
  bool stop = false;    // some rank was asked to stop (signal): save and exit 3
  bool skipped = false; // the loss or gradient norm was not finite (on the reduced values, so
                        // every rank agrees): no update, the carried state reset
};

struct EvalResult {
  double loss_sum = 0, count = 0;
  int64_t songs = 0;
  // With EvalOptions::by_artist: per artist id, the loss sum and the predictions counted.
  std::vector<double> artist_loss_sum, artist_count;
  double loss() const { return count > 0 ? loss_sum / count : 0.0; }
  double bpc() const;
  // {"loss", "unit", and "bpc" (chars) or "nll_per_frame" (piano rolls)} as metrics report them.
  nlohmann::json metrics(bool frames) const;
};

class Trainer {
 public:
  // Builds the model (rank 0's initial parameters broadcast to all) and this rank's streams.
  // Throws InputError on a config that does not fit the data or the rank count.
  // `corpus` is a CorpusReader (model.kind chars) or a PianoRollReader (model.kind pianoroll).
  // `accelerator`: the device this rank trains on, and its NCCL communicator (place_rank);
  // scalars, strings and barriers always go over `comm`.
  Trainer(Config config, Communicator& comm, const SongSource& corpus, std::ostream& log,
          Accelerator accelerator = {});

  // Loads the newest valid checkpoint of run.dir when resuming (starting fresh, saying so, when
  // there is none); refuses a run.dir holding checkpoints when not resuming.
  void start(bool resume);
  // Loads a given checkpoint directory (resume semantics: same shape, batch, seq_len, data).
  void load_checkpoint(const std::string& dir);

  // One optimizer step: train.accumulate windows, one all-reduce, clip, Adam.
  StepResult step();
  // Validation on data.valid_split (capped at eval.max_symbols), each song from a zero state.
  EvalResult validate();
  // Writes a complete checkpoint of the current step (collective); returns its directory.
  std::string save_checkpoint(bool best);

  // The whole run: steps until train.steps, with logging, validation, samples, checkpoints.
  // Returns the exit code: 0 finished, 3 stopped on request after a complete checkpoint.
  int run(const nlohmann::json& run_info);

  int64_t current_step() const { return step_; }
  int64_t bad_steps() const { return bad_steps_; }
  // Fault injection for tests: this rank's gradient gets a NaN before the all-reduce of `step`.
  void inject_nan_gradient_at(int64_t step) { inject_nan_at_ = step; }
  SequenceModel& model() { return model_; }
  const std::vector<StreamCursor>& cursors() const { return batcher_->cursors(); }
  const Config& config() const { return config_; }
  const Accelerator& accelerator() const { return accelerator_; }

 private:
  // Sums `flat` over ranks in place: over MPI (host memory; a CUDA buffer goes through the host)
  // or NCCL (device memory; ncclAvg, then times the rank count).
  void all_reduce_sum(torch::Tensor& flat);
  void broadcast_parameters();
  WindowDropout dropout_for(const Window& window, int64_t window_index) const;
  void log_train(const StepResult& r, double symbols_per_s);
  void append_metrics(const nlohmann::json& record);
  void truncate_metrics_after(int64_t step);
  void write_sample();
  void write_sample_file();
  void write_run_manifest(const nlohmann::json& run_info);
  // Adds {"end": {"status", "reason", "step", "best_valid_loss", "time"}} to manifest.json.
  void record_run_end(const std::string& status, const std::string& reason);

  Config config_;
  Communicator& comm_;
  Accelerator accelerator_;
  const SongSource& corpus_;
  const CorpusReader* lyrics_ = nullptr;     // set for model.kind chars
  const PianoRollReader* rolls_ = nullptr;   // set for model.kind pianoroll
  std::ostream& log_;
  SequenceModel model_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::unique_ptr<StreamBatcher> batcher_;
  LstmState state_;
  CheckpointStore store_;
  int64_t step_ = 0;
  std::optional<double> best_valid_;
  int64_t validations_without_gain_ = 0;
  int64_t bad_steps_ = 0;            // skipped steps so far (this process)
  int64_t inject_nan_at_ = -1;
  int64_t last_saved_step_ = -1;
};

// Loss and bpc of `model` on a split: songs in file order up to `max_symbols` predictions
// (0 = all; at least one song), spread over the communicator's ranks in `batch_size` lanes,
// each song from a zero state; reduced over ranks.
EvalResult evaluate(SequenceModelImpl& model, const SongSource& corpus, const std::string& split,
                    int64_t max_symbols, int64_t batch_size, int64_t seq_len, Communicator& comm);

struct EvalOptions {
  int64_t max_symbols = 0;  // as above (0 = all)
  int64_t batch_size = 32;
  int64_t seq_len = 128;
  // The first `skip_predictions` predictions of each song are read (the model is primed with
  // them) but not counted: the likelihood of the continuation after a prime of that length.
  int64_t skip_predictions = 0;
  int64_t num_artists = 0;  // > 0: also sum per artist (lyrics corpora)
};
EvalResult evaluate(SequenceModelImpl& model, const SongSource& corpus, const std::string& split,
                    const EvalOptions& options, Communicator& comm);

// A trained model with what it needs to run: config, and the vocabulary and artist names
// (chars) or the piano-roll time grid (pianoroll).
struct LoadedModel {
  Config config;
  Vocab vocab;
  std::vector<std::string> artists;
  PianoRollResolution resolution;
  SequenceModel model;
  int64_t step = 0;
  bool frames() const { return config.model.kind == "pianoroll"; }
};
// Loads the model of a checkpoint directory (verified) or a run directory (its best, else its newest).
LoadedModel load_model(const std::string& path, std::ostream& log);

}  // namespace chorus
