// Count-based baselines (see baselines.h for the models and their smoothing).
#include "trainer/tools/baselines.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <unordered_map>

#include "data/errors.h"
#include "data/pianoroll.h"
#include "data/streams.h"
#include "data/vocab.h"

namespace chorus {
namespace {

constexpr int kMaxSymbolOrder = 24;
constexpr int kMaxFrameOrder = 16;

// Calls fn(song) for every song of a split, in file order.
template <class Fn>
void for_each_song(const SongSource& corpus, const std::string& split, Fn fn) {
  const SplitIndex& index = corpus.split(split);
  SongData song;
  for (int64_t s = 0; s < index.songs(); ++s) {
    corpus.read(split, s, &song);
    fn(song);
  }
}

// ---- Lyrics: symbol n-grams ----

// Histories and n-grams as byte strings, 4 bytes per symbol id.
std::string gram_key(const int32_t* first, int length) {
  return std::string(reinterpret_cast<const char*>(first), sizeof(int32_t) * static_cast<size_t>(length));
}

class SymbolNgram : public Baseline {
 public:
  SymbolNgram(int order, int64_t vocab_size, bool kneser_ney, double add_k, double discount)
      : N_(order), V_(static_cast<double>(vocab_size)), kn_(kneser_ney), k_(add_k), D_(discount),
        counts_(order + 1), contexts_(order + 1) {}

  void fit(const SongSource& corpus, const std::string& split) {
    if (N_ == 0) return;
    for_each_song(corpus, split, [&](const SongData& song) {
      const std::vector<int32_t> seq = padded(song);
      for (size_t i = pad(); i < seq.size(); ++i)
        counts_[N_][gram_key(&seq[i + 1 - N_], N_)] += 1;
    });
    if (kn_) {
      // Continuation counts: an m-gram counts once per distinct symbol seen before it.
      for (int m = N_ - 1; m >= 1; --m)
        for (const auto& [gram, c] : counts_[m + 1]) counts_[m][gram.substr(sizeof(int32_t))] += 1;
    }
    for (int m = kn_ ? 1 : N_; m <= N_; ++m)
      for (const auto& [gram, c] : counts_[m]) {
        Context& ctx = contexts_[m][gram.substr(0, gram.size() - sizeof(int32_t))];
        ctx.total += c;
        ctx.types += 1;
      }
  }

  double song_loss(const SongData& song) const override {
    const std::vector<int32_t> seq = padded(song);
    double loss = 0;
    for (size_t i = pad(); i < seq.size(); ++i) loss -= std::log(probability(&seq[i], seq[i]));
    return loss;
  }

  double song_predictions(const SongData& song) const override {
    return static_cast<double>(song.values.size() + 1);
  }

  std::string smoothing() const override {
    if (N_ == 0) return "none";
    return kn_ ? "interpolated Kneser-Ney, D = " + std::to_string(D_)
               : "add-k, k = " + std::to_string(k_);
  }

  std::vector<double> next_distribution(const std::vector<int32_t>& history) const override {
    std::vector<int32_t> seq(pad(), Vocab::kEndOfSong);
    seq.insert(seq.end(), history.begin(), history.end());
    seq.push_back(0);
    std::vector<double> p(static_cast<size_t>(V_));
    for (int32_t w = 0; w < static_cast<int32_t>(V_); ++w) p[w] = probability(&seq.back(), w);
    return p;
  }

  std::vector<int32_t> sample(int64_t length, uint64_t seed) const override {
    std::mt19937_64 engine(seed);
    std::vector<int32_t> seq(pad(), Vocab::kEndOfSong), out;
    std::vector<double> cumulative(static_cast<size_t>(V_));
    while (static_cast<int64_t>(out.size()) < length) {
      seq.push_back(0);
      double sum = 0;
      for (int32_t w = 0; w < static_cast<int32_t>(V_); ++w) {
        if (w != Vocab::kUnknown) sum += probability(&seq.back(), w);
        cumulative[w] = sum;
      }
      const double u = uniform_01(engine) * sum;
      const int32_t w = static_cast<int32_t>(
          std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin());
      if (w == Vocab::kEndOfSong || w >= static_cast<int32_t>(V_)) break;
      seq.back() = w;
      out.push_back(w);
    }
    return out;
  }

 private:
  struct Context {
    double total = 0;  // sum of the counts of the grams that extend it
    double types = 0;  // distinct symbols seen after it
  };

  size_t pad() const { return static_cast<size_t>(std::max(1, N_ - 1)); }

  // End-of-song symbols as the history before the song, then its symbols and its end.
  std::vector<int32_t> padded(const SongData& song) const {
    std::vector<int32_t> seq(pad(), Vocab::kEndOfSong);
    seq.insert(seq.end(), song.values.begin(), song.values.end());
    seq.push_back(Vocab::kEndOfSong);
    return seq;
  }

  double count(int m, const int32_t* at, int32_t w) const {
    std::string gram = gram_key(at - (m - 1), m - 1);
    gram.append(reinterpret_cast<const char*>(&w), sizeof w);
    auto it = counts_[m].find(gram);
    return it == counts_[m].end() ? 0.0 : it->second;
  }

  const Context* context(int m, const int32_t* at) const {
    auto it = contexts_[m].find(gram_key(at - (m - 1), m - 1));
    return it == contexts_[m].end() ? nullptr : &it->second;
  }

  // p(w | the N - 1 symbols before *at); `at` points at the predicted position.
  double probability(const int32_t* at, int32_t w) const {
    if (N_ == 0) return 1.0 / V_;
    if (!kn_) {
      const Context* ctx = context(N_, at);
      return (count(N_, at, w) + k_) / ((ctx ? ctx->total : 0.0) + k_ * V_);
    }
    double p = 1.0 / V_;
    for (int m = 1; m <= N_; ++m) {
      const Context* ctx = context(m, at);
      if (ctx == nullptr) continue;  // an unseen history: all mass to the shorter one
      p = std::max(count(m, at, w) - D_, 0.0) / ctx->total + D_ * ctx->types / ctx->total * p;
    }
    return p;
  }

  int N_;
  double V_;
  bool kn_;
  double k_, D_;
  std::vector<std::unordered_map<std::string, double>> counts_;     // [m]: m-gram -> count
  std::vector<std::unordered_map<std::string, Context>> contexts_;  // [m]: (m-1)-gram history
};

// ---- Piano rolls: per-key Markov chains ----

class KeyMarkov : public Baseline {
 public:
  KeyMarkov(int order, double add_k)
      : N_(order), k_(add_k),
        on_(static_cast<size_t>(kKeys) << std::max(0, order - 1), 0.0),
        seen_(on_.size(), 0.0) {}

  void fit(const SongSource& corpus, const std::string& split) {
    if (N_ == 0) return;
    for_each_song(corpus, split, [&](const SongData& song) {
      walk(song, [&](size_t cell, bool on) {
        seen_[cell] += 1;
        on_[cell] += on;
      });
    });
  }

  double song_loss(const SongData& song) const override {
    double loss = 0;
    walk(song, [&](size_t cell, bool on) {
      const double p = N_ == 0 ? 0.5 : (on_[cell] + k_) / (seen_[cell] + 2 * k_);
      loss -= std::log(on ? p : 1 - p);
    });
    return loss;
  }

  double song_predictions(const SongData& song) const override {
    return static_cast<double>(song.length());
  }

  std::string smoothing() const override {
    return N_ == 0 ? "none" : "add-k, k = " + std::to_string(k_);
  }

 private:
  // Calls fn(cell, on) for every key of every frame; cell = key and its last N - 1 states.
  template <class Fn>
  void walk(const SongData& song, Fn fn) const {
    const int history = std::max(0, N_ - 1);
    const uint32_t mask = history > 0 ? (1u << history) - 1 : 0;
    std::vector<uint32_t> state(kKeys, 0);  // the key's last states, newest in bit 0; silent start
    for (int64_t t = 0; t < song.length(); ++t)
      for (int key = 0; key < kKeys; ++key) {
        const bool on = song.at(t)[key] != 0;
        fn((static_cast<size_t>(key) << history) | state[key], on);
        state[key] = ((state[key] << 1) | (on ? 1u : 0u)) & mask;
      }
  }

  int N_;
  double k_;
  std::vector<double> on_, seen_;  // per cell: frames with the key on, frames seen
};

}  // namespace

std::vector<int32_t> Baseline::sample(int64_t, uint64_t) const {
  throw InputError("--sample: only the lyrics baselines generate text");
}

std::vector<double> Baseline::next_distribution(const std::vector<int32_t>&) const {
  throw InputError("only the lyrics baselines predict symbols");
}

int baseline_order(const BaselineOptions& options) {
  switch (options.model) {
    case BaselineModel::kUniform: return 0;
    case BaselineModel::kUnigram: return 1;
    case BaselineModel::kBigram: return 2;
    case BaselineModel::kNgram: return options.order;
  }
  return 0;
}

namespace {

// The checks every baseline shares; `max_order` is the family's.
void check_options(const SongSource& corpus, const BaselineOptions& options, int max_order) {
  const int order = baseline_order(options);
  if (options.model == BaselineModel::kNgram && (order < 2 || order > max_order))
    throw InputError("--order: ngram needs an order in 2.." + std::to_string(max_order) + ", got " +
                     std::to_string(order));
  if (!(options.add_k > 0)) throw InputError("--add-k: must be > 0");
  if (!(options.discount > 0 && options.discount < 1))
    throw InputError("--discount: must be in (0, 1)");
  corpus.split(options.train_split);  // names the file when the split is missing
}

}  // namespace

std::unique_ptr<Baseline> fit_symbol_baseline(const SongSource& corpus, int64_t vocab_size,
                                              const BaselineOptions& options) {
  check_options(corpus, options, kMaxSymbolOrder);
  if (vocab_size < 2) throw InputError(corpus.path() + ": the corpus has no vocabulary");
  auto model = std::make_unique<SymbolNgram>(baseline_order(options), vocab_size,
                                             options.model == BaselineModel::kNgram,
                                             options.add_k, options.discount);
  model->fit(corpus, options.train_split);
  return model;
}

std::unique_ptr<Baseline> fit_frame_baseline(const SongSource& corpus,
                                             const BaselineOptions& options) {
  check_options(corpus, options, kMaxFrameOrder);
  auto model = std::make_unique<KeyMarkov>(baseline_order(options), options.add_k);
  model->fit(corpus, options.train_split);
  return model;
}

BaselineScore score_baseline(const Baseline& baseline, const SongSource& corpus,
                             const std::string& split) {
  if (corpus.split(split).songs() == 0)
    throw InputError(corpus.path() + ": split '" + split + "' has no songs to score");
  BaselineScore score;
  for_each_song(corpus, split, [&](const SongData& song) {
    score.loss_sum += baseline.song_loss(song);
    score.count += baseline.song_predictions(song);
    ++score.songs;
  });
  return score;
}

}  // namespace chorus
