"""Arguments and shapes shared by the convolution, pooling and resizing layers, in Keras 3's rules.

Every spatial layer accepts `data_format` ("channels_last", the default, or "channels_first"),
integers or tuples for sizes (`kernel_size=3` means 3 on every spatial axis) and `padding`
"valid" (no padding) or "same" (pad so that the output has ceil(length / stride) positions, the
extra position on the right when the padding is odd, as TensorFlow and JAX do).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from neuralnet import backend
from neuralnet._validation import owner_name

#: The layout of a batch of inputs, by number of spatial axes and data format, for error messages.
_AXES = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def layout(spatial_rank: int, data_format: str) -> str:
    """`"(batch, height, width, channels)"` for 2 spatial axes, channels last."""
    axes = _AXES[spatial_rank]
    if data_format == "channels_first":
        return "(batch, channels, " + ", ".join(axes) + ")"
    return "(batch, " + ", ".join(axes) + ", channels)"


def normalize_data_format(value: Any, where: Any = None) -> str:
    """`"channels_last"` or `"channels_first"`; `None` means `config.image_data_format()`."""
    if value is None:
        return backend.image_data_format()
    text = str(value).lower()
    if text not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{owner_name(where) or 'data_format'}: `data_format` must be 'channels_last' or "
            f"'channels_first', received data_format={value!r}."
        )
    return text


def normalize_padding(
    value: Any, where: Any = None, allowed: tuple[str, ...] = ("valid", "same")
) -> str:
    """`padding` lower-cased, one of `allowed`."""
    text = value.lower() if isinstance(value, str) else value
    if text not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise ValueError(
            f"{owner_name(where) or 'padding'}: `padding` must be one of {listed}, "
            f"received padding={value!r}."
        )
    return text


def normalize_tuple(
    value: Any, n: int, arg: str, where: Any = None, *, allow_zero: bool = False
) -> tuple[int, ...]:
    """An int or a sequence of `n` ints as a tuple of `n` ints, each >= 1 (>= 0 with `allow_zero`)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values: tuple[Any, ...] = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = ()
    low = 0 if allow_zero else 1
    if len(values) != n or any(
        isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low for v in values
    ):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"{owner_name(where) or arg}: `{arg}` must be a {kind} integer or a tuple of {n} "
            f"{kind} integers, received {arg}={value!r}."
        )
    return tuple(int(v) for v in values)


def effective_kernel_size(kernel: int, dilation: int) -> int:
    """The span of a dilated kernel: (kernel − 1) · dilation + 1."""
    return (kernel - 1) * dilation + 1


def conv_padding(
    length: int, kernel: int, stride: int, dilation: int, padding: str
) -> tuple[int, int]:
    """Zeros added (before, after) an axis of `length` by a convolution with `padding`.

    "same" pads `max((ceil(L/s) − 1)·s + k_eff − L, 0)` in all, the odd one after (TensorFlow's and
    JAX's rule, which Keras follows); "causal" pads `k_eff − 1` before only; "valid" pads nothing."""
    span = effective_kernel_size(kernel, dilation)
    if padding == "same":
        total = max((math.ceil(length / stride) - 1) * stride + span - length, 0)
        return total // 2, total - total // 2
    if padding == "causal":
        return span - 1, 0
    return 0, 0


def conv_output_length(
    length: int | None, kernel: int, stride: int, dilation: int, padding: str
) -> int | None:
    """Positions along an axis after a convolution or pooling: floor((L + pads − k_eff) / s) + 1."""
    if length is None:
        return None
    before, after = conv_padding(length, kernel, stride, dilation, padding)
    span = effective_kernel_size(kernel, dilation)
    return (length + before + after - span) // stride + 1


def transpose_padding(
    kernel: int, stride: int, dilation: int, padding: str, output_padding: int | None
) -> tuple[int, int]:
    """The (before, after) zeros a transposed convolution adds to its stride-dilated input before
    correlating it with the flipped kernel (Keras 3's rule for the JAX and NumPy backends)."""
    span = effective_kernel_size(kernel, dilation)
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return span - 1, span - 1 + extra
    total = stride + span - 2 if output_padding is None else span + span % 2 - 2 + output_padding
    before = min(total // 2 + total % 2, span - 1)
    return before, total - before


def transpose_output_length(
    length: int | None,
    kernel: int,
    stride: int,
    dilation: int,
    padding: str,
    output_padding: int | None,
) -> int | None:
    """Positions along an axis after a transposed convolution: (L − 1)·s + 1 + pads − k_eff + 1."""
    if length is None:
        return None
    before, after = transpose_padding(kernel, stride, dilation, padding, output_padding)
    span = effective_kernel_size(kernel, dilation)
    return (length - 1) * stride + 1 + before + after - span + 1


def channel_axis(data_format: str, rank: int) -> int:
    """The channels axis of a batch of `rank` axes: the last, or 1 for channels_first."""
    return 1 if data_format == "channels_first" else rank - 1


def spatial_dims(shape: tuple[Any, ...], data_format: str) -> tuple[Any, ...]:
    """The spatial sizes of a batch shape (everything but the batch and channels axes)."""
    return tuple(shape[2:]) if data_format == "channels_first" else tuple(shape[1:-1])


def with_spatial(
    batch: Any, channels: Any, spatial: tuple[Any, ...], data_format: str
) -> tuple[Any, ...]:
    """A batch shape from its parts, in `data_format`'s order."""
    if data_format == "channels_first":
        return (batch, channels, *spatial)
    return (batch, *spatial, channels)


def check_rank(layer: Any, shape: tuple[Any, ...], spatial_rank: int, data_format: str) -> None:
    """A ValueError naming the expected layout when a batch of `shape` lacks `spatial_rank` + 2 axes."""
    if len(shape) != spatial_rank + 2:
        shown = "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"
        raise ValueError(
            f"{owner_name(layer)} expected inputs of rank {spatial_rank + 2}, laid out as "
            f"{layout(spatial_rank, data_format)}, received an input of rank {len(shape)} with "
            f"shape {shown}."
        )
