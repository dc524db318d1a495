"""`neuralnet.schedules` is `neuralnet.optimizers.schedules`, the learning-rate schedules' home (as
Keras's `keras.optimizers.schedules`), under a second name kept for existing code."""

import sys

from neuralnet.optimizers import schedules as _schedules

sys.modules[__name__] = _schedules
