// Evaluation: the loss of a model on a split, each song from a zero state, spread over ranks.
// Memory does not grow with the training window: songs go through in evaluation windows of at
// most kEvalWindow positions with the state carried, which gives the same figures as one window
// per song (up to the order of float summation: relative 1e-6).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "trainer/comm/communicator.h"
#include "trainer/config/config.h"
#include "trainer/models/model.h"
#include "trainer/tasks/task.h"

namespace chorus {

// The longest evaluation window (positions per call of the model).
inline constexpr int64_t kEvalWindow = 128;

struct EvalResult {
  double loss_sum = 0, count = 0;  // nats over counted predictions, and their count
  int64_t songs = 0;
  // With EvalRequest::by_artist: per artist id, the loss sum and the predictions counted.
  std::vector<double> artist_loss_sum, artist_count;
  double loss() const { return count > 0 ? loss_sum / count : 0.0; }
};

struct EvalRequest : EvalOptions {
  int64_t window = kEvalWindow;  // evaluation window, capped at kEvalWindow (training passes
                                 // train.seq_len: a shorter window is used as it is)
  // The first `skip_predictions` predictions of each song are read (the model is primed with
  // them) but not counted: the likelihood of the continuation after a prime of that length.
  int64_t skip_predictions = 0;
  bool by_artist = false;        // also sum per artist (lyrics corpora)
};

class Evaluator {
 public:
  // `task` must have a corpus; `comm` spreads the songs and reduces the sums.
  Evaluator(const Task& task, Communicator& comm) : task_(task), comm_(comm) {}
  // Songs of `split` in file order while their predictions fit request.max_symbols (0 = all; at
  // least one song), in request.batch_size lanes over all ranks. A collective. InputError naming
  // the file and the split when the split has no songs.
  EvalResult run(SequenceModelImpl& model, const std::string& split, const EvalRequest& request);

 private:
  const Task& task_;
  Communicator& comm_;
};

}  // namespace chorus
