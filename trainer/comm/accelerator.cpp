// A rank's device: the placement rules of placement.h applied to what this process sees, the NCCL
// communicator for a CUDA rank, and bf16 autocast written against both LibTorch APIs (1.13's
// per-device setters, and the device-type ones that 2.4 introduced and later releases keep).
#include "trainer/comm/accelerator.h"

#include <cstdlib>

#include <ATen/autocast_mode.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "data/errors.h"
#include "trainer/comm/nccl_communicator.h"
#include "trainer/comm/placement.h"

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define CHORUS_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace chorus {
namespace {

bool autocast_enabled(torch::DeviceType device) {
#ifdef CHORUS_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(device);
#else
  return device == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

at::ScalarType autocast_dtype(torch::DeviceType device) {
#ifdef CHORUS_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(device);
#else
  return device == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype()
                                : at::autocast::get_autocast_cpu_dtype();
#endif
}

void set_autocast(torch::DeviceType device, bool enabled, at::ScalarType dtype) {
#ifdef CHORUS_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(device, enabled);
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == torch::kCUDA) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

const char* getenv_text(const char* name) { return std::getenv(name); }

}  // namespace

bool autocast_active(torch::DeviceType device) { return autocast_enabled(device); }

std::string Placement::describe() const {
  std::string text = device.str();
  if (backend == Backend::kNccl) text += " (gradients over " + nccl_build_description() + ")";
  else if (device.is_cuda()) text += " (gradients over MPI through host memory)";
  return text;
}

Placement place_rank(const Config& config, int split_local_rank, int local_size,
                     const std::string& host) {
  Placement a;
  const int torch_devices = static_cast<int>(torch::cuda::device_count());
  const bool cuda = use_cuda(
      config.train.device, torch_devices,
      CHORUS_TORCH_CUDA ? "LibTorch sees none; CUDA runtime: " + cuda_devices().why
                        : "this build's LibTorch " TORCH_VERSION " is CPU-only; build with a CUDA "
                          "LibTorch, see cluster/gpu/README.md");
  if (cuda) {
    const LocalRank local = local_rank_from(split_local_rank, getenv_text);
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    const int index = pick_cuda_device(local.rank, local_size, torch_devices,
                                       visible ? visible : "", host);
    a.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
    if (config.train.precision == Precision::kBf16) {
      const int capability = cuda_compute_capability(index);  // 0: unknown (no NCCL build)
      if (capability > 0 && capability < 80)
        throw InputError("train.precision is 'bf16' but GPU " + std::to_string(index) + " of host " +
                         host + " has compute capability " + std::to_string(capability / 10) +
                         "." + std::to_string(capability % 10) + " (bf16 needs 8.0 or newer)");
    }
  }
  a.backend = pick_backend(config.dist.backend, cuda, nccl_built(), nccl_build_description());
  return a;
}

Bf16Autocast::Bf16Autocast(torch::DeviceType device, bool bf16) : device_(device), active_(bf16) {
  if (!active_) return;
  was_enabled_ = autocast_enabled(device_);
  was_dtype_ = autocast_dtype(device_);
  set_autocast(device_, true, at::kBFloat16);
  at::autocast::increment_nesting();
}

Bf16Autocast::~Bf16Autocast() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(device_, was_enabled_, was_dtype_);
}

void* current_cuda_stream(const torch::Device& device) {
  // Through c10's device-generic interface, so that no CUDA header is needed here. LibTorch's
  // default stream (id 0) wraps the legacy default stream, whose handle is nullptr; Chorus never
  // makes another stream current.
  const c10::Stream stream = c10::impl::getDeviceGuardImpl(device.type())->getStream(device);
  if (stream.id() != 0)
    throw std::logic_error("NCCL runs on LibTorch's default CUDA stream; the current stream of " +
                           device.str() + " is another one (id " + std::to_string(stream.id()) +
                           ")");
  return nullptr;
}

void allow_tf32(bool allow) {
  at::globalContext().setAllowTF32CuBLAS(allow);
  at::globalContext().setAllowTF32CuDNN(allow);
}

}  // namespace chorus
