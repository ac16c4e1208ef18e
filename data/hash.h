// Stable hashing for split assignment: FNV-1a 64 over bytes, mapped to [0, 1), then to a split.
// Shared by the lyrics split (prepare.h split_of: artist + '\x1f' + title) and the piano-roll split
// (the MIDI file name), so both follow one documented rule (data/README.md "Splits").
#pragma once
#include <cmath>
#include <cstdint>
#include <string_view>

namespace chorus {

// FNV-1a 64 (offset basis 14695981039346656037, prime 1099511628211) of the bytes.
inline uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// h / 2^64 as a double in [0, 1].
inline double hash_to_unit(uint64_t h) { return std::ldexp(static_cast<double>(h), -64); }

// u < valid -> "valid"; u < valid + test -> "test"; otherwise "train".
inline const char* split_for_unit(double u, double valid_fraction, double test_fraction) {
  if (u < valid_fraction) return "valid";
  if (u < valid_fraction + test_fraction) return "test";
  return "train";
}

// The split of an item identified by `key` alone (independent of every other item).
inline const char* split_of_key(std::string_view key, double valid_fraction, double test_fraction) {
  return split_for_unit(hash_to_unit(fnv1a64(key)), valid_fraction, test_fraction);
}

}  // namespace chorus
