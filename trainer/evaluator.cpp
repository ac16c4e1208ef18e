// Evaluation of a character model on a split: whole songs from a zero state, in windows with the
// state carried (the same windows as training, without dropout), reduced over ranks.
#include <algorithm>
#include <cmath>
#include <set>

#include "trainer/trainer.h"

namespace chorus {

EvalResult evaluate(SequenceModelImpl& model, const SongSource& corpus, const std::string& split,
                    int64_t max_symbols, int64_t batch_size, int64_t seq_len, Communicator& comm) {
  EvalOptions options;
  options.max_symbols = max_symbols;
  options.batch_size = batch_size;
  options.seq_len = seq_len;
  return evaluate(model, corpus, split, options, comm);
}

EvalResult evaluate(SequenceModelImpl& model, const SongSource& corpus, const std::string& split,
                    const EvalOptions& options, Communicator& comm) {
  const int64_t max_symbols = options.max_symbols, batch_size = options.batch_size,
                seq_len = options.seq_len, A = options.num_artists;
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
  // Loss sum, count, then per artist the loss sums and the counts: one reduction.
  std::vector<double> sums(2 + 2 * A, 0.0);
  if (songs > 0) {
    StreamBatcher batcher(corpus, split, SongSchedule(songs, lanes * R, 0, /*shuffle=*/false),
                          comm.rank() * lanes, lanes, seq_len);
    const ModelConfig& mc = model.config();
    const torch::Device device = module_device(model);
    LstmState state = LstmState::zeros(mc.layers, lanes, mc.hidden_size, device);
    while (!batcher.exhausted()) {
      const std::vector<StreamCursor> before = batcher.cursors();
      Window w = batcher.next();
      // Not counted: the prime of each song (predictions before skip_predictions).
      double primed = 0;
      for (int64_t b = 0; b < lanes; ++b)
        for (int64_t t = 0; t < w.seq_len && before[b].position + t < options.skip_predictions; ++t) {
          primed += w.mask[t * lanes + b];
          w.mask[t * lanes + b] = 0.0f;
        }
      const WindowTensors t = window_tensors(w, device);
      auto [logits, next] = model.forward(t.inputs, t.artist, state.masked(w.reset), {});
      state = next;
      sums[0] += model.loss_sum(logits, t.targets, t.mask).item<double>();
      sums[1] += static_cast<double>(w.count) - primed;
      std::set<int64_t> present;  // the artists of this window's lanes
      for (int64_t b = 0; b < lanes; ++b)
        if (w.artist[b] >= 0 && w.artist[b] < A) present.insert(w.artist[b]);
      for (int64_t a : present) {
        const torch::Tensor of_artist = (t.artist == a).to(torch::kFloat32).unsqueeze(0);
        const torch::Tensor mask = t.mask * of_artist;
        const double count = mask.sum().item<double>();
        if (count == 0) continue;
        sums[2 + a] += model.loss_sum(logits, t.targets, mask).item<double>();
        sums[2 + A + a] += count;
      }
    }
  }
  comm.all_reduce_sum(sums.data(), sums.size());
  EvalResult r;
  r.loss_sum = sums[0];
  r.count = sums[1];
  r.songs = songs;
  if (A > 0) {
    r.artist_loss_sum.assign(sums.begin() + 2, sums.begin() + 2 + A);
    r.artist_count.assign(sums.begin() + 2 + A, sums.end());
  }
  return r;
}

}  // namespace chorus
