// The control plane of a job (Horovod's backend pattern): scalars, strings, barriers and
// broadcasts between ranks, with a stall watchdog. MpiCommunicator (mpi_communicator.h) is the
// real one; LocalCommunicator below is one process alone. Gradients do not go through here but
// through a GradientReducer (gradient_reducer.h), which may use this (MPI) or NCCL.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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

  // The stall watchdog (see MpiCommunicator); the defaults do nothing, for one-rank fakes.
  // A collective: every rank calls it with the same seconds (0 = no deadline); timing starts on.
  virtual void set_timeout(double /*seconds*/) {}
  // What the next collectives belong to, for the timeout message ("step 37").
  virtual void set_context(const std::string& /*what*/) {}
  // The deadline while not timed (0 = none): collectives around work that one rank may
  // legitimately take long over still end the job when a peer never comes (a rank stopped inside
  // a checkpoint write), only later.
  virtual void set_slow_timeout(double /*seconds*/) {}
  // While false, collectives have the slow deadline instead (checkpoint writes, validation,
  // sampling). Prefer the UntimedCollectives guard.
  virtual void set_timed(bool /*timed*/) {}
  virtual bool timed() const { return false; }
};

// Collectives in this scope have the slow deadline (set_slow_timeout) rather than the timeout;
// the previous setting comes back at scope exit.
class UntimedCollectives {
 public:
  explicit UntimedCollectives(Communicator& comm) : comm_(comm), was_(comm.timed()) {
    comm_.set_timed(false);
  }
  ~UntimedCollectives() { comm_.set_timed(was_); }
  UntimedCollectives(const UntimedCollectives&) = delete;
  UntimedCollectives& operator=(const UntimedCollectives&) = delete;

 private:
  Communicator& comm_;
  bool was_;
};

// One process, one rank, no MPI: the in-process fake for single-process tests and tools. Every
// collective is the identity (a sum over one rank is the value itself).
class LocalCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void all_reduce_sum(float*, size_t) override {}
  void all_reduce_sum(double*, size_t) override {}
  void broadcast(float*, size_t, int) override {}
  void broadcast(std::string*, int) override {}
  void barrier() override {}
  std::vector<std::string> all_gather(const std::string& text) override { return {text}; }
};

}  // namespace chorus
