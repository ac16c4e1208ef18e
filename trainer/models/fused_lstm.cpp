// The fused LSTM layer. Invariants: the parameters are torch::nn::LSTM's, read in its layout
// (rows of the weights and biases are the units of gates i, f, g, o); the forward pass keeps
// exactly what its backward reads (activated gates, c_{t-1}, tanh(c_t), h_{t-1}, x) in
// workspace buffers that are never handed out while a graph still holds them; the per-step work
// is one GEMM and one vectorised pass, the weight gradients one GEMM per window.
#include "trainer/models/fused_lstm.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace chorus {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// ---- Element-wise kernels: written so that the compiler vectorises them (no branches, no
// library calls), compiled three times on x86-64 (baseline SSE2, AVX2+FMA, AVX-512) and chosen
// at run time. ----

// e^x for |x| <= 88 by Cephes' method: x = n ln 2 + r, |r| <= ln 2 / 2, e^r by a degree-6
// polynomial, 2^n built in the exponent bits. Relative error ~1e-7.
inline __attribute__((always_inline)) float exp_approx(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(x / ln 2)
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline __attribute__((always_inline)) float sigmoid_approx(float x) {
  return 1.0f / (1.0f + exp_approx(-x));
}

inline __attribute__((always_inline)) float tanh_approx(float x) {
  return 1.0f - 2.0f / (1.0f + exp_approx(2.0f * x));
}

// Forward over `rows` rows (streams) of one step: gates [rows, 4H] pre-activations in, activated
// (i, f, g, o) out; c = f c_prev + i g, tc = tanh(c), h = o tc.
inline __attribute__((always_inline)) void forward_rows_body(float* gates, const float* c_prev,
                                                             float* c, float* tc, float* h,
                                                             int64_t rows, int64_t H) {
  for (int64_t r = 0; r < rows; ++r) {
    float* __restrict gi = gates + r * 4 * H;
    float* __restrict gf = gi + H;
    float* __restrict gg = gf + H;
    float* __restrict go = gg + H;
    const float* __restrict cp = c_prev + r * H;
    float* __restrict cr = c + r * H;
    float* __restrict tr = tc + r * H;
    float* __restrict hr = h + r * H;
#pragma GCC ivdep  // element-wise: no element of one array overlaps another's (GCC ignores the
                   // restrict of locals and would give up on the 28 run-time alias checks)
    for (int64_t j = 0; j < H; ++j) {
      const float i = sigmoid_approx(gi[j]), f = sigmoid_approx(gf[j]);
      const float g = tanh_approx(gg[j]), o = sigmoid_approx(go[j]);
      const float cj = f * cp[j] + i * g, t = tanh_approx(cj);
      gi[j] = i;
      gf[j] = f;
      gg[j] = g;
      go[j] = o;
      cr[j] = cj;
      tr[j] = t;
      hr[j] = o * t;
    }
  }
}

// Backward over `rows` rows of one step. dh = dy + dh_next (the gradient of h_t); dc in: the
// gradient of c_t through c_{t+1}, out: the gradient of c_{t-1}; dgates out: the gradients of
// the four pre-activations.
inline __attribute__((always_inline)) void backward_rows_body(
    const float* gates, const float* c_prev, const float* tc, const float* dy, const float* dh_next,
    float* dc, float* dgates, int64_t rows, int64_t H) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict gi = gates + r * 4 * H;
    const float* __restrict gf = gi + H;
    const float* __restrict gg = gf + H;
    const float* __restrict go = gg + H;
    const float* __restrict cp = c_prev + r * H;
    const float* __restrict tr = tc + r * H;
    const float* __restrict dyr = dy + r * H;
    const float* __restrict dhr = dh_next + r * H;
    float* __restrict dcr = dc + r * H;
    float* __restrict di = dgates + r * 4 * H;
    float* __restrict df = di + H;
    float* __restrict dg = df + H;
    float* __restrict dout = dg + H;
#pragma GCC ivdep
    for (int64_t j = 0; j < H; ++j) {
      const float i = gi[j], f = gf[j], g = gg[j], o = go[j], t = tr[j];
      const float dhj = dyr[j] + dhr[j];
      const float dcj = dcr[j] + dhj * o * (1.0f - t * t);
      di[j] = dcj * g * i * (1.0f - i);
      df[j] = dcj * cp[j] * f * (1.0f - f);
      dg[j] = dcj * i * (1.0f - g * g);
      dout[j] = dhj * t * o * (1.0f - o);
      dcr[j] = dcj * f;
    }
  }
}

using ForwardRows = void (*)(float*, const float*, float*, float*, float*, int64_t, int64_t);
using BackwardRows = void (*)(const float*, const float*, const float*, const float*, const float*,
                              float*, float*, int64_t, int64_t);

void forward_rows_baseline(float* g, const float* cp, float* c, float* tc, float* h, int64_t rows,
                           int64_t H) {
  forward_rows_body(g, cp, c, tc, h, rows, H);
}
void backward_rows_baseline(const float* g, const float* cp, const float* tc, const float* dy,
                            const float* dh, float* dc, float* dg, int64_t rows, int64_t H) {
  backward_rows_body(g, cp, tc, dy, dh, dc, dg, rows, H);
}

#if defined(__x86_64__)
#define CHORUS_FUSED_ISA_VARIANT(suffix, isa)                                                  \
  __attribute__((target(isa))) void forward_rows_##suffix(                                   \
      float* g, const float* cp, float* c, float* tc, float* h, int64_t rows, int64_t H) {      \
    forward_rows_body(g, cp, c, tc, h, rows, H);                                                \
  }                                                                                             \
  __attribute__((target(isa))) void backward_rows_##suffix(                                  \
      const float* g, const float* cp, const float* tc, const float* dy, const float* dh,       \
      float* dc, float* dg, int64_t rows, int64_t H) {                                          \
    backward_rows_body(g, cp, tc, dy, dh, dc, dg, rows, H);                                     \
  }
CHORUS_FUSED_ISA_VARIANT(avx2, "arch=x86-64-v3")
CHORUS_FUSED_ISA_VARIANT(avx512, "arch=x86-64-v4")
#undef CHORUS_FUSED_ISA_VARIANT
#endif

struct Kernels {
  ForwardRows forward = &forward_rows_baseline;
  BackwardRows backward = &backward_rows_baseline;
  std::string isa = "baseline";
};

const Kernels& kernels() {
  static const Kernels k = [] {
    Kernels chosen;
    const char* force = std::getenv("CHORUS_FUSED_ISA");
    if (force != nullptr && std::string(force) == "baseline") return chosen;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
      chosen = {&forward_rows_avx512, &backward_rows_avx512, "x86-64-v4 (AVX-512)"};
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      chosen = {&forward_rows_avx2, &backward_rows_avx2, "x86-64-v3 (AVX2)"};
    }
#endif
    return chosen;
  }();
  return k;
}

// Rows per task of at::parallel_for: about 4K units (16K gate values), so that a batch of 32
// streams of 512 units splits over the threads and a tiny one stays on one.
int64_t grain(int64_t H) { return std::max<int64_t>(1, 4096 / std::max<int64_t>(1, H)); }

// ---- The layer ----

// What one call needs besides its tensors.
struct LayerCall : torch::CustomClassHolder {
  std::shared_ptr<FusedLstmWorkspace> workspace;
};

// Slots of a layer's workspace.
enum Slot : size_t { kGates, kCells, kTanhCells, kHiddens, kGateGrads, kStepH, kStepC, kSlots };

// The forward recurrence. gates [T, B, 4H] holds the input projection (with both biases) and is
// turned into the activated gates; cells [T + 1, B, H] gets c_{-1} = c0 .. c_{T-1}; hiddens
// [T + 1, B, H] gets h0 .. h_T (y is hiddens[1:]); tanh_cells [T, B, H].
void run_forward(Tensor& gates, Tensor& cells, Tensor& tanh_cells, Tensor& hiddens,
                 const Tensor& w_hh) {
  const int64_t T = gates.size(0), B = gates.size(1), H = hiddens.size(2);
  const Kernels& k = kernels();
  const Tensor w_hh_t = w_hh.t();
  for (int64_t t = 0; t < T; ++t) {
    Tensor g = gates[t];
    g.addmm_(hiddens[t], w_hh_t);  // += h_{t-1} W_hh^T: one GEMM into the gate buffer
    float* gp = g.data_ptr<float>();
    const float* cp = cells[t].data_ptr<float>();
    float* cn = cells[t + 1].data_ptr<float>();
    float* tc = tanh_cells[t].data_ptr<float>();
    float* hn = hiddens[t + 1].data_ptr<float>();
    at::parallel_for(0, B, grain(H), [&](int64_t begin, int64_t end) {
      k.forward(gp + begin * 4 * H, cp + begin * H, cn + begin * H, tc + begin * H,
                hn + begin * H, end - begin, H);
    });
  }
}

// The input projection of all T steps with both biases: [T, B, 4H] in `out`.
void project_inputs(const Tensor& x, const Tensor& w_ih, const Tensor& b_ih, const Tensor& b_hh,
                    Tensor& out) {
  const int64_t T = x.size(0), B = x.size(1);
  Tensor flat = out.view({T * B, out.size(2)});
  at::addmm_out(flat, (b_ih + b_hh).unsqueeze(0), x.reshape({T * B, x.size(2)}), w_ih.t());
}

class FusedLstmFunction : public torch::autograd::Function<FusedLstmFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const Tensor& x, const Tensor& h0,
                               const Tensor& c0, const Tensor& w_ih, const Tensor& w_hh,
                               const Tensor& b_ih, const Tensor& b_hh,
                               c10::intrusive_ptr<LayerCall> call) {
    const int64_t T = x.size(0), B = x.size(1), H = w_hh.size(1);
    FusedLstmWorkspace& ws = *call->workspace;
    Tensor gates = ws.get(kGates, {T, B, 4 * H});
    Tensor cells = ws.get(kCells, {T + 1, B, H});
    Tensor tanh_cells = ws.get(kTanhCells, {T, B, H});
    Tensor hiddens = ws.get(kHiddens, {T + 1, B, H});
    project_inputs(x, w_ih, b_ih, b_hh, gates);
    cells[0].copy_(c0);
    hiddens[0].copy_(h0);
    run_forward(gates, cells, tanh_cells, hiddens, w_hh);
    ctx->save_for_backward({x, w_ih, w_hh, gates, cells, tanh_cells, hiddens});
    ctx->saved_data["call"] = c10::IValue::make_capsule(std::move(call));
    return {hiddens.slice(0, 1), hiddens[T].clone(), cells[T].clone()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const Tensor &x = saved[0], &w_ih = saved[1], &w_hh = saved[2], &gates = saved[3],
                 &cells = saved[4], &tanh_cells = saved[5], &hiddens = saved[6];
    auto call = c10::static_intrusive_pointer_cast<LayerCall>(ctx->saved_data["call"].toCapsule());
    const int64_t T = gates.size(0), B = gates.size(1), H = w_hh.size(1);
    const Tensor dy = grads[0].contiguous();
    Tensor dh = grads[1].contiguous().clone();  // the gradient of h_{t} from step t+1 (and h_T's)
    Tensor dc = grads[2].contiguous().clone();  // the gradient of c_t, carried backwards
    Tensor dgates = call->workspace->get(kGateGrads, {T, B, 4 * H});
    Tensor dh_next = torch::empty({B, H}, dh.options());
    const Kernels& k = kernels();
    for (int64_t t = T - 1; t >= 0; --t) {
      float* dg = dgates[t].data_ptr<float>();
      const float* g = gates[t].data_ptr<float>();
      const float* cp = cells[t].data_ptr<float>();
      const float* tc = tanh_cells[t].data_ptr<float>();
      const float* dyt = dy[t].data_ptr<float>();
      const float* dhp = dh.data_ptr<float>();
      float* dcp = dc.data_ptr<float>();
      at::parallel_for(0, B, grain(H), [&](int64_t begin, int64_t end) {
        k.backward(g + begin * 4 * H, cp + begin * H, tc + begin * H, dyt + begin * H,
                   dhp + begin * H, dcp + begin * H, dg + begin * 4 * H, end - begin, H);
      });
      at::mm_out(dh_next, dgates[t], w_hh);  // dh_{t-1} = dgates_t W_hh: one GEMM per step
      std::swap(dh, dh_next);
    }
    // The weight, bias and input gradients: one GEMM (or reduction) each over the window.
    const Tensor dg_flat = dgates.view({T * B, 4 * H});
    Tensor dx, dw_ih, dw_hh, db;
    if (ctx->needs_input_grad(0)) dx = at::mm(dg_flat, w_ih).view({T, B, w_ih.size(1)});
    if (ctx->needs_input_grad(3)) dw_ih = at::mm(dg_flat.t(), x.reshape({T * B, x.size(2)}));
    if (ctx->needs_input_grad(4))
      dw_hh = at::mm(dg_flat.t(), hiddens.slice(0, 0, T).reshape({T * B, H}));
    if (ctx->needs_input_grad(5) || ctx->needs_input_grad(6)) db = dg_flat.sum(0);
    return {dx, dh, dc, dw_ih, dw_hh, db, db, Tensor()};
  }
};

}  // namespace

Tensor FusedLstmWorkspace::get(size_t slot, const std::vector<int64_t>& shape) {
  if (buffers_.size() <= slot) buffers_.resize(slot + 1);
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  Tensor& b = buffers_[slot];
  // Free for reuse when nothing but this cache holds the storage (no graph saved it, no view of
  // it was returned and kept), and large enough.
  if (!b.defined() || b.storage().use_count() > 1 || b.numel() < numel)
    b = torch::empty({std::max<int64_t>(numel, b.defined() ? b.numel() : 0)}, torch::kFloat32);
  return b.narrow(0, 0, numel).view(shape);
}

std::vector<Tensor> fused_lstm_layer(const Tensor& x, const Tensor& h0, const Tensor& c0,
                                     const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                                     const Tensor& b_hh,
                                     std::shared_ptr<FusedLstmWorkspace> workspace) {
  if (!x.is_cpu() || x.scalar_type() != torch::kFloat32)
    throw std::invalid_argument("the fused LSTM runs on float32 CPU tensors (model.lstm_impl)");
  const bool graph = torch::GradMode::is_enabled() &&
                     (x.requires_grad() || h0.requires_grad() || c0.requires_grad() ||
                      w_ih.requires_grad() || w_hh.requires_grad() || b_ih.requires_grad() ||
                      b_hh.requires_grad());
  const Tensor xc = x.contiguous(), h0c = h0.contiguous(), c0c = c0.contiguous();
  if (graph) {
    auto call = c10::make_intrusive<LayerCall>();
    call->workspace = std::move(workspace);
    return FusedLstmFunction::apply(xc, h0c, c0c, w_ih, w_hh, b_ih, b_hh, call);
  }
  // Nothing is kept: the gates of all steps (for the one input GEMM), and the state and tanh(c)
  // of the current step only.
  torch::NoGradGuard no_grad;
  const int64_t T = x.size(0), B = x.size(1), H = w_hh.size(1);
  Tensor gates = torch::empty({T, B, 4 * H});
  Tensor y = torch::empty({T, B, H});
  Tensor cells = torch::empty({2, B, H}), tanh_c = torch::empty({B, H});
  project_inputs(xc, w_ih, b_ih, b_hh, gates);
  Tensor h_prev = h0c, c_prev = c0c;
  const Kernels& k = kernels();
  const Tensor w_hh_t = w_hh.t();
  for (int64_t t = 0; t < T; ++t) {
    Tensor g = gates[t];
    g.addmm_(h_prev, w_hh_t);
    Tensor c_next = cells[t % 2];
    float* gp = g.data_ptr<float>();
    const float* cp = c_prev.data_ptr<float>();
    float* cn = c_next.data_ptr<float>();
    float* tc = tanh_c.data_ptr<float>();
    float* hn = y[t].data_ptr<float>();
    at::parallel_for(0, B, grain(H), [&](int64_t begin, int64_t end) {
      k.forward(gp + begin * 4 * H, cp + begin * H, cn + begin * H, tc + begin * H,
                hn + begin * H, end - begin, H);
    });
    h_prev = y[t];
    c_prev = c_next;
  }
  return {y, y[T - 1].clone(), c_prev.clone()};
}

std::string fused_lstm_isa() { return kernels().isa; }

std::string resolved_lstm_impl(const Config& config, const torch::Device& device) {
  if (config.model.recurrence != RecurrenceKind::kLstm) return "";
  const bool fused = config.model.lstm_impl == LstmImpl::kFused ||
                     (config.model.lstm_impl == LstmImpl::kAuto && device.is_cpu() &&
                      config.train.precision == Precision::kFp32);
  return fused ? "fused" : "torch";
}

}  // namespace chorus
