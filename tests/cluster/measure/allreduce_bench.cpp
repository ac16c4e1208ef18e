// Times one all-reduce (sum, in place) of a float buffer the size of a model's flat gradient, the
// two ways Chorus does it: MPI_Allreduce (dist.timeout_s = 0) and MPI_Iallreduce polled with
// MPI_Test (the stall watchdog's way, the default). No LibTorch: built with mpicxx by
// tests/cluster/measure_allreduce.sh. Rank 0 prints one JSON object per mode on stdout.
//   mpirun -np 2 allreduce_bench [FLOATS=3350000] [REPS=20]
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

template <class Reduce>
std::vector<double> time_reps(std::vector<float>& buffer, int reps, Reduce reduce) {
  std::vector<double> seconds;
  for (int i = -3; i < reps; ++i) {  // 3 warm-up rounds: connections, buffers, page faults
    MPI_Barrier(MPI_COMM_WORLD);
    const double start = MPI_Wtime();
    reduce(buffer);
    double took = MPI_Wtime() - start, slowest = 0;
    MPI_Allreduce(&took, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (i >= 0) seconds.push_back(slowest);
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds;
}

void report(const char* mode, size_t floats, const std::vector<double>& s) {
  const double median = s[s.size() / 2];
  // Bus bandwidth as nccl-tests define it for all-reduce: bytes x 2 (n - 1) / n / time.
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  const double bytes = static_cast<double>(floats) * sizeof(float);
  std::printf("{\"mode\":\"%s\",\"ranks\":%d,\"floats\":%zu,\"mbytes\":%.1f,\"reps\":%zu,"
              "\"median_ms\":%.2f,\"min_ms\":%.2f,\"max_ms\":%.2f,\"median_us\":%.1f,"
              "\"busbw_gbytes_s\":%.2f}\n",
              mode, n, floats, bytes / 1e6, s.size(), median * 1e3, s.front() * 1e3,
              s.back() * 1e3, median * 1e6, bytes * 2 * (n - 1) / n / median / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const size_t floats = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 3350000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 20;
  std::vector<float> buffer(floats, 1.0f + rank);

  const auto blocking = time_reps(buffer, reps, [](std::vector<float>& b) {
    MPI_Allreduce(MPI_IN_PLACE, b.data(), static_cast<int>(b.size()), MPI_FLOAT, MPI_SUM,
                  MPI_COMM_WORLD);
  });
  const auto polled = time_reps(buffer, reps, [](std::vector<float>& b) {
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, b.data(), static_cast<int>(b.size()), MPI_FLOAT, MPI_SUM,
                   MPI_COMM_WORLD, &request);
    for (int done = 0; !done;) MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  });
  if (rank == 0) {
    report("MPI_Allreduce", floats, blocking);
    report("MPI_Iallreduce+MPI_Test", floats, polled);
  }
  MPI_Finalize();
  return 0;
}
