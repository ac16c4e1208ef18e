// chorus: the command-line entry point. main reads as the list of subcommands; it is the only
// catch: errors print "chorus [host:rank]: error: ..." with a hint, and a multi-rank job is taken
// down with MPI_Abort so no peer waits forever in a collective.
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <unistd.h>
#include <iostream>

#include "data/errors.h"
#include "launcher/commands.h"
#include "trainer/comm/placement.h"
#include "trainer/comm/runtime.h"

namespace {

std::string joined_args(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

// A command-line choice as its enum; InputError naming the option and the choices.
template <class E>
E parse_choice_option(const std::string& text, const char* option) {
  E value{};
  if (!chorus::parse_choice(text, &value))
    throw chorus::InputError(std::string(option) + ": must be one of " + chorus::choice_list<E>() +
                             "; got '" + text + "'");
  return value;
}

// Ends the process with `code`; under mpirun with several ranks, ends every rank.
[[noreturn]] void die(int code, const std::string& message) {
  int initialised = 0, finalised = 0, size = 1, rank = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  const bool mpi = initialised && !finalised;
  if (mpi) {
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  }
  std::cerr << "chorus [" << chorus::host_name() << ":" << rank << "]: error: " << message
            << std::endl;
  if (mpi && size > 1) MPI_Abort(MPI_COMM_WORLD, code);
  if (mpi) MPI_Finalize();
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chorus;
  CLI::App app{"Chorus: recurrent models of lyrics and music, on one machine or a cluster"};
  app.require_subcommand(1);

  PrepareLyricsOptions prep;
  std::string format = "auto", artists;
  auto* prepare = app.add_subcommand("prepare", "turn a raw corpus into an HDF5 corpus file");
  prepare->require_subcommand(1);
  auto* lyrics = prepare->add_subcommand("lyrics", "songdata CSV or fortune file -> .h5");
  lyrics->add_option("--input,input", prep.input, "songdata.csv or a fortune file")->required();
  lyrics->add_option("--output,-o", prep.output, "corpus file to write (.h5)")->required();
  lyrics->add_option("--format", format, "auto | csv | fortune")->capture_default_str();
  lyrics->add_option("--artists", artists, "keep only these: A,B,... or @file (one per line)");
  lyrics->add_option("--min-songs", prep.min_songs, "drop artists with fewer songs")
      ->capture_default_str();
  lyrics->add_option("--valid-fraction", prep.valid_fraction)->capture_default_str();
  lyrics->add_option("--test-fraction", prep.test_fraction)->capture_default_str();
  lyrics->add_option("--near-duplicates", prep.near_duplicate_overlap,
                     "keep songs sharing this fraction of their text in one split (0 = off)")
      ->capture_default_str();
  lyrics->add_option("--vocab-from", prep.vocab_from,
                     "reuse the vocabulary of a corpus .h5 or a checkpoint");

  PreparePianoRollOptions roll;
  std::string on_bad_midi = "skip";
  auto* pianoroll = prepare->add_subcommand(
      "pianoroll", "MIDI collection, benchmark .mat / .pickle or piano-roll text -> .h5");
  auto* midi_opt = pianoroll->add_option("--midi", roll.midi_dir,
                                         "folder of .mid files, walked to any depth");
  auto* text_opt = pianoroll->add_option("--text-dir", roll.text_dir,
                                         "folder with train.txt / valid.txt / test.txt");
  auto* mat_opt = pianoroll->add_option("--mat", roll.mat,
                                        "a benchmark .mat file (traindata, validdata, testdata)");
  auto* pickle_opt = pianoroll->add_option("--pickle", roll.pickle,
                                           "a benchmark .pickle file (read as data, never run)");
  midi_opt->excludes(text_opt, mat_opt, pickle_opt);
  text_opt->excludes(mat_opt, pickle_opt);
  mat_opt->excludes(pickle_opt);
  pianoroll->add_option("--threads", roll.threads, "MIDI files read at once (0 = one per core)")
      ->capture_default_str();
  pianoroll->add_option("--output,-o", roll.output, "corpus file to write (.h5)")->required();
  pianoroll->add_option("--frames-per-quarter", roll.frames_per_quarter, "MIDI grid, musical time")
      ->capture_default_str();
  pianoroll->add_option("--seconds-per-frame", roll.seconds_per_frame,
                        "MIDI grid in seconds (0 = use --frames-per-quarter)")
      ->capture_default_str();
  pianoroll->add_option("--valid-fraction", roll.valid_fraction)->capture_default_str();
  pianoroll->add_option("--test-fraction", roll.test_fraction)->capture_default_str();
  pianoroll->add_option("--on-bad-midi", on_bad_midi, "skip | fail")->capture_default_str();

  TrainArgs train_args;
  auto* train = app.add_subcommand("train", "train a model (run under mpirun -np N for N ranks)");
  train->add_option("config,--config", train_args.config, "experiment YAML")->required();
  train->add_option("--set", train_args.overrides, "override a key: section.key=value");
  train->add_flag("--resume", train_args.resume,
                  "continue from the newest complete checkpoint in run.dir (fresh if none)");

  SampleArgs sample_args;
  SampleOptions& so = sample_args.options;
  std::string sample_method = name_of(so.method);
  auto* sample = app.add_subcommand("sample", "print a song sampled from a trained model");
  sample->add_option("--checkpoint", sample_args.checkpoint, "checkpoint or run directory")
      ->required();
  sample->add_option("--prime", so.prime)->capture_default_str();
  sample->add_option("--temperature", so.temperature)->capture_default_str();
  sample->add_option("--artist", so.artist, "artist name (artist-conditioned models)");
  sample->add_option("--length", so.length, "symbols (frames) at most")->capture_default_str();
  sample->add_option("--seed", sample_args.seed)->capture_default_str();
  sample->add_option("--method", sample_method, choice_list<SampleMethod>())->capture_default_str();

  sample->add_option("--out", sample_args.out, "piano-roll models: the MIDI file to write");
  sample->add_option("--image", sample_args.image, "piano-roll models: also a PNG picture");
  sample->add_option("--wav", sample_args.wav,
                     "piano-roll models: also audio (needs fluidsynth and a GM soundfont)");
  sample->add_option("--prime-midi", sample_args.prime_file, "piano-roll models: prime with a MIDI file");
  sample->add_option("--prime-data", sample_args.prime_data,
                     "piano-roll models: prime with a song of this corpus's valid split");
  sample->add_option("--prime-song", sample_args.prime_song)->capture_default_str();
  sample->add_option("--prime-frames", sample_args.prime_length)->capture_default_str();

  EvalArgs eval_args;
  auto* eval = app.add_subcommand("eval", "loss (bits per character, nats per frame) of a model on a split");
  eval->add_option("--checkpoint", eval_args.checkpoint, "checkpoint or run directory")->required();
  eval->add_option("--data", eval_args.data, "corpus .h5 with the model's vocabulary")->required();
  eval->add_option("--split", eval_args.split)->capture_default_str();
  eval->add_option("--max-symbols", eval_args.options.max_symbols, "0 = the whole split")
      ->capture_default_str();
  eval->add_option("--batch-size", eval_args.options.batch_size)->capture_default_str();
  eval->add_flag("--by-artist", eval_args.by_artist,
                 "also one JSON line per artist (stdout) and a table (stderr)");
  eval->add_option("--prime-symbols", eval_args.prime_symbols,
                   "count only the predictions after each song's first N (the prime study)")
      ->capture_default_str();

  BaselineArgs base_args;
  BaselineOptions& bo = base_args.options;
  std::string baseline_model = name_of(bo.model);
  auto* baseline = app.add_subcommand(
      "baseline", "fit a count baseline on the train split and score it in the LSTM's units");
  baseline->add_option("--data", base_args.data, "corpus .h5 (lyrics or piano rolls)")->required();
  baseline->add_option("--model", baseline_model, choice_list<BaselineModel>())->capture_default_str();
  baseline->add_option("--order", bo.order, "ngram: order N (>= 2)");
  baseline->add_option("--split", base_args.split, "split scored")->capture_default_str();
  baseline->add_option("--train-split", bo.train_split, "split fitted")->capture_default_str();
  baseline->add_option("--add-k", bo.add_k, "add-k smoothing (unigram, bigram, piano-roll ngram)")
      ->capture_default_str();
  baseline->add_option("--discount", bo.discount, "Kneser-Ney discount (lyrics ngram)")
      ->capture_default_str();
  baseline->add_option("--sample", base_args.sample, "lyrics: also generate N symbols")
      ->capture_default_str();
  baseline->add_option("--seed", base_args.seed)->capture_default_str();

  std::string check_config;
  std::vector<std::string> check_overrides;
  auto* check = app.add_subcommand("check", "validate an experiment config without training");
  check->add_option("config,--config", check_config)->required();
  check->add_option("--set", check_overrides, "override a key: section.key=value");

  std::string info_path;
  auto* info = app.add_subcommand("info", "describe a corpus .h5, a checkpoint or a run directory");
  info->add_option("path", info_path)->required();

  PlotArgs plot_args;
  auto* plot = app.add_subcommand("plot", "train and valid curves of runs as a PNG (gnuplot)");
  plot->add_option("run_dirs", plot_args.run_dirs, "run directories (each with metrics.jsonl)")
      ->required();
  plot->add_option("--out,-o", plot_args.out, "PNG file to write")->required();
  plot->add_option("--metric", plot_args.metric,
                   "auto (bpc for chars, nats/frame for frames) | loss | lr | grad_norm | ...")
      ->capture_default_str();

  std::string runs_root = "checkpoints";
  auto* runs = app.add_subcommand("runs", "table of the runs under a directory");
  runs->add_option("root", runs_root, "where to look, at any depth")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (*lyrics) {
      prep.format = parse_lyrics_format(format);
      if (!artists.empty()) prep.artists = parse_artist_list(artists);
      return command_prepare_lyrics(prep);
    }
    if (*pianoroll) {
      roll.on_bad_midi = parse_on_bad_midi(on_bad_midi);
      roll.progress = isatty(STDERR_FILENO) != 0;
      return command_prepare_pianoroll(roll);
    }
    if (*train) {
      train_args.command_line = joined_args(argc, argv);
      return command_train(train_args);
    }
    if (*sample) {
      so.method = parse_choice_option<SampleMethod>(sample_method, "--method");
      return command_sample(sample_args);
    }
    if (*eval) return command_eval(eval_args);
    if (*baseline) {
      bo.model = parse_choice_option<BaselineModel>(baseline_model, "--model");
      return command_baseline(base_args);
    }
    if (*check) return command_check(check_config, check_overrides);
    if (*info) return command_info(info_path);
    if (*plot) return command_plot(plot_args);
    if (*runs) return command_runs(runs_root);
  } catch (const InputError& e) {
    die(2, e.what());
  } catch (const std::exception& e) {
    die(1, e.what());
  }
  return 2;
}
