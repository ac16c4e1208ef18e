// Limits on absurd sizes, shared by the readers: a hostile or broken file gets an InputError
// naming it, never an allocation of gigabytes. Real songs are thousands of symbols or frames.
#pragma once
#include <cstddef>
#include <cstdint>

namespace chorus {

// No song of a corpus file, and no song of piano-roll text, may be longer than this many symbols
// or frames.
constexpr int64_t kMaxSongLength = int64_t{1} << 24;

// A line of piano-roll text lists at most 88 notes; longer than this is not piano-roll text.
constexpr size_t kMaxPianoRollLineBytes = size_t{1} << 16;

}  // namespace chorus
