"""Draw the course's diagrams with matplotlib and save them as PNG files.

Run ``python images/draw_diagrams.py`` from the repository root (or anywhere:
the files are written next to this script). Every figure is built from boxes,
arrows and text only; the numbers in them (tensor shapes, parameter and
multiplication counts) are computed here from the layer settings, and a few
``assert`` lines compare them with the figures the notebooks print.
The output is deterministic: the same matplotlib gives the same files.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch, Polygon  # noqa: E402

HERE = Path(__file__).resolve().parent
DPI = 130

# One colour per kind of layer, used in every figure.
COLOURS = {
    "io": "#ffffff",
    "pad": "#eeeeee",
    "conv": "#cfe2f3",
    "norm": "#fff2cc",
    "act": "#d9ead3",
    "pool": "#ead1dc",
    "dense": "#f4cccc",
    "stage": "#d0e0e3",
    "add": "#fce5cd",
    "frozen": "#d9d9d9",
    "trainable": "#f9cb9c",
    "nolayer": "#ffffff",
}


# --------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------
def canvas(width: float, height: float):
    """Make a figure whose data units are inches, with the axes hidden."""
    fig = plt.figure(figsize=(width, height), facecolor="white")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return fig, ax


def box(ax, x, y, w, h, text, colour="#ffffff", size=9, weight="normal",
        dashed=False, edge="#444444"):
    """Draw a rounded box centred at (x, y) with centred text; return its edges."""
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                           boxstyle="round,pad=0.02,rounding_size=0.06",
                           facecolor=colour, edgecolor=edge, linewidth=1.1,
                           linestyle="--" if dashed else "-")
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=size,
            fontweight=weight, linespacing=1.25)
    return {"top": (x, y + h / 2), "bottom": (x, y - h / 2),
            "left": (x - w / 2, y), "right": (x + w / 2, y)}


def arrow(ax, start, end, label=None, side="left", size=8.5, colour="#333333"):
    """Draw an arrow from start to end, with an optional label beside its middle."""
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.2,
                                shrinkA=0, shrinkB=0, mutation_scale=12))
    if label:
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        if side == "left":
            ax.text(mx - 0.08, my, label, ha="right", va="center", fontsize=size,
                    color="#1a4d80", family="monospace")
        elif side == "right":
            ax.text(mx + 0.08, my, label, ha="left", va="center", fontsize=size,
                    color="#1a4d80", family="monospace")
        else:  # above a horizontal arrow
            ax.text(mx, my + 0.07, label, ha="center", va="bottom", fontsize=size,
                    color="#1a4d80", family="monospace")


def line(ax, points, colour="#333333"):
    """Draw a plain polyline through the given points (for shortcut paths)."""
    xs, ys = zip(*points)
    ax.plot(xs, ys, color=colour, lw=1.2, solid_capstyle="butt")


def add_node(ax, x, y, r=0.17):
    """Draw the circled plus of an element-wise addition; return its edges."""
    ax.add_patch(Circle((x, y), r, facecolor=COLOURS["add"], edgecolor="#444444",
                        lw=1.1))
    ax.text(x, y, "+", ha="center", va="center", fontsize=13, fontweight="bold")
    return {"top": (x, y + r), "bottom": (x, y - r), "left": (x - r, y),
            "right": (x + r, y)}


def title(ax, x, y, text, size=12):
    """Write a bold title centred at (x, y)."""
    ax.text(x, y, text, ha="center", va="center", fontsize=size, fontweight="bold")


def save(fig, name: str) -> Path:
    """Save the figure as images/<name>.png on a white background and close it."""
    path = HERE / f"{name}.png"
    fig.savefig(path, dpi=DPI, facecolor="white",
                metadata={"Software": None})  # no version stamp: stable bytes
    plt.close(fig)
    return path


def shape(h: int, w: int, c: int) -> str:
    """Format a tensor shape as 'h×w×c'."""
    return f"{h}×{w}×{c}"


def conv_size(n: int, k: int, stride: int, padding: str) -> int:
    """Output height/width of a convolution or pooling, as Keras computes it."""
    if padding == "same":
        return -(-n // stride)
    return (n - k) // stride + 1


def conv_params(k: int, c_in: int, c_out: int, bias: bool = True) -> int:
    """Weights (and biases) of a k×k convolution from c_in to c_out channels."""
    return k * k * c_in * c_out + (c_out if bias else 0)


def bn_params(c: int) -> int:
    """Batch normalisation: gamma, beta, moving mean and moving variance."""
    return 4 * c


def stack(ax, x, top, layers, w=3.3, h=0.46, gap=0.36, shape_side="left",
          param_x=None):
    """Draw layers top to bottom, shapes on the arrows, params to the right.

    ``layers`` is a list of (text, colour, shape after the layer, params or
    None). The first entry is the input: its shape is written inside it.
    Returns the y of the last box's bottom edge.
    """
    y = top
    prev = None
    for text, colour, out_shape, params in layers:
        edges = box(ax, x, y, w, h, text, COLOURS[colour])
        if prev is not None:
            arrow(ax, prev["bottom"], edges["top"], prev_shape, side=shape_side)
        if params is not None and param_x is not None:
            ax.text(param_x, y, f"{params:,}", ha="right", va="center",
                    fontsize=9, family="monospace")
        prev, prev_shape = edges, out_shape
        y -= h + gap
    return prev, prev_shape, y + h + gap


# --------------------------------------------------------------------------
# a. identity block and convolutional block (notebook 3)
# --------------------------------------------------------------------------
def _residual_block(ax, x0, top, hw, c_in, filters, f, s, projection):
    """Draw one bottleneck residual block; x0 is the main path's centre."""
    f1, f2, f3 = filters
    h1 = conv_size(hw, 1, s, "valid")
    h2 = conv_size(h1, f, 1, "same")
    stride = f", stride {s}" if s != 1 else ""
    w, h = 3.0, 0.62
    inp = box(ax, x0, top, 2.0, 0.4, f"input x\n{shape(hw, hw, c_in)}",
              COLOURS["io"], size=9)
    units = [
        (f"Conv 1×1, {f1} filters{stride}\nBatchNorm → ReLU", shape(h1, h1, f1)),
        (f"Conv {f}×{f} (same), {f2} filters\nBatchNorm → ReLU", shape(h2, h2, f2)),
        (f"Conv 1×1, {f3} filters\nBatchNorm (no ReLU yet)", shape(h2, h2, f3)),
    ]
    y = top - 1.05
    prev, prev_label = inp, shape(hw, hw, c_in)
    for text, out in units:
        edges = box(ax, x0, y, w, h, text, COLOURS["conv"])
        arrow(ax, prev["bottom"], edges["top"], prev_label if prev is not inp else None)
        prev, prev_label = edges, out
        y -= h + 0.5
    plus = add_node(ax, x0, y + 0.1)
    arrow(ax, prev["bottom"], plus["top"], prev_label)
    relu = box(ax, x0, y - 0.75, 1.3, 0.4, "ReLU", COLOURS["act"])
    arrow(ax, plus["bottom"], relu["top"], shape(h2, h2, f3))
    out = box(ax, x0, y - 1.65, 2.0, 0.4, f"output\n{shape(h2, h2, f3)}",
              COLOURS["io"])
    arrow(ax, relu["bottom"], out["top"])
    # the shortcut on the right
    sx = x0 + 2.75
    line(ax, [inp["right"], (sx, top)])
    if projection:
        mid = (top + plus["right"][1]) / 2
        sc = box(ax, sx, mid, 1.8, 0.62,
                 f"Conv 1×1, {f3} filters,\nstride {s} → BatchNorm",
                 COLOURS["conv"], size=8.5)
        arrow(ax, (sx, top), sc["top"])
        line(ax, [sc["bottom"], (sx, plus["right"][1])])
        ax.text(sx, sc["bottom"][1] - 0.2, shape(h2, h2, f3), ha="center",
                va="top", fontsize=8.5, color="#1a4d80", family="monospace",
                bbox=dict(facecolor="white", edgecolor="none", pad=1))
        ax.text(sx, sc["top"][1] + 0.12, "shortcut: projection", ha="center",
                va="bottom", fontsize=8.5, color="#1a4d80",
                bbox=dict(facecolor="white", edgecolor="none", pad=1))
    else:
        line(ax, [(sx, top), (sx, plus["right"][1])])
        ax.text(sx + 0.08, (top + plus["right"][1]) / 2,
                f"shortcut:\nx unchanged\n{shape(hw, hw, c_in)}", ha="left",
                va="center", fontsize=8.5, color="#1a4d80")
    arrow(ax, (sx, plus["right"][1]), plus["right"])
    return shape(h2, h2, f3)


def draw_resnet_blocks() -> Path:
    """The identity block and the convolutional block, with stage-3 shapes."""
    fig, ax = canvas(12.2, 7.6)
    title(ax, 2.9, 7.3, "Identity block (stage 3, blocks b-d)")
    ax.text(2.9, 7.0, "filters (128, 128, 512), f = 3, input and output 8×8×512",
            ha="center", fontsize=9)
    out_id = _residual_block(ax, 1.9, 6.4, 8, 512, (128, 128, 512), 3, 1, False)
    title(ax, 8.9, 7.3, "Convolutional block (stage 3, block a)")
    ax.text(8.9, 7.0, "filters (128, 128, 512), f = 3, s = 2: 15×15×256 → 8×8×512",
            ha="center", fontsize=9)
    out_conv = _residual_block(ax, 7.8, 6.4, 15, 256, (128, 128, 512), 3, 2, True)
    assert out_id == out_conv == "8×8×512"
    ax.plot([5.85, 5.85], [0.2, 7.5], color="#bbbbbb", lw=0.8)
    return save(fig, "resnet_identity_and_conv_block")


# --------------------------------------------------------------------------
# b. ResNet50 stage layout (notebook 3)
# --------------------------------------------------------------------------
RESNET50_STAGES = [  # (stage, filters, stride of the conv block, identity blocks)
    (2, (64, 64, 256), 1, 2),
    (3, (128, 128, 512), 2, 3),
    (4, (256, 256, 1024), 2, 5),
    (5, (512, 512, 2048), 2, 2),
]


def resnet50_parameters(classes: int = 6) -> int:
    """Count ResNet50's parameters (convolutions with biases, as in notebook 3)."""
    total = conv_params(7, 3, 64) + bn_params(64)
    c_in = 64
    for _, (f1, f2, f3), _, identities in RESNET50_STAGES:
        for block in range(1 + identities):
            total += conv_params(1, c_in, f1) + bn_params(f1)
            total += conv_params(3, f1, f2) + bn_params(f2)
            total += conv_params(1, f2, f3) + bn_params(f3)
            if block == 0:
                total += conv_params(1, c_in, f3) + bn_params(f3)
            c_in = f3
    return total + c_in * classes + classes


def draw_resnet50_layout() -> Path:
    """ResNet50 for 64×64×3 images: stem, four stages, head, shapes between."""
    n = 64
    padded = n + 2 * 3
    stem = conv_size(padded, 7, 2, "valid")
    pooled = conv_size(stem, 3, 2, "valid")
    layers = [
        ("input", "io", shape(n, n, 3), None),
        ("ZeroPadding2D(3)", "pad", shape(padded, padded, 3), None),
        ("Conv 7×7, 64 filters, stride 2\nBatchNorm → ReLU", "conv",
         shape(stem, stem, 64), None),
        ("MaxPool 3×3, stride 2", "pool", shape(pooled, pooled, 64), None),
    ]
    size, convs = pooled, 1
    for stage, filters, s, identities in RESNET50_STAGES:
        size = conv_size(size, 1, s, "valid")
        text = (f"Stage {stage}: conv block {filters}, s = {s}\n"
                f"+ {identities} identity blocks {filters}")
        layers.append((text, "stage", shape(size, size, filters[2]), None))
        convs += 3 * (1 + identities)
    pooled_avg = conv_size(size, 2, 2, "valid")
    layers += [
        ("AveragePooling 2×2", "pool", shape(pooled_avg, pooled_avg, 2048), None),
        ("Flatten", "pad", f"{pooled_avg * pooled_avg * 2048}", None),
        ("Dense, 6 units, softmax", "dense", "6 class probabilities", None),
    ]
    params = resnet50_parameters()
    assert params == 23_600_006, params
    assert (padded, stem, pooled, size) == (70, 32, 15, 2)
    h, gap = 0.5, 0.34
    height = 1.0 + len(layers) * (h + gap) + 0.6
    fig, ax = canvas(7.8, height)
    title(ax, 3.9, height - 0.35, "ResNet50 for 64×64×3 images")
    last, last_shape, y = stack(ax, 3.9, height - 1.0, layers, w=4.6, h=h,
                                gap=gap, shape_side="left")
    arrow(ax, last["bottom"], (last["bottom"][0], last["bottom"][1] - gap),
          last_shape, side="left")
    ax.text(3.9, 0.3,
            f"{convs} convolutions on the main paths + 1 dense layer = "
            f"{convs + 1} layers\n{params:,} parameters",
            ha="center", va="center", fontsize=9.5)
    return save(fig, "resnet50_stages")


# --------------------------------------------------------------------------
# c. notebook 1: the Sequential network
# --------------------------------------------------------------------------
def layer_stack_figure(layers, heading: str, total: int, *, width: float, x: float,
                       w: float, gap: float, param_x: float, total_x: float, h: float = 0.42):
    """A titled canvas with ``layers`` stacked top to bottom, a parameter column and the total.

    Shared by the two small-network figures (notebooks 1 and 2); returns
    ``(fig, ax)`` so the caller can add its own footnote.
    """
    height = 1.1 + len(layers) * (h + gap) + 0.55
    fig, ax = canvas(width, height)
    title(ax, width / 2, height - 0.3, heading)
    ax.text(param_x, height - 0.75, "parameters", ha="right", fontsize=9,
            fontweight="bold")
    last, last_shape, _ = stack(ax, x, height - 1.1, layers, w=w, h=h,
                                gap=gap, param_x=param_x)
    arrow(ax, last["bottom"], (last["bottom"][0], last["bottom"][1] - gap),
          last_shape)
    ax.text(total_x, 0.25, f"total {total:,}", ha="right", fontsize=9.5,
            fontweight="bold", family="monospace")
    return fig, ax


def draw_sequential_smiles() -> Path:
    """Notebook 1's Sequential model, the shape after each layer, its parameters."""
    n = 64
    padded = n + 2 * 3
    conv = conv_size(padded, 7, 1, "valid")
    pool = conv_size(conv, 2, 2, "valid")
    flat = pool * pool * 32
    p_conv, p_bn, p_dense = conv_params(7, 3, 32), bn_params(32), flat + 1
    total = p_conv + p_bn + p_dense
    assert total == 37_633, total
    layers = [
        ("input image", "io", shape(n, n, 3), None),
        ("ZeroPadding2D(padding=3)", "pad", shape(padded, padded, 3), 0),
        ("Conv2D, 32 filters 7×7, stride 1", "conv", shape(conv, conv, 32), p_conv),
        ("BatchNormalization (axis=3)", "norm", shape(conv, conv, 32), p_bn),
        ("ReLU", "act", shape(conv, conv, 32), 0),
        ("MaxPool2D 2×2 (stride 2)", "pool", shape(pool, pool, 32), 0),
        ("Flatten", "pad", f"{flat:,}", 0),
        ("Dense, 1 unit, sigmoid", "dense", "probability p", p_dense),
    ]
    fig, ax = layer_stack_figure(layers, "Notebook 1: the Sequential model", total,
                                 width=7.2, x=3.55, w=3.2, gap=0.36, param_x=6.55,
                                 total_x=6.55)
    ax.text(0.2, 0.25, f"BatchNorm: {p_bn // 2} trainable + {p_bn // 2} moving statistics",
            ha="left", fontsize=8.5)
    return save(fig, "nb1_sequential_model")


# --------------------------------------------------------------------------
# d. notebook 2: the Functional graph
# --------------------------------------------------------------------------
def draw_functional_signs() -> Path:
    """Notebook 2's Functional model: tensors flowing from Input to output."""
    n = 64
    c1 = conv_size(n, 4, 1, "same")
    p1 = conv_size(c1, 8, 8, "same")
    c2 = conv_size(p1, 2, 1, "same")
    p2 = conv_size(c2, 4, 4, "same")
    flat = p2 * p2 * 16
    p_c1, p_c2, p_d = conv_params(4, 3, 8), conv_params(2, 8, 16), flat * 6 + 6
    total = p_c1 + p_c2 + p_d
    assert (p1, p2, flat, total) == (8, 2, 64, 1_310)
    layers = [
        ("inputs = keras.Input(shape=(64, 64, 3))", "io", shape(n, n, 3), None),
        ("Conv2D(8, kernel_size=4, padding='same')", "conv", shape(c1, c1, 8), p_c1),
        ("ReLU", "act", shape(c1, c1, 8), 0),
        ("MaxPool2D(pool_size=8, strides=8, padding='same')", "pool", shape(p1, p1, 8), 0),
        ("Conv2D(16, kernel_size=2, padding='same')", "conv", shape(c2, c2, 16), p_c2),
        ("ReLU", "act", shape(c2, c2, 16), 0),
        ("MaxPool2D(pool_size=4, strides=4, padding='same')", "pool", shape(p2, p2, 16), 0),
        ("Flatten", "pad", f"{flat}", 0),
        ("outputs = Dense(6, activation='softmax')", "dense",
         "6 class probabilities", p_d),
    ]
    fig, ax = layer_stack_figure(layers, "Notebook 2: the Functional model", total,
                                 width=7.8, x=4.0, w=3.9, gap=0.34, param_x=7.5,
                                 total_x=7.3)
    ax.text(0.2, 0.25, "model = keras.Model(inputs, outputs)", ha="left",
            fontsize=9, family="monospace")
    return save(fig, "nb2_functional_model")


# --------------------------------------------------------------------------
# e. depthwise separable vs standard convolution (notebook 4)
# --------------------------------------------------------------------------
def cuboid(ax, x, y, w, h, d, colour, label, size=8.5):
    """Draw a tensor as a box in light perspective; (x, y) is the front's lower left."""
    dx, dy = d * 0.6, d * 0.45
    front = Polygon([(x, y), (x + w, y), (x + w, y + h), (x, y + h)],
                    facecolor=colour, edgecolor="#444444", lw=1)
    topf = Polygon([(x, y + h), (x + w, y + h), (x + w + dx, y + h + dy),
                    (x + dx, y + h + dy)], facecolor=colour, edgecolor="#444444",
                   lw=1, alpha=0.8)
    side = Polygon([(x + w, y), (x + w + dx, y + dy), (x + w + dx, y + h + dy),
                    (x + w, y + h)], facecolor=colour, edgecolor="#444444", lw=1,
                   alpha=0.65)
    for p in (side, topf, front):
        ax.add_patch(p)
    ax.text(x + (w + dx) / 2, y - 0.12, label, ha="center", va="top", fontsize=size)
    return (x - 0.05, y + h / 2), (x + w + dx + 0.05, y + h / 2)


def draw_depthwise_vs_standard() -> Path:
    """Standard vs depthwise separable convolution, 12×12×3 input, 5×5, 256 filters."""
    n, c, k, f = 12, 3, 5, 256
    out = conv_size(n, k, 1, "valid")
    standard = out * out * f * k * k * c
    depthwise = out * out * c * k * k
    pointwise = out * out * f * c
    assert (standard, depthwise, pointwise) == (1_228_800, 4_800, 49_152)
    fig, ax = canvas(11.0, 6.0)
    title(ax, 5.5, 5.75, "Standard vs depthwise separable convolution")
    # standard, top row
    ax.text(0.2, 5.25, "Standard convolution", fontsize=11, fontweight="bold")
    _, r = cuboid(ax, 0.5, 3.55, 1.2, 1.2, 0.25, COLOURS["io"],
                  f"input {shape(n, n, c)}")
    box(ax, 4.1, 4.15, 2.9, 0.95,
        f"{f} kernels of {k}×{k}×{c}\neach looks at all {c} channels\n"
        "and space at once", COLOURS["conv"])
    arrow(ax, r, (2.65, 4.15))
    l2, _ = cuboid(ax, 6.4, 4.15 - 0.425, 0.85, 0.85, 1.3, COLOURS["conv"],
                   f"output {shape(out, out, f)}")
    arrow(ax, (5.55, 4.15), l2)
    ax.text(10.8, 4.3, f"{out}·{out}·{f} · {k}·{k}·{c}\n= {standard:,}",
            ha="right", va="center", fontsize=10, family="monospace")
    ax.text(10.8, 4.85, "multiplications", ha="right", fontsize=9, style="italic")
    ax.plot([0.2, 10.8], [2.95, 2.95], color="#bbbbbb", lw=0.8)
    # separable, bottom row
    ax.text(0.2, 2.6, "Depthwise separable convolution", fontsize=11,
            fontweight="bold")
    _, r = cuboid(ax, 0.5, 0.85, 1.2, 1.2, 0.25, COLOURS["io"],
                  f"input {shape(n, n, c)}")
    box(ax, 2.85, 1.45, 1.7, 0.95,
        f"depthwise:\n{c} kernels {k}×{k}×1,\none per channel", COLOURS["conv"],
        size=8.5)
    arrow(ax, r, (2.0, 1.45))
    l2, r2 = cuboid(ax, 4.05, 1.45 - 0.425, 0.85, 0.85, 0.25, COLOURS["norm"],
                    shape(out, out, c))
    arrow(ax, (3.7, 1.45), l2)
    box(ax, 5.85, 1.45, 1.5, 0.95, f"pointwise:\n{f} kernels\n1×1×{c}",
        COLOURS["conv"], size=8.5)
    arrow(ax, r2, (5.1, 1.45))
    l3, _ = cuboid(ax, 6.95, 1.45 - 0.425, 0.85, 0.85, 1.3, COLOURS["conv"],
                   f"output {shape(out, out, f)}")
    arrow(ax, (6.6, 1.45), l3)
    ax.text(10.8, 1.45,
            f"{out}·{out}·{c}·{k}·{k} = {depthwise:>6,}\n"
            f"{out}·{out}·{f}·{c} = {pointwise:>6,}\n"
            f"total     = {depthwise + pointwise:>6,}",
            ha="right", va="center", fontsize=10, family="monospace")
    ax.text(5.5, 0.12,
            f"same output shape with {standard / (depthwise + pointwise):.1f} times "
            "fewer multiplications", ha="center", fontsize=10)
    return save(fig, "depthwise_vs_standard_conv")


# --------------------------------------------------------------------------
# f. MobileNetV2 inverted residual block (notebook 4)
# --------------------------------------------------------------------------
def draw_inverted_residual() -> Path:
    """MobileNetV2's inverted residual block, with block_2's shapes at 224 px."""
    image, c, t = 224, 24, 6
    hw = image // 4  # two stride-2 steps before block_2: the stem and block_1
    wide = c * t
    fig, ax = canvas(8.2, 7.0)
    title(ax, 4.1, 6.75, "MobileNetV2 inverted residual block")
    ax.text(4.1, 6.42, f"example: block_2 (image {image}×{image}), expansion factor {t}, "
            "stride 1", ha="center", fontsize=9)
    x0 = 3.3
    narrow_w, wide_w = 1.9, 3.9
    inp = box(ax, x0, 5.85, narrow_w, 0.42, f"input {shape(hw, hw, c)}",
              COLOURS["io"])
    exp = box(ax, x0, 4.75, wide_w, 0.62,
              f"expand: Conv 1×1, {wide} filters\nBatchNorm → ReLU6", COLOURS["conv"])
    arrow(ax, inp["bottom"], exp["top"])
    dw = box(ax, x0, 3.55, wide_w, 0.62,
             "depthwise: 3×3, one kernel per channel\nBatchNorm → ReLU6",
             COLOURS["conv"])
    arrow(ax, exp["bottom"], dw["top"], shape(hw, hw, wide))
    pr = box(ax, x0, 2.35, narrow_w + 0.6, 0.62,
             f"project: Conv 1×1, {c} filters\nBatchNorm, no activation",
             COLOURS["norm"])
    arrow(ax, dw["bottom"], pr["top"], shape(hw, hw, wide))
    plus = add_node(ax, x0, 1.4)
    arrow(ax, pr["bottom"], plus["top"], shape(hw, hw, c))
    out = box(ax, x0, 0.55, narrow_w, 0.42, f"output {shape(hw, hw, c)}",
              COLOURS["io"])
    arrow(ax, plus["bottom"], out["top"])
    sx = x0 + wide_w / 2 + 0.45
    line(ax, [inp["right"], (sx, 5.85), (sx, 1.4)])
    arrow(ax, (sx, 1.4), plus["right"])
    ax.text(sx + 0.1, 3.6, "shortcut, only when\nstride = 1 and\n"
            "channels in = out", ha="left", va="center", fontsize=8.5,
            color="#1a4d80")
    ax.text(0.15, 0.15, "narrow → wide → narrow: the shortcut joins the thin ends "
            "(ResNet's bottleneck joins the wide ends)", fontsize=8.5)
    return save(fig, "mobilenetv2_inverted_residual")


# --------------------------------------------------------------------------
# g. notebook 4's three stages
# --------------------------------------------------------------------------
MOBILENETV2_BASE_PARAMS = 2_257_984  # MobileNetV2 without its top, 1280 features


def mobilenetv2_top_weights() -> int:
    """Convolution weights of base layers 120-153 (block_13_depthwise onwards).

    The convolutions of MobileNetV2 have no biases, and the batch normalisation
    layers among these stay frozen in notebook 4, so this is what stage C adds
    to the head's trainable parameters.
    """
    total = 3 * 3 * 576 + 576 * 160  # block_13: depthwise, project
    for c_out in (160, 160, 320):  # blocks 14, 15, 16: expand, depthwise, project
        total += 160 * 960 + 3 * 3 * 960 + 960 * c_out
    return total + 320 * 1280  # Conv_1, the last 1x1 convolution


def draw_transfer_stages() -> Path:
    """Notebook 4's stages A, B and C, colouring what is trainable and frozen."""
    features = 1280
    head = features + 1
    total = MOBILENETV2_BASE_PARAMS + head
    fine_tuned = mobilenetv2_top_weights() + head
    assert (head, total, fine_tuned) == (1_281, 2_259_265, 1_609_345)
    fig, ax = canvas(12.0, 6.1)
    w, h = 3.3, 0.52
    columns = [
        (2.0, "A · ImageNet classifier as is", [
            ("image 224×224×3", "io", False),
            ("preprocess_input: [0, 255] → [−1, 1]", "nolayer", False),
            ("MobileNetV2 base\n(ImageNet weights)", "frozen", True),
            ("global average pooling", "nolayer", False),
            ("Dense(1000), softmax\n(ImageNet's own head)", "frozen", False),
            ("top ImageNet labels\n(llama? camel?)", "io", False),
        ], "nothing is trained"),
        (6.0, "B · new head on a frozen base", [
            ("image 224×224×3", "io", False),
            ("augmentation: flip, rotation\n(training only, no weights)", "nolayer", False),
            ("preprocess_input: [0, 255] → [−1, 1]", "nolayer", False),
            (f"MobileNetV2 base, frozen\n{MOBILENETV2_BASE_PARAMS:,} parameters",
             "frozen", True),
            ("GlobalAveragePooling2D → 1280\nDropout(0.2)", "nolayer", False),
            (f"Dense(1): one logit\n{head:,} trainable parameters", "trainable", False),
        ], f"{head:,} trainable of {total:,}; Adam, lr 0.001"),
        (10.0, "C · fine-tuning the top of the base", [
            ("image 224×224×3", "io", False),
            ("augmentation, preprocess_input\n(as in B, no weights)", "nolayer", False),
            ("base layers 0-119: frozen", "frozen", False),
            ("base layers 120-153: trainable\n(batch norm layers stay frozen)",
             "trainable", True),
            ("GlobalAveragePooling2D → 1280\nDropout(0.2)", "nolayer", False),
            (f"Dense(1): keeps learning\n{head:,} parameters", "trainable", False),
        ], f"{fine_tuned:,} trainable; lr ten times lower: 0.0001"),
    ]
    for x, name, items, note in columns:
        title(ax, x, 5.85, name, size=11)
        y, prev = 5.3, None
        for text, colour, _ in items:
            edges = box(ax, x, y, w, h, text, COLOURS[colour], size=8.5,
                        dashed=colour == "nolayer")
            if prev is not None:
                arrow(ax, prev["bottom"], edges["top"])
            prev = edges
            y -= h + 0.3
        ax.text(x, y + h / 2 + 0.02, note, ha="center", va="top", fontsize=9,
                style="italic")
    # legend
    for i, (colour, label) in enumerate([
            ("frozen", "frozen (weights do not change)"),
            ("trainable", "trainable (weights learn)"),
            ("nolayer", "no trainable weights")]):
        x = 1.0 + i * 3.8
        box(ax, x, 0.25, 0.4, 0.22, "", COLOURS[colour], dashed=colour == "nolayer")
        ax.text(x + 0.3, 0.25, label, va="center", fontsize=9)
    return save(fig, "nb4_transfer_stages")


# --------------------------------------------------------------------------
# h. bottleneck vs basic block (notebook 3)
# --------------------------------------------------------------------------
def draw_bottleneck_vs_basic() -> Path:
    """Bottleneck block vs ResNet-34's basic block at stage 4, multiplies per position."""
    hw = 4
    bott = [(1, 1024, 256), (3, 256, 256), (1, 256, 1024)]
    basic = [(3, 256, 256), (3, 256, 256)]

    def mults(spec):
        return [k * k * ci * co for k, ci, co in spec]

    m_bott, m_basic = mults(bott), mults(basic)
    assert sum(m_bott) == 1_114_112 and sum(m_basic) == 1_179_648
    fig, ax = canvas(11.0, 6.4)
    panels = [
        (2.6, "Bottleneck block (ResNet50)", bott, m_bott, 1024),
        (8.3, "Basic block (ResNet-34)", basic, m_basic, 256),
    ]
    for x0, name, spec, mult, width in panels:
        title(ax, x0 + 0.3, 6.1, f"{name}, stage 4", size=11)
        inp = box(ax, x0, 5.45, 1.9, 0.4, f"input {shape(hw, hw, width)}",
                  COLOURS["io"])
        prev, y = inp, 4.6
        for i, ((k, ci, co), m) in enumerate(zip(spec, mult)):
            after = "+ BN" if i == len(spec) - 1 else "+ BN, ReLU"
            edges = box(ax, x0, y, 2.5, 0.5, f"Conv {k}×{k}, {ci} → {co}\n{after}",
                        COLOURS["conv"], size=8.5)
            arrow(ax, prev["bottom"], edges["top"])
            ax.text(x0 - 1.35, y, f"{k}·{k}·{ci}·{co}\n= {m:,}", ha="right",
                    va="center", fontsize=8.5, family="monospace")
            prev = edges
            y -= 0.95
        plus = add_node(ax, x0, y + 0.15)
        arrow(ax, prev["bottom"], plus["top"])
        sx = x0 + 1.6
        line(ax, [inp["right"], (sx, 5.45), (sx, y + 0.15)])
        arrow(ax, (sx, y + 0.15), plus["right"])
        ax.text(sx + 0.08, 3.6, "identity\nshortcut", fontsize=8.5, color="#1a4d80")
        out = box(ax, x0, y - 0.6, 2.5, 0.4, f"ReLU → output {shape(hw, hw, width)}",
                  COLOURS["io"])
        arrow(ax, plus["bottom"], out["top"])
        ax.text(x0 + 0.3, 0.75,
                f"{sum(mult):,} multiplications per position\n"
                f"× {hw * hw} positions ({hw}×{hw}) = {sum(mult) * hw * hw:,}",
                ha="center", va="center", fontsize=9.5, family="monospace")
    ax.plot([5.45, 5.45], [0.4, 6.3], color="#bbbbbb", lw=0.8)
    ax.text(5.5, 0.12,
            f"About the same work ({sum(m_bott) / sum(m_basic):.2f} : 1), but the "
            "bottleneck carries 4 times as many channels from block to block, "
            "with three layers instead of two",
            ha="center", fontsize=9)
    return save(fig, "bottleneck_vs_basic_block")


FIGURES = [
    draw_resnet_blocks,
    draw_resnet50_layout,
    draw_sequential_smiles,
    draw_functional_signs,
    draw_depthwise_vs_standard,
    draw_inverted_residual,
    draw_transfer_stages,
    draw_bottleneck_vs_basic,
]


def main() -> None:
    """Draw every figure and print the files written with their sizes."""
    for draw in FIGURES:
        path = draw()
        print(f"{path.relative_to(HERE.parent)}  {path.stat().st_size / 1024:.0f} kB")


if __name__ == "__main__":
    main()
