// Error kinds shared by every layer. main() maps them to exit codes (docs/design.md "Exit
// codes").
#pragma once
#include <stdexcept>
#include <string>

namespace chorus {

// Bad usage, config or input (a malformed file, an unknown key, a missing file): exit 2.
// The message names the file, line or key.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace chorus
