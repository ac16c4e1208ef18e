// Tests of the character LSTM and its dropout masks: state resets, masked loss, artist
// conditioning, and masks that are a pure function of their coordinates.
#include "trainer/char_lstm.h"

#include <gtest/gtest.h>

#include "trainer/dropout.h"

namespace chorus {
namespace {

ModelConfig small_config(const std::string& condition = "none") {
  ModelConfig mc;
  mc.embedding_size = 6;
  mc.hidden_size = 10;
  mc.layers = 2;
  mc.condition = condition;
  mc.artist_embedding_size = 4;
  return mc;
}

TEST(LstmStateTest, MaskedZeroesOnlyTheResetStreams) {
  LstmState s;
  s.h = {torch::ones({3, 2})};
  s.c = {torch::full({3, 2}, 2.0)};
  const LstmState m = s.masked({0, 1, 0});
  EXPECT_EQ(m.h[0][1].sum().item<float>(), 0.0f);
  EXPECT_EQ(m.c[0][1].sum().item<float>(), 0.0f);
  EXPECT_EQ(m.h[0][0].sum().item<float>(), 2.0f);
  EXPECT_EQ(m.c[0][2].sum().item<float>(), 4.0f);
}

TEST(CharLstmTest, ResetStateEqualsAFreshStart) {
  torch::manual_seed(1);
  CharLstm model(small_config(), 9, 1);
  torch::Tensor x = torch::randint(0, 9, {5, 2}, torch::kLong);
  torch::Tensor artist = torch::zeros({2}, torch::kLong);
  auto [l1, s1] = model->forward(x, artist, LstmState::zeros(2, 2, 10), {});
  // Carried state changes the output; a reset state gives the fresh-start output again.
  auto [l2, s2] = model->forward(x, artist, s1, {});
  auto [l3, s3] = model->forward(x, artist, s1.masked({1, 1}), {});
  EXPECT_FALSE(torch::allclose(l1, l2));
  EXPECT_TRUE(torch::equal(l1, l3));
}

TEST(CharLstmTest, MaskedLossIgnoresPadding) {
  torch::Tensor logits = torch::randn({3, 2, 5});
  torch::Tensor targets = torch::randint(0, 5, {3, 2}, torch::kLong);
  torch::Tensor mask = torch::ones({3, 2});
  mask[2][1] = 0;
  const float full = masked_cross_entropy_sum(logits, targets, mask).item<float>();
  targets[2][1] = (targets[2][1].item<int64_t>() + 1) % 5;  // change the padded target
  logits[2][1] = 100.0;
  EXPECT_FLOAT_EQ(masked_cross_entropy_sum(logits, targets, mask).item<float>(), full);
}

TEST(CharLstmTest, ArtistConditioningChangesThePrediction) {
  torch::manual_seed(2);
  CharLstm model(small_config("artist"), 9, 3);
  torch::Tensor x = torch::randint(0, 9, {4, 1}, torch::kLong);
  auto [a, sa] = model->forward(x, torch::tensor({0}, torch::kLong), LstmState::zeros(2, 1, 10), {});
  auto [b, sb] = model->forward(x, torch::tensor({2}, torch::kLong), LstmState::zeros(2, 1, 10), {});
  EXPECT_FALSE(torch::allclose(a, b));
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
