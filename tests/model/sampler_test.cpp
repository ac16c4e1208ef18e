// Tests of symbol picking (trainer/sampler.h): the three methods, temperature, determinism,
// and that a trained-from-scratch model's sample starts with its prime and is reproducible.
#include "trainer/sampler.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/errors.h"
#include "trainer/char_lstm.h"

namespace chorus {
namespace {

std::vector<double> frequencies(const std::vector<float>& logits, double temperature,
                                const std::string& method, int draws) {
  std::mt19937_64 engine(42);
  std::vector<double> f(logits.size());
  for (int i = 0; i < draws; ++i) f[pick_symbol(logits, temperature, method, engine)] += 1.0 / draws;
  return f;
}

std::vector<double> softmax(const std::vector<float>& logits, double temperature) {
  std::vector<double> p(logits.size());
  double total = 0;
  for (size_t i = 0; i < logits.size(); ++i) total += p[i] = std::exp(logits[i] / temperature);
  for (double& v : p) v /= total;
  return p;
}

TEST(PickSymbolTest, ArgmaxTakesTheLargestLogit) {
  std::mt19937_64 engine(1);
  EXPECT_EQ(pick_symbol({0.1f, 3.0f, -2.0f, 2.9f}, 1.0, "argmax", engine), 1);
}

class SamplingMethodTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SamplingMethodTest, FrequenciesFollowTheTemperedSoftmax) {
  const std::vector<float> logits = {1.0f, 0.0f, -1.0f, 2.0f};
  for (double temperature : {1.0, 0.5, 2.0}) {
    const auto f = frequencies(logits, temperature, GetParam(), 40000);
    const auto p = softmax(logits, temperature);
    for (size_t i = 0; i < p.size(); ++i)
      EXPECT_NEAR(f[i], p[i], 0.012) << GetParam() << " T=" << temperature << " symbol " << i;
  }
}

TEST_P(SamplingMethodTest, SameSeedSameDraws) {
  std::mt19937_64 a(7), b(7);
  const std::vector<float> logits = {0.3f, 0.1f, 0.2f};
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(pick_symbol(logits, 1.0, GetParam(), a), pick_symbol(logits, 1.0, GetParam(), b));
}

INSTANTIATE_TEST_SUITE_P(Methods, SamplingMethodTest, ::testing::Values("multinomial", "gumbel"));

TEST(PickSymbolTest, LowTemperatureApproachesArgmax) {
  const auto f = frequencies({1.0f, 0.0f, 1.5f}, 0.02, "multinomial", 2000);
  EXPECT_GT(f[2], 0.99);
}

TEST(PickSymbolTest, UnknownMethodIsAnInputError) {
  std::mt19937_64 engine(1);
  EXPECT_THROW(pick_symbol({1.0f}, 1.0, "beam", engine), InputError);
}

TEST(ArtistIdTest, UnknownArtistListsTheKnownOnes) {
  const std::vector<std::string> artists = {"ABBA", "Adele"};
  EXPECT_EQ(artist_id(artists, "Adele"), 1);
  EXPECT_EQ(artist_id(artists, ""), 0);
  try {
    artist_id(artists, "Abba");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("ABBA, Adele"), std::string::npos) << e.what();
  }
}

TEST(SampleTextTest, StartsWithThePrimeAndIsReproducible) {
  torch::manual_seed(3);
  ModelConfig mc;
  mc.hidden_size = 16;
  mc.layers = 2;
  mc.embedding_size = 8;
  const Vocab vocab(std::vector<char32_t>{U'W', U'h', U'y', U' ', U'a'});
  CharLstm model(mc, vocab.size(), 1);
  SampleOptions opt;
  opt.prime = "Why";
  opt.length = 30;
  opt.seed = 11;
  const std::string a = sample_text(*model, vocab, opt), b = sample_text(*model, vocab, opt);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.rfind("Why", 0), 0u);
  EXPECT_LE(a.size(), 3u + 30u);
  EXPECT_EQ(a.find("\xEF\xBF\xBD"), std::string::npos) << "the unknown symbol is never sampled";
  opt.seed = 12;
  opt.length = 200;
  const std::string c = sample_text(*model, vocab, opt);
  opt.seed = 13;
  EXPECT_NE(c, sample_text(*model, vocab, opt));
}

}  // namespace
}  // namespace chorus
