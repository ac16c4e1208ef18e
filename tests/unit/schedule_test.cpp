// Tests of the learning-rate schedules (trainer/config/schedule.h).
#include "trainer/config/schedule.h"

#include <gtest/gtest.h>

#include "trainer/config/config.h"

namespace chorus {
namespace {

TEST(ScheduleTest, Constant) {
  OptimConfig o;
  o.lr = 0.5;
  EXPECT_DOUBLE_EQ(learning_rate(o, 1, 100), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(o, 100, 100), 0.5);
}

TEST(ScheduleTest, WarmupIsLinearThenFlat) {
  OptimConfig o;
  o.lr = 1.0;
  o.schedule = Schedule::kWarmup;
  o.warmup_steps = 4;
  EXPECT_DOUBLE_EQ(learning_rate(o, 1, 100), 0.25);
  EXPECT_DOUBLE_EQ(learning_rate(o, 2, 100), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(o, 4, 100), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate(o, 50, 100), 1.0);
}

TEST(ScheduleTest, CosineDecaysToTheFloor) {
  OptimConfig o;
  o.lr = 1.0;
  o.min_lr = 0.1;
  o.schedule = Schedule::kCosine;
  o.warmup_steps = 10;
  EXPECT_DOUBLE_EQ(learning_rate(o, 5, 110), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(o, 10, 110), 1.0);
  EXPECT_NEAR(learning_rate(o, 60, 110), 0.55, 1e-12);  // half way
  EXPECT_NEAR(learning_rate(o, 110, 110), 0.1, 1e-12);
}

}  // namespace
}  // namespace chorus
