// A picture of a piano roll (PNG, libpng): time left to right, pitch bottom (A0) to top (C8).
#pragma once
#include <string>
#include <vector>

#include "data/pianoroll.h"

namespace chorus {

struct PianoRollImageOptions {
  int pixels_per_frame = 4;  // 1..64, columns per frame
  int pixels_per_key = 3;    // 1..64, rows per key (88 keys -> 264 rows by default)
};

// Writes an RGB PNG (path.tmp, then renamed): white background, a faint band on every C (note
// 24, 36, ...) so octaves can be counted, grey vertical lines every `frames_per_beat` frames
// (0 = none) with darker lines every 4 beats, sounding keys in black. An empty roll gives a
// one-frame-wide picture. std::invalid_argument when the picture would exceed 1,000,000 columns
// (libpng's default limit); InputError naming the file when it cannot be written.
void write_pianoroll_png(const std::vector<Frame>& frames, const std::string& path, int frames_per_beat,
                         const PianoRollImageOptions& options = {});

}  // namespace chorus
