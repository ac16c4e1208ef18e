// main() of the GPU tests: one rank (MPI bootstraps the NCCL communicator). Without a GPU every
// test skips and says why, so the suite runs, and links, on CPU-only CI.
#include <mpi.h>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  MPI_Finalize();
  return result;
}
