#!/usr/bin/env python3
"""A Chorus checkpoint in PyTorch, from the command line (the package beside this file,
python/chorus_torch/, is the library):

    python3 python/chorus_torch.py eval --checkpoint checkpoints/lyrics --data data/lyrics.h5 --split valid
    python3 python/chorus_torch.py sample --checkpoint checkpoints/lyrics --prime "Why"

Same options, defaults and output as `chorus eval` and `chorus sample`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the package, not this script

from chorus_torch.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
