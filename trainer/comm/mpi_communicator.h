// The MPI communicator: every call is a collective that all ranks enter in the same order, with
// the stall watchdog described below. The only header of the control plane that names MPI.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <mpi.h>

#include "trainer/comm/communicator.h"

namespace chorus {

// Collectives without a deadline are Open MPI's blocking ones. With a deadline (the trainer sets
// dist.timeout_s, and dist.slow_timeout_s for those inside UntimedCollectives), a collective is
// started non-blocking and completed by polling; one that has not completed within it ends the job:
// the message names the collective, the context and the culprits, then MPI_Abort. Culprits come
// from heartbeats on a duplicate communicator: each rank tells every peer as it enters a timed
// collective (2 (N-1) messages of 8 bytes per collective). The peers that have not arrived are
// named; when all have, each is named as "entered it and has not finished it" (with 2 ranks, the
// culprit exactly). A rank that dies is mpirun's to report (it ends the job); a rank that stalls
// (SIGSTOP, a hung file system) is this watchdog's.
class MpiCommunicator : public Communicator {
 public:
  // MPI must be initialised (see Runtime). Tests pass MPI_COMM_SELF to run a 1-rank job beside
  // a 2-rank one in the same mpiexec.
  explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;
  // Also gathers the host names that the timeout message prints.
  void set_timeout(double seconds) override;
  void set_context(const std::string& what) override { context_ = what; }
  void set_slow_timeout(double seconds) override;
  void set_timed(bool timed) override { timed_ = timed; }
  bool timed() const override { return timed_; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_reduce_sum(float* data, size_t count) override;
  void all_reduce_sum(double* data, size_t count) override;
  void broadcast(float* data, size_t count, int root) override;
  void broadcast(std::string* text, int root) override;
  void barrier() override;
  std::vector<std::string> all_gather(const std::string& text) override;

 private:
  // The deadline now: the timeout, or the slow one inside UntimedCollectives (0 = none).
  double deadline_s() const { return timed_ ? timeout_s_ : slow_timeout_s_; }
  bool watching() const { return deadline_s() > 0 && size_ > 1; }
  template <class T>
  void all_reduce(T* data, size_t count, MPI_Datatype type);
  // Runs one collective: `blocking` (Open MPI's tuned algorithms) when not watching, else
  // `start`s the non-blocking form and completes it against the deadline.
  void collective(const char* what, const std::function<void()>& blocking,
                  const std::function<void(MPI_Request*)>& start);
  // Completes a started collective by polling against the deadline, with heartbeats.
  void complete(MPI_Request* request, const char* what);
  [[noreturn]] void stalled(const char* what, const std::vector<std::string>& culprits) const;
  std::string host(int rank) const;

  MPI_Comm comm_;
  MPI_Comm beats_ = MPI_COMM_NULL;  // heartbeats, apart from the collectives' traffic
  int rank_ = 0, size_ = 1;
  double timeout_s_ = 0;
  double slow_timeout_s_ = 0;
  bool timed_ = false;
  long long sequence_ = 0;  // watched collectives so far, the same on every rank
  std::string context_;
  std::vector<std::string> hosts_;
};

}  // namespace chorus
