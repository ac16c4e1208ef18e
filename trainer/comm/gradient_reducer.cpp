// The two gradient reducers behind one interface. MPI sums host buffers over the communicator
// (whose watchdog times the step's collective); a CUDA buffer is copied to the host and back.
// NCCL sums device buffers with ncclSum on LibTorch's current stream, so it is ordered after the
// backward pass that wrote them; its own watchdog aborts the NCCL communicator on a stall.
#include "trainer/comm/gradient_reducer.h"

#include "trainer/comm/nccl_communicator.h"

namespace chorus {
namespace {

class MpiReducer : public GradientReducer {
 public:
  explicit MpiReducer(Communicator& comm) : comm_(comm) {}
  void sum(torch::Tensor& flat) override {
    if (flat.is_cpu()) {
      comm_.all_reduce_sum(flat.data_ptr<float>(), static_cast<size_t>(flat.numel()));
      return;
    }
    torch::Tensor host = flat.to(torch::kCPU);
    comm_.all_reduce_sum(host.data_ptr<float>(), static_cast<size_t>(host.numel()));
    flat.copy_(host);
  }
  void set_context(const std::string& what) override { comm_.set_context(what); }
  std::string describe() const override { return "MPI (host memory)"; }

 private:
  Communicator& comm_;
};

class NcclReducer : public GradientReducer {
 public:
  NcclReducer(Communicator& comm, torch::Device device, double timeout_s)
      : comm_(comm), nccl_(comm, device.index(), timeout_s) {}
  void sum(torch::Tensor& flat) override {
    nccl_.all_reduce_sum(flat.data_ptr<float>(), static_cast<size_t>(flat.numel()),
                         current_cuda_stream(flat.device()));
  }
  void set_context(const std::string& what) override {
    comm_.set_context(what);
    nccl_.set_context(what);
  }
  std::string describe() const override { return nccl_build_description() + " (device memory)"; }

 private:
  Communicator& comm_;
  NcclCommunicator nccl_;
};

}  // namespace

std::unique_ptr<GradientReducer> make_gradient_reducer(const Placement& placement,
                                                       Communicator& comm, double timeout_s) {
  if (placement.backend == Backend::kNccl)
    return std::make_unique<NcclReducer>(comm, placement.device, timeout_s);
  return std::make_unique<MpiReducer>(comm);
}

}  // namespace chorus
