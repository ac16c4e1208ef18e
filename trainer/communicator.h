// The communicator seam (Horovod's backend pattern): the trainer averages gradients through this
// interface; MpiCommunicator moves CPU buffers. With one rank it is the fake for unit tests.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <mpi.h>

namespace chorus {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // In place, element-wise sum over all ranks.
  virtual void all_reduce_sum(float* data, size_t count) = 0;
  virtual void all_reduce_sum(double* data, size_t count) = 0;
  virtual void broadcast(float* data, size_t count, int root) = 0;
  virtual void broadcast(std::string* text, int root) = 0;
  virtual void barrier() = 0;
  // Every rank's string, in rank order (small strings: host names, error texts).
  virtual std::vector<std::string> all_gather(const std::string& text) = 0;
};

class MpiCommunicator : public Communicator {
 public:
  // MPI must be initialised (see Runtime). Tests pass MPI_COMM_SELF to run a 1-rank job beside
  // a 2-rank one in the same mpiexec.
  explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD);
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_reduce_sum(float* data, size_t count) override;
  void all_reduce_sum(double* data, size_t count) override;
  void broadcast(float* data, size_t count, int root) override;
  void broadcast(std::string* text, int root) override;
  void barrier() override;
  std::vector<std::string> all_gather(const std::string& text) override;

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace chorus
