// Tests of the model parts: the recurrent state's resets, the heads' losses (masked padding; the
// independent head's binary cross-entropy summed over keys), artist conditioning, the frame
// features' start, the flat model.pt layout that older checkpoints share, and the dropout masks.
#include "trainer/models/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "data/pianoroll.h"
#include "tests/support/models.h"
#include "trainer/models/dropout.h"

namespace chorus {
namespace {

ModelConfig small_config(Condition condition = Condition::kNone) {
  ModelConfig mc;
  mc.embedding_size = 6;
  mc.hidden_size = 10;
  mc.layers = 2;
  mc.condition = condition;
  mc.artist_embedding_size = 4;
  return mc;
}

TEST(RecurrentStateTest, MaskedZeroesOnlyTheResetStreams) {
  RecurrentState s{{torch::ones({3, 2}), torch::full({3, 2}, 2.0)}};
  const RecurrentState m = s.masked({0, 1, 0});
  EXPECT_EQ(m.tensors[0][1].sum().item<float>(), 0.0f);
  EXPECT_EQ(m.tensors[1][1].sum().item<float>(), 0.0f);
  EXPECT_EQ(m.tensors[0][0].sum().item<float>(), 2.0f);
  EXPECT_EQ(m.tensors[1][2].sum().item<float>(), 4.0f);
  EXPECT_TRUE(s.masked({0, 0, 0}).tensors[0].is_same(s.tensors[0])) << "no reset, no copy";
}

TEST(SymbolModelTest, ResetStateEqualsAFreshStart) {
  torch::manual_seed(1);
  SequenceModel model = testing::symbol_model(small_config(), 9);
  torch::Tensor x = torch::randint(0, 9, {5, 2}, torch::kLong);
  RecurrentState s1, s2, s3;
  const torch::Tensor t1 = model->top(x, model->zero_state(2, torch::kCPU), {}, &s1);
  // Carried state changes the output; a reset state gives the fresh-start output again.
  const torch::Tensor t2 = model->top(x, s1, {}, &s2);
  const torch::Tensor t3 = model->top(x, s1.masked({1, 1}), {}, &s3);
  EXPECT_FALSE(torch::allclose(t1, t2));
  EXPECT_TRUE(torch::equal(t1, t3));
}

TEST(SoftmaxHeadTest, MaskedLossIgnoresPadding) {
  torch::manual_seed(3);
  SequenceModel model = testing::symbol_model(small_config(), 5);
  torch::Tensor top = torch::randn({3, 2, 10});
  torch::Tensor targets = torch::randint(0, 5, {3, 2}, torch::kLong);
  torch::Tensor mask = torch::ones({3, 2});
  mask[2][1] = 0;
  const float full = model->loss_sum(top, targets, mask).item<float>();
  targets[2][1] = (targets[2][1].item<int64_t>() + 1) % 5;  // change the padded target
  top[2][1] = 100.0;
  EXPECT_FLOAT_EQ(model->loss_sum(top, targets, mask).item<float>(), full);
}

TEST(SymbolModelTest, ArtistConditioningChangesThePrediction) {
  torch::manual_seed(2);
  SequenceModel model = testing::symbol_model(small_config(Condition::kArtist), 9, 3);
  // Input rows (symbol, artist): the artist is a column of the model's input, not an argument.
  torch::Tensor x = torch::randint(0, 9, {4, 1}, torch::kLong);
  auto rows = [&](int64_t artist) { return torch::stack({x, torch::full_like(x, artist)}, 2); };
  RecurrentState sa, sb;
  const torch::Tensor a = model->top(rows(0), model->zero_state(1, torch::kCPU), {}, &sa);
  const torch::Tensor b = model->top(rows(2), model->zero_state(1, torch::kCPU), {}, &sb);
  EXPECT_FALSE(torch::allclose(a, b));
}

ModelConfig roll_config() {
  ModelConfig mc;
  mc.kind = ModelKind::kPianoRoll;
  mc.embedding_size = 12;
  mc.hidden_size = kKeys;  // the head then maps top to logits by an identity we set
  mc.layers = 1;
  return mc;
}

TEST(IndependentHeadTest, LossSumsBinaryCrossEntropyOverKeysOfCountedFrames) {
  torch::manual_seed(4);
  SequenceModel model = testing::frame_model(roll_config());
  {
    torch::NoGradGuard no_grad;
    auto params = model->named_parameters();
    params["head.out.weight"].copy_(torch::eye(kKeys));
    params["head.out.bias"].zero_();
  }
  const torch::Tensor logits = torch::randn({3, 2, kKeys});
  const torch::Tensor targets = (torch::rand({3, 2, kKeys}) > 0.9).to(torch::kLong);
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
  // An all-zero logit costs ln 2 per key: the fair-coin 88 ln 2 = 61.0 nats per frame.
  EXPECT_NEAR(model->loss_sum(torch::zeros({1, 1, kKeys}), targets.slice(0, 0, 1).slice(1, 0, 1),
                              torch::ones({1, 1}))
                  .item<double>(),
              88 * std::log(2.0), 1e-3);
}

TEST(FrameFeaturesTest, InputProjectionStartsLikeAnEmbeddingOfKeys) {
  // A frame is projected as the sum of its keys' vectors, initialised N(0, 1) like the character
  // model's embedding; a linear layer's U(+-1/sqrt(88)) start left stacked LSTMs on a plateau.
  torch::manual_seed(7);
  ModelConfig mc = roll_config();
  mc.hidden_size = 16;
  SequenceModel model = testing::frame_model(mc);
  auto params = model->named_parameters();
  EXPECT_NEAR(params["features.input.weight"].std().item<double>(), 1.0, 0.1);
  EXPECT_EQ(params["features.input.bias"].abs().sum().item<double>(), 0.0);
  RecurrentState next;
  const torch::Tensor top = model->top(torch::zeros({5, 3, kKeys}, torch::kLong),
                                       model->zero_state(3, torch::kCPU), {}, &next);
  EXPECT_EQ(top.sizes(), (std::vector<int64_t>{5, 3, 16}));
  EXPECT_EQ(next.tensors.size(), 2u) << "one layer: h and c";
}

// model.pt keeps the parts' modules at its top level: the layout of the single-class models of
// earlier versions (embed, artist_embed, lstm0.., out), so their checkpoints still load.
TEST(SequenceModelTest, ModelFilesAreFlatAsBefore) {
  torch::manual_seed(8);
  SequenceModel model = testing::symbol_model(small_config(Condition::kArtist), 9, 3);
  torch::serialize::OutputArchive archive;
  model->save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  std::istringstream in(bytes.str());
  torch::serialize::InputArchive read;
  read.load_from(in);
  std::vector<std::string> keys = read.keys();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"artist_embed", "embed", "lstm0", "lstm1", "out"}));
  torch::manual_seed(9);
  SequenceModel other = testing::symbol_model(small_config(Condition::kArtist), 9, 3);
  other->load(read);
  const auto a = model->parameters(), b = other->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << i;
}

TEST(DropoutMaskTest, IsAFunctionOfItsCoordinates) {
  const torch::Tensor a = dropout_mask(5, 17, {0, 1, 2, 3}, 1, 6, 32, 0.3);
  const torch::Tensor b = dropout_mask(5, 17, {0, 1, 2, 3}, 1, 6, 32, 0.3);
  EXPECT_TRUE(torch::equal(a, b));
  // Stream 2's mask does not depend on which other streams are in the batch (data parallelism).
  const torch::Tensor part = dropout_mask(5, 17, {2, 3}, 1, 6, 32, 0.3);
  EXPECT_TRUE(torch::equal(a.select(1, 2), part.select(1, 0)));
  EXPECT_FALSE(torch::equal(a, dropout_mask(5, 18, {0, 1, 2, 3}, 1, 6, 32, 0.3)));
  EXPECT_FALSE(torch::equal(a, dropout_mask(5, 17, {0, 1, 2, 3}, 0, 6, 32, 0.3)));
  EXPECT_FALSE(torch::equal(a, dropout_mask(6, 17, {0, 1, 2, 3}, 1, 6, 32, 0.3)));
}

TEST(DropoutMaskTest, DropsAboutPAndScalesTheRest) {
  const torch::Tensor m = dropout_mask(1, 0, {0, 1, 2, 3, 4, 5, 6, 7}, 0, 100, 128, 0.3);
  const double dropped = (m == 0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(dropped, 0.3, 0.01);
  EXPECT_NEAR(m.max().item<float>(), 1.0 / 0.7, 1e-6);
  EXPECT_NEAR(m.mean().item<double>(), 1.0, 0.02);
}

}  // namespace
}  // namespace chorus
