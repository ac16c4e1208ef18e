// The GPU functions of a build without NCCL (CMake found no CUDA toolkit or NCCL, or
// CHORUS_CUDA=OFF): they report that, so `dist.backend: nccl` fails with a reason rather than a
// link error, and a CPU build needs no CUDA installation.
#include <stdexcept>

#include "trainer/comm/nccl_communicator.h"

namespace chorus {
namespace {

const char kWhy[] =
    "this build of Chorus has no NCCL communicator (configure found no CUDA toolkit and NCCL, "
    "or CHORUS_CUDA=OFF; see cluster/gpu/README.md)";

}  // namespace

bool nccl_built() { return false; }
std::string nccl_build_description() { return kWhy; }
CudaDevices cuda_devices() { return {0, kWhy}; }
int cuda_compute_capability(int) { return 0; }
void cuda_set_device(int) { throw std::runtime_error(kWhy); }

struct NcclCommunicator::State {};
NcclCommunicator::NcclCommunicator(Communicator&, int, double) { throw std::runtime_error(kWhy); }
NcclCommunicator::~NcclCommunicator() = default;
int NcclCommunicator::rank() const { return 0; }
int NcclCommunicator::size() const { return 1; }
int NcclCommunicator::device() const { return 0; }
void NcclCommunicator::all_reduce_sum(float*, size_t, void*) { throw std::runtime_error(kWhy); }
void NcclCommunicator::set_context(const std::string&) {}
void NcclCommunicator::set_timeout(double) {}

DeviceFloats::DeviceFloats(size_t, int) { throw std::runtime_error(kWhy); }
DeviceFloats::~DeviceFloats() = default;
void DeviceFloats::upload(const std::vector<float>&) { throw std::runtime_error(kWhy); }
std::vector<float> DeviceFloats::download() const { throw std::runtime_error(kWhy); }

}  // namespace chorus
