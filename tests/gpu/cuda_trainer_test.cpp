// Training on CUDA against the CPU: the same steps give the same losses and parameters (relative
// 1e-4, TF32 off), NCCL and MPI backends and gradient checkpointing agree, checkpoints move GPU -> CPU -> GPU, and bf16
// autocast trains; the GRU and the piano-roll NADE head likewise. Skips, saying why, where LibTorch sees no GPU (Debian's LibTorch is CPU-only).
#include <mpi.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>

#include "data/corpus.h"
#include "tests/support/fixtures.h"
#include "tests/support/runs.h"
#include "trainer/comm/accelerator.h"
#include "trainer/comm/mpi_communicator.h"
#include "trainer/comm/nccl_communicator.h"
#include "trainer/run/trainer.h"
#include "trainer/tasks/task.h"

namespace chorus {
namespace {
namespace fs = std::filesystem;
using testing::expect_close;

class CudaTrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available())
      GTEST_SKIP() << "LibTorch sees no CUDA device (" << torch::cuda::device_count()
                   << " devices; a CPU-only LibTorch such as Debian's always sees none)";
    allow_tf32(false);
    dir_ = testing::make_temp_dir("gpu");
    testing::write_fixture_corpus(dir_, /*songs=*/16, /*valid_songs=*/3);
    testing::write_fixture_pianoroll(dir_, /*songs=*/12, /*valid_songs=*/3);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // The shared small run (tests/support/runs.h) scaled up to 2 x 64 (embedding 16) and windows
  // of 16, 6 steps checkpointed every 3 (5 kept), no validation.
  Config config(const std::string& name) const {
    Config c = testing::small_run_config(dir_ + "/fixture.h5", dir_ + "/" + name);
    c.run.seed = 7;
    c.model.embedding_size = 16;
    c.model.hidden_size = 64;
    c.train.seq_len = 16;
    c.train.steps = 6;
    c.eval.every = 0;
    c.eval.batch_size = Config{}.eval.batch_size;
    c.checkpoint.every = 3;
    c.checkpoint.keep = 5;
    return c;
  }

  // The piano-roll model with the NADE head (and input dropout) on the same small scale.
  Config nade_config(const std::string& name) const {
    Config c = config(name);
    c.data.path = dir_ + "/fixture-rolls.h5";
    c.model.kind = ModelKind::kPianoRoll;
    c.model.head = HeadKind::kNade;
    c.model.nade_hidden = 24;
    c.model.input_dropout = 0.1;
    return c;
  }

  static Placement cuda(Backend backend) {
    Placement a;
    a.device = torch::Device(torch::kCUDA, 0);
    a.backend = backend;
    return a;
  }

  // Losses of `steps` steps; the trainer's parameters, flattened on the CPU, in *params.
  std::vector<double> train(const Config& c, Placement a, int steps, bool resume,
                            torch::Tensor* params = nullptr) {
    const auto task = open_task(c.data.path, c);
    std::ostringstream log;
    Trainer trainer(c, *task, self_, log, a);
    trainer.start(resume);
    std::vector<double> losses;
    for (int i = 0; i < steps; ++i) {
      losses.push_back(trainer.step().loss);
      if (trainer.current_step() % c.checkpoint.every == 0) trainer.save_checkpoint(false);
    }
    if (params) {
      std::vector<torch::Tensor> flat;
      for (const auto& p : trainer.model()->parameters())
        flat.push_back(p.detach().to(torch::kCPU).reshape({-1}));
      *params = torch::cat(flat);
    }
    return losses;
  }


  MpiCommunicator self_{MPI_COMM_SELF};
  std::string dir_;
};

TEST_F(CudaTrainerTest, StepsOnCudaMatchTheCpu) {
  torch::Tensor cpu_params, nccl_params, mpi_params;
  const auto cpu = train(config("cpu"), Placement{}, 6, false, &cpu_params);
  const auto nccl = train(config("nccl"), cuda(Backend::kNccl), 6, false, &nccl_params);
  const auto mpi = train(config("mpi"), cuda(Backend::kMpi), 6, false, &mpi_params);
  Config recomputed = config("recompute");  // gradient checkpointing on the GPU, segments of 4
  recomputed.train.recompute_every = RecomputeEvery{false, 4};
  const auto recompute = train(recomputed, cuda(Backend::kNccl), 6, false);
  expect_close(nccl, cpu, 1e-4);
  expect_close(mpi, cpu, 1e-4);
  expect_close(recompute, cpu, 1e-4);
  EXPECT_TRUE(torch::allclose(nccl_params, cpu_params, /*rtol=*/1e-4, /*atol=*/1e-5));
  EXPECT_TRUE(torch::allclose(mpi_params, cpu_params, 1e-4, 1e-5));
}

TEST_F(CudaTrainerTest, TheGruAndTheNadeHeadOnCudaMatchTheCpu) {
  Config gru = config("gru-cpu");
  gru.model.recurrence = RecurrenceKind::kGru;
  const auto gru_cpu = train(gru, Placement{}, 6, false);
  gru.run.dir = dir_ + "/gru-gpu";
  expect_close(train(gru, cuda(Backend::kNccl), 6, false), gru_cpu, 1e-4);

  torch::Tensor cpu_params, gpu_params;
  const auto nade_cpu = train(nade_config("nade-cpu"), Placement{}, 6, false, &cpu_params);
  const auto nade_gpu = train(nade_config("nade-gpu"), cuda(Backend::kNccl), 6, false, &gpu_params);
  expect_close(nade_gpu, nade_cpu, 1e-4);
  EXPECT_TRUE(torch::allclose(gpu_params, cpu_params, 1e-4, 1e-5));
  Config recomputed = nade_config("nade-recompute");
  recomputed.train.recompute_every = RecomputeEvery{false, 4};
  expect_close(train(recomputed, cuda(Backend::kNccl), 6, false), nade_cpu, 1e-4);
}

TEST_F(CudaTrainerTest, TheNoteModelOnCudaMatchesTheCpu) {
  auto notes = [&](const std::string& name) {
    Config c = config(name);
    c.data.path = dir_ + "/fixture-rolls.h5";
    c.model.kind = ModelKind::kNotes;
    c.model.input_dropout = 0.1;
    c.train.transpose = 2;
    return c;
  };
  torch::Tensor cpu_params, gpu_params;
  const auto cpu = train(notes("notes-cpu"), Placement{}, 6, false, &cpu_params);
  const auto gpu = train(notes("notes-gpu"), cuda(Backend::kNccl), 6, false, &gpu_params);
  expect_close(gpu, cpu, 1e-4);
  EXPECT_TRUE(torch::allclose(gpu_params, cpu_params, 1e-4, 1e-5));
  Config recomputed = notes("notes-recompute");
  recomputed.train.recompute_every = RecomputeEvery{false, 4};
  expect_close(train(recomputed, cuda(Backend::kNccl), 6, false), cpu, 1e-4);
}

TEST_F(CudaTrainerTest, CheckpointsMoveBetweenGpuAndCpu) {
  const auto gpu_run = train(config("gpu"), cuda(Backend::kNccl), 6, false);
  // GPU checkpoint of step 3 -> resumed on the CPU -> its step-6 checkpoint -> resumed on the GPU.
  Config to_cpu = config("to_cpu");
  fs::create_directories(to_cpu.run.dir + "/checkpoints");
  fs::copy(config("gpu").run.dir + "/checkpoints/step-00000003",
           to_cpu.run.dir + "/checkpoints/step-00000003", fs::copy_options::recursive);
  const auto cpu_part = train(to_cpu, Placement{}, 3, /*resume=*/true);
  expect_close(cpu_part, {gpu_run.begin() + 3, gpu_run.end()}, 1e-4);

  Config back = to_cpu;
  back.train.steps = 9;
  const auto gpu_again = train(back, cuda(Backend::kNccl), 3, /*resume=*/true);
  Config straight = config("gpu");
  straight.train.steps = 9;
  const auto reference = train(straight, cuda(Backend::kNccl), 3, /*resume=*/true);
  expect_close(gpu_again, reference, 1e-4);
}

TEST_F(CudaTrainerTest, Bf16AutocastTrainsCloseToFp32) {
  if (cuda_compute_capability(0) > 0 && cuda_compute_capability(0) < 80)
    GTEST_SKIP() << "GPU 0 has no bf16 (compute capability " << cuda_compute_capability(0) << ")";
  Config bf16 = config("bf16");
  bf16.train.precision = Precision::kBf16;
  torch::Tensor params;
  const auto low = train(bf16, cuda(Backend::kNccl), 6, false, &params);
  const auto full = train(config("fp32"), cuda(Backend::kNccl), 6, false);
  expect_close(low, full, 2e-2);
  EXPECT_NE(low, full) << "bf16 gave fp32's losses exactly: autocast did not run";
  EXPECT_EQ(params.scalar_type(), torch::kFloat32);

  Config nade_bf16 = nade_config("nade-bf16");
  nade_bf16.train.precision = Precision::kBf16;
  const auto nade_low = train(nade_bf16, cuda(Backend::kNccl), 6, false);
  const auto nade_full = train(nade_config("nade-fp32"), cuda(Backend::kNccl), 6, false);
  expect_close(nade_low, nade_full, 2e-2);
  EXPECT_NE(nade_low, nade_full) << "bf16 gave fp32's NADE losses exactly: autocast did not run";
}

}  // namespace
}  // namespace chorus
