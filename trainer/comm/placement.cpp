// Device and backend choice for a rank. Every refusal is an InputError (exit 2) that names the key
// and the host, since a wrong placement is a job-script mistake, not a crash.
#include "trainer/comm/placement.h"

#include <cstdlib>

#include <unistd.h>

#include "data/errors.h"

namespace chorus {
namespace {

bool parse_rank(const char* text, int* out) {
  if (text == nullptr || *text == '\0') return false;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < 0 || value > 1 << 20) return false;
  *out = static_cast<int>(value);
  return true;
}

}  // namespace

std::string host_name() {
  char name[256] = {0};
  gethostname(name, sizeof(name) - 1);
  return name;
}

LocalRank local_rank_from(int split_rank, const char* (*getenv)(const char*)) {
  LocalRank local;
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"}) {
    if (parse_rank(getenv(name), &local.rank)) {
      local.source = name;
      return local;
    }
  }
  local.rank = split_rank;
  local.source = "MPI shared-memory split";
  return local;
}

bool use_cuda(DeviceChoice device, int cuda_devices, const std::string& why_none) {
  if (device == DeviceChoice::kCpu) return false;
  if (device == DeviceChoice::kAuto) return cuda_devices > 0;
  if (cuda_devices > 0) return true;
  throw InputError("train.device is 'cuda' but this process sees no CUDA device (" + why_none +
                   "); use train.device: cpu, or a build with CUDA LibTorch on a GPU node");
}

int pick_cuda_device(int local_rank, int local_size, int device_count,
                     const std::string& visible_devices, const std::string& host) {
  if (device_count <= 0)
    throw InputError("host " + host + ": train.device is 'cuda' but no CUDA device is visible");
  if (local_size <= device_count) return local_rank;
  // The launcher bound each rank to one GPU of its own (Slurm --gpus-per-task, a wrapper script):
  // the only device this rank sees is its own.
  if (device_count == 1 && !visible_devices.empty()) return 0;
  throw InputError("host " + host + " runs " + std::to_string(local_size) +
                   " ranks but has " + std::to_string(device_count) + " CUDA device" +
                   (device_count == 1 ? "" : "s") +
                   (visible_devices.empty() ? "" : " (CUDA_VISIBLE_DEVICES=" + visible_devices + ")") +
                   ": start at most one rank per GPU (mpirun --map-by ppr:" +
                   std::to_string(device_count) + ":node, Slurm --ntasks-per-node=" +
                   std::to_string(device_count) + "), or set train.device: cpu");
}

Backend pick_backend(Backend backend, bool cuda, bool nccl_built, const std::string& nccl_why_not) {
  if (backend == Backend::kMpi) return Backend::kMpi;
  if (backend == Backend::kAuto) return cuda && nccl_built ? Backend::kNccl : Backend::kMpi;
  if (!cuda)
    throw InputError("dist.backend is 'nccl' but this rank trains on the CPU (train.device); "
                     "NCCL reduces GPU buffers only: use dist.backend: mpi or auto");
  if (!nccl_built) throw InputError("dist.backend is 'nccl' but " + nccl_why_not);
  return Backend::kNccl;
}

}  // namespace chorus
