// A MIDI collection on disk (e.g. the Lakh MIDI Dataset: nested folders 0/ .. f/, 176,000 files):
// its files, listed once in a stable order with each file's split, and read on every core with
// the results handed back in that order. Rules in data/README.md "MIDI collections".
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/midi.h"

namespace chorus {

// A file larger than this is not read (skipped as "too large"): a bound on memory per file.
constexpr int64_t kMaxMidiFileBytes = int64_t{64} << 20;

struct MidiCollectionFile {
  std::string name;   // path relative to the collection's folder, '/'-separated
  const char* split;  // "train", "valid" or "test"
};

struct MidiCollection {
  std::string dir;
  std::vector<MidiCollectionFile> files;  // sorted by name (bytes), so the song order is stable
  bool split_folders = false;             // the split came from train/ valid/ test/ folders
  int64_t ignored = 0;                    // with split folders: MIDI files outside them
  std::string path(const MidiCollectionFile& f) const { return dir + "/" + f.name; }
};

// Walks `dir` and its subfolders (not through links to folders, so a link loop cannot trap it)
// for regular files named *.mid or *.midi in any case. When `dir` holds a train/, valid/ or
// test/ folder, those folders (walked to any depth) are the split and files elsewhere are
// ignored (counted); otherwise a file's split is split_of_key(its relative path, fractions), a
// function of that path alone, so adding files never moves another file between splits.
// InputError for a missing folder, a folder that cannot be listed, or no MIDI files at all.
MidiCollection list_midi_collection(const std::string& dir, double valid_fraction, double test_fraction);

// One file as read by a worker.
struct MidiFileRead {
  enum class Status { kOk, kCorrupt, kUnreadable, kTooLarge } status = Status::kOk;
  std::array<uint8_t, 32> sha256{};  // of the file's bytes (kOk and kCorrupt)
  int64_t bytes = 0;
  // kOk: the song, packed by the worker (data/pianoroll.h pack_frames) so that the one thread
  // that writes only appends bytes; roll.frames is left empty.
  MidiRoll roll;                     // its stats
  std::vector<uint8_t> packed;       // frames x 11 bytes
  int64_t frames = 0, active = 0;    // frames, and the sum over frames of sounding keys
  std::string error;                 // otherwise: the reason, naming the file
};

// Reads and parses every file of `collection` on `threads` threads (0: one per core), hashing
// each file's bytes, and calls consume(index, read) on the calling thread for index 0, 1, ...
// in order, whatever the threads' timing, so the output does not depend on the thread count. At
// most a few results per thread wait in memory. An exception from `consume` stops the readers
// and is rethrown once they have ended.
void read_midi_collection(const MidiCollection& collection, const MidiTiming& timing, int threads,
                          const std::function<void(size_t index, MidiFileRead& read)>& consume);

// Threads used for `requested` (0: one per core, at least 1).
int midi_reader_threads(int requested);

}  // namespace chorus
