"""`python -m fieldkit`: the same as the `fieldkit` command."""

import sys

from fieldkit.command import main

if __name__ == "__main__":
    sys.exit(main())
