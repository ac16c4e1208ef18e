// The device a rank trains on and the backend its gradients go over (place_rank, built once by
// the launcher), and what a device brings with it: the bf16 autocast scope and the CUDA stream
// NCCL runs on. The gradient reducer itself is made from the placement (gradient_reducer.h).
#pragma once
#include <iosfwd>
#include <string>

#include <torch/torch.h>

#include "trainer/config/config.h"

namespace chorus {

struct Placement {
  torch::Device device{torch::kCPU};
  Backend backend = Backend::kMpi;  // resolved: kMpi or kNccl
  std::string describe() const;     // "cpu", "cuda:1 (gradients over NCCL)"
};

// Chooses this rank's device from train.device and its local rank (placement.h) and the backend
// from dist.backend. Refuses bf16 on a GPU without it (compute capability < 8.0).
Placement place_rank(const Config& config, int split_local_rank, int local_size,
                     const std::string& host);

// Whether autocast is on for `device`'s type in this thread.
bool autocast_active(torch::DeviceType device);

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
