// Evaluation on a split: whole songs from a zero state, in windows with the state carried (as
// training reads them, without dropout), reduced over ranks in one collective.
#include "trainer/run/evaluator.h"

#include <algorithm>
#include <set>

#include "data/errors.h"
#include "data/streams.h"

namespace chorus {

EvalResult Evaluator::run(SequenceModelImpl& model, const std::string& split,
                          const EvalRequest& request) {
  const SongSource& corpus = task_.corpus();
  const int64_t A = request.by_artist ? static_cast<int64_t>(task_.artists().size()) : 0;
  torch::NoGradGuard no_grad;
  model.eval();
  const SplitIndex& index = corpus.split(split);
  if (index.songs() == 0)
    throw InputError(corpus.path() + ": split '" + split + "' has no songs to evaluate");
  // Songs in file order while their predictions fit the cap; at least one.
  int64_t songs = 0, predictions = 0;
  while (songs < index.songs()) {
    const int64_t next = corpus.predictions(index.song_length(songs));
    if (request.max_symbols > 0 && songs > 0 && predictions + next > request.max_symbols) break;
    predictions += next;
    ++songs;
  }
  const int64_t R = comm_.size();
  const int64_t lanes = std::max<int64_t>(1, (std::min(request.batch_size, songs) + R - 1) / R);
  const int64_t window = std::clamp<int64_t>(request.window, 1, kEvalWindow);
  // Loss sum, count, then per artist the loss sums and the counts: one reduction.
  std::vector<double> sums(2 + 2 * A, 0.0);
  StreamBatcher batcher(corpus, split, SongSchedule(songs, lanes * R, 0, /*shuffle=*/false),
                        comm_.rank() * lanes, lanes, window);
  const torch::Device device = module_device(model);
  RecurrentState state = model.zero_state(lanes, device);
  while (!batcher.exhausted()) {
    const std::vector<StreamCursor> before = batcher.cursors();
    Window w = batcher.next();
    // Not counted: the prime of each song (predictions before skip_predictions).
    double primed = 0;
    for (int64_t b = 0; b < lanes; ++b)
      for (int64_t t = 0; t < w.seq_len && before[b].position + t < request.skip_predictions; ++t) {
        primed += w.counted[t * lanes + b];
        w.mask[t * lanes + b] = 0.0f;
        w.counted[t * lanes + b] = 0;
      }
    const WindowTensors t = window_tensors(w, device);
    RecurrentState next;
    const torch::Tensor top = model.top(t.inputs, state.masked(w.reset), {}, &next);
    state = std::move(next);
    const torch::Tensor nll = model.head().nll(top, t.targets);  // [T, B]
    sums[0] += (nll * t.mask).sum().item<double>();
    sums[1] += static_cast<double>(w.count) - primed;
    std::set<int64_t> present;  // the artists of this window's lanes
    for (int64_t b = 0; b < lanes; ++b)
      if (w.artist[b] >= 0 && w.artist[b] < A) present.insert(w.artist[b]);
    const torch::Tensor counted =
        present.empty() ? torch::Tensor()
                        : torch::from_blob(w.counted.data(), {w.seq_len, lanes}, torch::kUInt8)
                              .to(device, torch::kFloat32);
    for (int64_t a : present) {
      const torch::Tensor of_artist = (t.artist == a).to(torch::kFloat32).unsqueeze(0);
      const torch::Tensor mask = t.mask * of_artist;
      const double count = (counted * of_artist).sum().item<double>();
      if (count == 0) continue;
      sums[2 + a] += (nll * mask).sum().item<double>();
      sums[2 + A + a] += count;
    }
  }
  comm_.all_reduce_sum(sums.data(), sums.size());
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
