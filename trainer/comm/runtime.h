// Process-level set-up of a training or evaluation job: MPI, ranks per node, threads, BLAS check,
// stop signals, and the facts recorded in the run manifest.
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "trainer/comm/communicator.h"
#include "trainer/comm/placement.h"

namespace chorus {

class Runtime {
 public:
  // Initialises MPI (also as a plain process: a singleton world of one rank), finds the local
  // rank and the ranks on this node, sets LibTorch's threads (`threads` = 0: cores / local
  // ranks; inter-op threads 1) and warns loudly on stderr (rank 0) when a slow BLAS is active.
  explicit Runtime(int64_t threads);
  ~Runtime();  // MPI_Finalize
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  Communicator& comm() { return *comm_; }
  int rank() const { return comm_->rank(); }
  int size() const { return comm_->size(); }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  int threads() const { return threads_; }
  const std::string& host() const { return host_; }
  // Library versions, BLAS, ranks x threads, host names, and "rank_placement": per rank its
  // host, local rank, ranks on its node, threads and `device` (a collective: every rank calls it
  // with its own device).
  nlohmann::json describe(const std::string& device);

 private:
  std::unique_ptr<Communicator> comm_;
  int local_rank_ = 0, local_size_ = 1, threads_ = 1;
  std::string host_;
};

// The BLAS library that serves sgemm_ in this process (resolved path), and whether it
// is a fast one (OpenBLAS, BLIS, MKL) rather than the netlib reference.
struct BlasInfo {
  std::string library;
  bool fast = false;
  std::string core;  // OpenBLAS's kernel family for this CPU ("Haswell", "SkylakeX"); "" otherwise
};
BlasInfo active_blas();

// Stop requests (SIGINT, SIGTERM, SIGUSR1): the handler only sets a flag; the trainer agrees on
// it over ranks at the next step boundary, saves and exits 3.
void install_stop_handlers();
bool stop_requested();

// Tunes glibc malloc for a training process: large blocks come from the heap and freed memory
// stays there, instead of an mmap, page faults and munmap per tensor per step.
void keep_freed_memory_in_heap();

}  // namespace chorus
