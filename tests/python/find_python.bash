# Sourced by the python-labelled tests: sets PYTHON to the first of $CHORUS_PYTHON, python3 and
# /usr/bin/python3 that imports torch (Debian: python3-torch), or skips the test (exit 77) saying so
# (with PYTHON_OPTIONAL=1: leaves PYTHON empty instead).
PYTHON=""
for candidate in ${CHORUS_PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$candidate" > /dev/null 2>&1 && "$candidate" -c "import torch" > /dev/null 2>&1; then
    PYTHON=$(command -v "$candidate")
    break
  fi
done
if [[ -z $PYTHON && ${PYTHON_OPTIONAL:-0} != 1 ]]; then
  echo "SKIP: no python3 that imports torch (tried ${CHORUS_PYTHON:-} python3 /usr/bin/python3;" \
       "apt-get install python3-torch, or set CHORUS_PYTHON)" >&2
  exit 77
fi
