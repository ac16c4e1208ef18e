// The fused LSTM (trainer/models/fused_lstm.h) against torch::nn::LSTM: forward outputs, final
// (h, c) and every gradient (inputs, initial state, weights, biases) per tensor within
// max|a - b| <= 1e-5 max|b|, over shapes with B = 1, T = 1 and H not a multiple of 8 or 16, one
// layer and stacks with dropout between layers; the pass without a graph equals the one with;
// buffers are reused only when free; and whole training runs (lyrics and piano rolls, with and
// without recomputation) give per-step losses and gradient norms within relative 1e-5.
#include "trainer/models/fused_lstm.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/fixtures.h"
#include "tests/support/runs.h"
#include "trainer/models/registry.h"
#include "trainer/run/trainer.h"
#include "trainer/tasks/task.h"

namespace chorus {
namespace {

// max|a - b| <= 1e-5 max|b|, naming the tensor.
void expect_close(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double scale = b.abs().max().item<double>();
  const double diff = (a - b).abs().max().item<double>();
  EXPECT_LE(diff, 1e-5 * scale) << what << ": max difference " << diff << ", max " << scale;
}

struct Shape {
  int64_t T, B, in, H;
};

class FusedLayerTest : public ::testing::TestWithParam<Shape> {};

TEST_P(FusedLayerTest, EqualsTorchsLstmForwardAndBackward) {
  const Shape s = GetParam();
  torch::manual_seed(static_cast<uint64_t>(s.T * 1000 + s.H));
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(s.in, s.H));
  const torch::Tensor x0 = torch::randn({s.T, s.B, s.in});
  const torch::Tensor h00 = torch::randn({s.B, s.H}) * 0.5, c00 = torch::randn({s.B, s.H});
  // Cotangents of y, h_T, c_T: the carried state feeds later windows, so its gradient matters.
  const torch::Tensor gy = torch::randn({s.T, s.B, s.H}), gh = torch::randn({s.B, s.H}),
                      gc = torch::randn({s.B, s.H});
  struct Result {
    std::vector<torch::Tensor> values;  // y, h_T, c_T, then the gradients
  };
  auto run = [&](bool fused) {
    torch::Tensor x = x0.clone().requires_grad_(true), h0 = h00.clone().requires_grad_(true),
                  c0 = c00.clone().requires_grad_(true);
    lstm->zero_grad();
    torch::Tensor y, h, c;
    if (fused) {
      const auto w = lstm->all_weights();
      auto out = fused_lstm_layer(x, h0, c0, w[0], w[1], w[2], w[3],
                                  std::make_shared<FusedLstmWorkspace>());
      y = out[0], h = out[1], c = out[2];
    } else {
      auto [out, hc] = lstm->forward(x, std::make_tuple(h0.unsqueeze(0), c0.unsqueeze(0)));
      y = out, h = std::get<0>(hc).squeeze(0), c = std::get<1>(hc).squeeze(0);
    }
    ((y * gy).sum() + (h * gh).sum() + (c * gc).sum()).backward();
    Result r;
    r.values = {y.detach(), h.detach(), c.detach(), x.grad(), h0.grad(), c0.grad()};
    for (const auto& p : lstm->parameters()) r.values.push_back(p.grad().clone());
    return r;
  };
  const Result torch_result = run(false), fused_result = run(true);
  const char* names[] = {"y", "h_T", "c_T", "dx", "dh0", "dc0", "dW_ih", "dW_hh", "db_ih", "db_hh"};
  ASSERT_EQ(fused_result.values.size(), 10u);
  for (size_t i = 0; i < 10; ++i) expect_close(fused_result.values[i], torch_result.values[i], names[i]);
}

INSTANTIATE_TEST_SUITE_P(Shapes, FusedLayerTest,
                         ::testing::Values(Shape{1, 1, 3, 5}, Shape{7, 3, 10, 13},
                                           Shape{16, 4, 8, 33}, Shape{5, 1, 17, 24},
                                           Shape{12, 6, 20, 70}, Shape{3, 2, 6, 16}),
                         [](const auto& info) {
                           const Shape& s = info.param;
                           return "T" + std::to_string(s.T) + "_B" + std::to_string(s.B) + "_in" +
                                  std::to_string(s.in) + "_H" + std::to_string(s.H);
                         });

// Stacks of one and three layers with dropout masks between them, through the recurrence seam.
TEST(FusedStackTest, StacksWithDropoutEqualTorchs) {
  for (int64_t layers : {1, 3}) {
    ModelConfig mc;
    mc.hidden_size = 21;
    mc.layers = layers;
    mc.lstm_impl = LstmImpl::kTorch;
    torch::manual_seed(3);
    auto reference = make_recurrence(/*input_size=*/9, mc);
    mc.lstm_impl = LstmImpl::kFused;
    torch::manual_seed(3);
    auto fused = make_recurrence(9, mc);
    const int64_t T = 6, B = 4;
    const torch::Tensor x0 = torch::randn({T, B, 9});
    std::vector<torch::Tensor> masks;
    for (int64_t l = 0; l < layers; ++l) masks.push_back((torch::rand({T, B, 21}) > 0.3).to(torch::kFloat32) / 0.7);
    RecurrentState start = reference->zeros(B, torch::kCPU);
    for (auto& t : start.tensors) t = torch::randn_like(t);
    auto run = [&](RecurrenceImpl& r) {
      torch::Tensor x = x0.clone().requires_grad_(true);
      RecurrentState next;
      const torch::Tensor top = r.forward(x, start, masks, &next);
      (top.pow(2).sum() + next.tensors.back().sum()).backward();
      std::vector<torch::Tensor> out = {top.detach(), x.grad()};
      for (const auto& t : next.tensors) out.push_back(t.detach());
      for (const auto& p : r.parameters()) out.push_back(p.grad());
      return out;
    };
    const auto a = run(*fused), b = run(*reference);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i)
      expect_close(a[i], b[i], std::to_string(layers) + " layers, tensor " + std::to_string(i));
  }
}

TEST(FusedLayerTest, ThePassWithoutAGraphEqualsTheOneWith) {
  torch::manual_seed(4);
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(5, 11));
  const auto w = lstm->all_weights();
  const torch::Tensor x = torch::randn({9, 3, 5}), h0 = torch::randn({3, 11}), c0 = torch::randn({3, 11});
  auto ws = std::make_shared<FusedLstmWorkspace>();
  const auto with_graph = fused_lstm_layer(x, h0, c0, w[0], w[1], w[2], w[3], ws);
  ASSERT_TRUE(with_graph[0].requires_grad());
  torch::NoGradGuard no_grad;
  const auto without = fused_lstm_layer(x, h0, c0, w[0], w[1], w[2], w[3], ws);
  EXPECT_FALSE(without[0].requires_grad());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::equal(with_graph[i], without[i])) << i;
}

TEST(FusedLstmWorkspaceTest, ABufferIsHandedOutAgainOnlyWhenFree) {
  FusedLstmWorkspace ws;
  torch::Tensor a = ws.get(0, {4, 8});
  const void* first = a.data_ptr();
  torch::Tensor held = a;  // a graph or a returned view still holds it
  a.reset();
  torch::Tensor b = ws.get(0, {4, 8});
  EXPECT_NE(b.data_ptr(), first) << "a held buffer must not be reused";
  held.reset();
  b.reset();
  torch::Tensor c = ws.get(0, {2, 8});
  EXPECT_NE(c.data_ptr(), nullptr);
  const void* second = c.data_ptr();
  c.reset();
  EXPECT_EQ(ws.get(0, {4, 8}).data_ptr(), second) << "a free buffer is reused";
}

// Evaluation without a graph (windows carried over each other) gives torch's figures.
TEST(FusedEvaluationTest, ValidationEqualsTorchsWithTheStateCarried) {
  const std::string dir = testing::make_temp_dir("fusedeval");
  const auto task = open_task(testing::write_fixture_corpus(dir, 4, 5));
  ModelConfig mc;
  mc.embedding_size = 8;
  mc.hidden_size = 40;
  mc.layers = 2;
  mc.lstm_impl = LstmImpl::kTorch;
  torch::manual_seed(6);
  SequenceModel reference = task->build_model(mc);
  mc.lstm_impl = LstmImpl::kFused;
  torch::manual_seed(6);
  SequenceModel fused = task->build_model(mc);
  LocalCommunicator comm;
  Evaluator evaluator(*task, comm);
  for (int64_t window : {7, 128}) {
    EvalRequest request;
    request.window = window;
    request.batch_size = 3;
    const EvalResult a = evaluator.run(*fused, "valid", request), b = evaluator.run(*reference, "valid", request);
    EXPECT_EQ(a.count, b.count);
    EXPECT_NEAR(a.loss(), b.loss(), 1e-6 * b.loss()) << "window " << window;
  }
  std::filesystem::remove_all(dir);
}

// Whole runs at a constant learning rate: fused and torch agree step by step.
class FusedTrainingTest : public testing::TempDirTest,
                          public ::testing::WithParamInterface<std::tuple<ModelKind, int64_t>> {};

TEST_P(FusedTrainingTest, LossesAndGradientNormsMatchTorchsOverTenSteps) {
  const auto [kind, recompute] = GetParam();
  const std::string path = kind == ModelKind::kChars
                               ? testing::write_fixture_corpus(dir_, 12, 2)
                               : testing::write_fixture_pianoroll(dir_, 12, 2);
  auto run = [&, kind = kind, recompute = recompute](LstmImpl impl) {
    Config c = testing::small_run_config(path, dir_ + "/" + name_of(impl));  // lr 0.01, constant
    c.data.valid_split = "";
    c.eval.every = 0;
    c.run.seed = 11;
    c.model.kind = kind;
    c.model.hidden_size = 24;
    c.model.lstm_impl = impl;
    c.train.seq_len = 16;
    c.train.recompute_every = RecomputeEvery{false, recompute};
    LocalCommunicator comm;
    std::ostringstream log;
    const auto task = open_task(path, c);
    Trainer trainer(c, *task, comm, log);
    std::vector<StepResult> steps;
    for (int i = 0; i < 10; ++i) steps.push_back(trainer.step());
    return steps;
  };
  const auto fused = run(LstmImpl::kFused), reference = run(LstmImpl::kTorch);
  for (size_t i = 0; i < fused.size(); ++i) {
    EXPECT_NEAR(fused[i].loss, reference[i].loss, 1e-5 * std::abs(reference[i].loss)) << "step " << i + 1;
    EXPECT_NEAR(fused[i].grad_norm, reference[i].grad_norm, 1e-5 * reference[i].grad_norm)
        << "step " << i + 1;
  }
}

INSTANTIATE_TEST_SUITE_P(ModelsAndRecomputation, FusedTrainingTest,
                         ::testing::Combine(::testing::Values(ModelKind::kChars, ModelKind::kPianoRoll,
                                                              ModelKind::kNotes),
                                            ::testing::Values(int64_t{0}, int64_t{5})),
                         [](const auto& info) {
                           return name_of(std::get<0>(info.param)) + "_recompute" +
                                  std::to_string(std::get<1>(info.param));
                         });

}  // namespace
}  // namespace chorus
