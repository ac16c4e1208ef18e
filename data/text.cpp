// UTF-8 decoding and the pinned song normalisation (docs/design.md "Symbols").
// Invariant: the same bytes always give the same code points, whatever the locale; malformed
// input never throws (each bad byte becomes U+FFFD), so one broken song cannot stop a corpus.
#include "data/text.h"

namespace chorus {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Decodes one code point at s[i]; advances i past it. Rejects overlong forms, surrogates and
// values above U+10FFFF, consuming only the first byte so resynchronisation is immediate.
char32_t decode_one(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int extra = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    extra = 1, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3, cp = b0 & 0x07, min = 0x10000;
  } else {
    ++i;
    return kReplacement;
  }
  if (i + extra >= s.size()) {  // truncated sequence at the end
    ++i;
    return kReplacement;
  }
  for (int k = 1; k <= extra; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (!is_continuation(b)) {
      ++i;
      return kReplacement;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kReplacement;
  }
  i += extra + 1;
  return cp;
}

bool is_blank(char32_t c) { return c == U' ' || c == U'\t'; }
bool is_space(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == U'\v' || c == U'\f';
}

}  // namespace

std::u32string normalise_song(std::string_view utf8) {
  std::u32string decoded;
  decoded.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) decoded.push_back(decode_one(utf8, i));

  // "\r\n" -> "\n", then exactly the two-space quirk before "\n" is dropped. Other trailing
  // blanks inside the song are kept: they may be deliberate (verse layout, tabs).
  std::u32string out;
  out.reserve(decoded.size());
  for (size_t i = 0; i < decoded.size(); ++i) {
    char32_t c = decoded[i];
    if (c == U'\r' && i + 1 < decoded.size() && decoded[i + 1] == U'\n') continue;
    if (c == U'\n' && out.size() >= 2 && out[out.size() - 1] == U' ' &&
        out[out.size() - 2] == U' ') {
      out.resize(out.size() - 2);
    }
    out.push_back(c);
  }

  // Leading blank lines (only spaces/tabs) go; leading blanks of the first real line stay.
  size_t start = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == U'\n') {
      start = i + 1;
    } else if (!is_blank(out[i])) {
      break;
    }
  }
  size_t end = out.size();
  while (end > start && is_space(out[end - 1])) --end;
  if (end <= start) return {};
  return out.substr(start, end - start);
}

std::string to_utf8(char32_t cp) {
  std::string out;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacement;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}

std::string to_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) out += to_utf8(c);
  return out;
}

}  // namespace chorus
