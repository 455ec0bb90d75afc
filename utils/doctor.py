"""``python -m utils doctor [--full] [--json]``: why is the course slow or failing here? One
``Check`` line each: OK, WARN or FAIL and what to do; ``--json`` for a bug report."""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
import tomllib
from functools import partial
from importlib import metadata
from pathlib import Path

from utils import machine
from utils.__main__ import COURSE_DATASETS, COURSE_PARTS
from utils.course import COURSE_RUN
from utils.fetch import DataError, dataset_files, mirror, verify_file
from utils.models import COURSE_MODELS, ModelError, load_model
from utils.paths import REPO_ROOT, data_dir, models_dir, results_dir
from utils.versions import installed_versions, interpreter, interpreter_problem

# Disk beyond missing data: models (resnet50_signs 284 MB, alpaca 23 MB), a run (Keras cache 24 MB,
# notebooks, temporary files). Peak RSS on 2026-12-06: notebook 4 4.5 GB, 3 2.2 GB; +1 GB runner.
DISK_MODELS, DISK_RUN, MEMORY_PEAK, MEMORY_NEED = 0.32e9, 0.1e9, 4.5e9, 5.5e9
SAMPLE = 5  # files per dataset whose SHA-256 the quick check computes
NUMERIC = ("tensorflow", "keras", "numpy", "pillow", "h5py")  # they change the course's numbers
Check = tuple[str, str, str]  # (status: "OK", "WARN" or "FAIL"; name; message): one line


def check_python() -> Check:
    """This Python, OS and CPU against :data:`utils.versions.PYTHONS` and ``PLATFORMS``."""
    found, problem = interpreter(), interpreter_problem()
    return ("FAIL", "python", problem) if problem else (
        "OK", "python", f"CPython {found['python']} on {found['system']} {found['machine']}")


def check_versions() -> Check:
    """Installed versions against the pins (``requirements.txt`` installs ``pyproject.toml``'s)."""
    lines = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = dict(line.split("==", 1) for line in lines)
    have = {(d.metadata["Name"] or "").lower(): d.version for d in metadata.distributions()}
    have |= {name: v for name, v in installed_versions().items() if v}  # e.g. tensorflow-cpu
    wrong = [f"{n} {have.get(n, 'missing')} (pinned {p})" for n, p in pins.items()
             if have.get(n) != p]
    effect = ("printed metrics and checked outputs may not match the committed notebooks"
              if any(w.split()[0] in NUMERIC for w in wrong) else "no number of the course changes")
    return ("WARN", "versions", f"{', '.join(wrong)}: {effect}; `pip install -r requirements.txt`"
            " installs the pins") if wrong else ("OK", "versions", f"all {len(pins)} as pinned")


def check_tensorflow() -> Check:
    """TensorFlow imports; the GPU it sees, else (on Linux) whether it has CUDA at all."""
    import keras
    import tensorflow as tf

    text = f"TensorFlow {tf.__version__}, Keras {keras.__version__}; "
    if gpus := tf.config.list_physical_devices("GPU"):
        info = tf.config.experimental.get_device_details(gpus[0])
        return ("OK", "tensorflow", f"{text}GPU {info.get('device_name', gpus[0].name)} "
                f"(compute capability {'.'.join(map(str, info.get('compute_capability', '?')))})")
    cuda = platform.system() == "Linux" and tf.sysconfig.get_build_info().get("cuda_version")
    return ("OK", "tensorflow", f"{text}no GPU" + f" visible to its CUDA {cuda} build (have one? "
            "see `nvidia-smi`, CUDA_VISIBLE_DEVICES)" * bool(cuda) + ": the course runs on the CPU")


def check_cpu() -> Check:
    """The CPU kind, TensorFlow's oneDNN kernels and the precision policy the notebooks pick."""
    onednn, cap = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset"), machine.onednn_isa_cap()
    off = onednn.lower() in ("0", "false") and platform.machine().lower() in ("x86_64", "amd64")
    return ("WARN" if off else "OK", "cpu", f"{machine.cpu_model()} ({os.cpu_count()} cores, "
            f"{machine.cpu_kind()}{f', oneDNN capped at {cap}' * bool(cap)}), TF_ENABLE_"
            f"ONEDNN_OPTS={onednn}; precision {machine.fast_precision()} in notebook 3, float32 in "
            "the others" + ": oneDNN is off, ResNet50 trains 1.9x slower on AVX2: unset it" * off)


def check_disk() -> Check:
    """Free disk where the data goes against the data still missing, the models and a run."""
    missing = sum(e.size for n in COURSE_DATASETS for e in dataset_files(n) if e.path in
                  COURSE_PARTS.get(n, [e.path]) and not (data_dir() / e.path).is_file())
    where = next(p for p in (data_dir(), *data_dir().parents) if p.exists())
    need, free = missing + DISK_MODELS + DISK_RUN, shutil.disk_usage(where).free
    return ("OK" if free >= need else "FAIL", "disk", f"{free / 1e9:.1f} GB free in {where}; "
            f"needs {need / 1e9:.2f} GB (data still missing {missing / 1e9:.2f}, models "
            f"{DISK_MODELS / 1e9}, a course run {DISK_RUN / 1e9})" + ": free space" * (free < need))


def check_memory(meminfo: Path = Path("/proc/meminfo")) -> Check:
    """Memory available now (Linux ``MemAvailable``, else ``os.sysconf``) against the need."""
    lines = meminfo.read_text().splitlines() if meminfo.is_file() else []
    kib = [int(t.split()[1]) for t in lines if t.startswith("MemAvailable:")]
    try:
        free = kib[0] * 1024 if kib else os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGESIZE")
    except (ValueError, OSError, AttributeError):
        return ("WARN", "memory", f"unknown here; the course needs {MEMORY_NEED / 1e9} GB")
    status = "OK" if free >= MEMORY_NEED else "WARN" if free >= MEMORY_PEAK else "FAIL"
    return (status, "memory", f"{free / 1e9:.1f} GB available; the course needs "
            f"{MEMORY_NEED / 1e9} GB" + ": close other programs" * (status != "OK"))


def check_source() -> Check:
    """Where missing data would come from: ``COURSE_DATA_MIRROR``, then the public URLs."""
    urls, base = "the public URLs of datasets/manifest.json", mirror()
    if base and "://" not in base and not Path(base).is_dir():
        return ("WARN", "data source", f"COURSE_DATA_MIRROR={base} is no folder: fix or unset it")
    return ("OK", "data source", f"COURSE_DATA_MIRROR={base}, then " * bool(base) + urls)


def check_data(name: str, full: bool = False) -> Check:
    """Every file present with its size, the SHA-256 of a fixed sample (of all with ``full``)."""
    files = [e for e in dataset_files(name) if e.path in COURSE_PARTS.get(name, [e.path])]
    if missing := [e.path for e in files if not (data_dir() / e.path).is_file()]:
        return ("FAIL", f"data {name}", f"{len(missing)} of {len(files)} files missing (e.g. "
                f"{missing[0]}): run `python -m utils fetch`")
    every = max(1, len(files) // SAMPLE)
    for i, entry in enumerate(files):  # a DataError says which file and what to do
        if full or i % every == 0 or (data_dir() / entry.path).stat().st_size != entry.size:
            verify_file(data_dir() / entry.path, entry)
    hashed = "all" if full else f"{len(range(0, len(files), every))} (a sample; --full: all)"
    return ("OK", f"data {name}", f"{len(files)} file(s), right sizes; SHA-256 right: {hashed}")


def check_model(name: str, notebook: str) -> Check:
    """A course model is saved and loads; a missing one names the notebook that saves it."""
    if not (models_dir() / f"{name}.keras").exists():
        return ("WARN", f"model {name}", f"not saved yet: run notebooks/{notebook}.ipynb")
    load_model(name)  # a ModelError says what is wrong and what to do
    return ("OK", f"model {name}", f"{models_dir() / name}.keras loads")


def estimate(seconds: float, reference: list[float], here: list[float]) -> list[float]:
    """``[low, middle, high]`` seconds here for ``seconds`` where the probe's [slowest, fastest]
    images/s were ``reference``: ``estimate(100, [40, 60], [80, 120])`` ~ [33, 50, 75]."""
    return [seconds * reference[0] / here[1], seconds * sum(reference) / sum(here),
            seconds * reference[1] / here[0]]


def check_estimate() -> Check:
    """Each notebook's time here: the reference course run's, scaled by the speed probe."""
    path = results_dir() / COURSE_RUN
    run = json.loads(path.read_text()) if path.is_file() else {}
    if not run.get("probe") or not run.get("seconds"):
        return ("WARN", "estimate", "no recorded reference: run `python -m utils.course` once")
    here, ref, env = machine.speed_probe(), run["probe"], run.get("environment", {})
    times = dict(run["seconds"], all=sum(run["seconds"].values()))
    parts = [f"{n.split('_')[0]} {m / 60:.1f} min ({lo / 60:.1f}-{hi / 60:.1f})"
             for n, s in times.items() for lo, m, hi in [estimate(s, ref, here)]]
    return ("OK", "estimate", f"{'; '.join(parts)}: probe {here[0]:.0f}-{here[1]:.0f} images/s "
            f"here, {ref[0]:.0f}-{ref[1]:.0f} in the reference run on {env.get('device')}")


def doctor(full: bool = False, as_json: bool = False) -> int:
    """Run every check and print one line each (or one JSON document); 1 if any FAILs, else 0."""
    start, checks = time.perf_counter(), []
    for step in [check_python, check_versions, check_tensorflow, check_cpu, check_disk,
                 check_memory, check_source, *[partial(check_data, n, full) for n in
                 COURSE_DATASETS], *[partial(check_model, *i) for i in COURSE_MODELS.items()],
                 check_estimate]:
        try:
            checks.append(step())
        except Exception as err:  # a doctor reports what broke, it does not crash
            name = getattr(step, "func", step).__name__.removeprefix("check_")
            known = isinstance(err, (DataError, ModelError))  # their message is enough
            checks.append(("FAIL", " ".join([name, *getattr(step, "args", ())[:1]]),
                           f"{type(err).__name__}: " * (not known) + str(err)))
    failed, seconds = [c for c in checks if c[0] == "FAIL"], time.perf_counter() - start
    if as_json:
        print(json.dumps({"checks": [dict(zip(("status", "name", "message"), c)) for c in checks],
                          "seconds": round(seconds, 1), "interpreter": interpreter()}, indent=1))
    else:
        print("\n".join(f"{status:<4}  {name:<20}  {message}" for status, name, message in checks))
        print(f"{len(failed)} FAIL, {sum(c[0] == 'WARN' for c in checks)} WARN of {len(checks)} "
              f"checks in {seconds:.0f} s")
    return 1 if failed else 0
