// Tests of generation: symbol picking (the three methods, temperature, determinism), the lyrics
// task's text (starts with its prime, reproducible, never the unknown symbol), and frames drawn
// by the independent head (reproducible after a prime; temperature sharpens them).
#include "trainer/models/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "data/errors.h"
#include "data/files.h"
#include "data/pianoroll.h"
#include "tests/support/fixtures.h"
#include "tests/support/models.h"
#include "trainer/tasks/task.h"

namespace chorus {
namespace {

std::vector<double> frequencies(const std::vector<float>& logits, double temperature,
                                SampleMethod method, int draws) {
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
  EXPECT_EQ(pick_symbol({0.1f, 3.0f, -2.0f, 2.9f}, 1.0, SampleMethod::kArgmax, engine), 1);
}

class SamplingMethodTest : public ::testing::TestWithParam<SampleMethod> {};

TEST_P(SamplingMethodTest, FrequenciesFollowTheTemperedSoftmax) {
  const std::vector<float> logits = {1.0f, 0.0f, -1.0f, 2.0f};
  for (double temperature : {1.0, 0.5, 2.0}) {
    const auto f = frequencies(logits, temperature, GetParam(), 40000);
    const auto p = softmax(logits, temperature);
    for (size_t i = 0; i < p.size(); ++i)
      EXPECT_NEAR(f[i], p[i], 0.012) << name_of(GetParam()) << " T=" << temperature << " symbol " << i;
  }
}

TEST_P(SamplingMethodTest, SameSeedSameDraws) {
  std::mt19937_64 a(7), b(7);
  const std::vector<float> logits = {0.3f, 0.1f, 0.2f};
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(pick_symbol(logits, 1.0, GetParam(), a), pick_symbol(logits, 1.0, GetParam(), b));
}

INSTANTIATE_TEST_SUITE_P(Methods, SamplingMethodTest,
                         ::testing::Values(SampleMethod::kMultinomial, SampleMethod::kGumbel),
                         [](const auto& info) { return name_of(info.param); });

TEST(PickSymbolTest, LowTemperatureApproachesArgmax) {
  const auto f = frequencies({1.0f, 0.0f, 1.5f}, 0.02, SampleMethod::kMultinomial, 2000);
  EXPECT_GT(f[2], 0.99);
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

class SampleTextTest : public testing::TempDirTest {};

// Through the lyrics task, as training samples are written.
TEST_F(SampleTextTest, StartsWithThePrimeAndIsReproducible) {
  const auto task = open_task(testing::write_fixture_corpus(dir_, 6, 1));
  torch::manual_seed(3);
  ModelConfig mc;
  mc.hidden_size = 16;
  mc.layers = 2;
  mc.embedding_size = 8;
  SequenceModel model = task->build_model(mc);
  SampleOptions opt;
  opt.prime = "bad";
  opt.length = 30;
  auto sample = [&](const SampleOptions& o, uint64_t seed) {
    task->write_sample(*model, o, seed, dir_ + "/s");
    std::string text = read_file(dir_ + "/s.txt");
    return text.substr(0, text.size() - 1);  // the file ends with a newline
  };
  const std::string a = sample(opt, 11), b = sample(opt, 11);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.rfind("bad", 0), 0u);
  EXPECT_LE(a.size(), 3u + 30u);
  EXPECT_EQ(a.find("\xEF\xBF\xBD"), std::string::npos) << "the unknown symbol is never sampled";
  opt.length = 200;
  EXPECT_NE(sample(opt, 12), sample(opt, 13));
}

ModelConfig roll_config() {
  ModelConfig mc;
  mc.kind = ModelKind::kPianoRoll;
  mc.embedding_size = 12;
  mc.hidden_size = 16;
  mc.layers = 2;
  return mc;
}

std::vector<std::vector<int64_t>> draw_frames(SequenceModel& model, const std::vector<Frame>& prime,
                                              int64_t length, double temperature, uint64_t seed) {
  torch::Tensor feed = torch::zeros({static_cast<int64_t>(prime.size()) + 1, 1, kKeys}, torch::kLong);
  for (size_t i = 0; i < prime.size(); ++i)
    for (int k = 0; k < kKeys; ++k) feed[i + 1][0][k] = prime[i][k] ? 1 : 0;
  HeadSampling s;
  s.temperature = temperature;
  return generate(*model, feed, length, s, seed);
}

TEST(SampleFramesTest, ReproducibleFramesAfterAPrime) {
  torch::manual_seed(5);
  SequenceModel model = testing::frame_model(roll_config());
  Frame chord;
  chord[39] = chord[43] = chord[46] = true;
  const auto a = draw_frames(model, {chord, chord}, 30, 1.0, 9);
  ASSERT_EQ(a.size(), 30u);
  EXPECT_EQ(a, draw_frames(model, {chord, chord}, 30, 1.0, 9));
  size_t on = 0;
  for (const auto& f : a) {
    ASSERT_EQ(f.size(), static_cast<size_t>(kKeys));
    for (int64_t v : f) on += v;
  }
  EXPECT_GT(on, 0u) << "an untrained model's keys are near fair coins";
  EXPECT_NE(draw_frames(model, {chord, chord}, 30, 1.0, 10), a);
  EXPECT_NE(draw_frames(model, {}, 30, 1.0, 9), a) << "the prime conditions what follows";
}

TEST(SampleFramesTest, TemperatureSharpensTowardsTheLikelyValue) {
  SequenceModel model = testing::frame_model(roll_config());
  // Logits = the output bias alone: +2 for even keys, -2 for odd ones.
  {
    torch::NoGradGuard no_grad;
    auto params = model->named_parameters();
    params["head.out.weight"].zero_();
    for (int k = 0; k < kKeys; ++k) params["head.out.bias"][k] = k % 2 == 0 ? 2.0f : -2.0f;
  }
  std::vector<int64_t> likely(kKeys);
  for (int k = 0; k < kKeys; ++k) likely[k] = k % 2 == 0;
  for (uint64_t seed : {1, 2, 3})  // sigmoid(+-40): each key takes its likely value
    for (const auto& f : draw_frames(model, {}, 20, 0.05, seed)) EXPECT_EQ(f, likely);
  size_t flipped = 0;  // sigmoid(+-2) = 0.88: about 12% of the keys flip
  for (const auto& f : draw_frames(model, {}, 20, 1.0, 1))
    for (int k = 0; k < kKeys; ++k) flipped += f[k] != likely[k];
  EXPECT_NEAR(static_cast<double>(flipped) / (20 * kKeys), 0.12, 0.04);
}

}  // namespace
}  // namespace chorus
