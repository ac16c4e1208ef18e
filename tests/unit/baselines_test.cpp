// Tests of the count baselines (trainer/tools/baselines.h) on corpora small enough to compute by hand:
// each model's loss in nats per prediction (lyrics) or per frame (piano rolls), the song end
// counted like the LSTM counts it, and smoothing that keeps unseen symbols finite.
#include "trainer/tools/baselines.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "data/corpus.h"
#include "data/errors.h"
#include "data/pianoroll_corpus.h"
#include "data/vocab.h"
#include "tests/support/fixtures.h"

namespace chorus {
namespace {

BaselineModel model_of(const std::string& name) {
  BaselineModel m{};
  if (!parse_choice(name, &m)) throw std::invalid_argument("no baseline model " + name);
  return m;
}

class BaselinesTest : public testing::TempDirTest {
 protected:
  // Vocabulary {a, b, c}: ids end 0, unknown 1, a 2, b 3, c 4 (V = 5). Train "ab", "a";
  // valid "b"; test "c" (a symbol never seen in train).
  std::string lyrics() {
    const std::string path = dir_ + "/tiny.h5";
    Vocab vocab({U'a', U'b', U'c'});
    CorpusWriter writer(path, vocab, {"X"}, {{"source", "hand"}, {"source_sha256", ""},
                                             {"options", nlohmann::json::object()}});
    writer.add_song("train", 0, "one", {2, 3});
    writer.add_song("train", 0, "two", {2});
    writer.add_song("valid", 0, "three", {3});
    writer.add_song("test", 0, "four", {4});
    writer.commit();
    return path;
  }
  double score(const std::string& path, const std::string& model, int order = 0,
               const std::string& split = "valid") {
    CorpusReader corpus(path);
    BaselineOptions o;
    o.model = model_of(model);
    o.order = order;
    auto fitted = fit_symbol_baseline(corpus, corpus.vocab().size(), o);
    const BaselineScore s = score_baseline(*fitted, corpus, split);
    EXPECT_EQ(s.count, 2.0) << "a song of one symbol is two predictions: the symbol, its end";
    return s.loss();
  }
};

TEST_F(BaselinesTest, UniformIsLogOfTheVocabulary) {
  EXPECT_NEAR(score(lyrics(), "uniform"), std::log(5.0), 1e-12);
}

TEST_F(BaselinesTest, UnigramIsAddOneOverTrainTargets) {
  // Targets of train: a a b end end -> counts a 2, b 1, end 2 of N = 5; add-one over V = 5.
  const double p_b = 2.0 / 10, p_end = 3.0 / 10;
  EXPECT_NEAR(score(lyrics(), "unigram"), -(std::log(p_b) + std::log(p_end)) / 2, 1e-12);
}

TEST_F(BaselinesTest, BigramIsAddOneOnThePreviousSymbol) {
  // After end: a twice; after b: end once. p(b | end) = 1 / (2 + 5); p(end | b) = 2 / (1 + 5).
  EXPECT_NEAR(score(lyrics(), "bigram"), -(std::log(1.0 / 7) + std::log(2.0 / 6)) / 2, 1e-12);
}

TEST_F(BaselinesTest, NgramIsInterpolatedKneserNey) {
  // Bigram types: (end a) x2, (a b), (b end), (a end). Continuation counts: a 1, b 1, end 2 of 4,
  // 3 types; order 1: p1(w) = max(cc - D, 0) / 4 + D * 3 / 4 / V with D = 0.75, V = 5.
  const double D = 0.75, lower = D * 3 / 4 / 5.0;
  const double p1_b = (1 - D) / 4 + lower, p1_end = (2 - D) / 4 + lower;
  // Order 2: history end (total 2, 1 type) never saw b; history b (total 1, 1 type) saw end once.
  const double p_b = D * 1 / 2 * p1_b;
  const double p_end = (1 - D) / 1 + D * 1 / 1 * p1_end;
  EXPECT_NEAR(score(lyrics(), "ngram", 2), -(std::log(p_b) + std::log(p_end)) / 2, 1e-12);
}

TEST_F(BaselinesTest, UnseenSymbolsHaveFiniteLoss) {
  const std::string path = lyrics();
  for (auto [model, order] : {std::pair<std::string, int>{"unigram", 0}, {"bigram", 0},
                              {"ngram", 2}, {"ngram", 5}}) {
    const double loss = score(path, model, order, "test");
    EXPECT_TRUE(std::isfinite(loss)) << model << " " << order;
    EXPECT_GT(loss, std::log(5.0) / 2) << model << ": c was never seen";
  }
}

TEST_F(BaselinesTest, KneserNeyGetsBetterWithOrderOnStructuredText) {
  const std::string path = testing::write_fixture_corpus(dir_, 40, 6);
  CorpusReader corpus(path);
  auto loss = [&](const std::string& model, int order) {
    BaselineOptions o;
    o.model = model_of(model);
    o.order = order;
    return score_baseline(*fit_symbol_baseline(corpus, corpus.vocab().size(), o), corpus, "valid").loss();
  };
  const double uniform = loss("uniform", 0), unigram = loss("unigram", 0),
               bigram = loss("bigram", 0), four = loss("ngram", 4);
  EXPECT_LT(unigram, uniform);
  EXPECT_LT(bigram, unigram);
  EXPECT_LT(four, bigram) << "the fixture's words are predictable from three letters";
}

TEST_F(BaselinesTest, EveryModelIsADistributionAfterAnyHistory) {
  const std::string path = testing::write_fixture_corpus(dir_, 40, 6);
  CorpusReader corpus(path);
  SongData song;
  corpus.read("valid", 0, &song);
  for (auto [model, order] : {std::pair<std::string, int>{"uniform", 0}, {"unigram", 0},
                              {"bigram", 0}, {"ngram", 2}, {"ngram", 3}, {"ngram", 6}}) {
    BaselineOptions o;
    o.model = model_of(model);
    o.order = order;
    auto fitted = fit_symbol_baseline(corpus, corpus.vocab().size(), o);
    for (size_t cut : {size_t{0}, size_t{1}, size_t{5}, song.values.size() / 2}) {
      std::vector<int32_t> history(song.values.begin(), song.values.begin() + cut);
      if (cut == 5) history.back() = 1;  // a history never seen in train
      const std::vector<double> p = fitted->next_distribution(history);
      double sum = 0;
      for (double x : p) {
        EXPECT_GT(x, 0) << model << order;
        sum += x;
      }
      EXPECT_NEAR(sum, 1.0, 1e-9) << model << " order " << order << " after " << cut;
    }
  }
}

TEST_F(BaselinesTest, SamplesAreReproducibleAndFromTheVocabulary) {
  const std::string path = testing::write_fixture_corpus(dir_, 40, 6);
  CorpusReader corpus(path);
  BaselineOptions o;
  o.model = BaselineModel::kNgram;
  o.order = 4;
  auto fitted = fit_symbol_baseline(corpus, corpus.vocab().size(), o);
  const auto a = fitted->sample(200, 3), b = fitted->sample(200, 3), c = fitted->sample(200, 4);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  ASSERT_FALSE(a.empty());
  for (int32_t id : a) {
    EXPECT_GE(id, Vocab::kFirstCodePoint);
    EXPECT_LT(id, corpus.vocab().size());
  }
}

TEST_F(BaselinesTest, BadOptionsAreRefusedByName) {
  CorpusReader corpus(lyrics());
  BaselineOptions o;
  o.model = BaselineModel::kNgram;
  o.order = 1;
  EXPECT_THROW(fit_symbol_baseline(corpus, corpus.vocab().size(), o), InputError);
  BaselineModel unknown;
  EXPECT_FALSE(parse_choice("trigram", &unknown)) << "the command line refuses it by name";
  o.model = BaselineModel::kBigram;
  o.train_split = "nope";
  EXPECT_THROW(fit_symbol_baseline(corpus, corpus.vocab().size(), o), InputError);
}

class FrameBaselinesTest : public testing::TempDirTest {
 protected:
  // Key 0 only: train frames on, off, on; valid frames on, on. The other 87 keys never sound.
  std::string rolls() {
    const std::string path = dir_ + "/rolls.h5";
    PianoRollResolution resolution;
    resolution.frames_per_quarter = 4;
    PianoRollWriter writer(path, resolution, {{"source", "hand"}, {"source_kind", "text"},
                                              {"options", "{}"}});
    Frame on, off;
    on[0] = true;
    writer.add_song("train", "t", {on, off, on});
    writer.add_song("valid", "v", {on, on});
    writer.commit();
    return path;
  }
  double score(const std::string& model, int order = 0) {
    PianoRollReader corpus(rolls());
    BaselineOptions o;
    o.model = model_of(model);
    o.order = order;
    const BaselineScore s = score_baseline(*fit_frame_baseline(corpus, o), corpus, "valid");
    EXPECT_EQ(s.count, 2.0);
    return s.loss();
  }
};

TEST_F(FrameBaselinesTest, UniformIsTheFairCoinOnEveryKey) {
  EXPECT_NEAR(score("uniform"), 88 * std::log(2.0), 1e-9);
}

TEST_F(FrameBaselinesTest, UnigramIsEachKeysFrequencyAddOne) {
  // Key 0 on in 2 of 3 frames: (2 + 1) / (3 + 2); the others (0 + 1) / 5 on, so 4/5 off.
  EXPECT_NEAR(score("unigram"), -std::log(3.0 / 5) - 87 * std::log(4.0 / 5), 1e-9);
}

TEST_F(FrameBaselinesTest, BigramIsEachKeysMarkovChainFromSilence) {
  // Key 0 from silence: off->on, on->off, off->on. p(on | off) = (2 + 1) / (2 + 2),
  // p(on | on) = (0 + 1) / (1 + 2). Valid: off->on, on->on.
  const double key0 = -std::log(3.0 / 4) - std::log(1.0 / 3);
  EXPECT_NEAR(score("bigram"), (key0 - 2 * 87 * std::log(4.0 / 5)) / 2, 1e-9);
  // Order 3 conditions on two frames: valid frame 1 follows (off, on), seen once (then off).
  const double key0_3 = -std::log((1.0 + 1) / (1 + 2)) - std::log((0.0 + 1) / (1 + 2));
  EXPECT_NEAR(score("ngram", 3), (key0_3 - 2 * 87 * std::log(4.0 / 5)) / 2, 1e-9);
}

}  // namespace
}  // namespace chorus
