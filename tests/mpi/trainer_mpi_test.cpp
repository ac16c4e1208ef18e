// Multi-rank tests of data-parallel training (run under mpiexec -n 2): identical parameters on
// all ranks, 2 ranks x G/2 streams == 1 rank x G streams (dropout off and on), exact resume, and
// a 2-rank checkpoint resumed on 1 rank. The 1-rank runs use MPI_COMM_SELF inside the same job.
// No ASSERT_ before a collective: a failing rank must still enter it.
#include <mpi.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "data/corpus.h"
#include "data/errors.h"
#include "data/files.h"
#include "data/pianoroll_corpus.h"
#include "tests/support/fixtures.h"
#include "tests/support/runs.h"
#include "trainer/comm/mpi_communicator.h"
#include "trainer/run/trainer.h"
#include "trainer/tasks/task.h"

namespace chorus {
namespace {
namespace fs = std::filesystem;
using testing::expect_close;
using testing::run_losses;

class TrainerMpiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    MpiCommunicator world;
    std::string dir;
    if (world.rank() == 0) {
      dir = testing::make_temp_dir("mpi");
      testing::write_fixture_corpus(dir, /*songs=*/16, /*valid_songs=*/3);
      testing::write_fixture_pianoroll(dir, /*songs=*/12, /*valid_songs=*/3);
    }
    world.broadcast(&dir, 0);
    dir_ = dir;
  }
  static void TearDownTestSuite() {
    MpiCommunicator world;
    world.barrier();
    if (world.rank() == 0) fs::remove_all(dir_);
  }

  // The shared small run (tests/support/runs.h) with 10 steps of windows of 8, validated and
  // checkpointed at 5, dropout as asked (none by default).
  Config config(const std::string& name, double dropout = 0.0) const {
    Config c = testing::small_run_config(dir_ + "/fixture.h5", dir_ + "/" + name);
    c.run.seed = 99;
    c.model.dropout = dropout;
    c.train.seq_len = 8;
    c.train.steps = 10;
    c.eval.every = 5;
    c.checkpoint.every = 5;
    return c;
  }

  // Building a Trainer for `c` on the lyrics fixture is an InputError naming `key`.
  static void expect_refused(const Config& c, Communicator& comm, const std::string& key) {
    std::ostringstream log;
    try {  // refused opening the data for this model, or by the trainer
      const std::unique_ptr<Task> task = open_task(c.data.path, c);
      Trainer trainer(c, *task, comm, log);
      ADD_FAILURE() << "expected an InputError naming " << key;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }

  // The piano-roll fixture for `kind` with dropout 0.3, input dropout 0.1 and transposition.
  Config augmented_rolls(const std::string& name, ModelKind kind, int64_t transpose) const {
    Config c = config(name, 0.3);
    c.model.kind = kind;
    c.model.input_dropout = 0.1;
    c.train.transpose = transpose;
    c.data.path = dir_ + "/fixture-rolls.h5";
    return c;
  }

  static inline std::string dir_;
};

TEST_F(TrainerMpiTest, ParametersAreIdenticalOnAllRanks) {
  MpiCommunicator world;
  Config c = config("identical", 0.3);
  c.train.steps = 6;
  const std::unique_ptr<Task> task = open_task(c.data.path, c);
  std::ostringstream log;
  Trainer trainer(c, *task, world, log);
  trainer.start(false);
  for (int i = 0; i < 6; ++i) trainer.step();
  std::vector<torch::Tensor> flat;
  for (const auto& p : trainer.model()->parameters()) flat.push_back(p.detach().reshape({-1}));
  torch::Tensor mine = torch::cat(flat), root = mine.clone();
  world.broadcast(root.data_ptr<float>(), static_cast<size_t>(root.numel()), 0);
  EXPECT_TRUE(torch::equal(mine, root)) << "rank " << world.rank() << " differs from rank 0";
}

// train.precision bf16 on the CPU (LibTorch's CPU autocast): the losses stay within 2% of
// fp32's but are not fp32's, and the parameters stay fp32. (The CUDA case: tests/gpu.)
TEST_F(TrainerMpiTest, Bf16AutocastTrainsCloseToFp32) {
  MpiCommunicator world;
  Config low = config("bf16");
  low.train.precision = Precision::kBf16;
  const std::vector<double> bf16 = run_losses(low, world);
  const std::vector<double> fp32 = run_losses(config("fp32"), world);
  if (world.rank() == 0) {
    expect_close(bf16, fp32, 2e-2);
    EXPECT_NE(bf16, fp32) << "bf16 gave fp32's losses exactly: autocast did not run";
  }
  const std::unique_ptr<Task> task = open_task(low.data.path, low);
  std::ostringstream log;
  Trainer trainer(low, *task, world, log);
  trainer.start(/*resume=*/true);
  for (const auto& p : trainer.model()->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat32);
}

// (dropout, recurrence): every recurrence is data-parallel with dropout on and off.
class DataParallelTest : public TrainerMpiTest,
                         public ::testing::WithParamInterface<std::tuple<double, RecurrenceKind>> {};

TEST_P(DataParallelTest, TwoRanksWithHalfTheStreamsMatchOneRank) {
  MpiCommunicator world, self(MPI_COMM_SELF);
  const auto [dropout, recurrence] = GetParam();
  const std::string tag = (dropout > 0 ? "dropout-" : "plain-") + name_of(recurrence);
  auto with_recurrence = [&, recurrence = recurrence](Config c) {
    c.model.recurrence = recurrence;
    return c;
  };
  const std::vector<double> two = run_losses(with_recurrence(config("dp2-" + tag, dropout)), world);
  // Every rank runs the 1-rank reference (its own run.dir); rank 0 compares.
  const std::vector<double> one = run_losses(
      with_recurrence(config("dp1-" + tag + "-r" + std::to_string(world.rank()), dropout)), self);
  if (world.rank() == 0) {
    EXPECT_EQ(two.size(), 10u);
    expect_close(two, one, 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(DropoutAndRecurrence, DataParallelTest,
                         ::testing::Combine(::testing::Values(0.0, 0.3),
                                            ::testing::Values(RecurrenceKind::kLstm,
                                                              RecurrenceKind::kGru)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) > 0 ? "dropout_" : "plain_") +
                                  name_of(std::get<1>(info.param));
                         });

TEST_F(TrainerMpiTest, WholeSongsWithRecomputationOnTwoRanksMatchThePlainPassOnOne) {
  // Two ranks, whole songs (each rank's window as long as its own longest song) and gradients
  // by recomputation in segments of 3 steps, against one rank with the plain backward pass:
  // the losses of every step agree, so both the recomputed gradients and the padding of
  // whole-song windows are exact.
  MpiCommunicator world, self(MPI_COMM_SELF);
  Config two = config("full-recompute2", 0.3);
  two.train.bptt = Bptt::kFull;
  two.train.recompute_every = RecomputeEvery{false, 3};
  two.train.steps = 6;
  Config one = config("full-plain1-r" + std::to_string(world.rank()), 0.3);
  one.train.bptt = Bptt::kFull;
  one.train.steps = 6;
  const std::vector<double> a = run_losses(two, world), b = run_losses(one, self);
  if (world.rank() == 0) {
    EXPECT_EQ(a.size(), 6u);
    expect_close(a, b, 1e-5);
  }
  // And the windows were whole songs: not the truncated run's losses.
  Config truncated = config("truncated-r" + std::to_string(world.rank()), 0.3);
  truncated.train.steps = 6;
  const std::vector<double> c = run_losses(truncated, self);
  if (world.rank() == 0) {
    EXPECT_NE(b, c);
  }
}

TEST_F(TrainerMpiTest, ResumeIsExactAndWorksOnAnotherRankCount) {
  MpiCommunicator world, self(MPI_COMM_SELF);
  const std::vector<double> straight = run_losses(config("straight", 0.3), world);

  Config first = config("resumed", 0.3);
  first.train.steps = 5;
  run_losses(first, world);
  // Copies of the 5-step run for the 1-rank resumes, one per rank. Rank 0 may still be writing
  // the run's manifest when the others return: copy only after every rank is done, and resume
  // the original only after every copy is (a rank whose copy threw used to leave the test early
  // and pair its next collectives with the wrong ones of its peer: MPI_ERR_TRUNCATE).
  const std::string single = first.run.dir + "-single-r" + std::to_string(world.rank());
  world.barrier();
  fs::copy(first.run.dir, single, fs::copy_options::recursive);
  world.barrier();

  const std::vector<double> resumed = run_losses(config("resumed", 0.3), world, /*resume=*/true);
  Config one_rank = config("resumed", 0.3);
  one_rank.run.dir = single;
  const std::vector<double> on_one = run_losses(one_rank, self, /*resume=*/true);
  if (world.rank() == 0) {
    ASSERT_EQ(straight.size(), 10u);
    EXPECT_EQ(resumed, straight) << "5 steps + resume + 5 steps must equal 10 steps bit for bit";
    expect_close(on_one, straight, 1e-5);
  }
}

TEST_F(TrainerMpiTest, AccumulationTakesSeveralWindowsPerStepInOneAllReduce) {
  MpiCommunicator world, self(MPI_COMM_SELF);
  // With the learning rate at 0 the parameters stay put, so one step of 2 windows must equal
  // two steps of 1 window, weighted by their symbol counts.
  auto steps = [&](int64_t accumulate, int64_t n) {
    Config c = config("accumulate-" + std::to_string(accumulate));
    c.train.accumulate = accumulate;
    c.optim.lr = 0.0;
    const std::unique_ptr<Task> task = open_task(c.data.path, c);
    std::ostringstream log;
    Trainer trainer(c, *task, world, log);
    std::vector<StepResult> results;
    for (int64_t i = 0; i < n; ++i) results.push_back(trainer.step());
    return results;
  };
  const std::vector<StepResult> one = steps(1, 2), two = steps(2, 1);
  EXPECT_EQ(two[0].count, one[0].count + one[1].count);
  const double weighted =
      (one[0].loss * one[0].count + one[1].loss * one[1].count) / (one[0].count + one[1].count);
  EXPECT_NEAR(two[0].loss, weighted, 1e-6 * weighted);

  // And accumulation stays data-parallel: 2 ranks == 1 rank.
  Config c = config("accumulate-dp", 0.3);
  c.train.accumulate = 2;
  c.train.steps = 6;
  const std::vector<double> on_two = run_losses(c, world);
  c.run.dir += "-single-r" + std::to_string(world.rank());
  const std::vector<double> on_one = run_losses(c, self);
  if (world.rank() == 0) expect_close(on_two, on_one, 1e-5);
}

TEST_F(TrainerMpiTest, PianoRollsTrainDataParallelAndResumeExactly) {
  MpiCommunicator world, self(MPI_COMM_SELF);
  auto roll_config = [&](const std::string& name) {
    Config c = config(name, 0.3);
    c.model.kind = ModelKind::kPianoRoll;
    c.data.path = dir_ + "/fixture-rolls.h5";
    return c;
  };
  const std::vector<double> straight = run_losses(roll_config("rolls"), world);
  Config first = roll_config("rolls-resumed");
  first.train.steps = 5;
  run_losses(first, world);
  const std::vector<double> resumed =
      run_losses(roll_config("rolls-resumed"), world, /*resume=*/true);
  const std::vector<double> on_one =
      run_losses(roll_config("rolls-single-r" + std::to_string(world.rank())), self);
  if (world.rank() == 0) {
    ASSERT_EQ(straight.size(), 10u);
    EXPECT_EQ(resumed, straight);
    expect_close(on_one, straight, 1e-5);
    EXPECT_LT(straight.back(), straight.front()) << "the loss (nats per frame) falls";
    EXPECT_LT(straight.front(), 88 * std::log(2.0) + 1) << "starts near the fair coin, 61 nats";
    std::ifstream in(dir_ + "/rolls/metrics.jsonl");
    std::string line;
    bool valid_seen = false;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      EXPECT_EQ(j.at("unit"), "frame");
      if (j.at("split") == "valid") valid_seen = j.contains("nll_per_frame");
    }
    EXPECT_TRUE(valid_seen) << "valid records report nll_per_frame";
  }
}

TEST_F(TrainerMpiTest, NadePianoRollsWithTranspositionAreDataParallel) {
  MpiCommunicator world, self(MPI_COMM_SELF);
  auto nade_config = [&](const std::string& name) {
    Config c = augmented_rolls(name, ModelKind::kPianoRoll, /*transpose=*/3);
    c.model.head = HeadKind::kNade;
    c.model.nade_hidden = 12;
    return c;
  };
  const std::vector<double> two = run_losses(nade_config("nade2"), world);
  const std::vector<double> one =
      run_losses(nade_config("nade1-r" + std::to_string(world.rank())), self);
  if (world.rank() == 0) {
    EXPECT_EQ(two.size(), 10u);
    expect_close(two, one, 1e-5);
  }
}

TEST_F(TrainerMpiTest, NoteSequencesAreDataParallelAndResumeExactlyOnAnotherRankCount) {
  // Windows cut through frames and count frames: 2 ranks x 2 streams and 1 rank x 4 streams sum
  // the same symbols and divide by the same frame count; a 2-rank checkpoint resumes on 1 rank.
  MpiCommunicator world, self(MPI_COMM_SELF);
  auto notes_config = [&](const std::string& name) {
    return augmented_rolls(name, ModelKind::kNotes, /*transpose=*/2);
  };
  const std::vector<double> two = run_losses(notes_config("notes2"), world);
  const std::vector<double> one =
      run_losses(notes_config("notes1-r" + std::to_string(world.rank())), self);
  Config first = notes_config("notes-resumed");
  first.train.steps = 5;
  run_losses(first, world);
  const std::string single = first.run.dir + "-single-r" + std::to_string(world.rank());
  world.barrier();
  fs::copy(first.run.dir, single, fs::copy_options::recursive);
  world.barrier();
  Config on_one = notes_config("notes-resumed");
  on_one.run.dir = single;
  const std::vector<double> resumed_on_one = run_losses(on_one, self, /*resume=*/true);
  if (world.rank() == 0) {
    EXPECT_EQ(two.size(), 10u);
    expect_close(two, one, 1e-5);
    expect_close(resumed_on_one, two, 1e-5);
    EXPECT_LT(two.back(), two.front());
  }
}

TEST_F(TrainerMpiTest, PatienceEndsARunThatStopsImprovingAndSaysWhy) {
  // A learning rate far too high: after the first validation the valid loss only gets worse,
  // so with patience 2 the run ends at the third validation, long before train.steps.
  MpiCommunicator world;
  Config c = config("patience", 0.0);
  c.optim.lr = 3.0;
  c.train.steps = 60;
  c.eval.every = 2;
  c.checkpoint.every = 0;
  c.train.patience = 2;
  const std::vector<double> losses = run_losses(c, world);
  // Without patience the same run goes to the end.
  Config full = c;
  full.run.dir += "-off";
  full.train.patience = 0;
  full.train.steps = 12;
  const std::vector<double> all = run_losses(full, world);
  if (world.rank() != 0) return;
  EXPECT_EQ(all.size(), 12u);
  EXPECT_LT(losses.size(), 60u) << "the run should have ended early";
  const auto manifest = nlohmann::json::parse(read_file(c.run.dir + "/manifest.json"));
  ASSERT_TRUE(manifest.contains("end")) << manifest.dump(2);
  EXPECT_EQ(manifest["end"]["status"], "early_stop");
  EXPECT_NE(manifest["end"]["reason"].get<std::string>().find("train.patience 2"),
            std::string::npos);
  EXPECT_LT(manifest["end"]["step"].get<int64_t>(), 60);
  EXPECT_TRUE(CheckpointStore(c.run.dir).best().has_value()) << "the best checkpoint is kept";
}

TEST_F(TrainerMpiTest, ANanInOneRanksGradientIsSkippedByEveryRank) {
  MpiCommunicator world;
  Config c = config("nan", 0.3);
  const std::unique_ptr<Task> task = open_task(c.data.path, c);
  std::ostringstream log;
  Trainer trainer(c, *task, world, log);
  trainer.start(false);
  if (world.rank() == 1) trainer.inject_nan_gradient_at(3);  // only one rank sees the NaN
  auto flat_parameters = [&] {
    std::vector<torch::Tensor> flat;
    for (const auto& p : trainer.model()->parameters()) flat.push_back(p.detach().reshape({-1}));
    return torch::cat(flat).clone();
  };
  std::vector<bool> skipped;
  torch::Tensor before_3, after_3;
  for (int i = 1; i <= 5; ++i) {
    if (i == 3) before_3 = flat_parameters();
    skipped.push_back(trainer.step().skipped);
    if (i == 3) after_3 = flat_parameters();
  }
  EXPECT_EQ(skipped, (std::vector<bool>{false, false, true, false, false}))
      << "rank " << world.rank();
  EXPECT_TRUE(torch::equal(before_3, after_3)) << "a skipped step must not update";
  EXPECT_TRUE(torch::isfinite(after_3).all().item<bool>());
  EXPECT_EQ(trainer.bad_steps(), 1);
  torch::Tensor mine = flat_parameters(), root = mine.clone();
  world.broadcast(root.data_ptr<float>(), static_cast<size_t>(root.numel()), 0);
  EXPECT_TRUE(torch::equal(mine, root)) << "ranks diverged after the skipped step";
}

TEST_F(TrainerMpiTest, TooManyBadStepsInARowEndTheRunWithTheCheckpointsIntact) {
  MpiCommunicator world;
  Config c = config("nan-run", 0.0);
  c.train.max_bad_steps = 0;  // the first bad step ends the run
  c.checkpoint.every = 2;
  const std::unique_ptr<Task> task = open_task(c.data.path, c);
  std::ostringstream log;
  Trainer trainer(c, *task, world, log);
  trainer.start(false);
  trainer.inject_nan_gradient_at(5);
  EXPECT_EQ(trainer.train(nlohmann::json::object()), 1);
  if (world.rank() != 0) return;
  EXPECT_NE(log.str().find("train.max_bad_steps"), std::string::npos) << log.str();
  const auto manifest = nlohmann::json::parse(read_file(c.run.dir + "/manifest.json"));
  EXPECT_EQ(manifest["end"]["status"], "bad_numbers");
  const auto newest = CheckpointStore(c.run.dir).complete();
  ASSERT_FALSE(newest.empty());
  EXPECT_EQ(newest.back().step, 4) << "the last good checkpoint stays the newest";
}

TEST_F(TrainerMpiTest, ModelKindMustMatchTheCorpus) {
  MpiCommunicator world;
  Config c = config("mismatch");
  c.model.kind = ModelKind::kPianoRoll;  // on the lyrics fixture
  expect_refused(c, world, "model.kind");
}

TEST_F(TrainerMpiTest, TrainingIntoARunWithCheckpointsNeedsResume) {
  MpiCommunicator world;
  Config c = config("refuse");
  c.train.steps = 5;
  run_losses(c, world);
  const std::unique_ptr<Task> task = open_task(c.data.path, c);
  std::ostringstream log;
  Trainer trainer(c, *task, world, log);
  EXPECT_THROW(trainer.start(/*resume=*/false), InputError);
}

TEST_F(TrainerMpiTest, BatchSizeNotDivisibleByRanksIsRefused) {
  MpiCommunicator world;
  Config c = config("indivisible");
  c.train.batch_size = 3;
  expect_refused(c, world, "train.batch_size");
}

}  // namespace
}  // namespace chorus
