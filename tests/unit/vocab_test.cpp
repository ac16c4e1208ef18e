// Tests of the symbol vocabulary (data/vocab.h): ids, unknown symbols, JSON round trip.
#include "data/vocab.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "data/errors.h"

namespace chorus {
namespace {

TEST(VocabTest, IdsAreSortedDistinctCodePointsAfterTheSpecials) {
  Vocab v({U'b', U'a', U'a', char32_t{0x1F600}, U'\n'});
  EXPECT_EQ(v.size(), 6);  // end, unknown, \n, a, b, 😀
  EXPECT_EQ(v.id(U'\n'), 2);
  EXPECT_EQ(v.id(U'a'), 3);
  EXPECT_EQ(v.id(U'b'), 4);
  EXPECT_EQ(v.id(char32_t{0x1F600}), 5);
  EXPECT_EQ(v.code_point(4), U'b');
  EXPECT_EQ(v.code_point(Vocab::kEndOfSong), char32_t{0});
  EXPECT_EQ(v.code_point(Vocab::kUnknown), char32_t{0xFFFD});
}

TEST(VocabTest, UnknownSymbols) {
  Vocab v({U'a'});
  EXPECT_EQ(v.id(U'z'), Vocab::kUnknown);
  EXPECT_EQ(v.id(char32_t{0xE9}), Vocab::kUnknown);
  EXPECT_EQ(Vocab().size(), 2);
  EXPECT_EQ(Vocab().id(U'a'), Vocab::kUnknown);
}

TEST(VocabTest, JsonRoundTrip) {
  Vocab v({U'x', char32_t{0xE9}, U' '});
  nlohmann::json j = v.to_json();
  EXPECT_EQ(j["code_points"], nlohmann::json({32, 120, 233}));
  Vocab back = Vocab::from_json(j);
  EXPECT_EQ(back, v);
  EXPECT_EQ(back.id(char32_t{0xE9}), v.id(char32_t{0xE9}));
}

TEST(VocabTest, FromJsonRejectsMalformedInput) {
  EXPECT_THROW(Vocab::from_json(nlohmann::json::object()), InputError);
  EXPECT_THROW(Vocab::from_json({{"code_points", {98, 97}}}), InputError);   // unsorted
  EXPECT_THROW(Vocab::from_json({{"code_points", {97, 97}}}), InputError);   // duplicate
  EXPECT_THROW(Vocab::from_json({{"code_points", {-1}}}), InputError);
  EXPECT_THROW(Vocab::from_json({{"code_points", {0x110000}}}), InputError);
  EXPECT_THROW(Vocab::from_json({{"code_points", {"a"}}}), InputError);
}

}  // namespace
}  // namespace chorus
