// MPI implementation of the communicator. Every call is a collective that all ranks enter in the
// same order; errors abort the whole job (MPI_ERRORS_ARE_FATAL), and a timed collective that a
// peer never reaches aborts it too (the stall watchdog), so no rank waits forever.
#include "trainer/communicator.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <functional>
#include <sstream>
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

constexpr int kArriveTag = 7;

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) throw std::logic_error("MpiCommunicator: MPI is not initialised");
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  MPI_Comm_dup(comm_, &beats_);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && beats_ != MPI_COMM_NULL) MPI_Comm_free(&beats_);
}

void MpiCommunicator::set_timeout(double seconds) {
  if (!(seconds >= 0)) throw std::invalid_argument("set_timeout: seconds must be >= 0");
  timed_ = false;
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  MPI_Get_processor_name(name, &length);
  hosts_ = all_gather(std::string(name, static_cast<size_t>(length)));
  timeout_s_ = seconds;
  timed_ = true;
}

void MpiCommunicator::complete(MPI_Request* request, const char* what) {
  if (!watching()) {
    MPI_Wait(request, MPI_STATUS_IGNORE);
    return;
  }
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s_);
  // Heartbeats: one arrival message to and from every peer per timed collective, always received,
  // so no stray message outlives the collective (it could reach a later communicator that reuses
  // this one's context id).
  const long long sequence = ++sequence_;
  struct Peer {
    int rank;
    long long arrival = 0;
    MPI_Request arrived = MPI_REQUEST_NULL;
  };
  std::vector<Peer> peers;
  for (int r = 0; r < size_; ++r)
    if (r != rank_) peers.push_back({r, 0, MPI_REQUEST_NULL});
  std::vector<MPI_Request> sends(peers.size());
  for (size_t k = 0; k < peers.size(); ++k) {  // `peers` no longer grows: its buffers stay put
    MPI_Irecv(&peers[k].arrival, 1, MPI_LONG_LONG, peers[k].rank, kArriveTag, beats_,
              &peers[k].arrived);
    MPI_Isend(&sequence, 1, MPI_LONG_LONG, peers[k].rank, kArriveTag, beats_, &sends[k]);
  }
  for (unsigned spins = 1;; ++spins) {
    int done = 0;
    MPI_Test(request, &done, MPI_STATUS_IGNORE);
    if (done) break;
    if (spins % 1024 != 0 || Clock::now() <= deadline) continue;
    std::vector<std::string> missing, inside;
    for (Peer& p : peers) {
      int arrived = 0;
      MPI_Test(&p.arrived, &arrived, MPI_STATUS_IGNORE);
      (arrived ? inside : missing).push_back("rank " + std::to_string(p.rank) + " (" + host(p.rank) + ")");
    }
    std::vector<std::string> culprits;
    for (const auto& m : missing) culprits.push_back(m + " has not arrived");
    // Every peer arrived: one of them stopped inside the collective; with 2 ranks it is named.
    if (missing.empty())
      for (const auto& m : inside) culprits.push_back(m + " entered it and has not finished it");
    stalled(what, culprits);
  }
  for (Peer& p : peers) MPI_Wait(&p.arrived, MPI_STATUS_IGNORE);
  MPI_Waitall(static_cast<int>(sends.size()), sends.data(), MPI_STATUSES_IGNORE);
}

std::string MpiCommunicator::host(int rank) const {
  return static_cast<size_t>(rank) < hosts_.size() ? hosts_[rank] : std::string("?");
}

void MpiCommunicator::stalled(const char* what, const std::vector<std::string>& culprits) const {
  std::ostringstream m;
  m << "chorus [" << host(rank_) << ":" << rank_ << "]: error: the " << what
    << (context_.empty() ? "" : " of " + context_) << " has waited " << timeout_s_
    << " s (dist.timeout_s) for its peers: ";
  for (size_t i = 0; i < culprits.size(); ++i) m << (i ? "; " : "") << culprits[i];
  m << ". Ending the job; resume from the last complete checkpoint with --resume.\n";
  std::fputs(m.str().c_str(), stderr);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();  // MPI_Abort does not return; this satisfies [[noreturn]]
}

void MpiCommunicator::all_reduce_sum(void* data, size_t count, size_t bytes, MPI_Datatype type) {
  constexpr size_t kSlice = INT_MAX / 2;  // MPI counts are int
  for (size_t done = 0; done < count; done += kSlice) {
    void* p = static_cast<char*>(data) + done * bytes;
    const int n = static_cast<int>(std::min(kSlice, count - done));
    if (!watching()) {  // the tuned blocking algorithm when nothing is timed
      MPI_Allreduce(MPI_IN_PLACE, p, n, type, MPI_SUM, comm_);
      continue;
    }
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, p, n, type, MPI_SUM, comm_, &request);
    complete(&request, "all-reduce");
  }
}

void MpiCommunicator::all_reduce_sum(float* data, size_t count) {
  all_reduce_sum(data, count, sizeof(float), MPI_FLOAT);
}

void MpiCommunicator::all_reduce_sum(double* data, size_t count) {
  all_reduce_sum(data, count, sizeof(double), MPI_DOUBLE);
}

void MpiCommunicator::broadcast(float* data, size_t count, int root) {
  in_slices<float>(data, count, [this, root](float* p, int n) {
    MPI_Request request;
    MPI_Ibcast(p, n, MPI_FLOAT, root, comm_, &request);
    complete(&request, "broadcast");
  });
}

void MpiCommunicator::broadcast(std::string* text, int root) {
  long long n = static_cast<long long>(text->size());
  MPI_Request request;
  MPI_Ibcast(&n, 1, MPI_LONG_LONG, root, comm_, &request);
  complete(&request, "broadcast");
  text->resize(static_cast<size_t>(n));
  if (n > 0) {
    MPI_Ibcast(text->data(), static_cast<int>(n), MPI_CHAR, root, comm_, &request);
    complete(&request, "broadcast");
  }
}

void MpiCommunicator::barrier() {
  MPI_Request request;
  MPI_Ibarrier(comm_, &request);
  complete(&request, "barrier");
}

std::vector<std::string> MpiCommunicator::all_gather(const std::string& text) {
  int n = static_cast<int>(text.size());
  std::vector<int> sizes(size_), displs(size_);
  MPI_Request request;
  MPI_Iallgather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, comm_, &request);
  complete(&request, "all-gather");
  int total = 0;
  for (int r = 0; r < size_; ++r) {
    displs[r] = total;
    total += sizes[r];
  }
  std::string all(static_cast<size_t>(total), '\0');
  MPI_Iallgatherv(text.data(), n, MPI_CHAR, all.data(), sizes.data(), displs.data(), MPI_CHAR,
                  comm_, &request);
  complete(&request, "all-gather");
  std::vector<std::string> out;
  for (int r = 0; r < size_; ++r) out.push_back(all.substr(displs[r], sizes[r]));
  return out;
}

}  // namespace chorus
