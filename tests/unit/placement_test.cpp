// Tests of where a rank trains (trainer/comm/placement.h): local rank, device, backend.
#include "trainer/comm/placement.h"

#include <cstring>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "data/errors.h"

namespace chorus {
namespace {

std::map<std::string, std::string> g_env;
const char* fake_getenv(const char* name) {
  auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

TEST(Placement, LocalRankPrefersTheLaunchersVariables) {
  g_env = {};
  EXPECT_EQ(local_rank_from(3, fake_getenv).rank, 3);
  EXPECT_EQ(local_rank_from(3, fake_getenv).source, "MPI shared-memory split");
  g_env = {{"SLURM_LOCALID", "2"}};
  EXPECT_EQ(local_rank_from(3, fake_getenv).rank, 2);
  EXPECT_EQ(local_rank_from(3, fake_getenv).source, "SLURM_LOCALID");
  g_env = {{"SLURM_LOCALID", "2"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}};
  EXPECT_EQ(local_rank_from(3, fake_getenv).rank, 1);
  EXPECT_EQ(local_rank_from(3, fake_getenv).source, "OMPI_COMM_WORLD_LOCAL_RANK");
  g_env = {{"OMPI_COMM_WORLD_LOCAL_RANK", "x1"}, {"SLURM_LOCALID", ""}};  // garbage: ignored
  EXPECT_EQ(local_rank_from(3, fake_getenv).rank, 3);
}

TEST(Placement, DeviceSetting) {
  EXPECT_FALSE(use_cuda(DeviceChoice::kCpu, 4, ""));
  EXPECT_TRUE(use_cuda(DeviceChoice::kAuto, 1, ""));
  EXPECT_FALSE(use_cuda(DeviceChoice::kAuto, 0, "no driver"));
  EXPECT_TRUE(use_cuda(DeviceChoice::kCuda, 2, ""));
  try {
    use_cuda(DeviceChoice::kCuda, 0, "cudaErrorNoDevice: no CUDA-capable device is detected");
    FAIL() << "cuda without a device accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("train.device is 'cuda'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("no CUDA-capable device"), std::string::npos);
  }
}

TEST(Placement, OneGpuPerLocalRank) {
  EXPECT_EQ(pick_cuda_device(0, 4, 4, "", "n1"), 0);
  EXPECT_EQ(pick_cuda_device(3, 4, 4, "", "n1"), 3);
  EXPECT_EQ(pick_cuda_device(1, 2, 8, "", "n1"), 1);
  // Each rank bound to its own single GPU by the launcher.
  EXPECT_EQ(pick_cuda_device(5, 8, 1, "5", "n1"), 0);
}

TEST(Placement, MoreRanksThanGpusIsRefusedNamingTheHost) {
  try {
    pick_cuda_device(2, 3, 2, "", "gpu07");
    FAIL() << "3 ranks on 2 GPUs accepted";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("host gpu07 runs 3 ranks but has 2 CUDA devices"), std::string::npos) << m;
    EXPECT_NE(m.find("ppr:2:node"), std::string::npos) << m;
  }
  // One GPU shared by two ranks without per-rank binding.
  EXPECT_THROW(pick_cuda_device(1, 2, 1, "", "n1"), InputError);
  EXPECT_THROW(pick_cuda_device(0, 1, 0, "", "n1"), InputError);
}

TEST(Placement, Backend) {
  EXPECT_EQ(pick_backend(Backend::kAuto, true, true, ""), Backend::kNccl);
  EXPECT_EQ(pick_backend(Backend::kAuto, true, false, "no NCCL"), Backend::kMpi);
  EXPECT_EQ(pick_backend(Backend::kAuto, false, true, ""), Backend::kMpi);
  EXPECT_EQ(pick_backend(Backend::kMpi, true, true, ""), Backend::kMpi);
  EXPECT_EQ(pick_backend(Backend::kNccl, true, true, ""), Backend::kNccl);
  try {
    pick_backend(Backend::kNccl, false, true, "");
    FAIL() << "nccl on the CPU accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dist.backend is 'nccl'"), std::string::npos);
  }
  try {
    pick_backend(Backend::kNccl, true, false, "this build of Chorus has no NCCL communicator");
    FAIL() << "nccl without NCCL accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has no NCCL communicator"), std::string::npos);
  }
}

}  // namespace
}  // namespace chorus
