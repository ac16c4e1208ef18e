// Tests of UTF-8 decoding and the pinned song normalisation (data/text.h).
#include "data/text.h"

#include <gtest/gtest.h>

namespace chorus {
namespace {

TEST(TextTest, DecodesMultibyteUtf8AndRoundTrips) {
  const std::string utf8 = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a é € 😀
  const std::u32string cps = normalise_song(utf8);
  EXPECT_EQ(cps, (std::u32string{U'a', 0xE9, 0x20AC, 0x1F600}));
  EXPECT_EQ(to_utf8(cps), utf8);
  EXPECT_EQ(to_utf8(char32_t{0x20AC}), "\xE2\x82\xAC");
}

TEST(TextTest, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(normalise_song("a\xFF" "b"), (std::u32string{U'a', 0xFFFD, U'b'}));
  EXPECT_EQ(normalise_song("a\xE2\x82"), (std::u32string{U'a', 0xFFFD, 0xFFFD}));  // truncated
  EXPECT_EQ(normalise_song("\xC0\xAF" "x"), (std::u32string{0xFFFD, 0xFFFD, U'x'}));  // overlong
  EXPECT_EQ(normalise_song("\xED\xA0\x80"), (std::u32string(3, 0xFFFD)));  // surrogate
  EXPECT_EQ(normalise_song("\xE2(x"), (std::u32string{0xFFFD, U'(', U'x'}));
}

TEST(TextTest, NormalisesCrLfAndTheTwoSpaceQuirk) {
  EXPECT_EQ(to_utf8(normalise_song("Look at her  \r\nface  \n  \nend  \n")), "Look at her\nface\n\nend");
  EXPECT_EQ(to_utf8(normalise_song("one\r\ntwo\r\n")), "one\ntwo");
}

TEST(TextTest, KeepsOtherBlanksInsideTheSong) {
  EXPECT_EQ(to_utf8(normalise_song("a \nb")), "a \nb");            // one space is not the quirk
  EXPECT_EQ(to_utf8(normalise_song("a   \nb")), "a \nb");          // only the quirk's two go
  EXPECT_EQ(to_utf8(normalise_song("x\tbus\t\ny")), "x\tbus\t\ny");  // tabs are content
}

TEST(TextTest, StripsLeadingBlankLinesAndTrailingWhiteSpace) {
  EXPECT_EQ(to_utf8(normalise_song("\n  \n\t  /\\ x\ny\n\n \t\r\n")), "\t  /\\ x\ny");
  EXPECT_TRUE(normalise_song("  \n \r\n\t").empty());
  EXPECT_TRUE(normalise_song("").empty());
}

}  // namespace
}  // namespace chorus
