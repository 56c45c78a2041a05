"""Fuzz-suite machinery: run one call, classify its outcome, count it.

Every case of the ``test_fuzz_*`` files ends in one of four outcomes:

``ok``
    a valid result: every invariant the test states holds;
``clear``
    the documented error: ``ValueError`` (or the type the docstring names) from the Python
    API; from the command line exit status 2, one ``netcoreset ...: error: ...`` line on
    stderr, no traceback, and with ``--json`` a JSON object with an ``error`` field on stdout;
``crash``
    any other exception, a hang past the case's time limit, a traceback, an error that breaks
    the command-line contract above, or an exit status other than 0 and 2;
``wrong``
    a silent wrong answer: a result that breaks a stated invariant, a changed caller model,
    or code run from a file.

A case that crashes or answers wrongly fails its test. With ``NETCORESET_FUZZ_RECORD=PATH``
the suite only records (one JSON line per case appended to ``PATH``) and never fails, which is
how the counts of a defective version are taken; ``python tests/_fuzz.py PATH`` prints them.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import signal
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

OK, CLEAR, CRASH, WRONG = "ok", "clear", "crash", "wrong"
RECORD = os.environ.get("NETCORESET_FUZZ_RECORD")
#: Seconds one call may take before it counts as a hang (a crash).
TIME_LIMIT = float(os.environ.get("NETCORESET_FUZZ_TIME_LIMIT", "10"))
_DEV = os.environ.get("HYPOTHESIS_PROFILE") == "dev"


class Wrong(AssertionError):
    """Raised by a validator: the call returned, but its result breaks an invariant."""


class _Hang(BaseException):
    """Raised by the alarm: the call ran past the time limit."""


def examples(n: int) -> settings:
    """Hypothesis settings with ``n`` examples (five times more under the ``dev`` profile)."""
    return settings(max_examples=n * 5 if _DEV else n)


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_Hang` in the main thread after ``seconds`` (no-op off the main thread)."""

    def on_alarm(signum: int, frame: Any) -> None:
        raise _Hang()

    try:
        previous = signal.signal(signal.SIGALRM, on_alarm)
    except ValueError:  # not the main thread
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------------------------------------
# Recording
# ------------------------------------------------------------------------------------------------


def _case_name() -> str:
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
    return test.split("::", 1)[-1].split("[")[0]


def report(kind: str, detail: str, *, name: str | None = None) -> None:
    """Count one case; fail the test on a crash or a wrong answer (unless recording)."""
    if RECORD:
        with open(RECORD, "a") as fh:
            line = {"test": name or _case_name(), "outcome": kind, "detail": detail[:300]}
            fh.write(json.dumps(line) + "\n")
        return
    assert kind in (OK, CLEAR), f"{kind}: {detail}"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]


# ------------------------------------------------------------------------------------------------
# Snapshots: the caller's objects must come back unchanged
# ------------------------------------------------------------------------------------------------


def _same_tensor(a: Any, b: Any) -> bool:
    import torch

    if a.dtype != b.dtype or a.shape != b.shape or a.device != b.device:
        return False
    if a.device.type == "meta":
        return True
    if a.is_floating_point() or a.is_complex():
        nan_a, nan_b = torch.isnan(a), torch.isnan(b)
        return bool(torch.equal(nan_a, nan_b)) and bool(
            torch.equal(torch.where(nan_a, 0, a), torch.where(nan_b, 0, b))
        )
    return bool(torch.equal(a, b))


def snapshot(obj: Any) -> Callable[[], str | None]:
    """A function that says what changed in ``obj`` since now (None: nothing)."""
    import torch

    if isinstance(obj, torch.nn.Module):
        state = {k: v.detach().clone() for k, v in obj.state_dict(keep_vars=True).items()}
        grads = {k: p.requires_grad for k, p in obj.named_parameters()}
        modes = [m.training for m in obj.modules()]
        structure = repr(obj)

        def changed() -> str | None:
            now = obj.state_dict(keep_vars=True)
            if now.keys() != state.keys() or repr(obj) != structure:
                return "the caller's model changed structure"
            for k, v in now.items():
                if not _same_tensor(v.detach(), state[k]):
                    return f"the caller's model changed: {k}"
            if {k: p.requires_grad for k, p in obj.named_parameters()} != grads:
                return "the caller's model changed requires_grad"
            if [m.training for m in obj.modules()] != modes:
                return "the caller's model changed train/eval mode"
            return None

        return changed
    if isinstance(obj, torch.Tensor):
        copy = obj.detach().clone()
        return lambda: None if _same_tensor(obj.detach(), copy) else "the caller's data changed"
    if isinstance(obj, np.ndarray):
        copy_np = obj.copy()
        return lambda: (
            None if np.array_equal(obj, copy_np, equal_nan=obj.dtype.kind in "fc") else "changed"
        )
    return lambda: None


# ------------------------------------------------------------------------------------------------
# Running a call
# ------------------------------------------------------------------------------------------------


def outcome(
    call: Callable[[], Any],
    *,
    errors: tuple[type[BaseException], ...] = (ValueError,),
    validate: Callable[[Any], None] | None = None,
    guard: tuple[Any, ...] = (),
    seconds: float | None = None,
) -> tuple[str, str]:
    """Run ``call`` and classify it. ``validate(result)`` raises on a wrong result;
    ``guard`` lists the caller's objects that must come back unchanged."""
    checks = [snapshot(obj) for obj in guard]
    try:
        with time_limit(seconds or TIME_LIMIT), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = call()
    except _Hang:
        return CRASH, f"hang: no answer within {seconds or TIME_LIMIT:g} s"
    except errors as exc:
        kind, detail = CLEAR, f"{type(exc).__name__}: {_one_line(exc)}"
        if not str(exc).strip():
            kind, detail = CRASH, f"{type(exc).__name__} without a message"
    except Exception as exc:  # noqa: BLE001 - classifying every failure is the point
        return CRASH, f"exception {type(exc).__name__}: {_one_line(exc)}"
    else:
        kind, detail = OK, "valid result"
        if validate is not None:
            try:
                with time_limit(seconds or TIME_LIMIT):
                    validate(value)
            except _Hang:
                kind, detail = WRONG, "the result hangs when used"
            except Exception as exc:  # noqa: BLE001 - a result that breaks when used is wrong
                kind, detail = WRONG, f"{type(exc).__name__}: {_one_line(exc)}"
    for check in checks:
        what = check()
        if what:
            return WRONG, what
    return kind, detail


def check(
    call: Callable[[], Any],
    *,
    errors: tuple[type[BaseException], ...] = (ValueError,),
    validate: Callable[[Any], None] | None = None,
    guard: tuple[Any, ...] = (),
    seconds: float | None = None,
    name: str | None = None,
) -> str:
    """:func:`outcome`, then :func:`report`; returns the outcome."""
    kind, detail = outcome(call, errors=errors, validate=validate, guard=guard, seconds=seconds)
    report(kind, detail, name=name)
    return kind


# ------------------------------------------------------------------------------------------------
# The command line, in-process
# ------------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def strict_json(text: str) -> Any:
    """Parse RFC 8259 JSON: no NaN/Infinity, and no number written as a string."""
    value = json.loads(text, parse_constant=_reject_constant)

    def walk(v: Any, where: str) -> None:
        if isinstance(v, str) and v.lower() in ("inf", "-inf", "nan", "infinity", "-infinity"):
            raise Wrong(f"a non-finite number written as the string {v!r} at {where or '/'}")
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{where}/{k}")
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f"{where}/{i}")

    if isinstance(value, dict):  # the policy's list of non-finite numbers names them
        walk({k: v for k, v in value.items() if k != "non_finite"}, "")
    else:
        walk(value, "")
    return value


def cli(
    argv: list[str],
    *,
    validate: Callable[[str], None] | None = None,
    seconds: float | None = None,
    name: str | None = None,
    after: Callable[[int | None], str | None] | None = None,
) -> tuple[str, str, str]:
    """Run ``netcoreset argv`` in-process, classify and report it; returns
    ``(outcome, stdout, stderr)``. ``validate(stdout)`` checks a successful run;
    ``after(exit_status)`` names a wrong side effect (a file overwritten, code run) or None."""
    from netcoreset.verification.cli import main

    out, err = io.StringIO(), io.StringIO()
    code: Any = None
    crash = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            with time_limit(seconds or TIME_LIMIT), warnings.catch_warnings():
                warnings.simplefilter("always")
                code = main(argv)
        except _Hang:
            crash = f"hang: no answer within {seconds or TIME_LIMIT:g} s"
        except SystemExit as exc:
            code = exc.code
        except BaseException as exc:  # noqa: BLE001
            crash = f"traceback: {type(exc).__name__}: {_one_line(exc)}"
    stdout, stderr = out.getvalue(), err.getvalue()
    kind, detail = _classify_cli(argv, code, crash, stdout, stderr, validate)
    side_effect = after(code) if after is not None else None
    if side_effect:
        kind, detail = WRONG, side_effect
    report(kind, detail, name=name)
    return kind, stdout, stderr


def _wants_json(argv: list[str]) -> bool:
    return any(a == "--json" or a.startswith("--json=") for a in argv)


def _classify_cli(
    argv: list[str],
    code: Any,
    crash: str | None,
    stdout: str,
    stderr: str,
    validate: Callable[[str], None] | None,
) -> tuple[str, str]:
    if crash:
        return CRASH, crash
    if "Traceback (most recent call last)" in stderr:
        return CRASH, "traceback on stderr: " + _one_line(stderr.strip().splitlines()[-1])
    if code == 0:
        if validate is not None:
            try:
                validate(stdout)
            except Exception as exc:  # noqa: BLE001
                return WRONG, f"{type(exc).__name__}: {_one_line(exc)}"
        return OK, "exit 0"
    if code != 2:
        return CRASH, f"exit status {code!r}: {_one_line(stderr)}"
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error:" in ln]
    if len(errors) != 1 or any(not ln.startswith("netcoreset") for ln in lines):
        return CRASH, f"exit 2 but stderr is not one error line: {_one_line(stderr)}"
    if _wants_json(argv) and argv[:1] != ["verify"]:
        try:
            obj = json.loads(stdout.strip() or "null")
        except ValueError:
            obj = None
        if not isinstance(obj, dict) or not isinstance(obj.get("error"), str):
            return CRASH, "--json given but no JSON error object on stdout: " + _one_line(stderr)
    return CLEAR, _one_line(errors[0])


# ------------------------------------------------------------------------------------------------
# Strategies
# ------------------------------------------------------------------------------------------------

_SPECIAL_NUMBERS = [
    0,
    -1,
    1,
    2**31,
    2**53 + 1,
    2**63,
    2**64,
    10**30,
    -(10**30),
    10**400,
    0.0,
    -0.0,
    0.5,
    1.0,
    1 - 2**-53,
    5e-324,
    1e-300,
    1e300,
    1.7e308,
    math.nan,
    math.inf,
    -math.inf,
]
_ODD_VALUES = [True, False, None, "0.5", "", 1j, [0.5], (), {}, object()]


def wild_numbers() -> st.SearchStrategy[Any]:
    """Numbers a careless or hostile caller passes: huge, tiny, non-finite, numpy, not numbers."""
    return st.one_of(
        st.integers(-5, 50),
        st.sampled_from(_SPECIAL_NUMBERS),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(
            [np.float32(0.5), np.float16(0.1), np.int64(3), np.uint8(200), np.float64(np.nan)]
        ),
        st.sampled_from(_ODD_VALUES),
    )


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly ``valid`` values, sometimes a wild one."""
    return st.one_of(valid, valid, valid, wild_numbers())


def one_wild(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    valid: dict[str, st.SearchStrategy[Any]],
    wild: st.SearchStrategy[Any] | None = None,
) -> dict[str, Any]:
    """Arguments drawn from ``valid``, except at most one drawn from ``wild`` (default
    :func:`wild_numbers`): one fault per case, so that each outcome has one cause."""
    names = sorted(valid)
    target = draw(st.sampled_from([None, None, *names]))
    wild = wild if wild is not None else wild_numbers()
    return {k: draw(wild if k == target else s) for k, s in valid.items()}


_WILD_TEXT = [
    "nan",
    "inf",
    "-inf",
    "1e400",
    "1e-400",
    "0x10",
    "1_000",
    "",
    " ",
    "abc",
    "\u0661\u0662",
    "1e19",
    "9" * 30,
    "9" * 5000,
    "-0",
    "+5",
    "5.",
    ".5",
    "1,2",
    "0",
    "-1",
    "2.5",
    "1e-300",
    "1e308",
]


def wild_text() -> st.SearchStrategy[str]:
    """Command-line values: numbers as text, and text that is not a number."""
    return st.one_of(
        st.sampled_from(_WILD_TEXT),
        st.integers(-(10**25), 10**25).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6).filter(
            lambda s: "\x00" not in s
        ),
    )


def maybe_text(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(valid, valid, wild_text())


# ------------------------------------------------------------------------------------------------
# Tally
# ------------------------------------------------------------------------------------------------


def tally(path: str) -> dict[str, Any]:
    """Counts of a recorded run: per outcome, per test, and the crash/wrong details."""
    by_outcome: Counter[str] = Counter()
    by_test: dict[str, Counter[str]] = {}
    details: Counter[tuple[str, str]] = Counter()
    with open(path) as fh:
        for line in fh:
            rec = json.loads(line)
            by_outcome[rec["outcome"]] += 1
            by_test.setdefault(rec["test"], Counter())[rec["outcome"]] += 1
            if rec["outcome"] in (CRASH, WRONG):
                details[(rec["outcome"], rec["test"] + ": " + rec["detail"][:120])] += 1
    return {
        "cases": sum(by_outcome.values()),
        "outcomes": dict(by_outcome),
        "tests": {k: dict(v) for k, v in sorted(by_test.items())},
        "defects": [f"{n:4d} x {o}: {d}" for (o, d), n in details.most_common()],
    }


if __name__ == "__main__":  # python tests/_fuzz.py RECORD.jsonl
    result = tally(sys.argv[1])
    print(f"cases: {result['cases']}  outcomes: {result['outcomes']}")
    for test, counts in result["tests"].items():
        print(f"  {test}: {counts}")
    print("crashes and wrong answers:")
    for line in result["defects"]:
        print("  " + line)


# ------------------------------------------------------------------------------------------------
# Files a user hands in
# ------------------------------------------------------------------------------------------------

#: Data-file kinds (:func:`make_data_file`); the first ones are valid.
DATA_FILES = (
    "npy",
    "npy-images",
    "pt-tensor",
    "npy-1d",
    "npy-0d",
    "npy-empty-rows",
    "npy-wrong-width",
    "npy-object",
    "npy-str",
    "npy-complex",
    "npy-bool",
    "npy-nan",
    "npy-structured",
    "npy-truncated",
    "empty-file",
    "garbage",
    "text",
    "pt-dict",
    "pt-int-tensor",
    "pt-garbage",
    "pt-evil",
    "directory",
    "missing",
    "unreadable",
)


def _unreadable(path: Any) -> None:
    """A path that exists as a file but cannot be read (works as root too)."""
    path.symlink_to("/proc/self/mem")


def make_data_file(folder: Any, kind: str, n: int = 30, d: int = 6, marker: Any = None) -> Any:
    """Write a data file of ``kind`` for an ``(n, d)`` input and return its path."""
    import torch

    rng = np.random.default_rng(n * 1000 + d)
    x = rng.random((n, d)).astype(np.float32)
    suffix = ".csv" if kind == "text" else ".pt" if kind.startswith("pt") else ".npy"
    path = folder / f"data-{kind}{suffix}"
    writers: dict[str, Callable[[], Any]] = {
        "npy": lambda: np.save(path, x),
        "npy-images": lambda: np.save(path, x.reshape(n, 1, 2, d // 2) if d % 2 == 0 else x),
        "pt-tensor": lambda: torch.save(torch.from_numpy(x), path),
        "npy-1d": lambda: np.save(path, x[:, 0]),
        "npy-0d": lambda: np.save(path, np.float64(1.0)),
        "npy-empty-rows": lambda: np.save(path, x[:0]),
        "npy-wrong-width": lambda: np.save(path, np.concatenate([x, x], axis=1)),
        "npy-object": lambda: np.save(path, np.array([{}, 1], dtype=object), allow_pickle=True),
        "npy-str": lambda: np.save(path, x.astype(str)),
        "npy-complex": lambda: np.save(path, x.astype(np.complex64)),
        "npy-bool": lambda: np.save(path, x > 0.5),
        "npy-nan": lambda: np.save(path, np.where(x > 0.9, np.nan, x)),
        "npy-structured": lambda: np.save(path, np.zeros((n, d), dtype=[("a", "i4")])),
        "npy-truncated": lambda: (np.save(path, x), path.write_bytes(path.read_bytes()[:150])),
        "empty-file": lambda: path.write_bytes(b""),
        "garbage": lambda: path.write_bytes(bytes(range(256)) * 3),
        "text": lambda: path.write_text("\n".join(",".join(map(str, r)) for r in x)),
        "pt-dict": lambda: torch.save({"x": torch.from_numpy(x)}, path),
        "pt-int-tensor": lambda: torch.save(torch.ones(n, d, dtype=torch.long), path),
        "pt-garbage": lambda: path.write_bytes(b"PK\x03\x04" + bytes(100)),
        "pt-evil": lambda: torch.save(Evil(marker), path),
        "directory": lambda: path.mkdir(),
        "missing": lambda: None,
        "unreadable": lambda: _unreadable(path),
    }
    writers[kind]()
    return path


class Evil:
    """Unpickling this object creates ``marker`` (a stand-in for running any code)."""

    def __init__(self, marker: Any, model: bool = False) -> None:
        self.marker, self.model = str(marker), model

    def __reduce__(self) -> Any:
        if not self.model:
            return (open, (self.marker, "w"))
        code = (
            f"open({self.marker!r}, 'w').close() or __import__('torch').nn.Sequential("
            "__import__('torch').nn.Linear(6, 3))"
        )
        return (eval, (code,))


#: Model-file kinds (:func:`make_model_file`); the first ones are valid.
MODEL_FILES = (
    "pt-sequential",
    "pt-flatten",
    "safetensors",
    "pt-state-dict",
    "pt-tensor",
    "pt-list",
    "pt-evil",
    "pt-evil-model",
    "pt-meta",
    "pt-tanh",
    "pt-custom-class",
    "pt-nan",
    "pt-half",
    "empty-file",
    "garbage",
    "directory",
    "missing",
    "unreadable",
)


def tiny_net(d: int = 6, flatten: bool = False) -> Any:
    """The seeded 6-5-3 ReLU net the command-line cases compress."""
    import torch

    gen = torch.Generator().manual_seed(0)
    lin1, lin2 = torch.nn.Linear(d, 5), torch.nn.Linear(5, 3)
    with torch.no_grad():
        for p in (*lin1.parameters(), *lin2.parameters()):
            p.copy_(torch.randn(p.shape, generator=gen))
    mods = [lin1, torch.nn.ReLU(), lin2]
    return torch.nn.Sequential(*([torch.nn.Flatten()] if flatten else []), *mods)


def make_model_file(folder: Any, kind: str, marker: Any = None) -> Any:
    """Write a model file of ``kind`` and return its path."""
    import torch

    suffix = ".safetensors" if kind == "safetensors" else ".pt"
    path = folder / f"model-{kind}{suffix}"
    net = tiny_net()

    def safetensors() -> None:
        from safetensors.torch import save_file

        arch = {"widths": [6, 5, 3], "bias": True, "flatten": False}
        tensors = {
            f"layers.{i}.{k}": v
            for i, m in enumerate((net[0], net[2]))
            for k, v in m.state_dict().items()
        }
        save_file(tensors, str(path), metadata={"netcoreset_architecture": json.dumps(arch)})

    def nan() -> None:
        with torch.no_grad():
            net[0].weight[0, 0] = float("nan")
        torch.save(net, path)

    writers: dict[str, Callable[[], Any]] = {
        "pt-sequential": lambda: torch.save(net, path),
        "pt-flatten": lambda: torch.save(tiny_net(flatten=True), path),
        "safetensors": safetensors,
        "pt-state-dict": lambda: torch.save(net.state_dict(), path),
        "pt-tensor": lambda: torch.save(torch.ones(3), path),
        "pt-list": lambda: torch.save([net], path),
        "pt-evil": lambda: torch.save(Evil(marker), path),
        "pt-evil-model": lambda: torch.save(Evil(marker, model=True), path),
        "pt-meta": lambda: torch.save(net.to("meta"), path),
        "pt-tanh": lambda: torch.save(torch.nn.Sequential(net[0], torch.nn.Tanh(), net[2]), path),
        "pt-custom-class": lambda: torch.save(CustomNet(), path),
        "pt-nan": nan,
        "pt-half": lambda: torch.save(net.half(), path),
        "empty-file": lambda: path.write_bytes(b""),
        "garbage": lambda: path.write_bytes(bytes(range(256)) * 3),
        "directory": lambda: path.mkdir(),
        "missing": lambda: None,
        "unreadable": lambda: _unreadable(path),
    }
    writers[kind]()
    return path


def _custom_net_base() -> Any:
    import torch

    return torch.nn.Module


class CustomNet(_custom_net_base()):  # type: ignore[misc]
    """A user's own module class: loading it would import and run the user's code."""

    def __init__(self) -> None:
        super().__init__()
        import torch

        self.body = tiny_net()
        self.scale = torch.nn.Parameter(torch.ones(1))

    def forward(self, x: Any) -> Any:
        return self.body(x) * self.scale
