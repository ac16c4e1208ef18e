// The study's ladder of baselines, fitted on a corpus's train split and scored on any split in
// the same units as the LSTM (`chorus baseline`; README "Results"). No LibTorch.
//
// Lyrics: a song of n symbols is n + 1 predictions (its symbols, then the end-of-song symbol),
// made from a history that starts with end-of-song symbols — exactly the LSTM's targets, so the
// loss per prediction is comparable (nats; bits per character = nats / ln 2). V = the corpus
// vocabulary's size, as the LSTM's softmax.
//   uniform  p = 1 / V
//   unigram  add-k: p(w) = (c(w) + k) / (N + k V)
//   bigram   add-k: p(w | a) = (c(a w) + k) / (c(a) + k V)      (the study's Markov chain)
//   ngram    order N >= 2, interpolated Kneser-Ney with one absolute discount D (default 0.75):
//            p(w | h) = max(c(h w) - D, 0) / c(h) + D n(h) / c(h) * p(w | h minus its oldest)
//            with raw counts c at the top order and continuation counts (the number of distinct
//            symbols seen before) below; n(h) = distinct symbols seen after h; an unseen history
//            backs off entirely; the order-1 distribution is interpolated with 1 / V, so no
//            symbol ever has probability 0.
// Piano rolls: every key is an independent Bernoulli (as the LSTM's sigmoids); the loss of a
// frame is the sum over the 88 keys (nats per frame); before a song's first frame the keys are
// silent (the LSTM's silent first input).
//   uniform  p(on) = 1/2: 88 ln 2 = 61.0 nats per frame
//   unigram  p_key(on) = (on_key + k) / (frames + 2k)
//   bigram   p_key(on | the key's state at the previous frame), add-k
//   ngram    p_key(on | the key's states at the previous N - 1 frames), add-k
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/song_source.h"
#include "trainer/config/config.h"  // BaselineOptions

namespace chorus {

struct BaselineScore {
  double loss_sum = 0;  // nats
  double count = 0;     // predictions (symbols) or frames
  int64_t songs = 0;
  double loss() const { return count > 0 ? loss_sum / count : 0.0; }
};

class Baseline {
 public:
  virtual ~Baseline() = default;
  // Loss (nats) of one song's predictions: symbols or frames as SongData holds them.
  virtual double song_loss(const SongData& song) const = 0;
  virtual double song_predictions(const SongData& song) const = 0;
  // How it is smoothed, for reports: "none", "add-k, k = 1", "interpolated Kneser-Ney, D = 0.75".
  virtual std::string smoothing() const = 0;
  // Lyrics only: symbol ids drawn one at a time until the end-of-song symbol or `length`.
  virtual std::vector<int32_t> sample(int64_t length, uint64_t seed) const;
  // Lyrics only: p(w | history) for every id w of the vocabulary (sums to 1); `history` is the
  // song so far (ids), the end-of-song symbols before it implied.
  virtual std::vector<double> next_distribution(const std::vector<int32_t>& history) const;
};

// Fits a lyrics baseline (symbol n-grams over `vocab_size` ids) on the train split of `corpus`;
// a task chooses its family (Task::fit_baseline). Throws InputError on a bad option, naming it.
std::unique_ptr<Baseline> fit_symbol_baseline(const SongSource& corpus, int64_t vocab_size,
                                              const BaselineOptions& options);
// Fits a piano-roll baseline (a Bernoulli per key; corpus of frames).
std::unique_ptr<Baseline> fit_frame_baseline(const SongSource& corpus,
                                             const BaselineOptions& options);

// Scores a fitted baseline on every song of `split`.
BaselineScore score_baseline(const Baseline& baseline, const SongSource& corpus,
                             const std::string& split);

// The order a model implies (uniform 0, unigram 1, bigram 2, ngram options.order).
int baseline_order(const BaselineOptions& options);

}  // namespace chorus
