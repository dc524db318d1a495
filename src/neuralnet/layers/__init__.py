"""Layers: each a step of the network with an explicit `forward` and `backward`.

Keras 3's names: `Dense`, `Activation`, `Dropout`, `BatchNormalization`, `Flatten`, `Reshape`,
`InputLayer`/`Input`, the activation layers `ReLU`, `LeakyReLU`, `PReLU`, `ELU`, `Softmax`, the merge
layers `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum`, `Concatenate`, `Dot`, and the
noise layers `GaussianNoise`, `GaussianDropout`.
"""

from typing import Any

from neuralnet.layers.activation_layers import ELU, Activation, LeakyReLU, PReLU, ReLU, Softmax
from neuralnet.layers.batch_normalization import BatchNormalization
from neuralnet.layers.convolution import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from neuralnet.layers.dense import Dense
from neuralnet.layers.dropout import Dropout
from neuralnet.layers.input_layer import Input, InputLayer
from neuralnet.layers.layer import LAYERS, Layer, register_layer
from neuralnet.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from neuralnet.layers.node import SymbolicTensor
from neuralnet.layers.noise import GaussianDropout, GaussianNoise
from neuralnet.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from neuralnet.layers.preprocessing import Normalization, Rescaling
from neuralnet.layers.reshaping import Flatten, Reshape

# Keras's short names of the pooling layers
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = (
    MaxPooling1D,
    MaxPooling2D,
    AveragePooling1D,
    AveragePooling2D,
)
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
from neuralnet.layers.resizing import (
    Cropping1D,
    Cropping2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from neuralnet.layers.spatial_dropout import SpatialDropout1D, SpatialDropout2D

__all__ = [
    "ELU",
    "LAYERS",
    "Activation",
    "Add",
    "Average",
    "AveragePooling1D",
    "AveragePooling2D",
    "AvgPool1D",
    "AvgPool2D",
    "BatchNormalization",
    "Concatenate",
    "Conv1D",
    "Conv1DTranspose",
    "Conv2D",
    "Conv2DTranspose",
    "Cropping1D",
    "Cropping2D",
    "Dense",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "Dot",
    "Dropout",
    "Flatten",
    "GaussianDropout",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "Layer",
    "LeakyReLU",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "Maximum",
    "Minimum",
    "Multiply",
    "Normalization",
    "PReLU",
    "ReLU",
    "Rescaling",
    "Reshape",
    "SeparableConv1D",
    "SeparableConv2D",
    "Softmax",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "Subtract",
    "SymbolicTensor",
    "UpSampling1D",
    "UpSampling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "add",
    "average",
    "concatenate",
    "deserialize",
    "dot",
    "get",
    "maximum",
    "minimum",
    "multiply",
    "register_layer",
    "serialize",
    "subtract",
]


def serialize(layer: Layer) -> dict[str, Any]:
    """`{'class_name': ..., 'config': layer.get_config()}`."""
    name = LAYERS.name_of(layer)
    if name is None:
        raise ValueError(
            f"Layer class {type(layer).__name__} is not registered; decorate it with "
            "@neuralnet.layers.register_layer() to save models that use it."
        )
    return {"class_name": name, "config": layer.get_config()}


def deserialize(config: dict[str, Any]) -> Layer:
    """A new layer from `serialize`'s output."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A layer config needs a 'class_name' key, received {config!r}.")
    return LAYERS.lookup(config["class_name"]).from_config(dict(config.get("config", {})))


def get(identifier: Any) -> Layer:
    """A layer from an instance or a config dict."""
    if isinstance(identifier, Layer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(f"Cannot interpret {identifier!r} as a layer.")
