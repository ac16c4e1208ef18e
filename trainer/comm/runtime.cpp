// MPI session, threads and BLAS for one rank. Threads per rank default to cores / local ranks so
// that ranks on a node do not oversubscribe it; the BLAS check catches Debian's reference BLAS,
// which makes every step 10-25x slower.
#include "trainer/comm/runtime.h"

#include "trainer/comm/mpi_communicator.h"

#include <exception>

#include <dlfcn.h>
#include <malloc.h>
#include <mpi.h>
#include <unistd.h>

#include <H5public.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <atomic>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

namespace chorus {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGUSR1}) sigaction(sig, &sa, nullptr);
}

bool stop_requested() { return g_stop.load(); }

BlasInfo active_blas() {
  // The library that serves sgemm_ for this process is the BLAS LibTorch's CPU matmuls use
  // (Debian's LibTorch links libblas.so.3, which the alternatives system points somewhere).
  BlasInfo info;
  Dl_info where{};
  if (void* symbol = dlsym(RTLD_DEFAULT, "sgemm_"); symbol && dladdr(symbol, &where) &&
                                                     where.dli_fname) {
    std::error_code ec;
    info.library = std::filesystem::canonical(where.dli_fname, ec).string();
    if (ec) info.library = where.dli_fname;
  }
  // OpenBLAS picks its kernels by CPU (or OPENBLAS_CORETYPE): ranks on different kernels sum in
  // different orders, so their results agree only up to rounding.
  using CoreName = char* (*)();
  if (auto core = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename")))
    if (const char* name = core()) info.core = name;
  const std::string& lib = info.library;
  info.fast = lib.find("openblas") != std::string::npos || lib.find("mkl") != std::string::npos ||
              lib.find("blis") != std::string::npos;
  return info;
}

void keep_freed_memory_in_heap() {
  // A training step frees and reallocates the same large tensors every time. By default glibc
  // serves blocks over 128 KiB (growing to 32 MiB) with mmap and returns them with munmap, so
  // every step faults all of that memory in again: on the 2 x 512 lyrics model a third of the
  // step went to the kernel. Serving them from the heap and keeping freed memory there makes the
  // step ~1.4x faster (bench/throughput.sh); the cost is a resident heap at its high-water mark.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // the largest value glibc accepts on 64-bit
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
  mallopt(M_TOP_PAD, 256 << 20);
}

Runtime::Runtime(int64_t threads) {
  keep_freed_memory_in_heap();
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  }
  comm_ = std::make_unique<MpiCommunicator>();
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, comm_->rank(), MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
  host_ = host_name();

  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads_ = threads > 0 ? static_cast<int>(threads) : std::max(1, cores / local_size_);
  at::set_num_threads(threads_);
  at::set_num_interop_threads(1);

  const BlasInfo blas = active_blas();
  if (!blas.fast && comm_->rank() == 0) {
    std::cerr << "\n"
              << "**********************************************************************\n"
              << "chorus: WARNING: slow BLAS active: "
              << (blas.library.empty() ? "(none found)" : blas.library) << "\n"
              << "  Debian's reference BLAS makes a training step 10-25x slower.\n"
              << "  Fix: apt-get install libopenblas0-openmp  (scripts/install-deps.sh does it)\n"
              << "**********************************************************************\n\n";
  }
}

Runtime::~Runtime() {
  // Unwinding an error: MPI_Finalize would wait for peers that may be blocked in a collective
  // this rank will never enter. main()'s handler reports the error and calls MPI_Abort instead.
  if (std::uncaught_exceptions() > 0) return;
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (!finalised) MPI_Finalize();
}

nlohmann::json Runtime::describe(const std::string& device) {
  const std::vector<std::string> hosts = comm_->all_gather(host_);
  const BlasInfo blas = active_blas();
  const nlohmann::json mine = {{"rank", rank()},           {"host", host_},
                               {"local_rank", local_rank_}, {"local_size", local_size_},
                               {"threads", threads_},       {"device", device},
                               {"blas_core", blas.core}};
  nlohmann::json placement = nlohmann::json::array();
  std::set<std::string> cores;
  for (const std::string& entry : comm_->all_gather(mine.dump())) {
    placement.push_back(nlohmann::json::parse(entry));
    cores.insert(placement.back()["host"].get<std::string>() + ": " +
                 placement.back()["blas_core"].get<std::string>());
  }
  std::set<std::string> distinct;
  for (const auto& p : placement) distinct.insert(p["blas_core"].get<std::string>());
  if (distinct.size() > 1 && rank() == 0) {
    std::string list;
    for (const std::string& c : cores) list += (list.empty() ? "" : ", ") + c;
    std::cerr << "chorus: warning: the ranks run different OpenBLAS kernels (" << list
              << "): results agree across rank counts only up to rounding; export the same "
                 "OPENBLAS_CORETYPE to every rank (mpirun -x) for bit-exact runs\n";
  }
  char mpi_version[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  MPI_Get_library_version(mpi_version, &len);
  // The length Open MPI returns counts the terminating NUL: take the text up to it.
  std::string mpi(mpi_version, strnlen(mpi_version, static_cast<size_t>(len)));
  if (auto nl = mpi.find('\n'); nl != std::string::npos) mpi.resize(nl);
  while (!mpi.empty() && (mpi.back() == ',' || mpi.back() == ' ')) mpi.pop_back();
  unsigned h5_major = 0, h5_minor = 0, h5_release = 0;
  H5get_libversion(&h5_major, &h5_minor, &h5_release);
  return {{"ranks", size()},
          {"threads_per_rank", threads_},
          {"local_ranks", local_size_},
          {"hosts", hosts},
          {"rank_placement", placement},
          {"blas", blas.library},
          {"blas_fast", blas.fast},
          {"libtorch", TORCH_VERSION},
          {"mpi", mpi},
          {"hdf5", std::to_string(h5_major) + "." + std::to_string(h5_minor) + "." +
                       std::to_string(h5_release)}};
}

}  // namespace chorus
