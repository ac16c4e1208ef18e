// MPI implementation of the communicator. Every call is a collective that all ranks enter in the
// same order; errors abort the whole job (MPI_ERRORS_ARE_FATAL), so no rank waits forever on a
// peer that failed inside MPI.
#include "trainer/communicator.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <functional>
#include <stdexcept>

namespace chorus {
namespace {

// MPI counts are int: large buffers go in slices.
template <class T>
void in_slices(T* data, size_t count, const std::function<void(T*, int)>& op) {
  constexpr size_t kSlice = INT_MAX / 2;
  for (size_t done = 0; done < count; done += kSlice)
    op(data + done, static_cast<int>(std::min(kSlice, count - done)));
}

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) throw std::logic_error("MpiCommunicator: MPI is not initialised");
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

void MpiCommunicator::all_reduce_sum(float* data, size_t count) {
  in_slices<float>(data, count, [this](float* p, int n) {
    MPI_Allreduce(MPI_IN_PLACE, p, n, MPI_FLOAT, MPI_SUM, comm_);
  });
}

void MpiCommunicator::all_reduce_sum(double* data, size_t count) {
  in_slices<double>(data, count, [this](double* p, int n) {
    MPI_Allreduce(MPI_IN_PLACE, p, n, MPI_DOUBLE, MPI_SUM, comm_);
  });
}

void MpiCommunicator::broadcast(float* data, size_t count, int root) {
  in_slices<float>(data, count,
                   [this, root](float* p, int n) { MPI_Bcast(p, n, MPI_FLOAT, root, comm_); });
}

void MpiCommunicator::broadcast(std::string* text, int root) {
  long long n = static_cast<long long>(text->size());
  MPI_Bcast(&n, 1, MPI_LONG_LONG, root, comm_);
  text->resize(static_cast<size_t>(n));
  if (n > 0) MPI_Bcast(text->data(), static_cast<int>(n), MPI_CHAR, root, comm_);
}

void MpiCommunicator::barrier() { MPI_Barrier(comm_); }

std::vector<std::string> MpiCommunicator::all_gather(const std::string& text) {
  int n = static_cast<int>(text.size());
  std::vector<int> sizes(size_), displs(size_);
  MPI_Allgather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, comm_);
  int total = 0;
  for (int r = 0; r < size_; ++r) {
    displs[r] = total;
    total += sizes[r];
  }
  std::string all(static_cast<size_t>(total), '\0');
  MPI_Allgatherv(text.data(), n, MPI_CHAR, all.data(), sizes.data(), displs.data(), MPI_CHAR,
                 comm_);
  std::vector<std::string> out;
  for (int r = 0; r < size_; ++r) out.push_back(all.substr(displs[r], sizes[r]));
  return out;
}

}  // namespace chorus
