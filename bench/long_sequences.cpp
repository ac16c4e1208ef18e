// chorus_bench_long: one cell of the long-sequence table (bench/long_sequences.sh runs each cell
// in its own process, because peak resident memory is a per-process figure).
//
// One "step" trains on T symbols of each of `batch` streams with the study's lyrics model
// (2 x 512 LSTM, embedding 64, dropout 0.3 like configs/lyrics.yaml) and Adam:
//   full       one window of T steps, the plain backward pass;
//   recompute  one window of T steps, gradient checkpointing in segments of k (default sqrt T);
//   tbptt      T / window windows with the state carried, one backward pass each, one Adam step.
// Prints one JSON line: seconds per step (the mean after a first, warm-up step when --steps > 1),
// peak resident memory (getrusage), resident memory before the first step, and the estimate of
// trainer/run/activation_memory.h. --estimate-only prints the estimate without training.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "trainer/comm/runtime.h"
#include "trainer/models/dropout.h"
#include "trainer/models/features.h"
#include "trainer/models/recompute.h"
#include "trainer/models/registry.h"
#include "trainer/run/activation_memory.h"

namespace {

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double peak_resident_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) * 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chorus;
  CLI::App app{"One cell of the long-sequence memory/time table (see bench/long_sequences.sh)"};
  std::string mode = "full", recompute = "auto";
  int64_t T = 1024, batch = 32, window = 256, steps = 2, vocab = 96, threads = 0;
  ModelConfig mc;
  mc.hidden_size = 512;
  mc.layers = 2;
  mc.embedding_size = 64;
  mc.dropout = 0.3;
  bool estimate_only = false;
  app.add_option("--mode", mode, "full | recompute | tbptt")
      ->check(CLI::IsMember({"full", "recompute", "tbptt"}));
  app.add_option("--T", T, "symbols per stream per step")->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "streams")->check(CLI::PositiveNumber);
  app.add_option("--window", window, "tbptt window")->check(CLI::PositiveNumber);
  app.add_option("--recompute-every", recompute, "segment length k, or auto (sqrt T)");
  app.add_option("--steps", steps, "steps timed (the first is warm-up when more than one)")
      ->check(CLI::PositiveNumber);
  app.add_option("--hidden", mc.hidden_size, "LSTM units")->check(CLI::PositiveNumber);
  app.add_option("--layers", mc.layers, "LSTM layers")->check(CLI::PositiveNumber);
  std::string recurrence = name_of(mc.recurrence);
  app.add_option("--recurrence", recurrence, choice_list<RecurrenceKind>())->capture_default_str();
  app.add_option("--dropout", mc.dropout, "dropout")->check(CLI::Range(0.0, 0.99));
  app.add_option("--vocab", vocab, "vocabulary size")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "intra-op threads (0: all cores)");
  app.add_flag("--estimate-only", estimate_only, "print the activation estimate, do not train");
  CLI11_PARSE(app, argc, argv);

  const int64_t window_T = mode == "tbptt" ? std::min(window, T) : T;
  RecomputeEvery every;
  if (!RecomputeEvery::parse(recompute, &every)) {
    std::cerr << "--recompute-every: 'auto' or a whole number, got '" << recompute << "'\n";
    return 2;
  }
  if (!parse_choice(recurrence, &mc.recurrence)) {
    std::cerr << "--recurrence: one of " << choice_list<RecurrenceKind>() << ", got '" << recurrence << "'\n";
    return 2;
  }
  const int64_t k = mode == "recompute" ? every.segment(T) : 0;
  torch::manual_seed(1);
  SequenceModel model = build_model(mc, make_symbol_features(vocab, mc.embedding_size, 0, 0),
                                    HeadKind::kSoftmax, vocab);
  const ActivationProfile profile = model->activation_profile(mc.dropout > 0);
  nlohmann::json out = {{"mode", mode}, {"T", T}, {"batch", batch}, {"k", k},
                        {"window", window_T}, {"hidden", mc.hidden_size}, {"layers", mc.layers},
                        {"recurrence", recurrence},
                        {"estimate_bytes", activation_bytes(profile, batch, window_T, k)}};
  if (estimate_only) {
    std::cout << out.dump() << std::endl;
    return 0;
  }
  keep_freed_memory_in_heap();  // as a training process does (trainer/comm/runtime.h)
  if (threads > 0) torch::set_num_threads(static_cast<int>(threads));
  model->train();
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  const torch::Tensor ids = torch::randint(0, vocab, {T + 1, batch}, torch::kLong);
  const torch::Tensor mask = torch::ones({window_T, batch});
  WindowDropout dropout;
  dropout.seed = 1;
  for (int64_t b = 0; b < batch; ++b) dropout.stream_ids.push_back(b);
  dropout.layers = mc.layers;
  dropout.width = mc.hidden_size;
  dropout.p = mc.dropout;

  const double rss_before = resident_bytes();
  double timed = 0, loss_value = 0;
  int64_t timed_steps = 0, window_index = 0;
  for (int64_t step = 0; step < steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    adam.zero_grad();
    RecurrentState state = model->zero_state(batch, torch::kCPU);
    double loss_sum = 0;
    for (int64_t begin = 0; begin < T; begin += window_T) {
      const int64_t end = std::min(T, begin + window_T);
      WindowTensors t;
      t.inputs = ids.slice(0, begin, end);
      t.targets = ids.slice(0, begin + 1, end + 1);
      t.mask = mask.slice(0, 0, end - begin);
      dropout.window = window_index++;
      auto [loss, next] = window_loss(*model, t, state, dropout, k);
      (loss / static_cast<double>(T * batch)).backward();
      loss_sum += loss.item<double>();
      state = next.detached();
    }
    torch::nn::utils::clip_grad_norm_(model->parameters(), 5.0);
    adam.step();
    loss_value = loss_sum / static_cast<double>(T * batch);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (steps == 1 || step > 0) {
      timed += seconds;
      ++timed_steps;
    }
    std::cerr << "  " << mode << " T=" << T << " step " << step + 1 << "/" << steps << ": "
              << seconds << " s\n";
  }
  out["seconds_per_step"] = timed / static_cast<double>(timed_steps);
  out["peak_rss_bytes"] = peak_resident_bytes();
  out["rss_before_bytes"] = rss_before;
  out["loss"] = loss_value;
  out["threads"] = torch::get_num_threads();
  std::cout << out.dump() << std::endl;
  return 0;
}
