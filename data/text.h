// Lyrics text as symbols: UTF-8 decoding and the pinned normalisation (docs/design.md "Symbols").
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace chorus {

// Decodes UTF-8 into code points (an invalid byte becomes U+FFFD) and normalises the text of one
// song: "\r\n" -> "\n"; a line ending "  \n" (the songdata quirk, two spaces) -> "\n";
// leading blank lines and all trailing white space of the song are removed.
std::u32string normalise_song(std::string_view utf8);

// Code points -> UTF-8.
std::string to_utf8(std::u32string_view text);
std::string to_utf8(char32_t code_point);

}  // namespace chorus
