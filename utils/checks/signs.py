"""Notebook 2's checks: leaks found by hashing, the Functional model, the receptive field.

Example, in notebook 2 right after each exercise::

    import utils.checks
    utils.checks.find_leaks(find_leaks)
    utils.checks.functional_model(build_course_model)
    utils.checks.receptive_fields(receptive_fields)

``find_leaks(train_images, test_images)`` must return the indexes of the test images whose
pixels also occur, exactly, among the training images. The check runs it on small made-up
uint8 images (64x64x3, as in the notebook) with a known answer, then on the same images in
another order. Mistakes it names (each one tested in ``tests/test_checks_signs.py``):
hashing ``str(image)`` (NumPy abbreviates a large array with ``...``, so images that differ
in one middle pixel get the same text), a fingerprint that is not unique (the pixel sum:
two swapped pixels keep it), comparing test image ``i`` with training image ``i`` only
(``zip``), returning the training twins' indexes instead of the test images', reporting two
identical test images that have no training twin (counting duplicates over both splits
together), listing a test image twice when it has two training twins, a True/False mask or
a count instead of indexes, the images instead of their indexes, ``hash(image)`` or a set of
arrays (``TypeError: unhashable``). Comparing file names is not possible here (the function
gets pixels), and notebook 2 shows why names would mislead. Variants it accepts: SHA-256 or
MD5 of ``image.tobytes()``; the bytes themselves as set members; Python's built-in
``hash(image.tobytes())`` (salted per process, so its values change between sessions and
must not be stored, but within one run both splits are hashed alike, which is all this needs);
``np.array_equal`` in a double loop; a list, tuple, set, NumPy array or generator of ints, in
any order.

``build_course_model()`` is judged by what it computes: the layers of the notebook's table
in order, 1,310 parameters, output ``(None, 6)``, the same numbers as the reference with the
learner's weights. Mistakes it names: a sigmoid output, a pooling stride of 4, a missing
ReLU, ``padding="valid"`` convolutions, the filter counts swapped, no activation on the
output, a ``keras.Sequential`` model. Variants it accepts: any layer names or none;
``Activation("relu")`` for ``ReLU()``; ``Conv2D(..., activation="relu")`` for a convolution
followed by ReLU; ``MaxPooling2D(8)`` without ``strides``; ``padding="valid"`` pools (the
map sizes divide exactly, so they compute the same); ``Dense(6)`` followed by
``Softmax()`` or ``Activation("softmax")``; no ``dtype``.

``receptive_fields(windows)`` gets ``(k, s)`` pairs (window size, stride) in layer order
and must return one ``(r, j)`` pair per layer: the receptive field ``r`` and the jump ``j``
after it, from ``r = j = 1`` with ``r_out = r_in + (k - 1) * j_in``, ``j_out = j_in * s``.
The check runs it on the notebook's model and on fixed stacks (stride-2 convolutions; a
stem of convolution, pooling, 1x1 and 3x3 convolutions; no layers). Mistakes it names:
forgetting the jump (adding ``k - 1``), the layer's own stride in place of the jump, ``k``
instead of ``k - 1``, the jump updated before the size, the jump not accumulated (``j =
s``), starting from ``r = 0``, ``(j, r)`` pairs, only the last pair. Variants it accepts:
lists or tuples, a NumPy array of shape ``(n, 2)``, a generator, NumPy integers or whole
floats, the closed form ``r = 1 + sum((k - 1) * product of earlier strides)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import layers

from utils import keras_graph
from utils.checks.core import (
    CheckFailed,
    Exercise,
    NotImplementedYet,
    Step,
    call_learner,
    chain_back,
    check_size,
    common_hint,
    compare_numbers,
    compare_steps,
    copy_weights,
    describe,
    fixed_input,
    randomize,
    run_check,
    tolerance_for,
)

# Notebook 2's exercises in order (utils.exercises puts each task above its gap, its check
# below).
TASKS = [
    Exercise(
        "def find_leaks",
        "Write `find_leaks(train_images, test_images)`: return the indexes of the test "
        "images whose pixels also occur, exactly, among the training images, as a list or "
        "array of ints, each index once, in any order. Fingerprint an image by hashing its "
        "bytes (`image.tobytes()`, for example with `hashlib.sha256`), collect the training "
        "fingerprints in a set, then look each test fingerprint up in it. The check runs "
        "your function on small made-up images: an exact copy must be found wherever it "
        "sits, also when it has two training twins; an image that differs from a training "
        "image in a single pixel is no copy; two identical test images with no training "
        "twin are no leak.",
        "utils.checks.find_leaks(find_leaks)"),
    Exercise(
        "def build_course_model",
        "Build the network of the table above with the Functional API and return it: "
        "`keras.Input(shape=(64, 64, 3))`, call each layer on the previous tensor, then "
        "`keras.Model(inputs, outputs)`. The check compares the layers, in the table's "
        "order, and what they compute with the course's model: output shape `(None, 6)` "
        "(softmax probabilities, one per class) and 1,310 parameters. Layer names are up "
        "to you, and `Conv2D(..., activation=\"relu\")` may stand for a convolution "
        "followed by ReLU.",
        "utils.checks.functional_model(build_course_model)"),
    Exercise(
        "def receptive_fields",
        "Write `receptive_fields(windows)`: `windows` lists one `(k, s)` pair per layer "
        "(window size, stride), in order. Return one `(r, j)` pair per layer, the "
        "receptive field and the jump after that layer, starting from one pixel (`r = 1`, "
        "`j = 1`) and applying the two updates above. The check runs it on this "
        "notebook's model (it must give 4, 11, 19 and 43 pixels) and on other stacks with "
        "stride-2 layers, and an empty list must give an empty list.",
        "utils.checks.receptive_fields(receptive_fields)"),
]

CAUSES = {
    "course_val_accuracy": (
        "a model that is not the course's (run the functional_model check), a changed recipe "
        "(learning rate, batch size, epochs), pixels not divided by 255, or labels that no "
        "longer match their images"),
    "schedule_val_accuracy": (
        "a schedule built for another number of epochs or batches per epoch, a second model "
        "that was not rebuilt after resetting the seed, or the causes listed for the course "
        "recipe"),
}
"""For :func:`utils.checks.result_is_normal`: the likely causes of a low metric."""


# ---------------------------------------------------------------------------
# finding leaked test images by hashing


def reference_find_leaks(train_images: Any, test_images: Any) -> list[int]:
    """Indexes of the test images with a byte-identical twin among the training images.

    Example: ``reference_find_leaks(x_train_orig, x_test_orig)`` lists notebook 2's leaks.
    """
    seen = {np.ascontiguousarray(image).tobytes() for image in train_images}
    return [i for i, image in enumerate(test_images)
            if np.ascontiguousarray(image).tobytes() in seen]


def _leak_case() -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Small fixed images with a known answer: ``train, test, facts`` (see the comments)."""
    rng = np.random.default_rng(2)
    train = rng.integers(0, 256, (7, 64, 64, 3), dtype=np.uint8)
    train[1, 32, 32, 0] = 100                                    # room for a +1 below
    train[3, 30, 30, 0], train[3, 33, 33, 0] = 10, 200           # two pixels to swap
    train[6] = train[2]                                          # a copy inside train
    fresh = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    near = train[1].copy()
    near[32, 32, 0] += 1                                         # one middle pixel changed
    swapped = train[3].copy()
    swapped[30, 30, 0], swapped[33, 33, 0] = 200, 10             # same pixel sum
    test = np.stack([fresh[1], train[4], near, train[2], fresh[0], fresh[0], swapped,
                     train[4]])
    facts = {"leaks": [1, 3, 7], "twins_in_train": {2, 4, 6},
             "near": {2: (1, "a single pixel changed"), 6: (3, "two pixels swapped")},
             "test_only_pair": (4, 5)}
    return train, test, facts


def _listed(result: Any, what: str) -> list:
    """``list(result)``; an error raised while a generator runs becomes a CheckFailed."""
    try:
        return list(result)
    except Exception as error:  # noqa: BLE001 - the learner's generator failed
        message = str(error).strip().splitlines()[0] if str(error).strip() else "no message"
        raise CheckFailed(f"{what} raised {type(error).__name__}: {message}.") from None


def _as_indexes(result: Any, n_test: int, what: str) -> list[int]:
    """The learner's result as a list of ints, or a CheckFailed saying what came back."""
    hint = " Hint: return the indexes, e.g. [i for i, image in enumerate(test_images) if ...]."
    if result is None:
        raise CheckFailed(f"{what} returned None." + hint)
    if isinstance(result, (bool, int, float, np.number, np.bool_)):
        raise CheckFailed(f"{what} returned the number {result}, not the indexes of the "
                          "leaked test images." + hint)
    if isinstance(result, (str, bytes, dict)):
        raise CheckFailed(f"{what} returned a {type(result).__name__}, not a list of "
                          "indexes." + hint)
    if not hasattr(result, "__iter__"):
        raise CheckFailed(f"{what} returned {type(result).__name__}, not a list of "
                          "indexes." + hint)
    items = _listed(result, what)
    if any(np.ndim(item) > 0 for item in items):
        raise CheckFailed(f"{what} returned images (arrays), not their indexes." + hint)
    if items and len(items) == n_test and all(isinstance(v, (bool, np.bool_)) for v in items):
        raise CheckFailed(f"{what} returned one True/False per test image. Hint: return the "
                          "indexes of the True ones instead, e.g. with np.flatnonzero(mask).")
    out = []
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise CheckFailed(f"{what} returned {item!r} among the indexes; expected whole "
                              "numbers (positions in test_images)." + hint)
        out.append(int(item))
    if bad := [i for i in out if not 0 <= i < n_test]:
        raise CheckFailed(f"{what} returned index {bad[0]}, but there are only {n_test} "
                          "test images. Hint: return positions in test_images.")
    return out


def _leak_hint(got: list[int], facts: dict[str, Any]) -> str:
    """Name the mistake behind a wrong answer on :func:`_leak_case`."""
    want = set(facts["leaks"])
    extra, missing = set(got) - want, want - set(got)
    if set(got) == facts["twins_in_train"]:
        return ("these are the positions of the twins in train_images; return the positions "
                "of the leaked images in test_images.")
    if near := sorted(i for i in extra if i in facts["near"]):
        twin, change = facts["near"][near[0]]
        return (f"test image {near[0]} is training image {twin} with {change}, so it is no "
                "copy. Your fingerprint does not tell them apart: "
                "str(image) abbreviates a large array with '...', and sums or means ignore "
                "where pixels sit. Hash the bytes: image.tobytes().")
    if set(facts["test_only_pair"]) & extra:
        a, b = facts["test_only_pair"]
        return (f"test images {a} and {b} are copies of each other but of no training image. "
                "A leak needs a twin among the training images: look test fingerprints up in "
                "the set of training fingerprints only.")
    if missing:
        i = sorted(missing)[0]
        return (f"test image {i} is an exact copy of a training image at another position, "
                "and it is not in your list. Compare each test image with every training "
                "image (a set of all training fingerprints), not image i with image i.")
    if extra:
        return (f"test image {sorted(extra)[0]} has no twin among the training images.")
    return ""


def find_leaks(fn: Callable[[Any, Any], Any]) -> None:
    """Check notebook 2's ``find_leaks(train_images, test_images)`` on small fixed images.

    Example: ``find_leaks(find_leaks)`` prints ``find_leaks: all checks passed``.
    """
    def body() -> None:
        if fn is None:
            raise NotImplementedYet
        train, test, facts = _leak_case()
        order_train = np.array([5, 0, 6, 3, 1, 4, 2])
        order_test = np.array([7, 2, 5, 0, 3, 6, 1, 4])
        cases = [("small made-up images", train, test),
                 ("the same images in another order", train[order_train], test[order_test])]
        for number, (what, tr, te) in enumerate(cases):
            call = f"your find_leaks on {what}"
            try:
                result = call_learner(call, fn, tr.copy(), te.copy())
            except CheckFailed as failure:
                if "TypeError" not in str(failure):
                    raise
                raise CheckFailed(f"{failure} Hint: an array cannot go into a set or hash(); "
                                  "fingerprint its bytes, e.g. "
                                  "hashlib.sha256(image.tobytes()).hexdigest().") from None
            got = _as_indexes(result, len(te), call)
            want = reference_find_leaks(tr, te)
            if len(got) != len(set(got)):
                twice = next(i for i in got if got.count(i) > 1)
                raise CheckFailed(f"{call}: test image {twice} is listed {got.count(twice)} "
                                  "times. Hint: it has two twins among the training images; "
                                  "list each leaked test image once (look it up in a set, or "
                                  "stop at its first twin).")
            if sorted(got) == sorted(want):
                continue
            head = f"{call}: got {sorted(got)}, expected {sorted(want)}."
            if number == 0:
                hint = _leak_hint(got, facts)
            else:
                hint = ("it is right in the first order but not in this one; the answer must "
                        "not depend on where the images sit in their lists.")
            raise CheckFailed(head + (f" Hint: {hint}" if hint else ""))

    run_check("find_leaks", body)


# ---------------------------------------------------------------------------
# the Functional model


def reference_signs_model(input_shape: tuple[int, int, int] = (64, 64, 3),
                          classes: int = 6) -> keras.Model:
    """Notebook 2's Functional model, the checks' reference."""
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(8, 4, padding="same")(inputs)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D(8, strides=8, padding="same")(x)
    x = layers.Conv2D(16, 2, padding="same")(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D(4, strides=4, padding="same")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def canonical_steps(ops: list[tuple[Any, int]]) -> list[tuple[Step, Any]]:
    """The model's steps with equivalent spellings made equal, each with its layer.

    ``Conv2D(..., activation="relu")`` becomes the linear convolution + ``ReLU``; a
    ``valid`` pooling whose windows tile its input exactly becomes ``same`` (the same
    numbers); ``Dense`` without activation + ``Softmax()`` or ``Activation(a)`` becomes
    ``Dense(a)``. Returns ``(step, layer)`` pairs; ``layer`` is ``None`` for an added step.
    """
    out: list[tuple[Step, Any]] = []
    for op, index in ops:
        step = describe(op)
        if step.kind == "Conv2D" and step.settings[4] == "relu":
            filters, kernel, strides, padding, _ = step.settings
            out.append((Step("Conv2D", (filters, kernel, strides, padding, "linear"),
                             step.text.replace(", relu)", ")")), op))
            out.append((Step("ReLU", text="ReLU"), None))
            continue
        if step.kind == "MaxPooling2D" and step.settings[2] == "valid":
            pool, strides, _ = step.settings
            size = tuple(keras_graph.call_inputs(op, index)[0].shape[1:3])
            if pool == strides and all(isinstance(n, int) and n % s == 0
                                       for n, s in zip(size, strides)):
                step = Step(step.kind, (pool, strides, "same"),
                            step.text.replace("padding valid", "padding same"))
        if (step.kind in ("Activation", "Softmax") and out and out[-1][0].kind == "Dense"
                and out[-1][0].settings[1] == "linear"):
            units = out[-1][0].settings[0]
            name = step.settings[0] if step.kind == "Activation" else "softmax"
            unit = "unit" if units == 1 else "units"
            out[-1] = (Step("Dense", (units, name), f"Dense({units} {unit}, {name})"),
                       out[-1][1])
            continue
        out.append((step, op))
    return out


def _model_hint(where: str, expected: Step | None, got: Step | None) -> str:
    """What probably went wrong at the first differing step of the SIGNS model."""
    if expected and got and expected.kind == got.kind == "Conv2D" \
            and expected.settings[3] == got.settings[3]:
        return "the table gives conv1 8 filters of 4x4 and conv2 16 filters of 2x2."
    return common_hint(expected, got) or ("compare your layers, in order, with the table "
                                          "above the exercise.")


def functional_model(fn_or_model: Callable[..., Any] | keras.Model,
                     classes: int = 6) -> None:
    """Check notebook 2's Functional model (``build_course_model``, or the model).

    Example: ``functional_model(build_course_model)``.
    """
    def body() -> None:
        model = fn_or_model
        if not isinstance(model, keras.Model):
            model = call_learner("your build_course_model", fn_or_model)
        if isinstance(model, keras.Sequential):
            raise CheckFailed("this is a keras.Sequential model. Hint: use the "
                              "Functional API: keras.Input, call each layer on the "
                              "previous tensor, then keras.Model(inputs, outputs).")
        if not isinstance(model, keras.Model):
            raise CheckFailed(f"expected a keras model, got {type(model).__name__}. "
                              "Hint: return keras.Model(inputs, outputs).")
        if not model.inputs:
            raise CheckFailed("the model has no input. Hint: start with "
                              "keras.Input(shape=(64, 64, 3)).")
        if tuple(model.input_shape[1:]) != (64, 64, 3):
            raise CheckFailed(f"input shape {model.input_shape}, expected (None, 64, 64, 3).")
        ops, merge = chain_back(model.outputs[0])
        if merge is not None:
            raise CheckFailed(f"the model contains a {type(merge[0]).__name__} layer; "
                              "this model is one straight chain of layers.")
        reference = reference_signs_model((64, 64, 3), classes)
        got = canonical_steps(ops)
        want = canonical_steps(chain_back(reference.outputs[0])[0])
        compare_steps("your model", [s for s, _ in want], [s for s, _ in got], _model_hint)
        check_size(model, reference)
        randomize(model, seed=0)
        copy_weights([(a, b) for (_, a), (_, b) in zip(got, want)
                      if a is not None and getattr(b, "weights", None)])
        x = fixed_input((2, 64, 64, 3), scale=0.5) + 0.5
        compare_numbers(model(x, training=False), reference(x, training=False),
                        tolerance_for(model))

    run_check("functional_model", body)


# ---------------------------------------------------------------------------
# the receptive-field recurrence

NOTEBOOK_WINDOWS = [(4, 1), (8, 8), (2, 1), (4, 4)]  # conv1, pool1, conv2, pool2


def reference_receptive_fields(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``(r, j)`` after each ``(k, s)`` window: ``r += (k - 1) * j``, then ``j *= s``.

    Example: ``reference_receptive_fields([(4, 1), (8, 8)])`` is ``[(4, 1), (11, 8)]``.
    """
    r, j, out = 1, 1, []
    for k, s in windows:
        r, j = r + (k - 1) * j, j * s
        out.append((r, j))
    return out


def _wrong_fields(windows: list[tuple[int, int]]) -> list[tuple[list, str]]:
    """What typical mistakes return for ``windows``, each with its hint."""
    def run(step: Callable[[int, int, int, int], tuple[int, int]], r0: int = 1) -> list:
        r, j, out = r0, 1, []
        for k, s in windows:
            r, j = step(r, j, k, s)
            out.append((r, j))
        return out

    right = reference_receptive_fields(windows)
    return [
        (run(lambda r, j, k, s: (r + k - 1, j * s)),
         "you added k - 1 pixels per layer, but after a stride the window's neighbouring "
         "positions lie j_in input pixels apart: add (k - 1) * j_in."),
        (run(lambda r, j, k, s: (r + (k - 1) * s, j * s)),
         "you multiplied k - 1 by this layer's own stride; the spacing that counts is the "
         "jump of the layer's input, j_in, the product of the strides before it."),
        (run(lambda r, j, k, s: (r + k * j, j * s)),
         "a window of k positions spans k - 1 steps beyond its first position: add "
         "(k - 1) * j_in, not k * j_in."),
        (run(lambda r, j, k, s: (r + (k - 1) * j * s, j * s)),
         "you updated the jump before the receptive field: the window's positions lie j_in "
         "apart, the jump of the layer's input; compute r with the old j, then j = j * s."),
        (run(lambda r, j, k, s: (r + (k - 1) * j, s)),
         "the jump is the product of all strides so far: j = j * s, not j = s."),
        (run(lambda r, j, k, s: (r + (k - 1) * j, j * s), r0=0),
         "one input pixel sees itself: start from r = 1, not 0."),
        ([(j, r) for r, j in right],
         "return the pairs as (r, j): the receptive field first, then the jump."),
    ]


def _as_pairs(result: Any, what: str, n: int) -> list[tuple[float, float]]:
    """The learner's result as a list of number pairs, or a CheckFailed."""
    hint = " Hint: return a list with one (r, j) pair per layer."
    if result is None:
        raise CheckFailed(f"{what} returned None." + hint)
    if isinstance(result, (int, float, np.number, str, bytes, dict)):
        raise CheckFailed(f"{what} returned {type(result).__name__} {str(result)[:40]}." + hint)
    if not hasattr(result, "__iter__"):
        raise CheckFailed(f"{what} returned {type(result).__name__}." + hint)
    items = _listed(result, what)
    if n and len(items) == 2 and all(np.ndim(v) == 0 for v in items) and n != 2:
        raise CheckFailed(f"{what} returned one pair {tuple(items)} for {n} layers: only the "
                          "last layer's?" + hint)
    pairs = []
    for item in items:
        if np.ndim(item) != 1 or len(item) != 2:
            raise CheckFailed(f"{what} returned {str(item)[:40]} as one layer's entry." + hint)
        try:
            pairs.append((float(item[0]), float(item[1])))
        except (TypeError, ValueError):
            raise CheckFailed(f"{what} returned {str(item)[:40]}, not two numbers." + hint) \
                from None
    if len(pairs) != n:
        raise CheckFailed(f"{what} returned {len(pairs)} pairs for {n} layers." + hint)
    return pairs


def receptive_fields(fn: Callable[[list], Any]) -> None:
    """Check notebook 2's ``receptive_fields(windows)`` on the notebook's model and fixed stacks.

    Example: ``receptive_fields(receptive_fields)`` prints
    ``receptive_fields: all checks passed``.
    """
    cases = [
        ("this notebook's model [(4, 1), (8, 8), (2, 1), (4, 4)]", NOTEBOOK_WINDOWS),
        ("three 3x3 convolutions of stride 2 [(3, 2), (3, 2), (3, 2)]", [(3, 2)] * 3),
        ("a 7x7 stride-2 convolution, 3x3 stride-2 pooling, a 1x1 and a 3x3 convolution "
         "[(7, 2), (3, 2), (1, 1), (3, 1)]", [(7, 2), (3, 2), (1, 1), (3, 1)]),
        ("no layers []", []),
    ]

    def body() -> None:
        if fn is None:
            raise NotImplementedYet
        for what, windows in cases:
            call = f"your receptive_fields on {what}"
            got = _as_pairs(call_learner(call, fn, list(windows)), call, len(windows))
            want = reference_receptive_fields(windows)
            if got == [(float(r), float(j)) for r, j in want]:
                continue
            shown = [(int(r) if r == int(r) else r, int(j) if j == int(j) else j)
                     for r, j in got]
            head = f"{call}: got {shown}, expected {want}."
            for wrong, hint in _wrong_fields(windows):
                if got == [(float(r), float(j)) for r, j in wrong]:
                    raise CheckFailed(f"{head} Hint: {hint}")
            raise CheckFailed(f"{head} Hint: start from r = j = 1; for each (k, s): "
                              "r = r + (k - 1) * j, then j = j * s.")

    run_check("receptive_fields", body)
