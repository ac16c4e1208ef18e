// Evaluation of a character model on a split: whole songs from a zero state, in windows with the
// state carried (the same windows as training, without dropout), reduced over ranks.
#include <algorithm>
#include <cmath>

#include "trainer/trainer.h"

namespace chorus {

EvalResult evaluate(SequenceModelImpl& model, const SongSource& corpus, const std::string& split,
                    int64_t max_symbols, int64_t batch_size, int64_t seq_len, Communicator& comm) {
  torch::NoGradGuard no_grad;
  model.eval();
  const SplitIndex& index = corpus.split(split);
  // Songs in file order while their predictions fit the cap; at least one. A song of n symbols
  // has n + 1 predictions (its end too), a song of n frames n.
  const int64_t extra = corpus.frame_keys() > 0 ? 0 : 1;
  int64_t songs = 0, predictions = 0;
  while (songs < index.songs()) {
    const int64_t next = index.song_length(songs) + extra;
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
    const ModelConfig& mc = model.config();
    LstmState state = LstmState::zeros(mc.layers, lanes, mc.hidden_size);
    while (!batcher.exhausted()) {
      Window w = batcher.next();
      const WindowTensors t = window_tensors(w);
      auto [logits, next] = model.forward(t.inputs, t.artist, state.masked(w.reset), {});
      state = next;
      sums[0] += model.loss_sum(logits, t.targets, t.mask).item<double>();
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
