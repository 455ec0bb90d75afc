"""Predictions of a saved model on image files, each prepared as the model's sidecar says."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import keras
import numpy as np

from utils.fetch import DataError
from utils.images import prepare_image
from utils.models import ModelError, load_model


def model_input(path: str | Path, sidecar: dict, channels: int = 3) -> np.ndarray:
    """The float32 pixels (0-255) the model sees, as the sidecar says: ``model_input(p, sc)``."""
    return prepare_image(path, tuple(sidecar["input_size"]), sidecar["colour_mode"], channels,
                         sidecar["preparation"]["antialias"])


def probabilities(raw: np.ndarray, sidecar: dict) -> np.ndarray:
    """One row of class probabilities per image from the model's raw output.

    ``sidecar["output"]``: each row of ``raw`` holds ``"softmax"`` probabilities, or one
    ``"logit"`` or ``"sigmoid"`` value for the second class; other values raise ModelError.
    Example: ``probabilities(np.array([[0.0]]), {"output": "logit"})`` -> ``[[0.5, 0.5]]``.
    """
    output, side = sidecar["output"], f"{sidecar.get('name', 'the model')}.json"
    if output == "softmax":
        sums = raw.sum(axis=1)
        if raw.min() < -1e-3 or np.abs(sums - 1).max() > 0.02:
            raise ModelError(f"The sidecar {side} says output='softmax' but the model's "
                             f"outputs are not probabilities (row sums {sums.min():.3g} to "
                             f"{sums.max():.3g}); save it again with the output it really has "
                             "(probably 'logit').")
        return np.clip(raw, 0.0, 1.0)
    value = raw[:, 0]
    if output != "logit" and (value.min() < -1e-3 or value.max() > 1 + 1e-3):
        raise ModelError(f"The sidecar {side} says output='sigmoid' but the model returns "
                         f"values from {value.min():.3g} to {value.max():.3g}; save it again "
                         "with output='logit'.")
    p = 0.5 * (1.0 + np.tanh(value / 2.0)) if output == "logit" else np.clip(value, 0.0, 1.0)
    return np.stack([1.0 - p, p], axis=1)


def predict_batches(net, sidecar: dict, paths, top_k: int = 3,
                    batch_size: int = 32) -> tuple[list[dict], list[np.ndarray | None]]:
    """Return :func:`predict_files`' results and each image's :func:`model_input` (or None)."""
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k={top_k!r}; give a whole number of classes, 1 or more")
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    results = [{"file": str(path), "ok": True} for path in paths]
    names, channels, views = sidecar["class_names"], int(net.inputs[0].shape[-1] or 3), []
    for path, result in zip(paths, results):
        try:
            views.append(model_input(path, sidecar, channels))
        except DataError as err:
            views.append(None)
            result.update(ok=False, error=" ".join(str(err).split()))
    good = [i for i, view in enumerate(views) if view is not None]
    k = len(names) if sidecar["output"] != "softmax" else min(top_k, len(names))
    for chunk in (good[start:start + batch_size] for start in range(0, len(good), batch_size)):
        x = np.stack([views[i] for i in chunk]).astype("float32")
        x = x / 255.0 if sidecar["preprocessing"] == "divide_by_255" else x
        try:
            raw = np.asarray(keras.ops.convert_to_numpy(
                keras.ops.cast(net(x, training=False), "float32")), np.float64)
        except Exception as err:
            detail = " ".join(str(err).split())[:200]
            raise ModelError(f"The model {sidecar.get('name')} failed on its input "
                             f"({type(err).__name__}: {detail}).") from None
        for i, row in zip(chunk, probabilities(raw.reshape(len(chunk), -1), sidecar)):
            order = np.argsort(-row, kind="stable")[:k]
            top = [{"class": names[j], "probability": round(float(row[j]), 6)} for j in order]
            results[i].update({"class": top[0]["class"], "class_index": int(order[0]),
                               "probability": top[0]["probability"], "top_k": top})
    return results, views


def predict_files(model, paths: Iterable[str | Path], top_k: int = 3) -> list[dict]:
    """Classify image files with a saved model, each prepared as its sidecar says.

    ``model``: a name or path (:func:`utils.models.load_model`), or the pair it returns. One
    dict per path (a bad file never stops the others): ``{"file", "ok": False, "error"}`` or
    ``{"file", "ok": True, "class", "class_index", "probability", "top_k"}``, ``top_k`` listing
    ``{"class", "probability"}`` best first. Example: ``predict_files("signs", ["a.jpg"])``.
    """
    net, sidecar = model if isinstance(model, tuple) else load_model(model)
    return predict_batches(net, sidecar, paths, top_k)[0]
