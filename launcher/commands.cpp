// The `chorus` subcommands: each parses nothing itself (main did), runs one job and keeps the
// output discipline: stdout carries only sampled text or JSON lines; tables and progress go to
// stderr. What differs between kinds of data is the task's (trainer/tasks/task.h).
#include "launcher/commands.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "data/errors.h"
#include "data/files.h"
#include "data/hdf5_util.h"
#include "trainer/comm/accelerator.h"
#include "trainer/comm/runtime.h"
#include "trainer/config/config.h"
#include "trainer/models/fused_lstm.h"
#include "trainer/run/activation_memory.h"
#include "trainer/run/checkpoint_store.h"
#include "trainer/run/checkpointer.h"
#include "trainer/run/evaluator.h"
#include "trainer/run/trainer.h"
#include "trainer/tools/baselines.h"
#include "trainer/tools/run_report.h"

namespace chorus {
namespace fs = std::filesystem;
namespace {

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void print_table(const std::vector<std::pair<std::string, std::string>>& rows,
                 std::ostream& out) {
  size_t width = 0;
  for (const auto& [key, value] : rows) width = std::max(width, key.size());
  for (const auto& [key, value] : rows)
    out << "  " << std::left << std::setw(static_cast<int>(width)) << key << "  " << value << "\n";
}

}  // namespace

int command_prepare_lyrics(PrepareLyricsOptions options) {
  // --vocab-from also takes a run directory: its best (else newest) checkpoint.
  if (!options.vocab_from.empty() && fs::is_directory(options.vocab_from) &&
      !fs::exists(options.vocab_from + "/vocab.json"))
    options.vocab_from = CheckpointStore::resolve(options.vocab_from, std::cerr);
  const nlohmann::json summary = prepare_lyrics(options, std::cerr);
  std::cout << summary.dump() << std::endl;
  return 0;
}

int command_prepare_pianoroll(const PreparePianoRollOptions& options) {
  const nlohmann::json summary = prepare_pianoroll(options, std::cerr);
  std::cout << summary.dump() << std::endl;
  return 0;
}

namespace {

// "1.3 GiB per window of 128 steps (plain backward pass); validation ~40 MiB": the estimates for
// this rank's streams, from what the model's parts report. With bptt full the window is the
// longest train song (capped by train.max_song_length).
std::string activation_memory_row(const Config& config, const Task& task, int ranks) {
  const SongSource& corpus = task.corpus();
  int64_t T = config.train.seq_len;
  if (config.train.bptt == Bptt::kFull) {
    const SplitIndex& train = corpus.split(config.data.train_split);
    T = 1;
    for (int64_t s = 0; s < train.songs(); ++s)
      T = std::max<int64_t>(T, corpus.predictions(corpus.positions(config.data.train_split, s)));
    if (config.train.max_song_length > 0) T = std::min(T, config.train.max_song_length);
  }
  const ActivationProfile profile =
      task.build_model(config.model)->activation_profile(config.model.dropout > 0);
  const int64_t k = config.train.recompute_every.segment(T);
  const int64_t streams = config.train.batch_size / std::max(1, ranks);
  const int64_t lanes = (config.eval.batch_size + ranks - 1) / std::max(1, ranks);
  std::string row = "~" + human_bytes(activation_bytes(profile, streams, T, k)) +
                    " per window of " + std::to_string(T) + " steps (" +
                    (k > 0 ? "recomputed in segments of " + std::to_string(k)
                           : std::string("plain backward pass")) +
                    (config.train.bptt == Bptt::kFull ? ", the longest song" : "") + ")";
  if (!config.data.valid_split.empty())
    row += "; validation ~" + human_bytes(evaluation_bytes(profile, lanes, config.train.seq_len));
  return row;
}

}  // namespace

int command_train(const TrainArgs& args) {
  const Config config = load_config(args.config, args.overrides);
  install_stop_handlers();
  Runtime runtime(config.train.threads);
  const std::unique_ptr<Task> task = open_task(config.data.path, config);
  task->check_config(config);
  const Placement placement =
      place_rank(config, runtime.local_rank(), runtime.local_size(), runtime.host());
  if (runtime.rank() == 0) {
    std::cerr << "chorus train " << args.config << "\n";
    auto rows = config_rows(config);
    rows.emplace_back("(ranks x threads)", std::to_string(runtime.size()) + " x " +
                                               std::to_string(runtime.threads()));
    rows.emplace_back("(device, rank 0)", placement.describe());
    if (const std::string impl = resolved_lstm_impl(config, placement.device); !impl.empty())
      rows.emplace_back("(lstm implementation)",
                        impl == "fused" ? "fused, gate passes " + fused_lstm_isa() : impl);
    rows.emplace_back("(streams per rank)",
                      std::to_string(config.train.batch_size / std::max(1, runtime.size())));
    for (const auto& row : task->table_rows()) rows.push_back(row);
    rows.emplace_back("(activation memory)", activation_memory_row(config, *task, runtime.size()));
    print_table(rows, std::cerr);
  }
  Trainer trainer(config, *task, runtime.comm(), std::cerr, placement);
  trainer.start(args.resume);
  nlohmann::json info = runtime.describe(placement.device.str());
  info["device"] = placement.describe();  // rank 0's; each rank drives its local-rank GPU
  if (const std::string impl = resolved_lstm_impl(config, placement.device); !impl.empty())
    info["lstm_impl"] = impl;
  info["command_line"] = args.command_line;
  info["start_time"] = now_iso();
  return trainer.train(info);
}

int command_sample(const SampleArgs& args) {
  LoadedModel m = load_model(args.checkpoint, std::cerr);
  if (args.options.temperature <= 0) throw InputError("--temperature must be > 0");
  if (args.options.length <= 0) throw InputError("--length must be > 0");
  m.task->sample(*m.model, args);
  return 0;
}

int command_eval(const EvalArgs& args) {
  LoadedModel m = load_model(args.checkpoint, std::cerr);
  Runtime runtime(/*threads=*/0);
  const std::unique_ptr<Task> data = open_task(args.data, m.config);
  m.task->check_eval_data(*data, args.split, args.checkpoint);
  const std::vector<std::string>& artists = data->artists();
  if (args.by_artist && artists.empty())
    throw InputError("--by-artist: " + args.data + " records no artists");
  if (args.prime_symbols < 0) throw InputError("--prime-symbols: must be >= 0");
  if (args.options.batch_size <= 0) throw InputError("--batch-size: must be > 0");
  if (args.options.max_symbols < 0) throw InputError("--max-symbols: must be >= 0");
  EvalRequest request;
  static_cast<EvalOptions&>(request) = args.options;
  request.window = m.config.train.seq_len;
  request.skip_predictions = args.prime_symbols;
  request.by_artist = args.by_artist;
  const EvalResult r = Evaluator(*data, runtime.comm()).run(*m.model, args.split, request);
  if (runtime.rank() != 0) return 0;
  const Units& units = data->units();
  nlohmann::json out = {{"checkpoint", args.checkpoint}, {"step", m.step}, {"data", args.data},
                        {"split", args.split}};
  if (args.prime_symbols > 0) out["prime_symbols"] = args.prime_symbols;
  out.update(data->metrics(r.loss_sum, r.count));
  out.update({{"symbols", r.count}, {"songs", r.songs}});
  std::cout << out.dump() << std::endl;
  std::cerr << "eval " << args.split << ": loss " << r.loss() << " nats per " << units.unit;
  if (units.nats_per_metric != 1.0) std::cerr << " (" << data->metric(r.loss()) << " " << units.metric << ")";
  std::cerr << " over " << static_cast<int64_t>(r.count) << " " << units.plural << " in "
            << r.songs << " songs"
            << (args.prime_symbols > 0 ? " (after a prime of " + std::to_string(args.prime_symbols) +
                                             " " + std::string(units.plural) + " each)"
                                       : std::string())
            << "\n";
  if (!args.by_artist) return 0;
  std::vector<std::pair<std::string, std::string>> rows;
  for (size_t a = 0; a < artists.size(); ++a) {
    if (r.artist_count[a] == 0) continue;
    nlohmann::json line = {{"checkpoint", args.checkpoint}, {"split", args.split},
                           {"artist", artists[a]}};
    line.update(data->metrics(r.artist_loss_sum[a], r.artist_count[a]));
    line["symbols"] = r.artist_count[a];
    std::cout << line.dump() << std::endl;
    std::ostringstream cell;
    cell << std::fixed << std::setprecision(3) << line[units.metric].get<double>() << " "
         << units.metric << " over " << static_cast<int64_t>(r.artist_count[a]) << " "
         << units.plural;
    rows.emplace_back(artists[a], cell.str());
  }
  print_table(rows, std::cerr);
  return 0;
}

int command_baseline(const BaselineArgs& args) {
  const std::unique_ptr<Task> task = open_task(args.data);
  const SongSource& corpus = task->baseline_source();
  const BaselineOptions& options = args.options;
  const int order = baseline_order(options);
  const std::string model = name_of(options.model);
  if (options.model != BaselineModel::kNgram && options.order != 0 && options.order != order)
    throw InputError("--order " + std::to_string(options.order) + " does not fit --model " +
                     model + " (order " + std::to_string(order) + "); use --model ngram");
  if (args.sample > 0) task->text_of({});  // refuses data without text before the work
  const auto start = std::chrono::steady_clock::now();
  const std::unique_ptr<Baseline> fitted = task->fit_baseline(options);
  const BaselineScore score = score_baseline(*fitted, corpus, args.split);
  const std::string smoothing = fitted->smoothing();
  nlohmann::json out = {{"data", args.data}, {"model", model}, {"order", order},
                        {"train_split", options.train_split}, {"split", args.split},
                        {"smoothing", smoothing}};
  out.update(task->metrics(score.loss_sum, score.count));
  out.update({{"symbols", score.count}, {"songs", score.songs},
              {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}});
  if (args.sample > 0) out["sample"] = task->text_of(fitted->sample(args.sample, args.seed));
  std::cout << out.dump() << std::endl;
  const Units& units = task->units();
  std::ostringstream value;
  value << std::fixed << std::setprecision(4) << task->metric(score.loss()) << " " << units.metric;
  if (units.nats_per_metric != 1.0) value << " (" << score.loss() << " nats)";
  print_table({{"baseline", model + (options.model == BaselineModel::kNgram
                                         ? " (order " + std::to_string(order) + ")"
                                         : "")},
               {"fitted on", args.data + " / " + options.train_split},
               {"scored on", args.split + ": " + std::to_string(score.songs) + " songs, " +
                                 std::to_string(static_cast<int64_t>(score.count)) + " " +
                                 units.plural},
               {"smoothing", smoothing},
               {"loss", value.str()}},
              std::cerr);
  if (args.sample > 0) std::cerr << "\nsample:\n" << out["sample"].get<std::string>() << "\n";
  return 0;
}

int command_check(const std::string& path, const std::vector<std::string>& overrides) {
  const Config config = load_config(path, overrides);
  // The config is valid; the data file is the one thing left that training would trip on.
  const std::unique_ptr<Task> task = open_task(config.data.path, config);
  task->check_config(config);
  task->corpus().split(config.data.train_split);
  if (!config.data.valid_split.empty()) task->corpus().split(config.data.valid_split);
  print_table(config_rows(config), std::cerr);
  std::cout << nlohmann::json{{"config", path}, {"ok", true}}.dump() << std::endl;
  return 0;
}

int command_info(const std::string& path) {
  nlohmann::json out;
  if (fs::is_regular_file(path)) {
    out = open_task(path)->describe_corpus();
    out["kind"] = "corpus";
  } else if (fs::exists(path + "/MANIFEST.json") || fs::exists(path + "/DONE")) {
    out["kind"] = "checkpoint";
    out["path"] = path;
    const std::string problem = CheckpointStore::verify(path);
    out["valid"] = problem.empty();
    if (!problem.empty()) out["problem"] = problem;
    if (problem.empty()) {
      out["meta"] = nlohmann::json::parse(read_file(path + "/MANIFEST.json")).at("meta");
      const Config config = parse_config(read_file(path + "/config.yaml"), path, {});
      for (const auto& [key, value] : config_rows(config)) out["config"][key] = value;
      out.update(task_from_checkpoint(path, config)->describe_checkpoint());
    }
  } else if (fs::is_directory(path + "/checkpoints") || fs::exists(path + "/manifest.json")) {
    out["kind"] = "run";
    out["path"] = path;
    const CheckpointStore store(path);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : store.complete()) list.push_back({{"step", e.step}, {"path", e.path}});
    out["checkpoints"] = list;
    if (auto best = store.best()) out["best"] = {{"step", best->step}, {"path", best->path}};
    if (auto metric = store.best_metric()) out["best_valid_loss"] = *metric;
  } else {
    throw InputError(path + ": not a corpus file, a checkpoint or a run directory");
  }
  std::cerr << out.dump(2) << "\n";
  std::cout << out.dump() << std::endl;
  return 0;
}

int command_plot(const PlotArgs& args) {
  PlotOptions options;
  options.metric = args.metric;
  const PlotResult r = plot_runs(args.run_dirs, args.out, options, std::cerr);
  std::cout << r.to_json().dump() << std::endl;
  std::cerr << "plot: " << r.out << ": " << r.runs.size() << " run(s), " << r.points << " points ("
            << r.y_label << ")\n";
  return 0;
}

int command_runs(const std::string& root) {
  const std::vector<RunSummary> runs = list_runs(root);
  if (runs.empty()) {
    std::cerr << "runs: no runs under " << root << " (a run directory holds metrics.jsonl or "
              << "manifest.json)\n";
    return 0;
  }
  for (const auto& r : runs) std::cout << r.to_json().dump() << "\n";
  std::cout << std::flush;
  print_runs_table(runs, std::cerr);
  return 0;
}

}  // namespace chorus
