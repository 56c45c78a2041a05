"""``python -m netcoreset.verification.cli``: the same as the ``netcoreset`` command."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
