// The commit Chorus was built from, for run manifests.
#pragma once

namespace chorus {

// The source tree's git commit at build time (12 hex digits), or "unknown" when it was built
// outside a git checkout. Defined in a source file the build writes (cmake/git_revision.cmake).
const char* git_revision();

}  // namespace chorus
