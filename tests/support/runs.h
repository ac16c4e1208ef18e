// Small training runs for the trainer tests (in one process, under MPI, on CUDA): the config
// they start from and the train losses a run logs.
#pragma once
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "trainer/config/config.h"
#include "trainer/run/trainer.h"
#include "trainer/tasks/task.h"

namespace chorus::testing {

// A 2 x 16 model (embedding 8) with dropout 0.2, trained 8 steps of 4 streams at lr 0.01, logged
// every step, validated (batches of 2) and checkpointed at step 4. Tests change what they vary.
inline Config small_run_config(const std::string& data, const std::string& run_dir) {
  Config c;
  c.data.path = data;
  c.run.dir = run_dir;
  c.model.embedding_size = 8;
  c.model.hidden_size = 16;
  c.model.layers = 2;
  c.model.dropout = 0.2;
  c.train.batch_size = 4;
  c.train.steps = 8;
  c.optim.lr = 0.01;
  c.eval.every = 4;
  c.eval.batch_size = 2;
  c.checkpoint.every = 4;
  c.log.every = 1;
  return c;
}

// The train losses that run_dir/metrics.jsonl logged, in order.
inline std::vector<double> logged_train_losses(const std::string& run_dir) {
  std::vector<double> losses;
  std::ifstream in(run_dir + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.at("split") == "train") losses.push_back(j.at("loss").get<double>());
  }
  return losses;
}

// A whole run of `c` on `comm` (Trainer::start, then train to the end): its logged train losses
// on rank 0, empty on the other ranks. No ASSERT_: under MPI every rank must reach the collectives.
inline std::vector<double> run_losses(const Config& c, Communicator& comm, bool resume = false) {
  const std::unique_ptr<Task> task = open_task(c.data.path, c);
  std::ostringstream log;
  Trainer trainer(c, *task, comm, log);
  trainer.start(resume);
  EXPECT_EQ(trainer.train(nlohmann::json::object()), 0) << log.str();
  if (comm.rank() != 0) return {};
  return logged_train_losses(c.run.dir);
}

}  // namespace chorus::testing
