"""Result files that are complete or absent: write to a temporary name in the same folder,
then rename (an atomic replace on POSIX file systems)."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from netcoreset.bounds.serialization import to_jsonable

__all__ = ["atomic_write", "write_text", "write_json", "write_csv"]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, writer: Callable[[str], object]) -> Path:
    """Call ``writer(tmp_path)`` and rename the result to ``path``; on any error nothing
    is left behind. The temporary name keeps ``path``'s suffix (plot writers use it).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = atomic_write(f"{d}/a.txt", lambda tmp: Path(tmp).write_text("hi"))
    ...     p.read_text(), sorted(os.listdir(d)), p.stat().st_mode & 0o777 == 0o666 & ~_umask()
    ('hi', ['a.txt'], True)
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; results are not
        writer(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write ``text`` (UTF-8)."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_json(path: str | Path, obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON (through
    :func:`~netcoreset.bounds.serialization.to_jsonable`)."""
    return write_text(path, json.dumps(to_jsonable(obj), indent=2) + "\n")


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Atomically write a CSV table.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(write_csv(f"{d}/t.csv", ["a", "b"], [[1, 0.5]]).read_text(), end="")
    a,b
    1,0.5
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return write_text(path, buf.getvalue())
