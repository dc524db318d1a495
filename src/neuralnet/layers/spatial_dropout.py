"""SpatialDropout1D and SpatialDropout2D: dropout of whole feature maps, as Keras 3.

Neighbouring steps or pixels of a feature map are strongly correlated, so dropping single values
barely regularizes; these layers switch off entire channels instead (Tompson et al., 2014).
"""

from __future__ import annotations

from typing import Any

from neuralnet.layers import conv_utils
from neuralnet.layers.dropout import Dropout
from neuralnet.layers.layer import register_layer


class _SpatialDropout(Dropout):
    """Dropout whose mask has one value per (sample, channel), broadcast over the spatial axes.

    With `m` of shape (batch, 1, …, channels) holding 0 or 1 / (1 − rate):
    `y = x · m` and `dJ/dx = dJ/dy · m` (the mask broadcast the same way). At inference, `y = x`.
    """

    spatial_rank = 1

    def __init__(
        self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs: Any
    ) -> None:
        if "noise_shape" in kwargs:
            raise TypeError(
                f"{type(self).__name__}() got an unexpected keyword argument 'noise_shape': its "
                "mask is always one value per (sample, channel)."
            )
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format, self)
        # The mask's shape in Dropout's terms: None takes the input's size (batch, channels).
        ones = (1,) * self.spatial_rank
        if self.data_format == "channels_first":
            self.noise_shape = (None, None, *ones)
        else:
            self.noise_shape = (None, *ones, None)

    def build(self, input_shape):
        conv_utils.check_rank(self, tuple(input_shape), self.spatial_rank, self.data_format)
        super().build(input_shape)

    def check_input_shape(self, shape):
        conv_utils.check_rank(self, tuple(shape), self.spatial_rank, self.data_format)

    def get_config(self):
        # Keras 3's keys: rate and seed (always, even None), no noise_shape.
        config = {**super().get_config(), "seed": self.seed}
        del config["noise_shape"]
        return config


@register_layer("SpatialDropout1D")
class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of (batch, steps, channels) inputs during training: each channel of
    each sample is zeroed with probability `rate` at every step, or kept and scaled by
    `1 / (1 − rate)`. The mask has shape (batch, 1, channels); `dJ/dx = dJ/dy · mask`.

    Args:
        rate: Fraction of the channels to drop, in [0, 1].
        seed: Seed of the masks; from the global seed source when `None`.
    """

    spatial_rank = 1

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, data_format="channels_last", seed=seed, **kwargs)


@register_layer("SpatialDropout2D")
class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of images during training: each channel of each sample is zeroed
    with probability `rate` at every pixel, or kept and scaled by `1 / (1 − rate)`. The mask has
    shape (batch, 1, 1, channels), or (batch, channels, 1, 1) channels first;
    `dJ/dx = dJ/dy · mask`.

    Args:
        rate: Fraction of the feature maps to drop, in [0, 1].
        data_format: "channels_last" (batch, height, width, channels) or "channels_first"
            (batch, channels, height, width); `neuralnet.config.image_data_format()` when `None`.
        seed: Seed of the masks; from the global seed source when `None`.
    """

    spatial_rank = 2

    def __init__(
        self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(rate, data_format=data_format, seed=seed, **kwargs)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
