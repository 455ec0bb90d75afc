"""Walk a Keras functional graph: the one module that touches Keras' private attributes.

Keras 3 has no public API for "which layer call made this tensor, from which inputs?",
which the exercise checks and Grad-CAM need. A Keras upgrade that moves these breaks this
file and ``tests/test_keras_graph.py`` only (checked with Keras 3.15.1):
``KerasTensor._keras_history`` is ``(operation, node_index, tensor_index)``;
``Operation._inbound_nodes`` holds one ``Node`` per call, with ``arguments.keras_tensors``
(the call's inputs) and ``arguments.kwargs`` (such as ``training``).
"""

from __future__ import annotations

from typing import Any


def producer(tensor: Any) -> tuple[Any, int]:
    """The layer that computed ``tensor`` and that call's index: ``producer(model.output)``."""
    operation, node_index, _ = tensor._keras_history
    return operation, node_index


def call_inputs(operation: Any, node_index: int = 0) -> list:
    """The input tensors of call ``node_index`` of ``operation``: ``call_inputs(*producer(t))``."""
    return list(operation._inbound_nodes[node_index].arguments.keras_tensors)


def calls(operation: Any) -> list[tuple[list, dict]]:
    """Each call of ``operation`` as ``(inputs, kwargs)``: ``[kw for _, kw in calls(base)]``."""
    return [(list(node.arguments.keras_tensors), dict(node.arguments.kwargs))
            for node in operation._inbound_nodes]


def output_in(model: Any, layer: Any) -> Any:
    """The tensor ``layer`` computes inside ``model``'s graph (found from its outputs).

    Unlike ``layer.output`` this works for a nested model, whose ``.output`` is its inner one.
    Example: ``output_in(model, model.get_layer("mobilenetv2_1.00_224"))``.
    """
    todo, seen = list(model.outputs), set()
    while todo:
        tensor = todo.pop()
        operation, node_index = producer(tensor)
        if operation is layer:
            return tensor
        if id(tensor) not in seen:
            seen.add(id(tensor))
            todo.extend(call_inputs(operation, node_index))
    raise ValueError(f"layer {layer.name} is not on the path to {model.name}'s output")
