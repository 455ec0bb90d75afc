"""Walk a Keras functional graph: the one module that touches Keras' private attributes.

Keras 3 has no public API to ask "which layer call produced this tensor, and
from which inputs?". The exercise checks (:mod:`utils.checks`) need it to
compare a learner's block with the reference layer by layer, and Grad-CAM
(:mod:`utils.gradcam`) needs it to find a nested model's output inside the
outer model. Everything private lives here, behind three small functions, so
that a Keras upgrade that moves these attributes breaks one file and one test
(``tests/test_keras_graph.py``), not the checks and plots all over:

- ``KerasTensor._keras_history``: ``(operation, node_index, tensor_index)``;
- ``Operation._inbound_nodes``: one ``Node`` per call of the operation, whose
  ``arguments.keras_tensors`` are the call's input tensors and
  ``arguments.kwargs`` its keyword arguments (such as ``training``).

Checked with Keras 3.15.1.
"""

from __future__ import annotations

from typing import Any


def producer(tensor: Any) -> tuple[Any, int]:
    """The operation (layer) that computed ``tensor`` and the index of that call.

    Example: ``layer, call = producer(model.output)``.
    """
    operation, node_index, _ = tensor._keras_history
    return operation, node_index


def call_inputs(operation: Any, node_index: int = 0) -> list:
    """The input tensors of call ``node_index`` of ``operation``.

    Example: ``call_inputs(*producer(model.output))`` lists the last layer's inputs.
    """
    return list(operation._inbound_nodes[node_index].arguments.keras_tensors)


def calls(operation: Any) -> list[tuple[list, dict]]:
    """Every call of ``operation`` in any graph: ``(input tensors, keyword arguments)``.

    Example: ``[kw.get("training") for _, kw in calls(base)]`` tells how a
    nested base model was called each time.
    """
    return [(list(node.arguments.keras_tensors), dict(node.arguments.kwargs))
            for node in operation._inbound_nodes]


def output_in(model: Any, layer: Any) -> Any:
    """The tensor ``layer`` computes inside ``model``'s graph.

    For most layers that is ``layer.output``; a model nested as a layer (such
    as a pretrained base) answers ``.output`` with its own inner graph's
    tensor, so the walk goes back from ``model``'s outputs to find the call.
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
