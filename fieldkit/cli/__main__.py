"""`python -m fieldkit.cli`: the same as the `fieldkit` command."""

import sys

from fieldkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
