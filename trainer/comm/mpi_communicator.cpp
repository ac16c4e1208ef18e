// MPI implementation of the communicator. Every call is a collective that all ranks enter in the
// same order; errors abort the whole job (MPI_ERRORS_ARE_FATAL), and a collective that a peer
// never reaches within its deadline aborts it too (the stall watchdog), so no rank waits forever.
#include "trainer/comm/mpi_communicator.h"

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

void MpiCommunicator::set_slow_timeout(double seconds) {
  if (!(seconds >= 0)) throw std::invalid_argument("set_slow_timeout: seconds must be >= 0");
  slow_timeout_s_ = seconds;
}

void MpiCommunicator::complete(MPI_Request* request, const char* what) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration<double>(deadline_s());
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
    << (context_.empty() ? "" : " of " + context_) << " has waited " << deadline_s()
    << (timed_ ? " s (dist.timeout_s)" : " s (dist.slow_timeout_s)") << " for its peers: ";
  for (size_t i = 0; i < culprits.size(); ++i) m << (i ? "; " : "") << culprits[i];
  m << ". Ending the job; resume from the last complete checkpoint with --resume.\n";
  std::fputs(m.str().c_str(), stderr);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();  // MPI_Abort does not return; this satisfies [[noreturn]]
}

void MpiCommunicator::collective(const char* what, const std::function<void()>& blocking,
                                 const std::function<void(MPI_Request*)>& start) {
  if (!watching()) {  // Open MPI's tuned blocking algorithms when nothing is timed
    blocking();
    return;
  }
  MPI_Request request;
  start(&request);
  complete(&request, what);
}

template <class T>
void MpiCommunicator::all_reduce(T* data, size_t count, MPI_Datatype type) {
  in_slices<T>(data, count, [&](T* p, int n) {
    collective(
        "all-reduce", [&] { MPI_Allreduce(MPI_IN_PLACE, p, n, type, MPI_SUM, comm_); },
        [&](MPI_Request* r) { MPI_Iallreduce(MPI_IN_PLACE, p, n, type, MPI_SUM, comm_, r); });
  });
}

void MpiCommunicator::all_reduce_sum(float* data, size_t count) {
  all_reduce(data, count, MPI_FLOAT);
}

void MpiCommunicator::all_reduce_sum(double* data, size_t count) {
  all_reduce(data, count, MPI_DOUBLE);
}

void MpiCommunicator::broadcast(float* data, size_t count, int root) {
  in_slices<float>(data, count, [&](float* p, int n) {
    collective(
        "broadcast", [&] { MPI_Bcast(p, n, MPI_FLOAT, root, comm_); },
        [&](MPI_Request* r) { MPI_Ibcast(p, n, MPI_FLOAT, root, comm_, r); });
  });
}

void MpiCommunicator::broadcast(std::string* text, int root) {
  long long n = static_cast<long long>(text->size());
  collective(
      "broadcast", [&] { MPI_Bcast(&n, 1, MPI_LONG_LONG, root, comm_); },
      [&](MPI_Request* r) { MPI_Ibcast(&n, 1, MPI_LONG_LONG, root, comm_, r); });
  text->resize(static_cast<size_t>(n));
  if (n > 0) {
    collective(
        "broadcast", [&] { MPI_Bcast(text->data(), static_cast<int>(n), MPI_CHAR, root, comm_); },
        [&](MPI_Request* r) {
          MPI_Ibcast(text->data(), static_cast<int>(n), MPI_CHAR, root, comm_, r);
        });
  }
}

void MpiCommunicator::barrier() {
  collective(
      "barrier", [&] { MPI_Barrier(comm_); }, [&](MPI_Request* r) { MPI_Ibarrier(comm_, r); });
}

std::vector<std::string> MpiCommunicator::all_gather(const std::string& text) {
  int n = static_cast<int>(text.size());
  std::vector<int> sizes(size_), displs(size_);
  collective(
      "all-gather", [&] { MPI_Allgather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, comm_); },
      [&](MPI_Request* r) { MPI_Iallgather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, comm_, r); });
  int total = 0;
  for (int r = 0; r < size_; ++r) {
    displs[r] = total;
    total += sizes[r];
  }
  std::string all(static_cast<size_t>(total), '\0');
  collective(
      "all-gather",
      [&] {
        MPI_Allgatherv(text.data(), n, MPI_CHAR, all.data(), sizes.data(), displs.data(),
                       MPI_CHAR, comm_);
      },
      [&](MPI_Request* r) {
        MPI_Iallgatherv(text.data(), n, MPI_CHAR, all.data(), sizes.data(), displs.data(),
                        MPI_CHAR, comm_, r);
      });
  std::vector<std::string> out;
  for (int r = 0; r < size_; ++r) out.push_back(all.substr(displs[r], sizes[r]));
  return out;
}

}  // namespace chorus
