r"""Training of the fully-connected ReLU classifiers the experiments compress, a disk cache of
trained models, and accuracy.

The nets are :math:`d \to h_1 \to \dots \to h_{L} \to k` with ReLU after every hidden layer
(the paper's setting: 2–5 hidden layers of 100–1000 neurons), trained with cross-entropy by
Adam or SGD from a seeded initialisation on seeded mini-batches: the same configuration gives
the same weights bit for bit on CPU.

:func:`train_cached` stores each trained model under the SHA-256 of its *whole* configuration
(the content hash of the training data, the architecture, optimiser and hyper-parameters,
epochs, batch size, seed, device type, the versions of Python, torch, NumPy and
netcoreset, and the SHA-256 of the training code's source), as ``model.safetensors`` and
``config.json`` (never a pickle). ``config.json``
also holds the SHA-256 of ``model.safetensors``, checked on every reload: an entry whose
weights do not match it (or cannot be read) is trained again and replaced, with a warning.
An entry is written to a temporary folder and renamed into place, so it is complete or
absent. The cache
folder is the ``cache_dir`` argument, else ``$NETCORESET_CACHE``, else
``~/.cache/netcoreset`` (``$XDG_CACHE_HOME/netcoreset`` when that is set).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import marshal
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from netcoreset.bounds.validation import check_int, check_seed

from .datasets import array_fingerprint
from .provenance import avx512_kernels, file_sha256

__all__ = [
    "TrainConfig",
    "CachedModel",
    "train_mlp",
    "train_cached",
    "cache_key",
    "default_cache_dir",
    "build_mlp",
    "accuracy",
    "MAX_EPOCHS",
    "MAX_WIDTH",
]

OPTIMIZERS = ("adam", "sgd")

#: Most epochs :func:`train_mlp` runs (a bound on the work; 10^5 epochs of digits take hours).
MAX_EPOCHS = 10**5

#: Widest layer :func:`train_mlp` builds (hidden widths and the number of classes).
MAX_WIDTH = 10**5


def _inputs(x: Any, name: str = "x") -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n, features) with n >= 1; got {tuple(x.shape)}")
    if x.is_complex() or x.dtype == torch.bool:
        raise ValueError(f"{name} must be real-valued; got dtype {x.dtype}")
    return x


def _labels(y: Any, n: int) -> torch.Tensor:
    """Integer class labels of shape ``(n,)``, or a ``ValueError`` naming the mismatch."""
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"y must be a torch.Tensor of class labels; got {type(y).__name__}")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise ValueError(f"y must hold integer class labels; got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), one label per input; got {tuple(y.shape)}")
    if n and int(y.min()) < 0:
        raise ValueError(f"class labels must be >= 0; got {int(y.min())}")
    return y


def _outputs(model: nn.Module, x: torch.Tensor, name: str = "model") -> torch.Tensor:
    """``model(x)`` as ``(n, k)``; a model that rejects ``x`` gives a ``ValueError``."""
    try:
        out = model(x)
    except (RuntimeError, TypeError, ValueError) as exc:
        text = " ".join(str(exc).split())[:200]
        raise ValueError(
            f"{name} does not accept inputs of shape {tuple(x.shape)}: {text}"
        ) from None
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != x.shape[0]:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"{name} must map {x.shape[0]} inputs to ({x.shape[0]}, k); got {shape}")
    return out


def _check_rate(name: str, value: Any, *, positive: bool) -> None:
    """``lr`` in (0, 1e6], ``weight_decay`` in [0, 1e6] (larger values only diverge)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not 0 <= value <= 1e6 or (positive and value == 0):
        bound = "in (0, 1e6]" if positive else "in [0, 1e6]"
        raise ValueError(f"{name} must be a real number {bound}; got {value!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a trained model apart from the data.

    >>> TrainConfig(hidden=(300, 100), epochs=15).to_dict()["hidden"]
    [300, 100]
    """

    hidden: tuple[int, ...] = (300, 100)
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"
    momentum: float = 0.9
    seed: int = 0

    def __post_init__(self) -> None:
        hidden = self.hidden
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (tuple, list)):
            raise ValueError(f"hidden must be a tuple of layer widths; got {hidden!r}")
        hidden = tuple(check_int("hidden width", h, 1, MAX_WIDTH) for h in hidden)
        check_int("epochs", self.epochs, 1, MAX_EPOCHS)
        check_int("batch_size", self.batch_size, 1, 2**31)
        check_seed("seed", self.seed)
        _check_rate("lr", self.lr, positive=True)
        _check_rate("weight_decay", self.weight_decay, positive=False)
        m = self.momentum
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not 0 <= m < 1:
            raise ValueError(f"momentum must be a real number in [0, 1); got {m!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {self.optimizer!r}")
        object.__setattr__(self, "hidden", hidden)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d


def build_mlp(widths: tuple[int, ...] | list[int]) -> nn.Sequential:
    """``Linear -> ReLU -> ... -> Linear`` of the given widths, parameters left
    uninitialised (no global random state is touched; fill them before use).

    >>> net = build_mlp((4, 3, 2))
    >>> [type(m).__name__ for m in net]
    ['Linear', 'ReLU', 'Linear']
    """
    mods: list[nn.Module] = []
    for i in range(len(widths) - 1):
        mods.append(nn.utils.skip_init(nn.Linear, int(widths[i]), int(widths[i + 1])))
        if i < len(widths) - 2:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def _check_xy(x: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Finite floating-point inputs ``(n, d)`` and their ``(n,)`` integer labels."""
    x = _inputs(x)
    if x.ndim != 2 or not x.is_floating_point() or not bool(torch.isfinite(x).all()):
        raise ValueError(
            f"x must be finite floating-point inputs (n, d); got {x.dtype} {tuple(x.shape)}"
        )
    y = _labels(y, x.shape[0])
    check_int("the number of classes (max label + 1)", int(y.max()) + 1, 1, MAX_WIDTH)
    return x, y


def _progress(iterable: Any, progress: bool | None, desc: str) -> Any:
    from tqdm.auto import tqdm

    quiet = not sys.stderr.isatty() if progress is None else not progress
    return tqdm(iterable, desc=desc, disable=quiet, leave=False)


def _train(
    x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig, progress: bool | None
) -> nn.Sequential:
    gen = torch.Generator().manual_seed(cfg.seed)
    widths = (x.shape[1], *cfg.hidden, int(y.max()) + 1)
    net = build_mlp(widths)
    with torch.no_grad():
        for lin in (m for m in net if isinstance(m, nn.Linear)):
            bound = 1.0 / lin.in_features**0.5
            lin.weight.uniform_(-bound, bound, generator=gen)
            lin.bias.uniform_(-bound, bound, generator=gen)
    net = net.to(device=x.device, dtype=x.dtype)
    if cfg.optimizer == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(
            net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay
        )
    else:
        opt = torch.optim.SGD(
            net.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )
    loss_fn = nn.CrossEntropyLoss()
    for _ in _progress(range(cfg.epochs), progress, f"training {widths}"):
        order = torch.randperm(x.shape[0], generator=gen).to(x.device)
        for start in range(0, x.shape[0], cfg.batch_size):
            idx = order[start : start + cfg.batch_size]
            opt.zero_grad()
            loss_fn(net(x[idx]), y[idx]).backward()
            opt.step()
    if not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
        raise ValueError(f"training diverged (NaN or inf weights) at lr={cfg.lr!r}: lower lr")
    return net.eval()


def train_mlp(
    x: torch.Tensor,
    y: torch.Tensor,
    hidden: tuple[int, ...] = (300, 100),
    *,
    seed: int = 0,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    progress: bool | None = None,
) -> nn.Sequential:
    r"""Train a fully-connected ReLU classifier (seeded, deterministic on CPU, no cache).

    Initialisation :math:`W, b \sim \mathcal U(-1/\sqrt{d_{in}}, 1/\sqrt{d_{in}})` (PyTorch's
    default bound) from ``seed``; then ``epochs`` passes of mini-batch cross-entropy, the
    batches a seeded permutation. The model lives on ``x``'s device and dtype.

    ``x`` is ``(n, d)`` real, ``y`` the ``(n,)`` integer labels; ``hidden`` the hidden widths
    (at most ``MAX_WIDTH`` each, classes too), ``epochs`` at most ``MAX_EPOCHS``.
    ``progress`` shows a bar over the epochs (default: when stderr is a terminal).

    Raises
    ------
    ValueError
        For bad arguments (naming them), and when the training diverges (NaN or inf weights:
        lower ``lr``).

    Examples
    --------

    >>> from netcoreset.verification.experiments.datasets import load_digits_split
    >>> x_tr, y_tr, x_te, y_te = load_digits_split()
    >>> net = train_mlp(x_tr, y_tr, (32,), epochs=5)
    >>> accuracy(net, x_te, y_te) > 0.8
    True
    """
    x, y = _check_xy(x, y)
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (tuple, list)):
        raise ValueError(f"hidden must be a tuple of layer widths; got {hidden!r}")
    cfg = TrainConfig(
        hidden=tuple(hidden),
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        optimizer=optimizer,
        seed=seed,
    )
    return _train(x, y, cfg, progress)


def default_cache_dir(cache_dir: str | Path | None = None) -> Path:
    """``cache_dir``, else ``$NETCORESET_CACHE``, else ``~/.cache/netcoreset``.

    >>> str(default_cache_dir("/tmp/x"))
    '/tmp/x'
    """
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get("NETCORESET_CACHE"):
        return Path(os.environ["NETCORESET_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "netcoreset"


def _versions() -> dict[str, str]:
    try:
        own = metadata.version("netcoreset")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        own = "unknown"
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "netcoreset": own,
    }


def _training_code_sha256() -> str:
    """SHA-256 of the source of the code that initialises and trains a model
    (:func:`build_mlp` and the training loop): part of the cache key, so that a model
    trained by other code is never taken from the cache, whatever the version string says.
    (Where the source is not readable, the functions' compiled code stands in.)

    >>> len(_training_code_sha256())
    64
    """
    digest = hashlib.sha256()
    for fn in (build_mlp, _train):
        try:
            text = inspect.getsource(fn).encode()
        except (OSError, TypeError):  # pragma: no cover - no source shipped
            text = marshal.dumps(fn.__code__)
        digest.update(len(text).to_bytes(8, "little") + text)
    return digest.hexdigest()


def _identity(x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig) -> dict[str, Any]:
    out = {
        "data": array_fingerprint(x, y),
        "architecture": [int(x.shape[1]), *cfg.hidden, int(y.max()) + 1],
        "config": cfg.to_dict(),
        "device": x.device.type,
        "dtype": str(x.dtype),
        "versions": _versions(),
        "training_code": _training_code_sha256(),
    }
    if x.device.type == "cpu" and avx512_kernels():
        out["cpu_kernels"] = "avx512"  # other bits than the AVX2 kernels: never shared
    return out


def cache_key(x: torch.Tensor, y: torch.Tensor, config: TrainConfig) -> str:
    """SHA-256 of the whole configuration: data content, architecture, optimiser and its
    hyper-parameters, epochs, batch size, seed, device type, dtype, library versions, the
    training code's source (that of :func:`build_mlp` and of the training loop) and, on a CPU
    whose AVX-512 kernels are in use
    (:func:`~netcoreset.verification.experiments.provenance.avx512_kernels`), that fact:
    those kernels train to other weights than the AVX2 ones.

    >>> x, y = torch.zeros(4, 3), torch.tensor([0, 1, 0, 1])
    >>> cache_key(x, y, TrainConfig(hidden=(5,))) == cache_key(x, y, TrainConfig(hidden=(6,)))
    False
    """
    text = json.dumps(_identity(x, y, config), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CachedModel:
    """A trained model, where it is stored and whether it came from the cache."""

    model: nn.Sequential
    key: str
    path: Path
    from_cache: bool
    train_seconds: float


_WEIGHTS = "model.safetensors"


def _load_entry(
    folder: Path, identity: dict[str, Any], device: torch.device
) -> nn.Sequential | None:
    """The cached model, or None (with a warning) when its weights fail their checksum or
    cannot be read; ``ValueError`` when the entry names another configuration."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    meta = json.loads((folder / "config.json").read_text())
    if meta.get("identity") != identity:
        raise ValueError(f"cache entry {folder} does not match its key; delete the folder")
    weights = folder / _WEIGHTS
    try:
        if "weights_sha256" not in meta:
            raise ValueError("it has no checksum of its weights (written by an earlier version)")
        if not weights.is_file() or file_sha256(weights) != meta["weights_sha256"]:
            raise ValueError(f"{_WEIGHTS} does not match the checksum in config.json")
        net = build_mlp(identity["architecture"])
        net.load_state_dict(load_file(str(weights)), strict=True)
    except (ValueError, OSError, RuntimeError, SafetensorError) as exc:
        warnings.warn(
            f"cache entry {folder} cannot be verified ({' '.join(str(exc).split())[:200]}): "
            "training the model again and replacing the entry",
            UserWarning,
            stacklevel=3,
        )
        return None
    return net.to(device).eval()


def _save_entry(
    root: Path, key: str, net: nn.Module, meta: dict[str, Any], replace: bool = False
) -> Path:
    from safetensors.torch import save_file

    root.mkdir(parents=True, exist_ok=True)
    final = root / key
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=root))
    try:
        state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
        save_file(state, str(tmp / _WEIGHTS))
        meta = {**meta, "weights_sha256": file_sha256(tmp / _WEIGHTS)}
        (tmp / "config.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
        if replace and final.is_dir():  # a damaged entry: move it aside, then drop its files
            aside = Path(tempfile.mkdtemp(prefix=f".damaged-{key[:12]}-", dir=root))
            os.replace(final, aside)
            for name in ("config.json", _WEIGHTS):
                (aside / name).unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # anything else in it stays
                aside.rmdir()
        try:
            os.rename(tmp, final)
        except OSError:  # another process stored the same entry first: keep theirs
            if not (final / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def train_cached(
    x: torch.Tensor,
    y: torch.Tensor,
    config: TrainConfig,
    *,
    cache_dir: str | Path | None = None,
    progress: bool | None = None,
) -> CachedModel:
    """:func:`train_mlp` with a disk cache keyed by ``cache_key``: a stored model is
    reloaded bit for bit; a changed configuration (data, architecture, optimiser, any
    hyper-parameter, seed, library version) has another key and is trained afresh.

    >>> import tempfile
    >>> from netcoreset.verification.experiments.datasets import load_digits_split
    >>> x, y, _, _ = load_digits_split()
    >>> with tempfile.TemporaryDirectory() as d:
    ...     a = train_cached(x, y, TrainConfig(hidden=(16,), epochs=2), cache_dir=d)
    ...     b = train_cached(x, y, TrainConfig(hidden=(16,), epochs=2), cache_dir=d)
    >>> a.from_cache, b.from_cache, torch.equal(a.model[0].weight, b.model[0].weight)
    (False, True, True)
    """
    x, y = _check_xy(x, y)
    identity = _identity(x, y, config)
    key = cache_key(x, y, config)
    root = default_cache_dir(cache_dir)
    folder = root / key
    damaged = False
    if (folder / "config.json").is_file():
        cached = _load_entry(folder, identity, x.device)
        if cached is not None:
            meta = json.loads((folder / "config.json").read_text())
            return CachedModel(cached, key, folder, True, float(meta.get("train_seconds", 0.0)))
        damaged = True
    t0 = time.perf_counter()
    net = _train(x, y, config, progress)
    seconds = time.perf_counter() - t0
    meta = {"key": key, "identity": identity, "train_seconds": seconds}
    path = _save_entry(root, key, net, meta, replace=damaged)
    return CachedModel(net, key, path, False, seconds)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    r"""Fraction of correct argmax predictions,
    :math:`\frac1n\sum_i [\arg\max_k f(x_i)_k = y_i]`.

    >>> net = nn.Linear(2, 2, bias=False)
    >>> _ = net.weight.data.copy_(torch.eye(2))
    >>> accuracy(net, torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]))
    0.5

    Raises
    ------
    ValueError
        When ``y`` is not ``(n,)`` integer labels for the ``n`` inputs (a column ``(n, 1)``
        would otherwise broadcast into an ``(n, n)`` comparison), or the model rejects ``x``.
    """
    x = _inputs(x)
    y = _labels(y, x.shape[0])
    out = _outputs(model, x)
    return int((out.argmax(dim=1) == y.to(out.device)).sum()) / x.shape[0]
