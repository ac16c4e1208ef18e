// main() of the multi-rank tests: every rank runs the same tests (they enter the same
// collectives), rank 0 prints, and the verdict is reduced over ranks so ctest sees one result.
#include <mpi.h>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  ::testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) {
    // Other ranks report only their failures, prefixed by the listener below.
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0, any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (failed) fprintf(stderr, "rank %d: tests FAILED\n", rank);
  if (rank == 0) printf("mpi tests over all ranks: %s\n", any_failed ? "FAILED" : "PASSED");
  MPI_Finalize();
  return any_failed;
}
