// The GPU side of the communicator seam: NCCL for gradients in device memory, and the few CUDA
// runtime facts the trainer needs. This header names no CUDA, NCCL or LibTorch type (device
// buffers are raw pointers, streams are void* holding a cudaStream_t), so LibTorch code includes
// it freely; only trainer/nccl_communicator.cpp includes <nccl.h> and <cuda_runtime_api.h>.
// A build without NCCL (CMake found no CUDA toolkit or NCCL) gets trainer/nccl_unavailable.cpp:
// the same functions, which report that and throw.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "trainer/comm/communicator.h"

namespace chorus {

// True when this build has the NCCL communicator (CMake found CUDA and NCCL).
bool nccl_built();
// "NCCL 2.28.3, CUDA runtime 13.0" or why the build has none.
std::string nccl_build_description();

// CUDA devices this process sees (CUDA_VISIBLE_DEVICES applied). `count` is 0 when there is no
// GPU, no driver, or no NCCL build; `why` then says which (the CUDA runtime's own words).
struct CudaDevices {
  int count = 0;
  std::string why;
};
CudaDevices cuda_devices();
// Compute capability as 10 * major + minor (90 for an H100), or 0 when unknown.
int cuda_compute_capability(int device);
// Makes `device` this thread's current CUDA device (cudaSetDevice); throws on failure.
void cuda_set_device(int device);

// Gradients averaged over ranks on the GPU. Construction is a collective over `bootstrap` (every
// rank): rank 0 makes the NCCL unique id and broadcasts it over MPI, then every rank joins with
// ncclCommInitRank on its device. Every NCCL failure, and a collective that has not completed
// within the timeout, aborts the NCCL communicator (ncclCommAbort, so no kernel waits forever on
// a dead peer) and throws std::runtime_error naming the host, the rank and the collective; the
// launcher's handler then ends the MPI job.
class NcclCommunicator {
 public:
  NcclCommunicator(Communicator& bootstrap, int device, double timeout_s);
  ~NcclCommunicator();
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const;
  int size() const;
  int device() const;
  // In place: `count` floats in device memory become their sum over ranks (ncclSum), enqueued on
  // `stream` (a cudaStream_t; nullptr = the legacy default stream, LibTorch's default). With a
  // timeout, waits for completion and enforces it; without, returns once enqueued.
  void all_reduce_sum(float* device_data, size_t count, void* stream);
  // What the next collectives belong to, for messages ("step 37").
  void set_context(const std::string& what);
  // 0 = no deadline.
  void set_timeout(double seconds);

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// A float buffer in device memory (cudaMalloc), for tests and tools that hold no LibTorch tensor.
class DeviceFloats {
 public:
  DeviceFloats(size_t count, int device);
  ~DeviceFloats();
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;
  float* data() { return data_; }
  size_t size() const { return count_; }
  void upload(const std::vector<float>& host);
  std::vector<float> download() const;

 private:
  float* data_ = nullptr;
  size_t count_ = 0;
  int device_ = 0;
};

}  // namespace chorus
