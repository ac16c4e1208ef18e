// The training loop. Invariants: every rank runs the same sequence of collectives (one all-reduce
// per optimizer step carrying gradients, loss, count and the stop flag), so ranks agree on every
// decision; the step's result depends only on the global streams, not on how they are spread.
#include "trainer/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>

#include "data/errors.h"
#include "data/files.h"
#include "data/midi.h"
#include "data/pianoroll_image.h"
#include "trainer/dropout.h"
#include "trainer/long_sequences.h"
#include "trainer/recompute.h"
#include "trainer/runtime.h"
#include "trainer/sampler.h"
#include "trainer/schedule.h"

namespace chorus {
namespace fs = std::filesystem;

double EvalResult::bpc() const { return loss() / std::log(2.0); }

nlohmann::json EvalResult::metrics(bool frames) const {
  if (frames) return {{"loss", loss()}, {"unit", "frame"}, {"nll_per_frame", loss()}};
  return {{"loss", loss()}, {"unit", "char"}, {"bpc", bpc()}};
}

Trainer::Trainer(Config config, Communicator& comm, const SongSource& corpus, std::ostream& log,
                 Accelerator accelerator)
    : config_(std::move(config)), comm_(comm), accelerator_(std::move(accelerator)),
      corpus_(corpus),
      lyrics_(dynamic_cast<const CorpusReader*>(&corpus)),
      rolls_(dynamic_cast<const PianoRollReader*>(&corpus)), log_(log), store_(config_.run.dir) {
  const bool frames = config_.model.kind == "pianoroll";
  if (frames ? rolls_ == nullptr : lyrics_ == nullptr)
    throw InputError(corpus_.path() + ": model.kind is '" + config_.model.kind + "' but this is " +
                     (frames ? "a lyrics corpus" : "a piano-roll corpus") +
                     " (chars trains on lyrics, pianoroll on piano rolls)");
  if (frames && config_.model.condition != "none")
    throw InputError("model.condition must be 'none' for model.kind pianoroll");
  const int64_t G = config_.train.batch_size, R = comm_.size();
  if (G % R != 0)
    throw InputError("train.batch_size (" + std::to_string(G) +
                     ") must be divisible by the number of ranks (" + std::to_string(R) + ")");
  const SplitIndex& train = corpus_.split(config_.data.train_split);
  if (train.songs() < G)
    throw InputError(corpus_.path() + ": split '" + train.name + "' has " +
                     std::to_string(train.songs()) + " songs, fewer than train.batch_size (" +
                     std::to_string(G) + ")");
  if (!config_.data.valid_split.empty() && !corpus_.has_split(config_.data.valid_split))
    throw InputError(corpus_.path() + ": no split '" + config_.data.valid_split +
                     "' (data.valid_split; \"\" turns validation off)");
  if (config_.model.condition == "artist" && lyrics_->artists().empty())
    throw InputError(corpus_.path() + ": model.condition is 'artist' but the corpus has no artists");

  torch::manual_seed(config_.run.seed);
  model_ = make_model(config_.model, lyrics_ ? lyrics_->vocab().size() : 0,
                     lyrics_ ? static_cast<int64_t>(lyrics_->artists().size()) : 0);
  broadcast_parameters();
  model_->to(accelerator_.device);  // before Adam: its state is made beside the parameters
  optimizer_ = std::make_unique<torch::optim::Adam>(
      model_->parameters(), torch::optim::AdamOptions(config_.optim.lr)
                                .betas({config_.optim.beta1, config_.optim.beta2})
                                .weight_decay(config_.optim.weight_decay));
  const int64_t per_rank = G / R;
  batcher_ = std::make_unique<StreamBatcher>(
      corpus_, config_.data.train_split,
      SongSchedule(train.songs(), G, config_.run.seed, /*shuffle=*/true),
      /*first_stream=*/comm_.rank() * per_rank, /*num_streams=*/per_rank, config_.train.seq_len);
  if (config_.train.bptt == "full") batcher_->set_whole_songs(config_.train.max_song_length);
  state_ = LstmState::zeros(config_.model.layers, per_rank, config_.model.hidden_size,
                            accelerator_.device);
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
  return d;
}

StepResult Trainer::step() {
  StepResult r;
  r.step = step_ + 1;
  const std::string context = "step " + std::to_string(r.step);
  comm_.set_context(context);
  if (accelerator_.nccl) accelerator_.nccl->set_context(context);
  r.lr = learning_rate(config_.optim, r.step, config_.train.steps);
  for (auto& group : optimizer_->param_groups())
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(r.lr);
  optimizer_->zero_grad();
  model_->train();

  double loss_sum = 0, count = 0;
  for (int64_t micro = 0; micro < config_.train.accumulate; ++micro) {
    Window w = batcher_->next();
    const WindowTensors t = window_tensors(w, accelerator_.device);
    auto [loss, next] = window_loss(
        *model_, t, state_.masked(w.reset),
        dropout_for(w, (r.step - 1) * config_.train.accumulate + micro),
        recompute_segment(config_.train.recompute_every, w.seq_len),
        /*bf16=*/config_.train.precision == "bf16");
    loss.backward();  // inside the loop: `w` owns the buffers the graph reads
    state_ = next.detached();
    loss_sum += loss.item<double>();
    count += static_cast<double>(w.count);
  }

  // One collective: every gradient, then loss sum, count and the stop flag.
  std::vector<torch::Tensor> params = model_->parameters();
  std::vector<torch::Tensor> pieces;
  const auto on_device = torch::TensorOptions().dtype(torch::kFloat32).device(accelerator_.device);
  for (auto& p : params)
    pieces.push_back(p.grad().defined() ? p.grad().reshape({-1})
                                        : torch::zeros({p.numel()}, on_device));
  pieces.push_back(torch::tensor({static_cast<float>(loss_sum), static_cast<float>(count),
                                  stop_requested() ? 1.0f : 0.0f})
                       .to(accelerator_.device));
  torch::Tensor flat = torch::cat(pieces);
  if (r.step == inject_nan_at_) flat[0] = std::numeric_limits<float>::quiet_NaN();
  all_reduce_sum(flat);
  const int64_t n = flat.numel() - 3;
  const auto tail = flat.slice(0, n).to(torch::kCPU).to(torch::kDouble);
  const double total_loss = tail[0].item<double>();
  // Counts are whole numbers; an average times the rank count may miss one by a rounding.
  r.count = std::round(tail[1].item<double>());
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
    state_ = LstmState::zeros(config_.model.layers, batcher_->num_streams(),
                              config_.model.hidden_size, accelerator_.device);
    ++bad_steps_;
  } else {
    optimizer_->step();
  }
  step_ = r.step;
  return r;
}

void Trainer::all_reduce_sum(torch::Tensor& flat) {
  if (accelerator_.nccl) {
    accelerator_.nccl->all_reduce_average(flat.data_ptr<float>(),
                                          static_cast<size_t>(flat.numel()),
                                          current_cuda_stream(flat.device()));
    flat.mul_(static_cast<double>(comm_.size()));
  } else if (flat.is_cpu()) {
    comm_.all_reduce_sum(flat.data_ptr<float>(), static_cast<size_t>(flat.numel()));
  } else {
    torch::Tensor host = flat.to(torch::kCPU);
    comm_.all_reduce_sum(host.data_ptr<float>(), static_cast<size_t>(host.numel()));
    flat.copy_(host);
  }
}

EvalResult Trainer::validate() {
  UntimedCollectives untimed(comm_);  // one rank may be slower at it than its peers
  return evaluate(*model_, corpus_, config_.data.valid_split, config_.eval.max_symbols,
                  config_.eval.batch_size, config_.train.seq_len, comm_);
}

void Trainer::start(bool resume) {
  std::string dir;
  if (comm_.rank() == 0) {
    const bool has_any = !store_.complete().empty();
    if (resume) {
      if (auto newest = store_.newest_valid(log_)) dir = newest->path;
      else log_ << "chorus: --resume: no complete checkpoint in " << store_.root()
                << "; starting fresh\n";
    } else if (has_any) {
      dir = "!";
    }
  }
  comm_.broadcast(&dir, /*root=*/0);
  if (dir == "!")
    throw InputError(config_.run.dir + " already holds checkpoints: pass --resume to continue "
                     "that run, or choose another run.dir");
  if (!dir.empty()) {
    load_checkpoint(dir);
    if (comm_.rank() == 0) log_ << "chorus: resumed from " << dir << " at step " << step_ << "\n";
  }
}

void Trainer::log_train(const StepResult& r, double symbols_per_s) {
  EvalResult as_eval;
  as_eval.loss_sum = r.loss * r.count;
  as_eval.count = r.count;
  nlohmann::json record = {{"step", r.step}, {"split", "train"}};
  record.update(as_eval.metrics(rolls_ != nullptr));
  record.update({{"lr", r.lr}, {"tokens_per_s", symbols_per_s}, {"grad_norm", r.grad_norm},
                 {"bad_steps", bad_steps_}});
  append_metrics(record);
  if (comm_.rank() != 0) return;
  const double eta = symbols_per_s > 0
                         ? (config_.train.steps - r.step) * r.count / symbols_per_s
                         : 0.0;
  std::ostringstream line;
  line << "step " << r.step << "/" << config_.train.steps << " | loss " << std::fixed
       << std::setprecision(4) << r.loss;
  if (!rolls_) line << " | bpc " << std::setprecision(3) << r.loss / std::log(2.0);
  line << " | lr " << std::scientific << std::setprecision(2) << r.lr
       << " | " << std::fixed << std::setprecision(0) << symbols_per_s << " sym/s | ETA "
       << static_cast<int64_t>(eta) / 60 << "m" << std::setw(2) << std::setfill('0')
       << static_cast<int64_t>(eta) % 60 << "s";
  log_ << line.str() << std::endl;
}

void Trainer::append_metrics(const nlohmann::json& record) {
  if (comm_.rank() != 0) return;
  const std::string path = config_.run.dir + "/metrics.jsonl";
  std::ofstream out(path, std::ios::app);
  out << record.dump() << "\n";
  out.flush();
  if (!out) throw std::runtime_error(path + ": cannot append a record (disk full?)");
}

void Trainer::truncate_metrics_after(int64_t step) {
  if (comm_.rank() != 0) return;
  const std::string path = config_.run.dir + "/metrics.jsonl";
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      if (nlohmann::json::parse(line).value("step", int64_t{0}) <= step) kept += line + "\n";
    } catch (const nlohmann::json::exception&) {  // a line cut by a crash
    }
  }
  write_file_atomic(path, kept);
}

void Trainer::write_sample() {
  // Rank 0 samples while the others wait here, untimed, rather than in the next step's timed
  // all-reduce.
  UntimedCollectives untimed(comm_);
  if (comm_.rank() == 0) write_sample_file();
  comm_.barrier();
}

void Trainer::write_sample_file() {
  fs::create_directories(config_.run.dir + "/samples");
  std::ostringstream name;
  name << config_.run.dir << "/samples/step-" << std::setw(8) << std::setfill('0') << step_;
  const uint64_t seed = mix64(config_.run.seed ^ static_cast<uint64_t>(step_));
  if (rolls_) {
    FrameSampleOptions opt;
    opt.length = config_.sample.length;
    opt.temperature = config_.sample.temperature;
    opt.seed = seed;
    const std::vector<Frame> frames = sample_frames(*model_, opt);
    const PianoRollResolution& res = rolls_->resolution();
    write_midi(frames, name.str() + ".mid", midi_write_timing(res));
    write_pianoroll_png(frames, name.str() + ".png", frames_per_beat(res));
    return;
  }
  SampleOptions opt;
  opt.prime = config_.sample.prime;
  opt.temperature = config_.sample.temperature;
  opt.method = config_.sample.method;
  opt.length = config_.sample.length;
  opt.seed = seed;
  opt.artist = artist_id(lyrics_->artists(), config_.sample.artist);
  write_file_atomic(name.str() + ".txt",
                    sample_text(*model_, lyrics_->vocab(), opt) + "\n");
}

int Trainer::run(const nlohmann::json& run_info) {
  if (comm_.rank() == 0) fs::create_directories(config_.run.dir);
  write_run_manifest(run_info);
  comm_.set_timeout(config_.dist.timeout_s);
  using Clock = std::chrono::steady_clock;
  auto interval_start = Clock::now();
  double interval_symbols = 0;
  int64_t bad_in_a_row = 0;
  while (step_ < config_.train.steps) {
    const StepResult r = step();
    bad_in_a_row = r.skipped ? bad_in_a_row + 1 : 0;
    if (r.skipped) {
      std::ostringstream what;
      what << "step " << r.step << ": loss " << r.loss << ", gradient norm " << r.grad_norm
           << " is not finite; step skipped (" << bad_in_a_row << " in a row, "
           << bad_steps_ << " in all)";
      if (comm_.rank() == 0) log_ << "chorus: warning: " << what.str() << "\n";
      if (bad_in_a_row > config_.train.max_bad_steps) {
        const std::string reason =
            what.str() + "; more than train.max_bad_steps (" +
            std::to_string(config_.train.max_bad_steps) +
            ") in a row: stopping; the checkpoints on disk are the last good ones (--resume, "
            "perhaps with a lower optim.lr)";
        if (comm_.rank() == 0) log_ << "chorus: " << reason << "\n";
        record_run_end("bad_numbers", reason);
        return 1;
      }
    }
    interval_symbols += r.count;
    const bool last = step_ == config_.train.steps;
    if (step_ % config_.log.every == 0 || last || r.stop) {
      const double seconds = std::chrono::duration<double>(Clock::now() - interval_start).count();
      log_train(r, seconds > 0 ? interval_symbols / seconds : 0.0);
      interval_start = Clock::now();
      interval_symbols = 0;
    }
    if (r.stop) {
      save_checkpoint(/*best=*/false);
      if (comm_.rank() == 0)
        log_ << "chorus: stopped on request at step " << step_
             << " after a complete checkpoint; continue with --resume\n";
      record_run_end("stopped", "stopped on request (signal) at step " + std::to_string(step_));
      return 3;
    }
    const bool validate_now = !config_.data.valid_split.empty() &&
                              ((config_.eval.every > 0 && step_ % config_.eval.every == 0) || last);
    if (validate_now) {
      const EvalResult v = validate();
      nlohmann::json record = {{"step", step_}, {"split", "valid"}};
      record.update(v.metrics(rolls_ != nullptr));
      record.update({{"symbols", v.count}, {"songs", v.songs}});
      append_metrics(record);
      if (comm_.rank() == 0)
        log_ << "valid step " << step_ << " | " << (rolls_ ? "nll/frame " : "loss ") << std::fixed
             << std::setprecision(4) << v.loss()
             << (rolls_ ? "" : " | bpc " + std::to_string(v.bpc())) << " | "
             << static_cast<int64_t>(v.count) << (rolls_ ? " frames" : " symbols") << std::endl;
      if (!best_valid_ || v.loss() < *best_valid_) {
        best_valid_ = v.loss();
        validations_without_gain_ = 0;
        save_checkpoint(/*best=*/true);
      } else if (config_.train.patience > 0 &&
                 ++validations_without_gain_ >= config_.train.patience) {
        if (last_saved_step_ != step_) save_checkpoint(/*best=*/false);
        std::ostringstream reason;
        reason << "early stop at step " << step_ << ": " << validations_without_gain_
               << " validations without a better valid loss than " << *best_valid_
               << " (train.patience " << config_.train.patience << ")";
        if (comm_.rank() == 0) log_ << "chorus: " << reason.str() << "\n";
        record_run_end("early_stop", reason.str());
        return 0;
      }
    }
    if (config_.sample.every > 0 && step_ % config_.sample.every == 0) write_sample();
    if (((config_.checkpoint.every > 0 && step_ % config_.checkpoint.every == 0) || last) &&
        last_saved_step_ != step_)
      save_checkpoint(/*best=*/false);
  }
  record_run_end("finished", "finished " + std::to_string(step_) + " steps");
  if (comm_.rank() == 0)
    log_ << "chorus: finished " << step_ << " steps"
         << (best_valid_ ? "; best valid loss " + std::to_string(*best_valid_) : std::string())
         << "\n";
  return 0;
}

}  // namespace chorus
