// NCCL for gradients on the GPU: bootstrapped over MPI, reduced with ncclSum on the caller's
// stream. The communicator is non-blocking (ncclConfig_t::blocking = 0), so every wait is a poll
// that can give up: no rank waits forever on a peer that died or stalled. Any failure aborts the
// NCCL communicator before throwing. The only translation unit with NCCL or CUDA headers.
#include "trainer/comm/nccl_communicator.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "trainer/comm/placement.h"

namespace chorus {
namespace {

using Clock = std::chrono::steady_clock;

std::string cuda_error_text(cudaError_t status) {
  return std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
}

void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cuda_error_text(status));
}

// Sleeps a little longer each time, from a spin to 1 ms: a collective of a training step usually
// completes within microseconds of its slowest peer; a stalled one costs no CPU while it waits.
class Backoff {
 public:
  void pause() {
    if (rounds_++ < 64) {
      std::this_thread::yield();
      return;
    }
    std::this_thread::sleep_for(sleep_);
    if (sleep_ < std::chrono::microseconds(1000)) sleep_ *= 2;
  }

 private:
  int rounds_ = 0;
  std::chrono::microseconds sleep_{10};
};

}  // namespace

struct NcclCommunicator::State {
  ncclComm_t comm = nullptr;
  int rank = 0, size = 1, device = 0;
  double timeout_s = 0;
  std::string host, context;
  bool aborted = false;

  std::string where() const {
    return "rank " + std::to_string(rank) + " (host " + host + ", GPU " + std::to_string(device) +
           ")";
  }
  std::string of_what(const char* what) const {
    return std::string("NCCL ") + what + (context.empty() ? "" : " (" + context + ")");
  }
  [[noreturn]] void fail(const char* what, const std::string& why) {
    abort();
    throw std::runtime_error(of_what(what) + " failed on " + where() + ": " + why +
                             "; the NCCL communicator was aborted");
  }
  void abort() {
    if (comm != nullptr && !aborted) {
      ncclCommAbort(comm);
      aborted = true;
    }
  }
  std::string nccl_error(ncclResult_t result) const {
    std::string text = std::string(ncclGetErrorString(result));
    const char* last = comm != nullptr ? ncclGetLastError(comm) : ncclGetLastError(nullptr);
    if (last != nullptr && *last != '\0') text += " (" + std::string(last) + ")";
    return text;
  }
  // Waits until the communicator's pending operation (init, an enqueue, finalize) has finished.
  void wait_ready(const char* what, Clock::time_point deadline, bool timed) {
    Backoff backoff;
    for (;;) {
      ncclResult_t state = ncclSuccess;
      const ncclResult_t r = ncclCommGetAsyncError(comm, &state);
      if (r != ncclSuccess) fail(what, nccl_error(r));
      if (state == ncclSuccess) return;
      if (state != ncclInProgress) fail(what, nccl_error(state));
      if (timed && Clock::now() > deadline) stalled(what);
      backoff.pause();
    }
  }
  [[noreturn]] void stalled(const char* what) {
    abort();
    std::ostringstream message;
    message << of_what(what) << " on " << where() << " has not completed after " << timeout_s
            << " s (dist.timeout_s): a peer stalled or died; the NCCL communicator was aborted";
    throw std::runtime_error(message.str());
  }
  Clock::time_point deadline() const {
    return Clock::now() + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(timeout_s));
  }
};

bool nccl_built() { return true; }

std::string nccl_build_description() {
  int nccl = 0, runtime = 0;
  ncclGetVersion(&nccl);
  cudaRuntimeGetVersion(&runtime);
  // NCCL >= 2.9 encodes versions as major * 10000 + minor * 100 + patch.
  std::ostringstream text;
  text << "NCCL " << nccl / 10000 << "." << nccl / 100 % 100 << "." << nccl % 100
       << ", CUDA runtime " << runtime / 1000 << "." << runtime % 1000 / 10;
  return text.str();
}

CudaDevices cuda_devices() {
  CudaDevices d;
  const cudaError_t status = cudaGetDeviceCount(&d.count);
  if (status != cudaSuccess) {
    d.count = 0;
    d.why = cuda_error_text(status);
    cudaGetLastError();  // clear it: later CUDA calls must not report it as theirs
  } else if (d.count == 0) {
    d.why = "the CUDA runtime reports no device";
  }
  return d;
}

int cuda_compute_capability(int device) {
  int major = 0, minor = 0;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return 10 * major + minor;
}

void cuda_set_device(int device) {
  check_cuda(cudaSetDevice(device), ("cudaSetDevice(" + std::to_string(device) + ")").c_str());
}

NcclCommunicator::NcclCommunicator(Communicator& bootstrap, int device, double timeout_s)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.rank = bootstrap.rank();
  s.size = bootstrap.size();
  s.device = device;
  s.timeout_s = timeout_s;
  s.host = host_name();
  // Every rank enters the broadcast even when its own set-up failed, so that the failure is
  // reported here rather than as a peer's hang; the failing rank then throws.
  std::string error;
  ncclUniqueId id;
  std::memset(&id, 0, sizeof(id));
  try {
    cuda_set_device(device);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (s.rank == 0 && error.empty()) {
    const ncclResult_t r = ncclGetUniqueId(&id);
    if (r != ncclSuccess) error = std::string("ncclGetUniqueId: ") + ncclGetErrorString(r);
  }
  std::string id_bytes(reinterpret_cast<const char*>(&id), sizeof(id));
  bootstrap.broadcast(&id_bytes, /*root=*/0);
  const std::vector<std::string> errors = bootstrap.all_gather(error);
  for (size_t r = 0; r < errors.size(); ++r)
    if (!errors[r].empty())
      throw std::runtime_error("NCCL set-up failed on rank " + std::to_string(r) +
                               (static_cast<int>(r) == s.rank ? " (host " + s.host + ")" : "") +
                               ": " + errors[r]);
  std::memcpy(&id, id_bytes.data(), sizeof(id));

  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  const ncclResult_t r = ncclCommInitRankConfig(&s.comm, s.size, id, s.rank, &config);
  if (r != ncclSuccess && r != ncclInProgress) s.fail("initialisation", s.nccl_error(r));
  s.wait_ready("initialisation", s.deadline(), s.timeout_s > 0);
}

NcclCommunicator::~NcclCommunicator() {
  State& s = *state_;
  if (s.comm == nullptr) return;
  if (s.aborted) return;  // ncclCommAbort freed it
  // Unwinding an error: peers may never reach finalize; abort instead of waiting for them.
  if (std::uncaught_exceptions() > 0) {
    ncclCommAbort(s.comm);
    return;
  }
  try {
    const ncclResult_t r = ncclCommFinalize(s.comm);
    if (r != ncclSuccess && r != ncclInProgress) {
      s.abort();
      return;
    }
    s.wait_ready("finalize", s.deadline(), s.timeout_s > 0);
    ncclCommDestroy(s.comm);
  } catch (const std::exception&) {
    // wait_ready aborted the communicator; a destructor reports nothing more.
  }
}

int NcclCommunicator::rank() const { return state_->rank; }
int NcclCommunicator::size() const { return state_->size; }
int NcclCommunicator::device() const { return state_->device; }
void NcclCommunicator::set_context(const std::string& what) { state_->context = what; }

void NcclCommunicator::set_timeout(double seconds) {
  if (!(seconds >= 0)) throw std::invalid_argument("set_timeout: seconds must be >= 0");
  state_->timeout_s = seconds;
}

void NcclCommunicator::all_reduce_sum(float* device_data, size_t count, void* stream) {
  State& s = *state_;
  if (s.aborted) throw std::logic_error(s.of_what("all-reduce") + ": communicator was aborted");
  const bool timed = s.timeout_s > 0 && s.size > 1;
  const Clock::time_point deadline = s.deadline();
  auto cuda_stream = static_cast<cudaStream_t>(stream);
  const ncclResult_t r = ncclAllReduce(device_data, device_data, count, ncclFloat, ncclSum,
                                       s.comm, cuda_stream);
  if (r != ncclSuccess && r != ncclInProgress) s.fail("all-reduce", s.nccl_error(r));
  s.wait_ready("all-reduce", deadline, timed);  // enqueued
  if (!timed) return;
  Backoff backoff;
  for (;;) {
    const cudaError_t status = cudaStreamQuery(cuda_stream);
    if (status == cudaSuccess) return;
    if (status != cudaErrorNotReady)
      s.fail("all-reduce", cuda_error_text(status));
    ncclResult_t state = ncclSuccess;
    ncclCommGetAsyncError(s.comm, &state);
    if (state != ncclSuccess && state != ncclInProgress) s.fail("all-reduce", s.nccl_error(state));
    if (Clock::now() > deadline) s.stalled("all-reduce");
    backoff.pause();
  }
}

DeviceFloats::DeviceFloats(size_t count, int device) : count_(count), device_(device) {
  cuda_set_device(device);
  void* p = nullptr;
  check_cuda(cudaMalloc(&p, count * sizeof(float)), "cudaMalloc");
  data_ = static_cast<float*>(p);
}

DeviceFloats::~DeviceFloats() {
  if (data_ != nullptr) cudaFree(data_);
}

void DeviceFloats::upload(const std::vector<float>& host) {
  if (host.size() != count_) throw std::invalid_argument("DeviceFloats::upload: size mismatch");
  check_cuda(cudaMemcpy(data_, host.data(), count_ * sizeof(float), cudaMemcpyHostToDevice),
             "cudaMemcpy to device");
}

std::vector<float> DeviceFloats::download() const {
  std::vector<float> host(count_);
  check_cuda(cudaMemcpy(host.data(), data_, count_ * sizeof(float), cudaMemcpyDeviceToHost),
             "cudaMemcpy to host");
  return host;
}

}  // namespace chorus
