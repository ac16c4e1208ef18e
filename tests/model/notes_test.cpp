// The note-by-note model (model.kind: notes): a distribution over whole frames (all 2^K frames of
// a model over K keys sum to 1 from any state), its per-frame likelihood equal to the symbols'
// computed one at a time, the two-chord corpus learnt far below the independent head's floor,
// and the task end to end: training with dropout, transposition and recomputation, exact resume,
// sampling, evaluation.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <sstream>

#include "data/errors.h"
#include "data/files.h"
#include "data/note_sequence.h"
#include "data/pianoroll_corpus.h"
#include "tests/support/fixtures.h"
#include "tests/support/runs.h"
#include "trainer/models/sampling.h"
#include "trainer/run/checkpointer.h"
#include "trainer/run/evaluator.h"
#include "trainer/run/trainer.h"
#include "trainer/tasks/notes_task.h"
#include "trainer/tasks/task.h"

namespace chorus {
namespace {
namespace fs = std::filesystem;

// Input rows and (symbol, floor) target rows of `symbols`, as the note source lays them out.
void rows_of(const std::vector<int32_t>& symbols, int64_t K, torch::Tensor* inputs,
             torch::Tensor* targets) {
  const auto P = static_cast<int64_t>(symbols.size());
  *inputs = torch::zeros({P, 1, note_input_width(K)}, torch::kLong);
  *targets = torch::zeros({P, 1, 2}, torch::kLong);
  NoteEncoder encoder(K);
  for (int64_t p = 0; p < P; ++p) {
    encoder.input_row((*inputs)[p][0].data_ptr<int64_t>());
    (*targets)[p][0][0] = symbols[p];
    (*targets)[p][0][1] = encoder.floor();
    encoder.push(symbols[p]);
  }
}

std::vector<int32_t> symbols_of(const std::vector<std::vector<int>>& frames, int64_t K) {
  SongData s;
  s.width = K;
  for (const auto& f : frames) {
    std::vector<int32_t> row(K, 0);
    for (int k : f) row[k] = 1;
    s.values.insert(s.values.end(), row.begin(), row.end());
  }
  return frames_to_symbols(s);
}

ModelConfig small_model(int64_t hidden = 12) {
  ModelConfig mc;
  mc.kind = ModelKind::kNotes;
  mc.embedding_size = 6;
  mc.hidden_size = hidden;
  mc.layers = 2;
  mc.lstm_impl = LstmImpl::kTorch;  // in double precision
  return mc;
}

TEST(NoteModelTest, TheProbabilitiesOfAllFramesSumToOne) {
  const int64_t K = 4;
  for (uint64_t seed : {1, 2, 3}) {
    torch::manual_seed(static_cast<int64_t>(seed));
    SequenceModel model = build_note_model(small_model(), K);
    model->to(torch::kDouble);
    model->eval();
    // A random state: after a random prime of 3 frames.
    std::mt19937_64 engine(seed);
    std::vector<std::vector<int>> prime(3);
    for (auto& f : prime)
      for (int k = 0; k < K; ++k)
        if (engine() % 2) f.push_back(k);
    const std::vector<int32_t> before = symbols_of(prime, K);
    double total = 0;
    for (int bits = 0; bits < (1 << K); ++bits) {
      std::vector<std::vector<int>> frames = prime;
      frames.emplace_back();
      for (int k = 0; k < K; ++k)
        if (bits >> k & 1) frames.back().push_back(k);
      torch::Tensor inputs, targets;
      rows_of(symbols_of(frames, K), K, &inputs, &targets);
      torch::NoGradGuard no_grad;
      RecurrentState next;
      RecurrentState zero = model->zero_state(1, torch::kCPU);
      for (auto& x : zero.tensors) x = x.to(torch::kDouble);
      const torch::Tensor top = model->top(inputs, zero, {}, &next);
      const torch::Tensor nll = model->head().nll(top, targets);  // [P, 1]
      const auto first = static_cast<int64_t>(before.size());
      total += std::exp(-nll.slice(0, first).sum().item<double>());
    }
    EXPECT_NEAR(total, 1.0, 1e-6) << "seed " << seed;
  }
}

class NoteTaskTest : public testing::TempDirTest {
 protected:
  // A corpus whose every frame is one of two disjoint three-note chords, drawn at random.
  std::string two_chords(int64_t songs, int64_t valid) const {
    const std::string path = dir_ + "/chords.h5";
    PianoRollResolution resolution;
    resolution.frames_per_quarter = 4;
    PianoRollWriter writer(path, resolution, {{"source", "two chords"}, {"source_kind", "text"},
                                              {"options", "{}"}});
    std::mt19937_64 engine(9);
    for (int64_t i = 0; i < songs + valid; ++i) {
      std::vector<Frame> frames(48);
      for (Frame& f : frames)
        for (int key : engine() % 2 ? std::vector<int>{40, 44, 47} : std::vector<int>{50, 53, 57})
          f[key] = true;
      writer.add_song(i < songs ? "train" : "valid", "song " + std::to_string(i), frames);
    }
    writer.commit();
    return path;
  }

  Config config(const std::string& data, const std::string& name) const {
    Config c = testing::small_run_config(data, dir_ + "/" + name);
    c.model.kind = ModelKind::kNotes;
    c.train.seq_len = 24;
    return c;
  }

  double valid_loss(const std::string& run) {
    std::ostringstream log;
    LoadedModel m = load_model(run, log);
    const auto data = open_task(m.config.data.path, m.config);
    return Evaluator(*data, comm_).run(*m.model, "valid", EvalRequest{}).loss();
  }

  LocalCommunicator comm_;
};

TEST_F(NoteTaskTest, TheTwoChordCorpusGoesFarBelowTheIndependentHeadsFloor) {
  const std::string data = two_chords(16, 4);
  auto trained = [&](ModelKind kind, const std::string& name) {
    Config c = config(data, name);
    c.model.kind = kind;
    c.model.dropout = 0;
    c.model.hidden_size = 32;
    c.train.steps = 150;
    c.train.batch_size = 8;
    c.eval.every = 0;
    c.checkpoint.every = 0;
    testing::run_losses(c, comm_);
    return valid_loss(c.run.dir);
  };
  const double floor = 6 * std::log(2.0);  // six keys each on half the time, independently
  const double independent = trained(ModelKind::kPianoRoll, "independent");
  const double notes = trained(ModelKind::kNotes, "notes");
  std::cerr << "valid nats per frame: independent head " << independent << ", note model " << notes
            << " (floor of the independent head " << floor << ", the chords' entropy ln 2)\n";
  EXPECT_GT(independent, floor - 0.1) << "independent keys cannot see that a chord is one event";
  EXPECT_LT(notes, 0.4 * floor) << "the note model learns a chord from its first note (ln 2 = 0.69)";
}

TEST_F(NoteTaskTest, PerFrameLikelihoodIsTheSumOfItsSymbolsComputedOneByOne) {
  const std::string data = testing::write_fixture_pianoroll(dir_, 4, 3);
  Config c = config(data, "unused");
  const auto task = open_task(data, c);
  torch::manual_seed(4);
  SequenceModel model = task->build_model(c.model);
  EvalRequest request;
  request.window = 7;  // windows cut through frames, the state carried
  const EvalResult r = Evaluator(*task, comm_).run(*model, "valid", request);
  // By hand: one symbol at a time, the softmax over what the order allows, frame by frame.
  const PianoRollReader rolls(data);
  double total = 0, frames = 0;
  torch::NoGradGuard no_grad;
  model->eval();
  for (int64_t song = 0; song < 3; ++song) {
    SongData f;
    rolls.read("valid", song, &f);
    const std::vector<int32_t> symbols = frames_to_symbols(f);
    NoteEncoder encoder(kKeys);
    RecurrentState state = model->zero_state(1, torch::kCPU);
    for (int32_t s : symbols) {
      torch::Tensor row = torch::empty({1, 1, note_input_width(kKeys)}, torch::kLong);
      encoder.input_row(row.data_ptr<int64_t>());
      RecurrentState next;
      const torch::Tensor top = model->top(row, state, {}, &next);
      state = std::move(next);
      const auto params = model->head().named_parameters();
      const torch::Tensor logits =
          (top[0][0].matmul(params["out.weight"].t()) + params["out.bias"]).to(torch::kDouble);
      const int32_t floor = encoder.floor();
      double z = std::exp(logits[0].item<double>());
      for (int64_t id = floor; id <= kKeys; ++id) z += std::exp(logits[id].item<double>());
      total += std::log(z) - logits[s].item<double>();
      frames += s == kEndOfFrame;
      encoder.push(s);
    }
  }
  EXPECT_EQ(r.count, frames) << "one count per frame";
  EXPECT_NEAR(r.loss_sum, total, 1e-5 * total);
}

TEST_F(NoteTaskTest, TrainsResumesSamplesAndEvaluatesWithDropoutTranspositionAndRecomputation) {
  const std::string data = testing::write_fixture_pianoroll(dir_, 12, 3);
  auto cfg = [&](const std::string& name) {
    Config c = config(data, name);
    c.model.input_dropout = 0.1;
    c.train.transpose = 3;
    c.train.recompute_every = RecomputeEvery{false, 5};
    return c;
  };
  const std::vector<double> straight = testing::run_losses(cfg("straight"), comm_);
  ASSERT_EQ(straight.size(), 8u);
  EXPECT_LT(straight.back(), straight.front());
  Config half = cfg("resumed");
  half.train.steps = 4;
  testing::run_losses(half, comm_);
  EXPECT_EQ(testing::run_losses(cfg("resumed"), comm_, /*resume=*/true), straight)
      << "4 steps + resume + 4 steps must equal 8 steps bit for bit";
  Config plain = cfg("plain");
  plain.train.recompute_every = RecomputeEvery{};
  testing::expect_close(testing::run_losses(plain, comm_), straight, 1e-5);

  std::ostringstream log;
  LoadedModel m = load_model(dir_ + "/straight", log);
  EXPECT_EQ(m.config.model.kind, ModelKind::kNotes);
  EXPECT_EQ(m.task->describe_checkpoint().at("keys"), kKeys);
  SampleRequest request;
  request.options.length = 12;
  request.out = dir_ + "/tune.mid";
  request.image = dir_ + "/tune.png";
  request.prime_data = data;
  request.prime_length = 5;
  ::testing::internal::CaptureStdout();
  m.task->sample(*m.model, request);
  const std::string printed = ::testing::internal::GetCapturedStdout();
  const auto summary = nlohmann::json::parse(printed);
  EXPECT_EQ(summary.at("frames"), 17) << "the prime's 5 frames and 12 drawn ones";
  EXPECT_TRUE(fs::exists(dir_ + "/tune.mid") && fs::exists(dir_ + "/tune.png"));
  const std::string first = read_file(dir_ + "/tune.mid");
  ::testing::internal::CaptureStdout();
  m.task->sample(*m.model, request);
  ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(read_file(dir_ + "/tune.mid"), first) << "same seed, same tune";

  const double loss = valid_loss(dir_ + "/straight");
  EXPECT_GT(loss, 0);
  EXPECT_LT(loss, 88 * std::log(2.0)) << "better than the fair coin";
}

TEST_F(NoteTaskTest, HeadsOtherThanItsSoftmaxAndConditioningAreRefused) {
  const std::string data = testing::write_fixture_pianoroll(dir_, 4, 1);
  Config c = config(data, "refused");
  const auto task = open_task(data, c);
  EXPECT_EQ(task->kind(), ModelKind::kNotes);
  EXPECT_EQ(task->resolved(c).model.head, HeadKind::kSoftmax) << "auto is its softmax";
  c.model.head = HeadKind::kNade;
  try {
    task->check_config(c);
    FAIL() << "a NADE head on the note model was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model.head is 'nade'"), std::string::npos) << e.what();
  }
  c.model.head = HeadKind::kAuto;
  c.model.condition = Condition::kArtist;
  EXPECT_THROW(task->check_config(c), InputError);
  Config lyrics = c;
  lyrics.model.condition = Condition::kNone;
  try {
    open_task(testing::write_fixture_corpus(dir_, 4, 1), lyrics);
    FAIL() << "a notes model opened a lyrics corpus";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model.kind is 'notes'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace chorus
