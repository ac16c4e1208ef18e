// Generation from a trained character model: priming, temperature, and three ways to pick.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "data/midi.h"
#include "data/pianoroll.h"
#include "data/pianoroll_corpus.h"
#include "data/vocab.h"
#include "trainer/sequence_model.h"

namespace chorus {

struct SampleOptions {
  std::string prime = "Why";           // fed first; printed as part of the song
  double temperature = 1.0;            // logits are divided by it (> 0)
  std::string method = "multinomial";  // "multinomial" | "gumbel" | "argmax"
  int64_t length = 400;                // symbols generated at most (the end-of-song symbol stops)
  uint64_t seed = 1;                   // same seed, same song
  int64_t artist = 0;                  // artist id for conditioned models
};

// Picks one symbol from raw logits. multinomial: draw from softmax(logits / T) by inversion;
// gumbel: argmax of logits / T + Gumbel noise (the same distribution, by the Gumbel-max trick);
// argmax: the most likely symbol (ignores T and the engine). Uses only our own uniform draws,
// so results do not depend on the standard library.
int64_t pick_symbol(const std::vector<float>& logits, double temperature,
                    const std::string& method, std::mt19937_64& engine);

// The prime followed by the sampled continuation, as UTF-8 (without the end-of-song symbol).
std::string sample_text(SequenceModelImpl& model, const Vocab& vocab, const SampleOptions& options);

struct FrameSampleOptions {
  std::vector<Frame> prime;   // fed first (after the silent start frame) and returned first
  int64_t length = 64;        // frames generated after the prime
  double temperature = 1.0;   // each key's logit is divided by it (> 0)
  uint64_t seed = 1;
};

// A piano roll from a piano-roll model: each key of each new frame is drawn as a Bernoulli of
// sigmoid(logit / T). Returns the prime followed by `length` sampled frames.
std::vector<Frame> sample_frames(SequenceModelImpl& model, const FrameSampleOptions& options);

// How to write and draw a corpus's frames: its own grid; a grid the corpus does not record (the
// benchmark text files) is written as 4 frames per quarter at 120 beats per minute.
MidiWriteTiming midi_write_timing(const PianoRollResolution& resolution);
int frames_per_beat(const PianoRollResolution& resolution);

// Artist id of `name` ("" = 0); throws InputError listing the known artists when unknown.
int64_t artist_id(const std::vector<std::string>& artists, const std::string& name);

}  // namespace chorus
