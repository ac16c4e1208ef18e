// Evaluation of a character model on a split: whole songs from a zero state, in windows with the
// state carried (the same windows as training, without dropout), reduced over ranks.
#include <algorithm>
#include <cmath>

#include "trainer/trainer.h"

namespace chorus {

EvalResult evaluate(CharLstm& model, const CorpusReader& corpus, const std::string& split,
                    int64_t max_symbols, int64_t batch_size, int64_t seq_len, Communicator& comm) {
  torch::NoGradGuard no_grad;
  model->eval();
  const SplitIndex& index = corpus.split(split);
  // Songs in file order while their predictions (length + 1) fit the cap; at least one.
  int64_t songs = 0, predictions = 0;
  while (songs < index.songs()) {
    const int64_t next = index.song_length(songs) + 1;
    if (max_symbols > 0 && songs > 0 && predictions + next > max_symbols) break;
    predictions += next;
    ++songs;
  }
  const int64_t R = comm.size();
  const int64_t lanes = std::max<int64_t>(1, (std::min(batch_size, std::max<int64_t>(songs, 1)) + R - 1) / R);
  double sums[2] = {0, 0};
  if (songs > 0) {
    StreamBatcher batcher(corpus, split, SongSchedule(songs, lanes * R, 0, /*shuffle=*/false),
                          comm.rank() * lanes, lanes, seq_len);
    const ModelConfig& mc = model->config();
    LstmState state = LstmState::zeros(mc.layers, lanes, mc.hidden_size);
    while (!batcher.exhausted()) {
      Window w = batcher.next();
      torch::Tensor inputs = torch::from_blob(w.inputs.data(), {seq_len, lanes}, torch::kLong);
      torch::Tensor targets = torch::from_blob(w.targets.data(), {seq_len, lanes}, torch::kLong);
      torch::Tensor mask = torch::from_blob(w.mask.data(), {seq_len, lanes}, torch::kFloat32);
      torch::Tensor artist = torch::from_blob(w.artist.data(), {lanes}, torch::kLong);
      auto [logits, next] = model->forward(inputs, artist, state.masked(w.reset), {});
      state = next;
      sums[0] += masked_cross_entropy_sum(logits, targets, mask).item<double>();
      sums[1] += static_cast<double>(w.count);
    }
  }
  comm.all_reduce_sum(sums, 2);
  EvalResult r;
  r.loss_sum = sums[0];
  r.count = sums[1];
  r.songs = songs;
  return r;
}

}  // namespace chorus
