"""utils.keras_graph: the private Keras attributes the checks and Grad-CAM rely on.

If a Keras upgrade moves ``_keras_history`` or ``_inbound_nodes``, these tests
fail here, with the attribute named, instead of deep inside an exercise check.
"""

import utils  # noqa: F401  (first: quiets TensorFlow)
import keras
import pytest
from keras import layers

from utils import keras_graph


def small_model():
    inputs = keras.Input((8, 8, 3), name="image")
    a = layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    b = layers.ReLU(name="relu")(a)
    out = layers.Add(name="add")([a, b])
    return keras.Model(inputs, out), a, b


def test_the_private_attributes_exist_on_the_pinned_keras():
    _, a, _ = small_model()
    assert hasattr(a, "_keras_history"), "KerasTensor._keras_history moved"
    op, node_index, _ = a._keras_history
    assert hasattr(op, "_inbound_nodes"), "Operation._inbound_nodes moved"
    assert hasattr(op._inbound_nodes[node_index].arguments, "keras_tensors")


def test_producer_and_call_inputs_walk_back_one_layer():
    model, a, b = small_model()
    add, index = keras_graph.producer(model.output)
    assert add.name == "add" and index == 0
    inputs = keras_graph.call_inputs(add, index)
    assert [keras_graph.producer(t)[0].name for t in inputs] == ["conv", "relu"]
    assert keras_graph.producer(b)[0].name == "relu"


def test_calls_lists_each_call_with_its_keyword_arguments():
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, layers.Dense(2)(inner_in), name="inner")
    x = keras.Input((4,))
    outer = keras.Model(x, inner(x, training=False))
    found = [kwargs.get("training") for tensors, kwargs in keras_graph.calls(inner)
             if any(keras_graph.producer(t)[0] is outer.layers[0] for t in tensors)]
    assert found == [False]


def test_output_in_finds_a_nested_models_call():
    inner_in = keras.Input((8, 8, 3))
    inner = keras.Model(inner_in, layers.Conv2D(2, 3)(inner_in), name="base")
    x = keras.Input((8, 8, 3))
    outer = keras.Model(x, layers.GlobalAveragePooling2D()(inner(x)))
    tensor = keras_graph.output_in(outer, outer.get_layer("base"))
    assert keras_graph.producer(tensor)[0] is inner
    assert tensor is not inner.output  # the outer graph's tensor, not the inner one
    with pytest.raises(ValueError, match="not on the path"):
        keras_graph.output_in(outer, layers.Dense(1))
