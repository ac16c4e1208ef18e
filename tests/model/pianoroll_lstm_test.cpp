// Tests of the piano-roll model: the loss is the binary cross-entropy summed over the 88 keys
// (nats per frame once divided by the frame count), masked frames do not count, and sampling
// draws frames reproducibly after a prime.
#include "trainer/pianoroll_lstm.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/pianoroll.h"
#include "trainer/sampler.h"

namespace chorus {
namespace {

ModelConfig roll_config() {
  ModelConfig mc;
  mc.kind = "pianoroll";
  mc.embedding_size = 12;
  mc.hidden_size = 16;
  mc.layers = 2;
  return mc;
}

TEST(PianoRollLstmTest, LossSumsBinaryCrossEntropyOverKeysOfCountedFrames) {
  torch::manual_seed(4);
  PianoRollLstm model(roll_config());
  const torch::Tensor logits = torch::randn({3, 2, kKeys});
  const torch::Tensor targets = (torch::rand({3, 2, kKeys}) > 0.9).to(torch::kFloat32);
  torch::Tensor mask = torch::ones({3, 2});
  mask[2][1] = 0;
  // By hand: -[y log s(x) + (1-y) log(1 - s(x))] summed over keys and counted frames.
  double expected = 0;
  for (int t = 0; t < 3; ++t)
    for (int b = 0; b < 2; ++b) {
      if (t == 2 && b == 1) continue;
      for (int k = 0; k < kKeys; ++k) {
        const double x = logits[t][b][k].item<double>(), y = targets[t][b][k].item<double>();
        const double s = 1.0 / (1.0 + std::exp(-x));
        expected -= y * std::log(s) + (1 - y) * std::log(1 - s);
      }
    }
  EXPECT_NEAR(model->loss_sum(logits, targets, mask).item<double>(), expected, 1e-3);
  // An all-zero model output costs ln 2 per key: the fair-coin 88 ln 2 = 61.0 nats per frame.
  const torch::Tensor zeros = torch::zeros({1, 1, kKeys});
  EXPECT_NEAR(model->loss_sum(zeros, targets.slice(0, 0, 1).slice(1, 0, 1), torch::ones({1, 1}))
                  .item<double>(),
              88 * std::log(2.0), 1e-3);
}

TEST(PianoRollLstmTest, InputProjectionStartsLikeAnEmbeddingOfKeys) {
  // A frame is projected as the sum of its keys' vectors, initialised N(0, 1) like the character
  // model's embedding; a linear layer's U(+-1/sqrt(88)) start left stacked LSTMs on a plateau.
  torch::manual_seed(7);
  PianoRollLstm model(roll_config());
  auto params = model->named_parameters();
  EXPECT_NEAR(params["input.weight"].std().item<double>(), 1.0, 0.1);
  EXPECT_EQ(params["input.bias"].abs().sum().item<double>(), 0.0);
}

TEST(PianoRollLstmTest, ForwardGivesOneLogitPerKey) {
  PianoRollLstm model(roll_config());
  auto [logits, state] = model->forward(torch::zeros({5, 3, kKeys}), torch::zeros({3}, torch::kLong),
                                        LstmState::zeros(2, 3, 16), {});
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{5, 3, kKeys}));
  EXPECT_EQ(state.h.size(), 2u);
}

TEST(SampleFramesTest, ReturnsPrimeThenReproducibleFrames) {
  torch::manual_seed(5);
  PianoRollLstm model(roll_config());
  FrameSampleOptions opt;
  Frame chord;
  chord[39] = chord[43] = chord[46] = true;
  opt.prime = {chord, chord};
  opt.length = 30;
  opt.seed = 9;
  const std::vector<Frame> a = sample_frames(*model, opt), b = sample_frames(*model, opt);
  ASSERT_EQ(a.size(), 32u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a[0], chord);
  size_t on = 0;
  for (size_t i = 2; i < a.size(); ++i) on += a[i].count();
  EXPECT_GT(on, 0u) << "an untrained model's keys are near fair coins";
  opt.seed = 10;
  EXPECT_NE(sample_frames(*model, opt), a);
}

TEST(SampleFramesTest, TemperatureSharpensTowardsTheLikelyValue) {
  PianoRollLstm model(roll_config());
  // Logits = the output bias alone: +2 for even keys, -2 for odd ones.
  {
    torch::NoGradGuard no_grad;
    auto params = model->named_parameters();
    params["out.weight"].zero_();
    for (int k = 0; k < kKeys; ++k) params["out.bias"][k] = k % 2 == 0 ? 2.0f : -2.0f;
  }
  FrameSampleOptions opt;
  opt.length = 20;
  Frame likely;
  for (int k = 0; k < kKeys; k += 2) likely[k] = true;
  opt.temperature = 0.05;  // sigmoid(+-40): each key takes its likely value
  for (uint64_t seed : {1, 2, 3}) {
    opt.seed = seed;
    for (const Frame& f : sample_frames(*model, opt)) EXPECT_EQ(f, likely);
  }
  opt.temperature = 1.0;  // sigmoid(+-2) = 0.88: about 12% of the keys flip
  opt.seed = 1;
  size_t flipped = 0;
  for (const Frame& f : sample_frames(*model, opt)) flipped += (f ^ likely).count();
  EXPECT_NEAR(static_cast<double>(flipped) / (20 * kKeys), 0.12, 0.04);
}

}  // namespace
}  // namespace chorus
