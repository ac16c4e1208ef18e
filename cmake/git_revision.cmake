# cmake -DSOURCE_DIR=... -DOUTPUT=... -P git_revision.cmake: writes OUTPUT, a C++ source defining
# chorus::git_revision() as the source tree's commit (12 hex digits; "unknown" outside a git
# checkout). Run at every build by the target chorus_git_revision (CMakeLists.txt); OUTPUT is
# rewritten only when the revision changed, so a commit recompiles this one file, not the tree.
execute_process(COMMAND git rev-parse --short=12 HEAD
                WORKING_DIRECTORY "${SOURCE_DIR}"
                OUTPUT_VARIABLE revision OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT revision)
  set(revision unknown)
endif()
string(CONCAT text "// Written by cmake/git_revision.cmake at build time; not a source file.\n"
         "#include \"trainer/run/git_revision.h\"\n\n"
         "const char* chorus::git_revision() { return \"${revision}\"; }\n")
set(old "")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
