r"""Reading and writing model files without running code from them.

A model file is data: weights and a description of the network. Python's pickle (what
``torch.save`` writes) is a program that the reader runs, so a crafted ``.pt`` file can run
any code the moment it is unpickled. :func:`load_model` therefore never unpickles with the
general unpickler unless the caller says so with ``allow_unsafe_pickle=True``:

``.safetensors`` (the first-class format)
    Tensors only (the format cannot hold code), read with :mod:`safetensors`. The network is
    described by an *architecture* (layer widths, which layers have a bias, a leading
    ``nn.Flatten``): given as ``architecture=`` or stored in the file's metadata by
    :func:`save_model`.
``.pt`` / ``.pth``
    Read with ``torch.load(weights_only=True)``, PyTorch's restricted unpickler, which can build
    only tensors, containers and the classes on an allow-list. The allow-list here is exactly
    the modules CoreNet covers: ``Sequential``, ``Linear``, ``ReLU``, ``Flatten``, ``Dropout``
    and ``Identity``, mapped to inert stand-ins that only record what the file says (their
    constructors never run). The network is then rebuilt from those records with fresh
    modules, so nothing of the file but tensors and a few numbers reaches the caller. A whole
    ``nn.Sequential`` saved with ``torch.save(model, path)`` loads this way; so does a state
    dict (``torch.save(model.state_dict(), path)``) when an architecture is given. A file
    that names anything else (a function, another class) is refused with a ``ValueError``
    that names it.

The architecture description is a dict or JSON object

.. code-block:: json

    {"widths": [784, 300, 100, 10], "bias": true, "flatten": false}

(``bias``: one boolean or one per weight layer), a list of widths, a comma-separated string
of widths (``"784,300,100,10"``), or, passed by the caller only, the path of a ``.json`` file
holding one of these (a regular file of at most :data:`MAX_ARCHITECTURE_BYTES`). The
description stored in a file's metadata is data: it is parsed, never opened as a path.

Tensors are matched to the layers by name, and the order must be unambiguous. When the
layers' names differ only in their numbers (``0.weight``, ``2.weight``, ..., ``10.weight``,
or ``layers.0`` ... ``layers.3``), their numeric order is the layers' order, whatever order
the file lists them in. Otherwise (``fc1``, ``fc2``, ``out``) each layer is the one whose
shape fits the next place of the description, and when two layers would fit the same place
(square layers of one width) the file is refused, since a wrong guess would give a
different network without any error. Every shape must match the description.

Sizes are checked before anything is allocated: tensors must be dense and must not overlap
themselves (a stride-0 or overlapping tensor in a ``.pt`` file could stand for far more
values than the file holds), and modules may nest at most :data:`MAX_NESTING` deep.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import stat
import tempfile
import warnings
import zlib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import torch
from torch import nn

from netcoreset.bounds.validation import check_architecture

from ._model import build_sequential, linear_layers

__all__ = [
    "load_model",
    "save_model",
    "architecture_of",
    "ARCHITECTURE_METADATA_KEY",
    "MAX_ARCHITECTURE_BYTES",
    "MAX_NESTING",
]

#: The safetensors metadata key under which :func:`save_model` stores the architecture.
ARCHITECTURE_METADATA_KEY = "netcoreset_architecture"
#: The largest architecture ``.json`` file read (bytes).
MAX_ARCHITECTURE_BYTES = 1 << 20
#: How deep ``Sequential`` modules may nest in a ``.pt`` file.
MAX_NESTING = 64

_ALLOWED = (nn.Sequential, nn.Linear, nn.ReLU, nn.Flatten, nn.Dropout, nn.Identity)
_SUFFIXES = (".pt", ".pth", ".safetensors")
_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


# ------------------------------------------------------------------------------------------------
# The architecture description
# ------------------------------------------------------------------------------------------------


def _read_architecture_file(p: Path) -> Any:
    """The JSON of a caller-given architecture file: a regular file, size-checked first."""
    try:
        info = p.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > MAX_ARCHITECTURE_BYTES:
            raise ValueError(f"larger than {MAX_ARCHITECTURE_BYTES} bytes")
        return json.loads(p.read_text())
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"cannot read the architecture file {p}: {exc}") from None


def _architecture(spec: Any, *, from_file: bool = False) -> dict[str, Any]:
    """Normalise an architecture description to ``{"widths", "bias", "flatten"}``;
    ``from_file``: it comes from a model file's metadata, so a string is never a path."""
    if (
        not from_file
        and isinstance(spec, (str, os.PathLike))
        and str(spec).lower().endswith(".json")
    ):
        spec = _read_architecture_file(Path(spec))
    elif isinstance(spec, str) and spec.lstrip().startswith("{"):
        try:
            spec = json.loads(spec)
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"architecture is not valid JSON: {exc}") from None
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"widths", "bias", "flatten", "format", "version"}
        if unknown or "widths" not in spec:
            raise ValueError(
                "architecture must have 'widths' (and optionally 'bias', 'flatten'); "
                f"got the keys {sorted(spec)}"
            )
        widths, bias, flatten = spec["widths"], spec.get("bias", True), spec.get("flatten", False)
    else:
        widths, bias, flatten = spec, True, False
    try:
        widths = check_architecture(widths)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"architecture: {exc}") from None
    n_layers = len(widths) - 1
    biases = [bias] * n_layers if isinstance(bias, bool) else bias
    if (
        not isinstance(biases, (list, tuple))
        or len(biases) != n_layers
        or not all(isinstance(b, bool) for b in biases)
    ):
        raise ValueError(
            f"architecture 'bias' must be true/false or one per weight layer ({n_layers}); "
            f"got {bias!r}"
        )
    if not isinstance(flatten, bool):
        raise ValueError(f"architecture 'flatten' must be true or false; got {flatten!r}")
    return {"widths": list(widths), "bias": list(biases), "flatten": flatten}


def architecture_of(model: nn.Module) -> dict[str, Any]:
    """The architecture description of a fully-connected ReLU network.

    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2, bias=False))
    >>> architecture_of(net)
    {'widths': [4, 3, 2], 'bias': [True, False], 'flatten': True}
    """
    from ._model import starts_with_flatten

    layers = linear_layers(model)
    return {
        "widths": [layers[0].in_features] + [lay.out_features for lay in layers],
        "bias": [lay.bias is not None for lay in layers],
        "flatten": starts_with_flatten(model),
    }


def _layer_names(
    tensors: Mapping[str, Any], source: str
) -> tuple[list[str], dict[str, tuple[int, ...]]]:
    """The layers' name prefixes (in the file's order) and each weight's shape."""
    prefixes: list[str] = []
    for name in tensors:
        if not isinstance(name, str) or not isinstance(tensors[name], torch.Tensor):
            raise ValueError(f"{source}: entry {name!r} is not a named tensor")
        prefix, _, kind = name.rpartition(".")
        if kind not in ("weight", "bias"):
            raise ValueError(
                f"{source}: unexpected tensor {name!r} (a model file may hold only the weights "
                "and biases of Linear layers)"
            )
        if prefix not in prefixes:
            prefixes.append(prefix)
    shapes = {}
    for prefix in prefixes:
        w = tensors.get(f"{prefix}.weight" if prefix else "weight")
        shapes[prefix] = tuple(w.shape) if isinstance(w, torch.Tensor) else ()
    return prefixes, shapes


def _numbered_order(prefixes: list[str]) -> list[str] | None:
    """The numeric order when the names differ only in their numbers (else None)."""
    templates = {re.sub(r"\d+", "#", p) for p in prefixes}
    numbers = [tuple(int(n) for n in re.findall(r"\d+", p)) for p in prefixes]
    if len(templates) != 1 or "#" not in next(iter(templates)):
        return None
    if len(set(numbers)) != len(numbers):
        return None
    return [p for _, p in sorted(zip(numbers, prefixes, strict=True))]


def _layer_order(
    prefixes: list[str], shapes: dict[str, tuple[int, ...]], widths: list[int], source: str
) -> list[str]:
    """The layers in network order (see the module docstring), or a ``ValueError``."""
    if len(prefixes) != len(widths) - 1:
        raise ValueError(
            f"{source} holds {len(prefixes)} layer(s) of weights but the architecture "
            f"{widths} has {len(widths) - 1}"
        )
    if len(prefixes) == 1:
        return prefixes
    numbered = _numbered_order(prefixes)
    if numbered is not None:
        return numbered
    order: list[str] = []
    left = list(prefixes)
    for idx in range(len(prefixes)):
        fits = [p for p in left if shapes[p] == (widths[idx + 1], widths[idx])]
        if len(fits) > 1:
            raise ValueError(
                f"{source}: the layers {', '.join(repr(p) for p in fits[:3])} all fit layer "
                f"{idx} of the architecture and their names do not say their order; name the "
                "layers by position (0.weight, 1.weight, ... or layers.0.weight, ...)"
            )
        if not fits:  # no layer fits: the shape check below names the problem
            return order + left
        order.append(fits[0])
        left.remove(fits[0])
    return order


def _from_tensors(tensors: Mapping[str, Any], arch: dict[str, Any], source: str) -> nn.Sequential:
    """Build the network of ``arch`` from a name -> tensor mapping (a state dict)."""
    widths, biases = arch["widths"], arch["bias"]
    prefixes, shapes = _layer_names(tensors, source)
    prefixes = _layer_order(prefixes, shapes, widths, source)
    weights, bias_list = [], []
    for idx, prefix in enumerate(prefixes):
        dot = f"{prefix}." if prefix else ""
        w = tensors.get(f"{dot}weight")
        b = tensors.get(f"{dot}bias")
        expect = (widths[idx + 1], widths[idx])
        if w is None or tuple(w.shape) != expect:
            got = None if w is None else tuple(w.shape)
            raise ValueError(f"{source}: {dot}weight has shape {got}, the architecture {expect}")
        if (b is not None) != biases[idx] or (b is not None and tuple(b.shape) != expect[:1]):
            raise ValueError(
                f"{source}: layer {idx} bias {None if b is None else tuple(b.shape)} does not "
                f"match the architecture (bias={biases[idx]}, width {expect[0]})"
            )
        weights.append(_plain_tensor(w, f"{source}: {dot}weight"))
        bias_list.append(None if b is None else _plain_tensor(b, f"{source}: {dot}bias"))
    dtypes = {w.dtype for w in weights} | {b.dtype for b in bias_list if b is not None}
    if len(dtypes) > 1:
        raise ValueError(f"{source}: the layers mix dtypes {sorted(map(str, dtypes))}")
    net = build_sequential(weights, bias_list)
    return nn.Sequential(nn.Flatten(), *net) if arch["flatten"] else net


def non_overlapping(t: torch.Tensor) -> bool:
    """Whether no two elements of the strided tensor ``t`` share memory (so it holds no more
    values than its storage: a stride-0 or overlapping view could stand for far more).

    >>> non_overlapping(torch.zeros(3, 4).t()), non_overlapping(torch.zeros(1).expand(5))
    (True, False)
    """
    dims = sorted((st, n) for st, n in zip(t.stride(), t.shape, strict=True) if n > 1)
    reach = 1
    for st, n in dims:
        if st < reach:
            return False
        reach = st * n
    return True


def _plain_tensor(t: Any, what: str) -> torch.Tensor:
    """A dense, materialised, floating-point tensor, or a ``ValueError`` naming ``what``."""
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"{what} is a {type(t).__name__}, not a tensor")
    if t.device.type == "meta":
        raise ValueError(
            f"{what} is on the meta device (shapes without values): save the model after its "
            "weights are materialised"
        )
    if t.layout != torch.strided or t.is_quantized or t.is_nested:
        raise ValueError(f"{what} must be a dense tensor; got layout {t.layout}")
    if not non_overlapping(t):
        raise ValueError(
            f"{what} has strides {tuple(t.stride())} that reuse its memory (a stride-0 or "
            "overlapping view): a model file must store every value"
        )
    if t.dtype not in _FLOAT_DTYPES:
        raise ValueError(
            f"{what} must be float16, bfloat16, float32 or float64; got dtype {t.dtype}"
        )
    return t.detach()


# ------------------------------------------------------------------------------------------------
# .pt files: the restricted unpickler with inert stand-ins
# ------------------------------------------------------------------------------------------------


class _Record:
    """Stand-in for an allow-listed module class: remembers the state the file gives it and
    nothing else (no code of the real class runs, whether the file builds it by ``__new__``
    or by a call)."""

    kind = ""
    state: Mapping[str, Any] = MappingProxyType({})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state if isinstance(state, dict) else {}


def _stand_ins() -> list[tuple[type, str]]:
    out = []
    for cls in _ALLOWED:
        record = type(f"_{cls.__name__}Record", (_Record,), {"kind": cls.__name__})
        out.append((record, f"{cls.__module__}.{cls.__qualname__}"))
    return out


_STAND_INS = _stand_ins()


def _rebuild(obj: Any, where: str, source: str, depth: int = 0) -> nn.Module:
    """A fresh module from a stand-in record (recursively), checking every field it reads."""
    if depth > MAX_NESTING:
        raise ValueError(
            f"{source}: modules nest more than {MAX_NESTING} deep (at {where[:80]}...)"
        )
    if not isinstance(obj, _Record):
        raise ValueError(f"{source}: {where} is a {type(obj).__name__}, not a module")
    state = obj.state
    if obj.kind == "Sequential":
        children = state.get("_modules", {})
        if not isinstance(children, Mapping):
            raise ValueError(f"{source}: {where} has no list of modules")
        mods = [_rebuild(c, f"{where}.{k}", source, depth + 1) for k, c in children.items()]
        return nn.Sequential(*mods)
    if obj.kind == "Linear":
        params = state.get("_parameters", {})
        if not isinstance(params, Mapping) or set(params) - {"weight", "bias"}:
            raise ValueError(f"{source}: {where} (Linear) has unexpected parameters")
        w = _plain_tensor(params.get("weight"), f"{source}: {where}.weight")
        b = params.get("bias")
        b = None if b is None else _plain_tensor(b, f"{source}: {where}.bias")
        if w.ndim != 2 or (b is not None and (b.shape != (w.shape[0],) or b.dtype != w.dtype)):
            raise ValueError(f"{source}: {where} (Linear) has inconsistent weight and bias shapes")
        for attr, size in (("in_features", w.shape[1]), ("out_features", w.shape[0])):
            if attr in state and state[attr] != size:
                raise ValueError(
                    f"{source}: {where} says {attr}={state[attr]!r}, weight has {size}"
                )
        return build_sequential([w], [b])[0]
    if obj.kind == "Flatten":
        start, end = state.get("start_dim", 1), state.get("end_dim", -1)
        if (start, end) != (1, -1):
            raise ValueError(
                f"{source}: {where} is Flatten({start!r}, {end!r}); only Flatten(1, -1) (one "
                "row per input) is supported"
            )
        return nn.Flatten()
    if obj.kind == "Dropout":
        p = state.get("p", 0.5)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"{source}: {where} is Dropout with p={p!r}")
        return nn.Dropout(float(p))
    return nn.ReLU() if obj.kind == "ReLU" else nn.Identity()


def _training_flags(obj: Any, module: nn.Module) -> None:
    """Copy the file's train/eval flags onto the rebuilt modules (same tree)."""
    flag = obj.state.get("training", False) if isinstance(obj, _Record) else False
    module.training = bool(flag) if isinstance(flag, bool) else False
    if isinstance(obj, _Record) and isinstance(module, nn.Sequential):
        children = list(obj.state.get("_modules", {}).values())
        for child_obj, child in zip(children, list(module), strict=True):
            _training_flags(child_obj, child)


def _refusal(path: Path, exc: BaseException) -> ValueError:
    """A one-line ``ValueError`` for a file the restricted unpickler refused."""
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception:  # noqa: BLE001 - not a zip checkpoint: fall back on the message
        names = []
    allowed = {name for _, name in _STAND_INS}
    bad = [n for n in names if n not in allowed]
    if not bad:
        found = re.findall(r"GLOBAL ([\w.]+)", str(exc))
        bad = found[:1]
    if not bad:
        return ValueError(f"{path} is not a readable torch file: {_first_line(exc)}")
    return ValueError(
        f"refusing to load {path}: it references {', '.join(bad[:3])}, which a model file may "
        "not contain (allowed: "
        "tensors and the modules Sequential, Linear, ReLU, Flatten, Dropout, Identity). Only if "
        "you trust this file: allow_unsafe_pickle=True (--allow-unsafe-pickle)"
    )


def _load_pt(path: Path, architecture: Any, map_location: Any) -> nn.Module:
    try:
        with torch.serialization.safe_globals(_STAND_INS):  # type: ignore[arg-type]
            obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise _refusal(path, exc) from None
    except RecursionError:
        raise ValueError(f"{path}: objects nest too deeply to be a model file") from None
    except (RuntimeError, EOFError, ValueError, OSError, MemoryError, zlib.error) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise ValueError(f"{path} is not a readable torch file: {_first_line(exc)}") from None
    if isinstance(obj, _Record):
        model = _rebuild(obj, "model", str(path))
        _training_flags(obj, model)
        if architecture is not None and architecture_of(model) != _architecture(architecture):
            raise ValueError(f"{path} does not match the given architecture")
        return model
    is_state_dict = isinstance(obj, Mapping) and bool(obj)
    if is_state_dict:
        is_state_dict = all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
        )
    if is_state_dict:
        if architecture is None:
            raise ValueError(
                f"{path} holds a state dict (tensors only): pass its architecture "
                "(architecture=..., --architecture WIDTHS or FILE.json)"
            )
        return _from_tensors(obj, _architecture(architecture), str(path))
    raise ValueError(
        f"{path} holds a {type(obj).__name__}, not an nn.Module (save the nn.Sequential itself "
        "or its state dict)"
    )


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


# ------------------------------------------------------------------------------------------------
# .safetensors files
# ------------------------------------------------------------------------------------------------


def _load_safetensors(path: Path, architecture: Any, map_location: Any) -> nn.Module:
    from safetensors import SafetensorError, safe_open

    device = "cpu" if map_location is None else str(map_location)
    try:
        with safe_open(str(path), framework="pt", device=device) as fh:
            meta = fh.metadata() or {}
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}  # noqa: SIM118
    except (SafetensorError, RuntimeError, ValueError, OSError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise ValueError(f"{path} is not a readable safetensors file: {_first_line(exc)}") from None
    if architecture is None:
        if ARCHITECTURE_METADATA_KEY not in meta:
            raise ValueError(
                f"{path} has no architecture in its metadata: pass it (architecture=..., "
                "--architecture WIDTHS or FILE.json)"
            )
        return _from_tensors(
            tensors, _architecture(meta[ARCHITECTURE_METADATA_KEY], from_file=True), str(path)
        )
    return _from_tensors(tensors, _architecture(architecture), str(path))


# ------------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------------


def load_model(
    path: str | os.PathLike[str],
    *,
    architecture: Any = None,
    allow_unsafe_pickle: bool = False,
    map_location: str | torch.device | None = "cpu",
) -> nn.Module:
    r"""Load a fully-connected ReLU network from a file, running no code from it.

    See the module docstring for the formats (``.safetensors`` with an architecture, ``.pt``
    and ``.pth`` through the restricted unpickler).

    Parameters
    ----------
    path : str or path-like
        A ``.safetensors``, ``.pt`` or ``.pth`` file.
    architecture : dict, str, sequence of int or path, optional
        The network's description (widths, biases, a leading Flatten): needed for state dicts
        and for safetensors files without it in their metadata; checked against a whole model.
    allow_unsafe_pickle : bool, default False
        Unpickle a ``.pt`` file with the general unpickler (``weights_only=False``), which runs
        whatever code the file holds: only for files you trust. Warns.
    map_location : str or torch.device, default "cpu"
        Where the tensors go.

    Returns
    -------
    torch.nn.Module
        A new ``nn.Sequential`` built from the file's tensors (with ``allow_unsafe_pickle``,
        the unpickled module itself).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        For anything else: an unknown suffix, a directory, an unreadable or damaged file, a
        file that references a function or class outside the allow-list (named in the
        message), a state dict without an architecture, shapes that do not match it, tensors
        without values (the meta device), non-floating or non-dense tensors.

    Examples
    --------
    >>> import tempfile
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     torch.save(net, f"{d}/net.pt")
    ...     back = load_model(f"{d}/net.pt")
    ...     _ = save_model(net, f"{d}/net.safetensors")
    ...     again = load_model(f"{d}/net.safetensors")
    >>> torch.equal(back[2].weight, net[2].weight), torch.equal(again[0].bias, net[0].bias)
    (True, True)
    """
    p = Path(path)
    if p.suffix.lower() not in _SUFFIXES:
        raise ValueError(f"model file must end in .safetensors, .pt or .pth; got {p.name}")
    if not p.exists():
        raise FileNotFoundError(f"no such model file: {p}")
    if not p.is_file():
        raise ValueError(f"{p} is not a file")
    if p.suffix.lower() == ".safetensors":
        return _load_safetensors(p, architecture, map_location)
    if allow_unsafe_pickle:
        return _load_unsafe(p, architecture, map_location)
    return _load_pt(p, architecture, map_location)


def _load_unsafe(path: Path, architecture: Any, map_location: Any) -> nn.Module:
    warnings.warn(
        f"unpickling {path} with the general unpickler: it can run any code it holds "
        "(allow_unsafe_pickle=True; use only for files you trust)",
        UserWarning,
        stacklevel=3,
    )
    try:
        obj = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any failure of an arbitrary pickle
        raise ValueError(f"could not load a model from {path}: {_first_line(exc)}") from exc
    if isinstance(obj, Mapping) and architecture is not None:
        return _from_tensors(obj, _architecture(architecture), str(path))
    if not isinstance(obj, nn.Module):
        raise ValueError(f"{path} holds a {type(obj).__name__}, not an nn.Module")
    return obj


def save_model(model: nn.Module, path: str | os.PathLike[str]) -> Path:
    """Write a fully-connected ReLU network as ``.safetensors`` with its architecture in the
    metadata (:func:`load_model` reads it back without any other input).

    The file is written under a temporary name next to ``path`` and renamed into place, so
    ``path`` holds the old file or the new one, never a part. Dropout and Identity modules
    are not stored (they do not change the network's function at inference).

    Raises
    ------
    ValueError
        When ``path`` does not end in ``.safetensors`` or ``model`` is not a network
        :func:`~netcoreset.sampler.linear_layers` accepts.

    Examples
    --------
    >>> import tempfile
    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_model(net, f"{d}/net.safetensors").name
    'net.safetensors'
    """
    from safetensors.torch import save_file

    p = Path(path)
    if p.suffix.lower() != ".safetensors":
        raise ValueError(f"save_model writes .safetensors files; got {p.name}")
    arch = architecture_of(model)
    tensors = {}
    for idx, layer in enumerate(linear_layers(model)):
        tensors[f"layers.{idx}.weight"] = layer.weight.detach().cpu().contiguous()
        if layer.bias is not None:
            tensors[f"layers.{idx}.bias"] = layer.bias.detach().cpu().contiguous()
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={ARCHITECTURE_METADATA_KEY: json.dumps(arch)})
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p
