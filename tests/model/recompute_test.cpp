// Tests of gradient checkpointing (trainer/models/recompute.h): the loss, the final state and
// every parameter's gradient equal those of the plain backward pass, for both kinds of model and
// every recurrence, with dropout on and off, with segments that do not divide the window, and
// with gradients reaching the incoming state through the chain of segments.
#include "trainer/models/recompute.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "data/note_sequence.h"
#include "data/pianoroll.h"
#include "tests/support/models.h"
#include "trainer/run/activation_memory.h"
#include "trainer/tasks/notes_task.h"

namespace chorus {
namespace {

struct Case {
  ModelKind kind;
  double dropout;
  int64_t k;
  RecurrenceKind recurrence = RecurrenceKind::kLstm;
  HeadKind head = HeadKind::kAuto;
};

class RecomputeTest : public ::testing::TestWithParam<Case> {};

ModelConfig model_config(const Case& c) {
  ModelConfig mc;
  mc.kind = c.kind;
  mc.embedding_size = 12;
  mc.hidden_size = 24;
  mc.layers = 2;
  mc.dropout = c.dropout;
  mc.recurrence = c.recurrence;
  mc.head = c.head;
  if (c.head == HeadKind::kNade) mc.nade_hidden = 10;
  if (c.kind == ModelKind::kChars) mc.condition = Condition::kArtist;
  return mc;
}

struct Pass {
  double loss = 0;
  torch::Tensor grads, state_grads, h_last;
};

// One forward and backward pass of a T = 23, B = 3 window; the incoming state requires a
// gradient, so the chain of segments must carry it back to the start.
Pass run_pass(const Case& c, int64_t k) {
  torch::manual_seed(11);
  const ModelConfig mc = model_config(c);
  SequenceModel model = c.kind == ModelKind::kChars       ? testing::symbol_model(mc, 20, 4)
                        : c.kind == ModelKind::kNotes ? build_note_model(mc, kKeys)
                                                      : testing::frame_model(mc, c.head);
  const int64_t T = 23, B = 3;
  WindowTensors t;
  t.artist = torch::tensor({0, 3, 1}, torch::kLong);
  if (c.kind == ModelKind::kPianoRoll) {
    t.inputs = (torch::rand({T, B, kKeys}) > 0.9).to(torch::kLong);
    t.targets = (torch::rand({T, B, kKeys}) > 0.9).to(torch::kLong);
  } else if (c.kind == ModelKind::kNotes) {
    // Rows as a note source lays them out: the symbol before and two key sets; targets with the
    // lowest allowed symbol (1, or the target itself: the rising order allows it).
    t.inputs = torch::cat({torch::randint(0, kKeys + 1, {T, B, 1}, torch::kLong),
                           (torch::rand({T, B, 2 * kKeys}) > 0.9).to(torch::kLong)}, 2);
    const torch::Tensor symbol = torch::randint(0, kKeys + 1, {T, B, 1}, torch::kLong);
    const torch::Tensor floor = torch::where((symbol > 0) & (torch::rand({T, B, 1}) > 0.5), symbol,
                                             torch::ones_like(symbol));
    t.targets = torch::cat({symbol, floor}, 2);
  } else {
    // Artist-conditioned: (symbol, the stream's artist) rows.
    t.inputs = torch::stack({torch::randint(0, 20, {T, B}, torch::kLong),
                             t.artist.unsqueeze(0).expand({T, B})}, 2);
    t.targets = torch::randint(0, 20, {T, B}, torch::kLong);
  }
  t.mask = torch::ones({T, B});
  t.mask.slice(0, 17).select(1, 2).zero_();  // stream 2's song ends early: padding
  RecurrentState start = model->zero_state(B, torch::kCPU);
  for (auto& x : start.tensors) x = torch::randn_like(x).requires_grad_(true);
  WindowDropout dropout;
  dropout.seed = 5;
  dropout.window = 7;
  dropout.stream_ids = {4, 5, 6};
  dropout.layers = mc.layers;
  dropout.width = mc.hidden_size;
  dropout.p = c.dropout;
  dropout.input_width = model->features().size();
  dropout.input_p = c.dropout / 2;  // input dropout too when dropout is on
  model->train();
  auto [loss, next] = window_loss(*model, t, start, dropout, k);
  // The final state feeds a later window in TBPTT: make it part of the objective.
  (loss + next.tensors.back().sum() * 0.5).backward();
  Pass p;
  p.loss = loss.item<double>();
  std::vector<torch::Tensor> flat;
  for (const auto& param : model->parameters()) flat.push_back(param.grad().reshape({-1}));
  p.grads = torch::cat(flat);
  p.state_grads = torch::cat({start.tensors.front().grad().reshape({-1}),
                              start.tensors.back().grad().reshape({-1})});
  p.h_last = next.tensors.back().detach();
  return p;
}

TEST_P(RecomputeTest, GradientsEqualThoseOfThePlainBackwardPass) {
  const Case c = GetParam();
  const Pass plain = run_pass(c, /*k=*/0), recomputed = run_pass(c, c.k);
  EXPECT_NEAR(recomputed.loss, plain.loss, 1e-6 * std::abs(plain.loss));
  EXPECT_LE((recomputed.h_last - plain.h_last).abs().max().item<double>(), 1e-6);
  const double norm = plain.grads.norm().item<double>();
  ASSERT_GT(norm, 0);
  EXPECT_LE((recomputed.grads - plain.grads).norm().item<double>() / norm, 1e-6)
      << "gradient differs relative to its norm " << norm;
  const double state_norm = plain.state_grads.norm().item<double>();
  ASSERT_GT(state_norm, 0) << "the incoming state gets a gradient";
  EXPECT_LE((recomputed.state_grads - plain.state_grads).norm().item<double>() / state_norm, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(
    ModelsDropoutSegments, RecomputeTest,
    ::testing::Values(Case{ModelKind::kChars, 0.0, 5}, Case{ModelKind::kChars, 0.3, 5},
                      Case{ModelKind::kChars, 0.3, 1}, Case{ModelKind::kPianoRoll, 0.0, 4},
                      Case{ModelKind::kPianoRoll, 0.3, 7},
                      Case{ModelKind::kChars, 0.3, 5, RecurrenceKind::kGru},
                      Case{ModelKind::kPianoRoll, 0.3, 4, RecurrenceKind::kGru},
                      Case{ModelKind::kPianoRoll, 0.3, 6, RecurrenceKind::kLstm, HeadKind::kNade},
                      Case{ModelKind::kNotes, 0.0, 5}, Case{ModelKind::kNotes, 0.3, 4},
                      Case{ModelKind::kNotes, 0.3, 6, RecurrenceKind::kGru}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return name_of(info.param.kind) + "_" + name_of(info.param.recurrence) +
             (info.param.head == HeadKind::kNade ? "_nade" : "") +
             (info.param.dropout > 0 ? "_dropout" : "_plain") + "_k" + std::to_string(info.param.k);
    });

TEST(RecomputeTest, DropoutOfASegmentIsThatSliceOfTheWindowsMask) {
  WindowDropout d;
  d.seed = 3;
  d.window = 9;
  d.stream_ids = {0, 2};
  d.layers = 2;
  d.width = 16;
  d.p = 0.4;
  d.input_width = 5;
  d.input_p = 0.25;
  const auto whole = d.masks(0, 20), part = d.masks(6, 13);
  ASSERT_EQ(part.layers.size(), 2u);
  for (int l = 0; l < 2; ++l)
    EXPECT_TRUE(torch::equal(part.layers[l], whole.layers[l].slice(0, 6, 13)));
  ASSERT_TRUE(part.input.defined());
  EXPECT_TRUE(torch::equal(part.input, whole.input.slice(0, 6, 13)));
  EXPECT_EQ(whole.input.size(2), 5);
  d.input_p = 0;
  EXPECT_FALSE(d.masks(0, 4).input.defined()) << "no input mask when input dropout is off";
}

TEST(RecomputeSegmentTest, AutoIsAboutTheSquareRootAndOffOrLongerMeansNone) {
  const RecomputeEvery off{false, 0}, automatic{true, 0}, every16{false, 16}, every128{false, 128};
  EXPECT_EQ(off.segment(100), 0);
  EXPECT_EQ(automatic.segment(4096), 64);
  EXPECT_EQ(automatic.segment(1000), 32);
  EXPECT_EQ(every16.segment(100), 16);
  EXPECT_EQ(every128.segment(100), 0) << "a segment as long as the window saves nothing";
}

TEST(ActivationEstimateTest, RecomputationGrowsLikeTheSquareRootOfTheWindow) {
  ModelConfig mc;
  mc.hidden_size = 512;
  mc.layers = 2;
  const ActivationProfile p = testing::symbol_model(mc, 100)->activation_profile(/*dropout=*/false);
  const double full_1k = activation_bytes(p, 32, 1024, 0);
  const double full_4k = activation_bytes(p, 32, 4096, 0);
  EXPECT_NEAR(full_4k / full_1k, 4.0, 1e-9) << "the plain pass keeps every step";
  const RecomputeEvery automatic{true, 0};
  const double re_1k = activation_bytes(p, 32, 1024, automatic.segment(1024));
  const double re_4k = activation_bytes(p, 32, 4096, automatic.segment(4096));
  EXPECT_NEAR(re_4k / re_1k, 2.0, 0.05);
  EXPECT_LT(re_4k, 0.05 * full_4k);
  // Validation runs in windows of at most 128 positions: its memory does not grow with T.
  EXPECT_EQ(evaluation_bytes(p, 32, 4096), evaluation_bytes(p, 32, 128));
  EXPECT_LT(evaluation_bytes(p, 32, 64), evaluation_bytes(p, 32, 128));
  EXPECT_LT(evaluation_bytes(p, 32, 4096), 0.05 * re_4k + 0.05 * full_4k);
}

TEST(ActivationEstimateTest, EachRecurrenceAndHeadReportsItsOwn) {
  ModelConfig mc;
  mc.embedding_size = 64;
  mc.hidden_size = 512;
  mc.layers = 2;
  const ActivationProfile lstm = testing::frame_model(mc)->activation_profile(false);
  // The LSTM's calibrated figure: 12 floats per unit and layer, the input, the logits.
  EXPECT_DOUBLE_EQ(lstm.kept_per_step, 12.0 * 2 * 512 + 64 + 2.0 * kKeys);
  EXPECT_DOUBLE_EQ(lstm.state, 2.0 * 2 * 512) << "h and c per layer";
  EXPECT_GT(testing::frame_model(mc)->activation_profile(/*dropout=*/true).kept_per_step,
            lstm.kept_per_step) << "dropout keeps masks";
  ModelConfig gru = mc;
  gru.recurrence = RecurrenceKind::kGru;
  const ActivationProfile g = testing::frame_model(gru)->activation_profile(false);
  EXPECT_DOUBLE_EQ(g.state, 2 * 512.0) << "h per layer";
  EXPECT_NE(g.kept_per_step, lstm.kept_per_step);
  ModelConfig nade = mc;
  nade.head = HeadKind::kNade;
  const ActivationProfile n = testing::frame_model(nade, HeadKind::kNade)->activation_profile(false);
  EXPECT_GT(n.kept_per_step - lstm.kept_per_step, 2 * 12 * kDefaultNadeHidden)
      << "the NADE's hidden layers per distinct key set";
  const ActivationProfile notes = build_note_model(mc, kKeys)->activation_profile(false);
  EXPECT_DOUBLE_EQ(notes.kept_per_step, 12.0 * 2 * 512 + 2 * 64 + 2.0 * (kKeys + 1))
      << "two feature halves, a softmax over the keys and the end of frame";
}

}  // namespace
}  // namespace chorus
