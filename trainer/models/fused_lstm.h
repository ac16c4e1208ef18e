// Chorus's own LSTM layer for CPUs (model.lstm_impl: fused): the forward and backward passes
// written for the recurrence rather than composed from autograd's per-step operations. Forward:
// the input projection of all T steps as one GEMM, then per step one GEMM of h_{t-1} with W_hh
// into the gate buffer and one fused pass over the gates (sigmoid, tanh, c, h). Backward: per step
// one fused pass for the gate gradients and one GEMM for dh_{t-1}; after the loop dW_ih, dW_hh and
// dX as one GEMM each over the whole window and the bias gradients as one reduction. Parameters
// and layout are torch::nn::LSTM's (gates i, f, g, o; two biases), so a checkpoint trained with
// either implementation runs with the other.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "trainer/config/config.h"

namespace chorus {

// Reusable buffers of one layer: a buffer is handed out again only once nothing else holds its
// storage (the autograd graph that saved it is gone), so no time step and, in steady state, no
// window allocates.
class FusedLstmWorkspace {
 public:
  // A float32 CPU tensor of `shape` (contents undefined) for slot `slot`.
  torch::Tensor get(size_t slot, const std::vector<int64_t>& shape);

 private:
  std::vector<torch::Tensor> buffers_;
};

// One LSTM layer over x [T, B, in] from (h0, c0) [B, H] with torch::nn::LSTM's parameters
// (w_ih [4H, in], w_hh [4H, H], b_ih, b_hh [4H]). Returns {y [T, B, H], h_T, c_T}. With grad
// mode on and an input that requires a gradient, an autograd Function with the hand-written
// backward (gradients of x, h0, c0 and the four parameters); otherwise a pass that keeps nothing.
// CPU float32 only. The graph keeps `workspace` alive until its backward pass has run.
std::vector<torch::Tensor> fused_lstm_layer(const torch::Tensor& x, const torch::Tensor& h0,
                                            const torch::Tensor& c0, const torch::Tensor& w_ih,
                                            const torch::Tensor& w_hh, const torch::Tensor& b_ih,
                                            const torch::Tensor& b_hh,
                                            std::shared_ptr<FusedLstmWorkspace> workspace);

// The instruction set the gate passes run with on this CPU ("x86-64-v4 (AVX-512)",
// "x86-64-v3 (AVX2)", "baseline"): chosen at run time (GCC target_clones), so the same binary
// runs on any x86-64 node; CHORUS_FUSED_ISA=baseline forces the portable code (benchmarks).
std::string fused_lstm_isa();

// The LSTM implementation a run with `config` uses on `device`, resolved as the layers resolve it
// ("fused" on the CPU in fp32 under auto; "torch" otherwise; "" for another recurrence), for the
// config table and the run manifest.
std::string resolved_lstm_impl(const Config& config, const torch::Device& device);

}  // namespace chorus
