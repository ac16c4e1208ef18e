// The stall watchdog of MpiCommunicator (dist.timeout_s) on 2 ranks: timed collectives still
// compute the right thing, a peer late by less than the timeout is waited for, and waits inside
// UntimedCollectives (checkpoint writes, validation) may exceed the timeout, up to the slow one
// (dist.slow_timeout_s). A failure here aborts the job, which ctest reports as a failed mpi
// test. The stalled-rank cases themselves, which must abort, are injected with SIGSTOP in
// tests/e2e/faults.sh (in training, and inside a checkpoint write).
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <thread>
#include <vector>

#include "trainer/comm/mpi_communicator.h"

namespace chorus {
namespace {

TEST(WatchdogMpiTest, TimedCollectivesAreCorrectAndWaitForALatePeer) {
  MpiCommunicator world;
  world.set_timeout(2.0);
  EXPECT_TRUE(world.timed());
  // Many quick collectives: the heartbeats of one never answer for another.
  for (int i = 0; i < 200; ++i) {
    std::vector<float> v = {1.0f, static_cast<float>(world.rank() + i)};
    world.all_reduce_sum(v.data(), v.size());
    EXPECT_EQ(v[0], static_cast<float>(world.size()));
    EXPECT_EQ(v[1], static_cast<float>(2 * i + 1));  // (0 + i) + (1 + i) on 2 ranks
  }
  // Rank 1 arrives 0.5 s late: well inside the timeout.
  if (world.rank() == 1) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  world.barrier();
  std::string text = world.rank() == 0 ? "from rank 0" : "";
  world.broadcast(&text, 0);
  EXPECT_EQ(text, "from rank 0");
  EXPECT_EQ(world.all_gather(std::to_string(world.rank())), (std::vector<std::string>{"0", "1"}));
  world.set_timeout(0);
}

TEST(WatchdogMpiTest, UntimedScopesMayWaitLongerThanTheTimeout) {
  MpiCommunicator world;
  world.set_slow_timeout(10.0);
  world.set_timeout(0.5);
  {
    UntimedCollectives untimed(world);
    EXPECT_FALSE(world.timed());
    // Rank 0 "writes a checkpoint" for three times the timeout while rank 1 waits.
    if (world.rank() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    world.barrier();
    // Watched against the slow deadline: still correct, heartbeats and all.
    std::vector<float> v = {1.0f};
    world.all_reduce_sum(v.data(), v.size());
    EXPECT_EQ(v[0], 2.0f);
  }
  EXPECT_TRUE(world.timed());
  double x = 1.0;
  world.all_reduce_sum(&x, 1);
  EXPECT_EQ(x, 2.0);
  world.set_timeout(0);
}

}  // namespace
}  // namespace chorus
