"""`python -m dockerfeed.cli`, as the `dockerfeed` console script."""

import sys

from dockerfeed.cli import main

sys.exit(main())
