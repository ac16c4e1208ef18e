// The one gradient seam: each training step's gradients, loss sum, count and stop flag travel as
// one flat float buffer that every rank sums in place (docs/design.md "Loss aggregation": the trainer
// divides by the all-reduced count, so the semantics are a sum). Two implementations, chosen by
// one factory from the rank's placement: MPI on host memory (a CUDA buffer goes through the host)
// and NCCL on device memory. Control traffic (scalars, barriers, broadcasts) stays on the
// Communicator.
#pragma once
#include <memory>
#include <string>

#include <torch/torch.h>

#include "trainer/comm/accelerator.h"
#include "trainer/comm/communicator.h"

namespace chorus {

class GradientReducer {
 public:
  virtual ~GradientReducer() = default;
  // In place: `flat` (float32, contiguous, on the rank's device) becomes its element-wise sum
  // over ranks. A collective: every rank calls it once per step. With a timeout, a peer that
  // never arrives ends the job with a message (the watchdog of the communicator or of NCCL).
  virtual void sum(torch::Tensor& flat) = 0;
  // What the next reductions belong to, for those messages ("step 37").
  virtual void set_context(const std::string& what) = 0;
  // "MPI (host memory)", "NCCL 2.28.9, CUDA runtime 13.0 (device memory)".
  virtual std::string describe() const = 0;
};

// The reducer for `placement`: NCCL when its backend is NCCL (set-up is a collective over `comm`:
// every rank calls this), else MPI over `comm`. `timeout_s` as dist.timeout_s (0 = none).
std::unique_ptr<GradientReducer> make_gradient_reducer(const Placement& placement,
                                                       Communicator& comm, double timeout_s);

}  // namespace chorus
