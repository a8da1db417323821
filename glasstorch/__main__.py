"""`python -m glasstorch ...` is the `glasstorch` command."""
import sys

from .cli import main

sys.exit(main())
