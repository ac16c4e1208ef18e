// main() of the multi-rank tests: every rank runs the same tests (they enter the same
// collectives), rank 0 prints, and the verdict is reduced over ranks so ctest sees one result.
// ctest runs one test per mpiexec (--gtest_filter); --gtest_list_tests prints rank 0's list.
#include <mpi.h>

#include <gtest/gtest.h>

#include <cstdio>

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  ::testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0 && ::testing::GTEST_FLAG(list_tests)) {
    std::fclose(stdout);  // ctest's discovery reads one list, rank 0's
  } else if (rank != 0) {
    // Other ranks report only their failures.
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0, any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (failed) fprintf(stderr, "rank %d: tests FAILED\n", rank);
  if (rank == 0 && !::testing::GTEST_FLAG(list_tests))
    printf("mpi tests over all ranks: %s\n", any_failed ? "FAILED" : "PASSED");
  MPI_Finalize();
  return any_failed;
}
