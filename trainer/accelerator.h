// The device a rank trains on, and what comes with it: the NCCL communicator for its gradients,
// the bf16 autocast scope, and the stream NCCL runs on. Built once by the launcher
// (place_rank) and handed to the Trainer.
#pragma once
#include <iosfwd>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "trainer/communicator.h"
#include "trainer/config.h"
#include "trainer/nccl_communicator.h"

namespace chorus {

struct Accelerator {
  torch::Device device{torch::kCPU};
  std::shared_ptr<NcclCommunicator> nccl;    // gradients over NCCL; null: over MPI
  std::string describe() const;              // "cpu", "cuda:1 (NCCL 2.28.3, ...)"
};

// Chooses this rank's device from train.device and its local rank (placement.h), makes it
// current, and with dist.backend nccl builds the NCCL communicator (a collective over `comm`:
// every rank calls it). Refuses bf16 on a GPU without it (compute capability < 8.0).
Accelerator place_rank(const Config& config, Communicator& comm, int split_local_rank,
                       int local_size, const std::string& host);

// The device of a module's parameters (the CPU for a module without any).
torch::Device module_device(const torch::nn::Module& module);

// Within its scope, ops on `device`'s type run under autocast to bfloat16 when `bf16` (else it
// does nothing). Nested scopes are fine; the autocast cache is cleared when the outermost ends.
class Bf16Autocast {
 public:
  Bf16Autocast(torch::DeviceType device, bool bf16);
  ~Bf16Autocast();
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  torch::DeviceType device_;
  bool active_ = false, was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

// The cudaStream_t (as void*) that LibTorch's current CUDA stream wraps on `device`: where NCCL
// must run to be ordered with the backward pass that produced the gradients.
void* current_cuda_stream(const torch::Device& device);

// TF32 matmuls and convolutions on or off (a GPU-versus-CPU comparison wants them off).
void allow_tf32(bool allow);

}  // namespace chorus
