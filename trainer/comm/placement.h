// Where a rank trains: CPU or which GPU, and over which backend its gradients go. Pure decisions
// (no LibTorch, no CUDA), so that every rule has a unit test on a machine without a GPU.
#pragma once
#include <string>

#include "trainer/config/config.h"

namespace chorus {

// This machine's host name (messages, manifests).
std::string host_name();

// This rank's place on its node. The launcher's variables win (Open MPI's
// OMPI_COMM_WORLD_LOCAL_RANK, then Slurm's SLURM_LOCALID): they are what its CPU and GPU binding
// used. Without them, the shared-memory split of the world communicator (`split_rank`).
struct LocalRank {
  int rank = 0;
  std::string source;  // "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID" or "MPI shared-memory split"
};
// `getenv` is a parameter so that tests can pass their own environment.
LocalRank local_rank_from(int split_rank, const char* (*getenv)(const char*));

// train.device -> true for CUDA. `cuda_devices` is what this build's
// LibTorch sees; `why_none` says why it sees none (named in the error for "cuda").
bool use_cuda(DeviceChoice device, int cuda_devices, const std::string& why_none);

// The CUDA device of local rank `local_rank` of `local_size` ranks on `host`, which sees
// `device_count` devices: its local rank; device 0 when the launcher gave every rank its own
// single device (CUDA_VISIBLE_DEVICES set, one device visible); otherwise an InputError when the
// node's ranks outnumber its GPUs.
int pick_cuda_device(int local_rank, int local_size, int device_count,
                     const std::string& visible_devices, const std::string& host);

// dist.backend for a rank on CUDA (`cuda`) -> kMpi or kNccl; InputError for nccl on the CPU or
// in a build without NCCL (`nccl_why_not` says why).
Backend pick_backend(Backend backend, bool cuda, bool nccl_built, const std::string& nccl_why_not);

}  // namespace chorus
