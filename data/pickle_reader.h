// Boulanger-Lewandowski's piano-roll pickles ({"train"|"valid"|"test": [song, ...]}, a song a
// list of frames, a frame a list of MIDI note numbers) read as data only, by a reader of our own
// that knows the pickle opcodes for containers, numbers and strings and refuses every other one.
// Python's unpickler is never involved: nothing a file names is imported, built or called.
// Rules and limits in data/README.md "Benchmark files".
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/pianoroll.h"

namespace chorus {

// The largest pickle file read (the published ones are a few MiB): a bound on memory.
constexpr size_t kMaxPickleBytes = size_t{256} << 20;

// Parses `size` bytes of a pickle (protocols 0 to 5, data opcodes only) and hands each song to
// `sink`, the train songs first, then valid, then test, each split in the file's order.
// InputError "NAME: byte OFFSET: REASON" for an opcode that builds objects or calls code
// (GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ, STACK_GLOBAL, PERSID, EXT*, ...: named in the
// message), a byte that is no opcode, a truncated file; "NAME: SPLIT song I frame J: REASON" for
// data of the wrong shape (not a dict of lists of lists of integers, a note outside 21..108, an
// empty song, a key other than train/valid/test). `name` only labels errors.
void parse_pianoroll_pickle(const uint8_t* data, size_t size, const std::string& name,
                            const SplitSongSink& sink);
// Reads the file (at most kMaxPickleBytes) and parses it; errors name the path.
void read_pianoroll_pickle(const std::string& path, const SplitSongSink& sink);

}  // namespace chorus
