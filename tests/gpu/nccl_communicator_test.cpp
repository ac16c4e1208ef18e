// The NCCL communicator on one rank and one GPU: bootstrap over MPI, ncclSum in place on device
// memory, and the set-up errors. (Several ranks need several GPUs: same code path, not run here.)
#include "trainer/comm/mpi_communicator.h"
#include "trainer/comm/nccl_communicator.h"

#include <mpi.h>

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace chorus {
namespace {

#define CHORUS_SKIP_WITHOUT_GPU()                                                        \
  do {                                                                                   \
    const CudaDevices devices = cuda_devices();                                          \
    if (devices.count == 0) GTEST_SKIP() << "no CUDA device: " << devices.why;           \
  } while (0)

TEST(NcclCommunicator, BuildSaysWhatItHas) {
  const std::string text = nccl_build_description();
  if (nccl_built()) {
    EXPECT_EQ(text.rfind("NCCL 2.", 0), 0u) << text;
    EXPECT_NE(text.find("CUDA runtime"), std::string::npos) << text;
  } else {
    EXPECT_NE(text.find("no NCCL communicator"), std::string::npos) << text;
    EXPECT_EQ(cuda_devices().count, 0);
  }
}

TEST(NcclCommunicator, SumOnOneRankLeavesTheBufferAsItIs) {
  CHORUS_SKIP_WITHOUT_GPU();
  MpiCommunicator self(MPI_COMM_SELF);
  NcclCommunicator nccl(self, /*device=*/0, /*timeout_s=*/30);
  EXPECT_EQ(nccl.rank(), 0);
  EXPECT_EQ(nccl.size(), 1);
  // Large enough for NCCL's multi-chunk path; distinct values catch a misplaced chunk.
  std::vector<float> host(3'000'017);
  std::iota(host.begin(), host.end(), -1000.0f);
  DeviceFloats buffer(host.size(), 0);
  buffer.upload(host);
  nccl.set_context("test");
  nccl.all_reduce_sum(buffer.data(), buffer.size(), /*stream=*/nullptr);
  EXPECT_EQ(buffer.download(), host);
  // Untimed: returns once enqueued; the copy back (default stream) waits for it.
  nccl.set_timeout(0);
  nccl.all_reduce_sum(buffer.data(), buffer.size(), nullptr);
  EXPECT_EQ(buffer.download(), host);
}

TEST(NcclCommunicator, ABadDeviceIsReportedNotHung) {
  CHORUS_SKIP_WITHOUT_GPU();
  MpiCommunicator self(MPI_COMM_SELF);
  try {
    NcclCommunicator nccl(self, /*device=*/cuda_devices().count + 7, 30);
    FAIL() << "a device that does not exist was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("NCCL set-up failed on rank 0"), std::string::npos)
        << e.what();
  }
}

TEST(NcclCommunicator, ComputeCapabilityIsKnown) {
  CHORUS_SKIP_WITHOUT_GPU();
  EXPECT_GE(cuda_compute_capability(0), 35);
}

}  // namespace
}  // namespace chorus
