"""python3 -m chorus_torch (with python/ on the path): the same command line as chorus_torch.py."""
import sys

from .cli import main

sys.exit(main())
