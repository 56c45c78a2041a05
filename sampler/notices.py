r"""One warning per compression: what went wrong, what to do, attributed to the caller.

The stages of :func:`~netcoreset.sampler.compress` record what the user should know in the
report (``report.warnings``). :func:`one_summary` wraps ``compress`` so that a call ends in
at most one :class:`CompressionWarning`, which lists those findings with a remedy each and
says when the certificate misses the request (certified :math:`\delta` above the requested
one, or nothing certified); the warning points at the line of the user's code that called
``compress`` (not at netcoreset's or torch's internals), so that pytest and Python's
warning filters show that line.
"""

from __future__ import annotations

import functools
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .report import CompressionReport
from .result import CompressionResult, target_reached

__all__ = [
    "Collected",
    "CompressionWarning",
    "collected_warnings",
    "findings_of",
    "folded_warnings",
    "grouped_summary",
    "one_summary",
    "remedy_for",
    "summary_message",
    "warn_at_caller",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Packages whose frames are skipped when the warning is attributed to a line of code.
_INTERNAL_PACKAGES = ("netcoreset", "torch", "contextlib")

# Finding (a text it starts with or contains) -> what to do about it. Findings that already
# name their remedy ("use ...", "pass ...") get nothing added.
_REMEDIES = (
    (
        "the cancellation assumption behind kappa fails",
        "the paper's certificate rests on that assumption; certificate='holdout' tests the "
        "compressed network on held-out points instead and does not use it",
    ),
    ("|S| capped at", "pass more data points, or a smaller sensitivity_set_size"),
    ("exceeds the", "ask for a smaller keep or nnz"),
)


class CompressionWarning(UserWarning):
    """The one warning of a call to :func:`~netcoreset.sampler.compress`: the findings that
    weaken its certificate, each with a remedy (all of them are also in
    ``result.report.warnings``). A subclass of :class:`UserWarning`, so that it can be
    filtered on its own.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", CompressionWarning)
    ...     warn_at_caller("compress: delta 0.1 NOT reached")
    >>> caught[0].category.__name__, issubclass(caught[0].category, UserWarning)
    ('CompressionWarning', True)
    """


def remedy_for(finding: str) -> str | None:
    """What to do about ``finding`` (None when it names its own remedy or none is known).

    >>> remedy_for("data has 50 points: |S| capped at 49 (theorem asks 120)")
    'pass more data points, or a smaller sensitivity_set_size'
    """
    if "; use " in finding or "; pass " in finding:
        return None
    for key, remedy in _REMEDIES:
        if key in finding:
            return remedy
    return None


def summary_message(report: CompressionReport, findings: Sequence[str]) -> str | None:
    """The text of the one warning: the unreached target first, then each finding with its
    remedy; None when there is nothing to say.

    >>> from types import SimpleNamespace as NS
    >>> rep = NS(method="corenet", certificate="paper", certified_eps=0.2, eps=None,
    ...          certified_delta=0.133, delta=0.1, warnings=[])
    >>> msg = summary_message(rep, [])
    >>> msg[:69]
    'compress: the certificate does not reach the request: delta 0.1 NOT r'
    >>> msg[msg.index("holds"):msg.index(")")]
    'holds with probability >= 1 - 0.133, result.certified_delta'
    """
    parts = []
    if not target_reached(report):
        if report.certified_eps is None:
            reached = "nothing is certified"
        else:
            reached = f"delta {report.delta:g} NOT reached (the guarantee holds with " + (
                f"probability >= 1 - {report.certified_delta:.3g}, result.certified_delta)"
            )
            if report.eps is not None and report.certified_eps > report.eps * (1 + 1e-9):
                reached += f"; eps {report.eps:g} NOT reached ({report.certified_eps:.4g})"
        parts.append(
            f"the certificate does not reach the request: {reached}; use more data points "
            "(for S and the held-out checks), a larger delta, or certificate='holdout'"
        )
    for finding in findings:
        remedy = remedy_for(finding)
        parts.append(finding if remedy is None else f"{finding}; {remedy}")
    if not parts:
        return None
    if len(parts) == 1:
        return f"compress: {parts[0]}"
    items = "".join(f"\n  ({k}) {text}" for k, text in enumerate(parts, 1))
    return f"compress: {len(parts)} findings (all in result.report.warnings):{items}"


def findings_of(message: str) -> list[str]:
    r"""The findings of a :class:`CompressionWarning`'s text (the inverse of
    :func:`summary_message`), for tools that summarise many compressions.

    >>> findings_of("compress: 2 findings (all in result.report.warnings):\n  (1) a\n  (2) b")
    ['a', 'b']
    >>> findings_of("compress: delta 0.1 NOT reached")
    ['delta 0.1 NOT reached']
    """
    head, _, rest = message.partition("\n")
    if not rest:
        return [head.removeprefix("compress: ")]
    return [line.strip().partition(") ")[2] for line in rest.splitlines() if line.strip()]


def _internal(module: str) -> bool:
    return module.split(".", 1)[0] in _INTERNAL_PACKAGES


def warn_at_caller(message: str, category: type[Warning] = CompressionWarning) -> None:
    """``warnings.warn(message, category)`` attributed to the first frame outside netcoreset
    and torch: the user's line that called into the package.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_at_caller("look here")
    >>> str(caught[0].message), caught[0].category.__name__
    ('look here', 'CompressionWarning')
    """
    frame = sys._getframe(1)  # the caller of this function
    level = 2
    while frame.f_back is not None and _internal(frame.f_globals.get("__name__", "")):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


def _pass_on(caught: Sequence[warnings.WarningMessage]) -> None:
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def one_summary(compress: F) -> F:
    """Wrap ``compress`` so that a call gives at most one :class:`CompressionWarning`.

    The stages' own warnings (those also recorded in ``report.warnings``) are folded into
    the summary; any other warning raised during the call (from torch, say) is passed on
    unchanged. If the call raises, every warning it gave is passed on unchanged. Like every
    use of :class:`warnings.catch_warnings`, this is not thread-safe: compressions running at
    the same time in several threads of one process may lose or misplace warnings (each
    result's findings are always in its ``report.warnings``).
    """

    @functools.wraps(compress)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        caught: list[warnings.WarningMessage] = []
        try:
            # the caller's filters stay in force (an "error" filter still raises at once)
            with warnings.catch_warnings(record=True) as caught:
                result = compress(*args, **kwargs)
        except BaseException:
            _pass_on(caught)
            raise
        notes = set(result.report.warnings) if isinstance(result, CompressionResult) else set()
        findings = [str(w.message) for w in caught if str(w.message) in notes]
        _pass_on([w for w in caught if str(w.message) not in notes])
        if isinstance(result, CompressionResult):
            message = summary_message(result.report, list(dict.fromkeys(findings)))
            if message is not None:
                warn_at_caller(message)
        return result

    return wrapper  # type: ignore[return-value]


def grouped_summary(messages: Sequence[str], calls: int | None, prefix: str) -> str | None:
    r"""One text for the :class:`CompressionWarning` messages of many compressions: their
    findings grouped by text with numbers masked, ``[in k of N compressions] <first example>``,
    most frequent first (None when there is none).

    .. math::

        \text{key}(f) = f \text{ with every number replaced by } \#

    >>> print(grouped_summary(["compress: 3 of 9 fail", "compress: 4 of 9 fail"], 2, "run"))
    run: 1 kind of finding over 2 compressions
      (1) [in 2 of 2 compressions] 3 of 9 fail
    """
    counts: dict[str, list[Any]] = {}
    for message in messages:
        for finding in dict.fromkeys(findings_of(message)):
            counts.setdefault(re.sub(r"\d+(\.\d+)?", "#", finding), [0, finding])[0] += 1
    if not counts:
        return None
    total = len(messages) if calls is None else calls
    ranked = sorted(counts.values(), key=lambda item: -int(item[0]))
    kinds = f"{len(ranked)} kind{'s' if len(ranked) > 1 else ''} of finding"
    items = "".join(
        f"\n  ({i}) [in {k} of {total} compressions] {text}"
        for i, (k, text) in enumerate(ranked, 1)
    )
    return f"{prefix}: {kinds} over {total} compressions{items}"


@dataclass
class _Fold:
    calls: int | None = None


#: The folds open in this thread of control, outermost first: only the outermost summarises.
_OPEN_FOLDS: list[_Fold] = []


@contextmanager
def _inner_fold(outer: _Fold) -> Iterator[_Fold]:
    fold = _Fold()
    try:
        yield fold
    finally:
        if fold.calls is not None:
            outer.calls = (outer.calls or 0) + fold.calls


@contextmanager
def folded_warnings(prefix: str) -> Iterator[_Fold]:
    """Around many compressions (the checker's trials, a sweep): their compression warnings
    become one, :func:`grouped_summary`, attributed to the caller; other warnings pass on
    unchanged. Set ``.calls`` on the yielded object to the number of compressions.

    Folds nest: inside another fold (a sweep inside a reproduction), this one passes its
    warnings to the outer one and adds its ``.calls`` to the outer count, so that the
    outermost call still ends in one warning.

    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with folded_warnings("run") as fold:
    ...         for n in (3, 4):
    ...             warn_at_caller(f"compress: {n} of 9 fail")
    ...         fold.calls = 2
    >>> len(caught), caught[0].message.args[0].splitlines()[1]
    (1, '  (1) [in 2 of 2 compressions] 3 of 9 fail')
    """
    if _OPEN_FOLDS:
        with _inner_fold(_OPEN_FOLDS[-1]) as inner:
            yield inner
        return
    fold = _Fold()
    caught: list[warnings.WarningMessage] = []
    _OPEN_FOLDS.append(fold)
    try:
        with warnings.catch_warnings(record=True) as caught:
            yield fold
    finally:
        _OPEN_FOLDS.remove(fold)
        ours = [str(w.message) for w in caught if issubclass(w.category, CompressionWarning)]
        _pass_on([w for w in caught if not issubclass(w.category, CompressionWarning)])
        message = grouped_summary(ours, fold.calls, prefix)
        if message is not None:
            warn_at_caller(message)


@dataclass
class Collected(_Fold):
    """What :func:`collected_warnings` gathered: the compressions counted by the folds inside
    (``calls``) and the texts of their compression warnings (``messages``).

    >>> Collected(2, ["compress: a"]).messages
    ['compress: a']
    """

    messages: list[str] = field(default_factory=list)


@contextmanager
def collected_warnings() -> Iterator[Collected]:
    """Around compressions whose warnings are folded elsewhere (a sweep's worker process,
    whose caller folds every worker's): the texts of their compression warnings are collected,
    not summarised, each one counted, with the number of compressions the folds inside
    count; other warnings pass on unchanged.

    >>> with collected_warnings() as got:
    ...     with folded_warnings("run") as fold:
    ...         warn_at_caller("compress: 3 of 9 fail")
    ...         warn_at_caller("compress: 3 of 9 fail")
    ...         fold.calls = 2
    >>> got.messages, got.calls
    (['compress: 3 of 9 fail', 'compress: 3 of 9 fail'], 2)
    """
    got = Collected()
    caught: list[warnings.WarningMessage] = []
    _OPEN_FOLDS.append(got)  # the folds inside pass their warnings and counts on to this one
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CompressionWarning)
            yield got
    finally:
        _OPEN_FOLDS.remove(got)
        ours = [w for w in caught if issubclass(w.category, CompressionWarning)]
        got.messages = [str(w.message) for w in ours]
        _pass_on([w for w in caught if not issubclass(w.category, CompressionWarning)])
