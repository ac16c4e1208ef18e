// A segment is an autograd Function whose inputs are the boundary state (the recurrence's state
// tensors, whatever they mean) and the parameters
// (tensor lists, so gradients flow to both) and whose outputs are the segment's loss sum and its
// final state. Its forward runs without a graph; its backward runs the segment again with one and
// differentiates it (a reentrant backward, as PyTorch's torch.utils.checkpoint does).
#include "trainer/models/recompute.h"

#include <algorithm>

#include "trainer/comm/accelerator.h"

namespace chorus {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What a segment needs besides its tensor inputs: slices of the window (views into its buffers)
// and the model. Held in the autograd context as a capsule.
struct Segment : torch::CustomClassHolder {
  SequenceModelImpl* model = nullptr;
  torch::Tensor inputs, targets, mask;
  WindowDropout dropout;
  int64_t begin = 0, end = 0;              // the segment's positions in the window
  bool bf16 = false;                       // autocast, also when recomputed in the backward pass

  // {loss sum, the state tensors after the segment} from the state tensors before it.
  variable_list run(const variable_list& state) const {
    Bf16Autocast autocast(inputs.device().type(), bf16);
    RecurrentState start{state}, next;
    torch::Tensor top = model->top(inputs, start, dropout.masks(begin, end), &next);
    variable_list out = {model->loss_sum(top, targets, mask)};
    out.insert(out.end(), next.tensors.begin(), next.tensors.end());
    return out;
  }
};

class SegmentFunction : public torch::autograd::Function<SegmentFunction> {
 public:
  // Called with grad mode off by Function::apply: nothing but the outputs is kept.
  static variable_list forward(AutogradContext* ctx, c10::intrusive_ptr<Segment> segment,
                               at::TensorList hc, at::TensorList /*parameters*/) {
    ctx->save_for_backward(hc.vec());
    variable_list out = segment->run(hc.vec());
    ctx->saved_data["segment"] = c10::IValue::make_capsule(std::move(segment));
    return out;
  }

  // grads: one per output (undefined ones materialised as zeros by autograd). Returns one
  // gradient per forward input: none for the segment, then the state's, then the parameters'.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto segment =
        c10::static_intrusive_pointer_cast<Segment>(ctx->saved_data["segment"].toCapsule());
    variable_list hc;
    for (const torch::Tensor& v : ctx->get_saved_variables())
      hc.push_back(v.detach().requires_grad_(true));
    variable_list outputs;
    {
      torch::AutoGradMode enable(true);
      outputs = segment->run(hc);
    }
    variable_list inputs = hc;
    for (const torch::Tensor& p : segment->model->parameters()) inputs.push_back(p);
    variable_list g = torch::autograd::grad(outputs, inputs, grads, /*retain_graph=*/false,
                                            /*create_graph=*/false, /*allow_unused=*/true);
    variable_list result = {torch::Tensor()};
    result.insert(result.end(), g.begin(), g.end());
    return result;
  }
};

}  // namespace

std::pair<torch::Tensor, RecurrentState> window_loss(SequenceModelImpl& model,
                                                     const WindowTensors& t,
                                                     const RecurrentState& state,
                                                     const WindowDropout& dropout, int64_t k,
                                                     bool bf16) {
  const int64_t T = t.inputs.size(0);
  if (k <= 0 || k >= T) {
    Bf16Autocast autocast(t.inputs.device().type(), bf16);
    RecurrentState next;
    torch::Tensor top = model.top(t.inputs, state, dropout.masks(0, T), &next);
    return {model.loss_sum(top, t.targets, t.mask), std::move(next)};
  }
  variable_list hc(state.tensors);
  const variable_list parameters = model.parameters();
  torch::Tensor loss;
  for (int64_t begin = 0; begin < T; begin += k) {
    const int64_t end = std::min(T, begin + k);
    auto segment = c10::make_intrusive<Segment>();
    segment->model = &model;
    segment->inputs = t.inputs.slice(0, begin, end);
    segment->targets = t.targets.slice(0, begin, end);
    segment->mask = t.mask.slice(0, begin, end);
    segment->dropout = dropout;
    segment->begin = begin;
    segment->end = end;
    segment->bf16 = bf16;
    variable_list out = SegmentFunction::apply(segment, at::TensorList(hc),
                                               at::TensorList(parameters));
    loss = loss.defined() ? loss + out[0] : out[0];
    hc.assign(out.begin() + 1, out.end());
  }
  return {loss, RecurrentState{hc}};
}

}  // namespace chorus
