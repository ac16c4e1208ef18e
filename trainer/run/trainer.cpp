// The training loop. Invariants: every rank runs the same sequence of collectives (one reduction
// per optimizer step carrying gradients, loss, count and the stop flag), so ranks agree on every
// decision; the step's result depends only on the global streams, not on how they are spread.
#include "trainer/run/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>

#include "data/errors.h"
#include "trainer/comm/runtime.h"
#include "trainer/config/schedule.h"
#include "trainer/models/recompute.h"

namespace chorus {
namespace fs = std::filesystem;

Trainer::Trainer(Config config, const Task& task, Communicator& comm, std::ostream& log,
                 Placement placement, std::unique_ptr<GradientReducer> reducer)
    : config_(std::move(config)), task_(task), comm_(comm), placement_(std::move(placement)),
      reducer_(std::move(reducer)), log_(log),
      run_log_(config_, task_, comm_.rank() == 0, log_),
      checkpointer_(config_, task_, comm_, log_), evaluator_(task_, comm_) {
  task_.check_config(config_);
  const SongSource& corpus = task_.corpus();
  const int64_t G = config_.train.batch_size, R = comm_.size();
  if (G % R != 0)
    throw InputError("train.batch_size (" + std::to_string(G) +
                     ") must be divisible by the number of ranks (" + std::to_string(R) + ")");
  const SplitIndex& train = corpus.split(config_.data.train_split);
  if (train.songs() < G)
    throw InputError(corpus.path() + ": split '" + train.name + "' has " +
                     std::to_string(train.songs()) + " songs, fewer than train.batch_size (" +
                     std::to_string(G) + ")");
  const std::string& valid = config_.data.valid_split;
  if (!valid.empty() && !corpus.has_split(valid))
    throw InputError(corpus.path() + ": no split '" + valid +
                     "' (data.valid_split; \"\" turns validation off)");
  validating_ = !valid.empty() && corpus.split(valid).songs() > 0;
  if (!valid.empty() && !validating_)
    run_log_.note("warning: " + corpus.path() + ": split '" + valid +
                  "' (data.valid_split) has no songs: training without validation");

  torch::manual_seed(config_.run.seed);
  model_ = task_.build_model(config_.model);
  broadcast_parameters();
  model_->to(placement_.device);  // before Adam: its state is made beside the parameters
  optimizer_ = std::make_unique<torch::optim::Adam>(
      model_->parameters(), torch::optim::AdamOptions(config_.optim.lr)
                                .betas({config_.optim.beta1, config_.optim.beta2})
                                .weight_decay(config_.optim.weight_decay));
  const int64_t per_rank = G / R;
  training_source_ = task_.training_source(config_);
  batcher_ = std::make_unique<StreamBatcher>(
      *training_source_, config_.data.train_split,
      SongSchedule(train.songs(), G, config_.run.seed, /*shuffle=*/true),
      /*first_stream=*/comm_.rank() * per_rank, /*num_streams=*/per_rank, config_.train.seq_len);
  if (config_.train.bptt == Bptt::kFull) batcher_->set_whole_songs(config_.train.max_song_length);
  state_ = model_->zero_state(per_rank, placement_.device);
  if (!reducer_) reducer_ = make_gradient_reducer(placement_, comm_, config_.dist.timeout_s);
}

void Trainer::broadcast_parameters() {
  torch::NoGradGuard no_grad;
  for (auto& p : model_->parameters()) {
    torch::Tensor flat = p.data().contiguous();
    comm_.broadcast(flat.data_ptr<float>(), static_cast<size_t>(flat.numel()), /*root=*/0);
    p.data().copy_(flat);
  }
}

WindowDropout Trainer::dropout_for(const Window& window, int64_t window_index) const {
  WindowDropout d;
  d.seed = config_.run.seed;
  d.window = window_index;
  d.stream_ids = window.stream_ids;
  d.layers = config_.model.layers;
  d.width = config_.model.hidden_size;
  d.p = config_.model.dropout;
  d.input_width = model_->features().size();
  d.input_p = config_.model.input_dropout;
  return d;
}

TrainingState Trainer::training_state() {
  return {*model_, *optimizer_, *batcher_, state_, step_, best_valid_};
}

// ---- One step ----

StepResult Trainer::step() {
  StepResult r;
  r.step = step_ + 1;
  reducer_->set_context("step " + std::to_string(r.step));
  r.lr = learning_rate(config_.optim, r.step, config_.train.steps);
  for (auto& group : optimizer_->param_groups())
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(r.lr);
  optimizer_->zero_grad();
  model_->train();

  double loss_sum = 0, count = 0;
  for (int64_t micro = 0; micro < config_.train.accumulate; ++micro) {
    Window w = batcher_->next();
    const WindowTensors t = window_tensors(w, placement_.device);
    auto [loss, next] = window_loss(
        *model_, t, state_.masked(w.reset),
        dropout_for(w, (r.step - 1) * config_.train.accumulate + micro),
        config_.train.recompute_every.segment(w.seq_len),
        /*bf16=*/config_.train.precision == Precision::kBf16);
    loss.backward();  // inside the loop: `w` owns the buffers the graph reads
    state_ = next.detached();
    loss_sum += loss.item<double>();
    count += static_cast<double>(w.count);
  }

  // One reduction: every gradient, then loss sum, count and the stop flag.
  std::vector<torch::Tensor> params = model_->parameters();
  std::vector<torch::Tensor> pieces;
  const auto on_device = torch::TensorOptions().dtype(torch::kFloat32).device(placement_.device);
  for (auto& p : params)
    pieces.push_back(p.grad().defined() ? p.grad().reshape({-1})
                                        : torch::zeros({p.numel()}, on_device));
  pieces.push_back(torch::tensor({static_cast<float>(loss_sum), static_cast<float>(count),
                                  stop_requested() ? 1.0f : 0.0f})
                       .to(placement_.device));
  torch::Tensor flat = torch::cat(pieces);
  if (r.step == inject_nan_at_) flat[0] = std::numeric_limits<float>::quiet_NaN();
  reducer_->sum(flat);
  const int64_t n = flat.numel() - 3;
  const auto tail = flat.slice(0, n).to(torch::kCPU).to(torch::kDouble);
  const double total_loss = tail[0].item<double>();
  r.count = tail[1].item<double>();
  r.stop = tail[2].item<double>() > 0;
  r.loss = r.count > 0 ? total_loss / r.count : 0.0;
  {
    torch::NoGradGuard no_grad;
    int64_t offset = 0;
    const double scale = r.count > 0 ? 1.0 / r.count : 0.0;
    for (auto& p : params) {
      torch::Tensor g = flat.slice(0, offset, offset + p.numel()).view_as(p).mul(scale);
      if (p.grad().defined()) p.mutable_grad().copy_(g); else p.mutable_grad() = g.clone();
      offset += p.numel();
    }
  }
  r.grad_norm = config_.optim.clip > 0
                    ? torch::nn::utils::clip_grad_norm_(params, config_.optim.clip)
                    : torch::nn::utils::clip_grad_norm_(params, INFINITY);
  // Decided on all-reduced numbers, so every rank skips the same steps without another message.
  r.skipped = !std::isfinite(r.loss) || !std::isfinite(r.grad_norm);
  if (r.skipped) {
    optimizer_->zero_grad();
    // A non-finite forward pass may have poisoned the carried state: start the streams afresh.
    state_ = model_->zero_state(batcher_->num_streams(), placement_.device);
    ++bad_steps_;
  } else {
    optimizer_->step();
  }
  step_ = r.step;
  return r;
}

EvalResult Trainer::validate() {
  UntimedCollectives untimed(comm_);  // one rank may be slower at it than its peers
  EvalRequest request;
  static_cast<EvalOptions&>(request) = config_.eval;
  request.window = config_.train.seq_len;
  return evaluator_.run(*model_, config_.data.valid_split, request);
}

// ---- Checkpoints ----

std::string Trainer::save_checkpoint(bool best) {
  return checkpointer_.save(training_state(), best);
}

void Trainer::load_checkpoint(const std::string& dir) {
  TrainingState s = training_state();
  checkpointer_.load(dir, s, placement_.device);
  run_log_.truncate_after(step_);
}

void Trainer::start(bool resume) {
  const std::string dir = checkpointer_.resume_point(resume);
  if (dir.empty()) return;
  load_checkpoint(dir);
  run_log_.note("resumed from " + dir + " at step " + std::to_string(step_));
}

// ---- The run ----

int Trainer::train(const nlohmann::json& run_info) {
  run_log_.start(run_info, step_);
  comm_.set_slow_timeout(config_.dist.slow_timeout_s);
  comm_.set_timeout(config_.dist.timeout_s);
  using Clock = std::chrono::steady_clock;
  auto interval_start = Clock::now();
  double interval_symbols = 0;
  int64_t bad_in_a_row = 0;
  while (step_ < config_.train.steps) {
    const StepResult r = step();
    if (auto end = check_bad_steps(r, &bad_in_a_row)) return finish(*end);
    interval_symbols += r.count;
    const bool last = step_ == config_.train.steps;
    if (step_ % config_.log.every == 0 || last || r.stop) {
      const double seconds = std::chrono::duration<double>(Clock::now() - interval_start).count();
      run_log_.train(r, seconds > 0 ? interval_symbols / seconds : 0.0, bad_steps_);
      interval_start = Clock::now();
      interval_symbols = 0;
    }
    if (r.stop) {
      save_checkpoint(/*best=*/false);
      run_log_.note("stopped on request at step " + std::to_string(step_) +
                    " after a complete checkpoint; continue with --resume");
      return finish({"stopped", "stopped on request (signal) at step " + std::to_string(step_), 3});
    }
    const bool validate_now =
        validating_ && ((config_.eval.every > 0 && step_ % config_.eval.every == 0) || last);
    if (validate_now)
      if (auto end = validate_and_keep_best()) return finish(*end);
    if (config_.sample.every > 0 && step_ % config_.sample.every == 0) write_sample();
    if (checkpointer_.due(step_, last)) save_checkpoint(/*best=*/false);
  }
  run_log_.note("finished " + std::to_string(step_) + " steps" +
                (best_valid_ ? "; best valid loss " + std::to_string(*best_valid_) : std::string()));
  return finish({"finished", "finished " + std::to_string(step_) + " steps", 0});
}

std::optional<Trainer::RunEnd> Trainer::check_bad_steps(const StepResult& r, int64_t* bad_in_a_row) {
  *bad_in_a_row = r.skipped ? *bad_in_a_row + 1 : 0;
  if (!r.skipped) return std::nullopt;
  std::ostringstream what;
  what << "step " << r.step << ": loss " << r.loss << ", gradient norm " << r.grad_norm
       << " is not finite; step skipped (" << *bad_in_a_row << " in a row, " << bad_steps_
       << " in all)";
  run_log_.note("warning: " + what.str());
  if (*bad_in_a_row <= config_.train.max_bad_steps) return std::nullopt;
  const std::string reason =
      what.str() + "; more than train.max_bad_steps (" +
      std::to_string(config_.train.max_bad_steps) +
      ") in a row: stopping; the checkpoints on disk are the last good ones (--resume, perhaps "
      "with a lower optim.lr)";
  run_log_.note(reason);
  return RunEnd{"bad_numbers", reason, 1};
}

std::optional<Trainer::RunEnd> Trainer::validate_and_keep_best() {
  const EvalResult v = validate();
  run_log_.valid(step_, v.loss_sum, v.count, v.songs);
  if (!best_valid_ || v.loss() < *best_valid_) {
    best_valid_ = v.loss();
    validations_without_gain_ = 0;
    save_checkpoint(/*best=*/true);
    return std::nullopt;
  }
  if (config_.train.patience == 0 || ++validations_without_gain_ < config_.train.patience)
    return std::nullopt;
  if (!checkpointer_.saved(step_)) save_checkpoint(/*best=*/false);
  std::ostringstream reason;
  reason << "early stop at step " << step_ << ": " << validations_without_gain_
         << " validations without a better valid loss than " << *best_valid_ << " (train.patience "
         << config_.train.patience << ")";
  run_log_.note(reason.str());
  return RunEnd{"early_stop", reason.str(), 0};
}

void Trainer::write_sample() {
  // Rank 0 samples while the others wait here, untimed, rather than in the next step's timed
  // reduction.
  UntimedCollectives untimed(comm_);
  if (comm_.rank() == 0) {
    fs::create_directories(config_.run.dir + "/samples");
    std::ostringstream stem;
    stem << config_.run.dir << "/samples/step-" << std::setw(8) << std::setfill('0') << step_;
    task_.write_sample(*model_, config_.sample, mix64(config_.run.seed ^ static_cast<uint64_t>(step_)),
                       stem.str());
  }
  comm_.barrier();
}

int Trainer::finish(const RunEnd& end) {
  run_log_.end(end.status, end.reason, step_, best_valid_);
  return end.code;
}

}  // namespace chorus
