// The Trainer in one process, through the in-process fake communicator (LocalCommunicator: one
// rank, no MPI, no mpiexec): training, exact resume and a checkpoint's files for every recurrence,
// the GRU end to end (train, sample, evaluate), validation memory that does not grow with the
// training window, and refusals of empty splits.
#include "trainer/run/trainer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/errors.h"
#include "data/files.h"
#include "tests/support/fixtures.h"
#include "tests/support/runs.h"
#include "trainer/models/registry.h"
#include "trainer/run/evaluator.h"
#include "trainer/tasks/task.h"
#include "trainer/tools/baselines.h"

namespace chorus {
namespace {
namespace fs = std::filesystem;

using testing::run_losses;
using testing::small_run_config;

class TrainerTest : public testing::TempDirTest,
                    public ::testing::WithParamInterface<RecurrenceKind> {
 protected:
  Config config(const std::string& name) const {
    Config c = small_run_config(dir_ + "/fixture.h5", dir_ + "/" + name);
    c.run.seed = 5;
    c.model.recurrence = GetParam();
    c.train.seq_len = 8;
    return c;
  }

  std::vector<double> run(const Config& c, bool resume = false) {
    return run_losses(c, comm_, resume);
  }

  void SetUp() override {
    TempDirTest::SetUp();
    testing::write_fixture_corpus(dir_, /*songs=*/12, /*valid_songs=*/3);
  }

  LocalCommunicator comm_;
};

TEST_P(TrainerTest, TrainsAndResumesBitForBit) {
  const std::vector<double> straight = run(config("straight"));
  ASSERT_EQ(straight.size(), 8u);
  EXPECT_LT(straight.back(), straight.front()) << "the loss falls";
  Config half = config("resumed");
  half.train.steps = 4;
  run(half);
  EXPECT_EQ(run(config("resumed"), /*resume=*/true), straight)
      << "4 steps + resume + 4 steps must equal 8 steps bit for bit";
}

TEST_P(TrainerTest, CheckpointsHoldTheRecurrencesOwnState) {
  run(config("files"));
  const std::string ckpt = dir_ + "/files/checkpoints/step-00000008";
  torch::serialize::InputArchive archive;
  archive.load_from(ckpt + "/streams-rank00000.pt");
  std::vector<std::string> keys = archive.keys();
  std::sort(keys.begin(), keys.end());
  const std::vector<std::string> expected =
      GetParam() == RecurrenceKind::kLstm
          ? std::vector<std::string>{"c0", "c1", "cursors", "first", "h0", "h1"}
          : std::vector<std::string>{"cursors", "first", "h0", "h1"};
  EXPECT_EQ(keys, expected);
  const Config saved = parse_config(read_file(ckpt + "/config.yaml"), "config.yaml", {});
  EXPECT_EQ(saved.model.recurrence, GetParam());
}

TEST_P(TrainerTest, SamplesAndEvaluatesWhatItTrained) {
  run(config("use"));
  std::ostringstream log;
  LoadedModel m = load_model(dir_ + "/use", log);
  EXPECT_EQ(m.config.model.recurrence, GetParam());
  m.task->write_sample(*m.model, SampleOptions{}, /*seed=*/3, dir_ + "/sample");
  EXPECT_EQ(read_file(dir_ + "/sample.txt").rfind("Why", 0), 0u);
  const auto data = open_task(dir_ + "/fixture.h5", m.config);
  m.task->check_eval_data(*data, "valid", dir_ + "/use");
  const EvalResult r = Evaluator(*data, comm_).run(*m.model, "valid", EvalRequest{});
  EXPECT_EQ(r.songs, 3);
  EXPECT_GT(r.loss(), 0);
  EXPECT_LT(r.loss(), std::log(14.0)) << "better than uniform over the fixture's 14 symbols";
}

INSTANTIATE_TEST_SUITE_P(Recurrences, TrainerTest,
                         ::testing::Values(RecurrenceKind::kLstm, RecurrenceKind::kGru),
                         [](const auto& info) { return name_of(info.param); });

// Piano rolls with the NADE head, input dropout and transposition on: training, exact resume,
// sampling to MIDI and evaluation; the independent head's figures are not the NADE's.
class PianoRollTrainerTest : public testing::TempDirTest {
 protected:
  Config config(const std::string& name, HeadKind head) const {
    Config c = small_run_config(dir_ + "/fixture-rolls.h5", dir_ + "/" + name);
    c.model.kind = ModelKind::kPianoRoll;
    c.model.head = head;
    c.model.nade_hidden = head == HeadKind::kNade ? 12 : 0;
    c.model.input_dropout = 0.1;
    c.train.transpose = 3;
    c.train.seq_len = 10;
    return c;
  }
  std::vector<double> run(const Config& c, bool resume = false) {
    return run_losses(c, comm_, resume);
  }
  void SetUp() override {
    TempDirTest::SetUp();
    testing::write_fixture_pianoroll(dir_, /*songs=*/12, /*valid_songs=*/3);
  }
  LocalCommunicator comm_;
};

TEST_F(PianoRollTrainerTest, TheNadeHeadTrainsResumesSamplesAndEvaluates) {
  const std::vector<double> straight = run(config("nade", HeadKind::kNade));
  ASSERT_EQ(straight.size(), 8u);
  EXPECT_LT(straight.back(), straight.front());
  Config half = config("nade-resumed", HeadKind::kNade);
  half.train.steps = 4;
  run(half);
  EXPECT_EQ(run(config("nade-resumed", HeadKind::kNade), /*resume=*/true), straight);
  EXPECT_NE(run(config("independent", HeadKind::kIndependent)), straight);

  std::ostringstream log;
  LoadedModel m = load_model(dir_ + "/nade", log);
  EXPECT_EQ(m.config.model.head, HeadKind::kNade);
  m.task->write_sample(*m.model, SampleOptions{}, 5, dir_ + "/tune");
  EXPECT_TRUE(fs::exists(dir_ + "/tune.mid") && fs::exists(dir_ + "/tune.png"));
  const auto data = open_task(dir_ + "/fixture-rolls.h5", m.config);
  const EvalResult r = Evaluator(*data, comm_).run(*m.model, "valid", EvalRequest{});
  EXPECT_GT(r.loss(), 0);
  EXPECT_LT(r.loss(), 88 * std::log(2.0)) << "better than the fair coin";
}

TEST_F(PianoRollTrainerTest, HeadsThatDoNotFitTheDataAreRefusedNamingTheKey) {
  const auto rolls = open_task(dir_ + "/fixture-rolls.h5");
  Config c = config("softmax", HeadKind::kSoftmax);
  try {
    rolls->check_config(c);
    FAIL() << "a softmax head on piano rolls was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model.head"), std::string::npos) << e.what();
  }
  const auto lyrics = open_task(testing::write_fixture_corpus(dir_, 6, 1));
  Config l;
  l.model.head = HeadKind::kNade;
  try {
    lyrics->check_config(l);
    FAIL() << "a NADE head on lyrics was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model.head is 'nade'"), std::string::npos) << e.what();
  }
  l.model.head = HeadKind::kAuto;
  l.train.transpose = 2;
  EXPECT_THROW(lyrics->check_config(l), InputError);
}

// Features that remember the longest window they were asked for (the evaluator's memory grows
// with it: every position's activations of a call are alive at once).
class RecordingFeatures : public FeaturesImpl {
 public:
  explicit RecordingFeatures(std::shared_ptr<FeaturesImpl> inner)
      : inner_(register_module("inner", std::move(inner))) {}
  torch::Tensor forward(const torch::Tensor& inputs) override {
    longest = std::max(longest, inputs.size(0));
    return inner_->forward(inputs);
  }
  int64_t size() const override { return inner_->size(); }
  int64_t longest = 0;

 private:
  std::shared_ptr<FeaturesImpl> inner_;
};

class EvaluatorTest : public testing::TempDirTest {};

TEST_F(EvaluatorTest, ValidationWindowsDoNotGrowWithTheTrainingWindow) {
  const auto task = open_task(testing::write_fixture_corpus(dir_, 4, 6));
  ModelConfig mc;
  mc.embedding_size = 8;
  mc.hidden_size = 16;
  mc.layers = 2;
  torch::manual_seed(2);
  auto features = std::make_shared<RecordingFeatures>(
      make_symbol_features(task->outputs(), mc.embedding_size, 0, 0));
  SequenceModel model = build_model(mc, features, HeadKind::kSoftmax, task->outputs());
  LocalCommunicator comm;
  Evaluator evaluator(*task, comm);
  EvalRequest whole;
  whole.window = 4096;  // a train.seq_len of whole-song training
  const EvalResult long_window = evaluator.run(*model, "valid", whole);
  EXPECT_LE(features->longest, kEvalWindow);
  EXPECT_EQ(features->longest, kEvalWindow) << "the fixture's songs are longer than the window";
  EvalRequest short_window;
  short_window.window = 7;  // shorter windows, the state carried across them
  const EvalResult other = evaluator.run(*model, "valid", short_window);
  EXPECT_EQ(other.count, long_window.count);
  EXPECT_NEAR(other.loss(), long_window.loss(), 1e-6 * long_window.loss());
}

TEST_F(EvaluatorTest, AnEmptySplitIsAnErrorNamingTheFileAndSplit) {
  const std::string path = testing::write_fixture_corpus(dir_, 6, 0);  // no valid songs
  const auto task = open_task(path);
  ModelConfig mc;
  mc.hidden_size = 8;
  mc.layers = 1;
  SequenceModel model = task->build_model(mc);
  LocalCommunicator comm;
  try {
    Evaluator(*task, comm).run(*model, "valid", EvalRequest{});
    FAIL() << "an empty split was evaluated";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": split 'valid' has no songs"), std::string::npos)
        << e.what();
  }
  try {
    score_baseline(*task->fit_baseline(BaselineOptions{}), task->baseline_source(), "valid");
    FAIL() << "a baseline scored an empty split";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": split 'valid' has no songs"), std::string::npos)
        << e.what();
  }
  // Training on such a corpus goes on without validation, saying so (no "valid" record: a loss
  // of 0 over nothing would become the best checkpoint).
  Config c;
  c.data.path = path;
  c.run.dir = dir_ + "/run";
  c.train.batch_size = 2;
  c.train.steps = 4;
  c.eval.every = 2;
  c.model.hidden_size = 8;
  c.model.layers = 1;
  std::ostringstream log;
  Trainer trainer(c, *task, comm, log);
  trainer.start(false);
  EXPECT_EQ(trainer.train(nlohmann::json::object()), 0) << log.str();
  EXPECT_NE(log.str().find("split 'valid' (data.valid_split) has no songs: training without "
                           "validation"),
            std::string::npos)
      << log.str();
  EXPECT_EQ(read_file(c.run.dir + "/metrics.jsonl").find("\"valid\""), std::string::npos);
}

}  // namespace
}  // namespace chorus
