"""`python -m neuralnet`: the `neuralnet` command (see `neuralnet.cli`)."""

import sys

from neuralnet.cli import main

sys.exit(main())
