"""Read, check and write two-line element sets (TLE) for SGP4.

The suite never downloads TLEs: users supply a file (Celestrak / Space-Track style, 2-line or
3-line with name lines) and tests use synthetic ones (:func:`leo_env.core.orbit.walker_satrecs`
written out with :func:`export_tles`).

:func:`parse_tles` checks every line before handing it to :mod:`sgp4`, because sgp4's fast
parser silently turns malformed numbers into zeros.  Every problem is reported as a
:class:`TLEError` naming the source, the 1-based line number in the file and the reason.

Two further checks protect a scenario from silently wrong input:

* a satellite (catalogue number) listed twice would get two sets of resources; duplicates are
  removed with a :class:`TLEWarning`, keeping the element set with the latest epoch
  (``duplicates="error"`` refuses them instead);
* :func:`check_epoch_age` compares the element sets' epochs with the episode: SGP4 errors grow
  by roughly a kilometre per day away from the epoch, so a gap above
  :data:`TLE_WARN_AGE_DAYS` (14 days) warns and one above :data:`TLE_MAX_AGE_DAYS`
  (365 days) is refused.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from os import PathLike
from pathlib import Path

from sgp4.api import SGP4_ERRORS, Satrec
from sgp4.exporter import export_tle

__all__ = [
    "TLEError",
    "TLEWarning",
    "TLE_WARN_AGE_DAYS",
    "TLE_MAX_AGE_DAYS",
    "tle_checksum",
    "parse_tles",
    "read_tle_file",
    "export_tles",
    "satrec_epoch",
    "check_epoch_age",
]

TLE_WARN_AGE_DAYS = 14.0
"""Element sets further than this from the episode [days] trigger a :class:`TLEWarning`."""
TLE_MAX_AGE_DAYS = 365.0
"""Element sets further than this from the episode [days] are refused (:class:`TLEError`)."""

_TLE_LINE_LENGTH = 69

# (first column, last column) 1-based inclusive, field name, pattern the stripped text must match.
_FLOAT = r"[+-]?(\d+\.?\d*|\.\d+)"
_EXP = r"[+-]?\d{1,5}([+-]\d)?"  # assumed-decimal mantissa and exponent, e.g. -11606-4
_LINE1_FIELDS: tuple[tuple[int, int, str, str], ...] = (
    (19, 20, "epoch year", r"\d{2}"),
    (21, 32, "epoch day", r"\d{1,3}\.\d+"),
    (34, 43, "first derivative of mean motion", _FLOAT),
    (45, 52, "second derivative of mean motion", _EXP),
    (54, 61, "BSTAR drag term", _EXP),
    (63, 63, "ephemeris type", r"\d?"),
    (65, 68, "element set number", r"\d{0,4}"),
)
_LINE2_FIELDS: tuple[tuple[int, int, str, str], ...] = (
    (9, 16, "inclination", _FLOAT),
    (18, 25, "right ascension of the ascending node", _FLOAT),
    (27, 33, "eccentricity", r"\d{1,7}"),
    (35, 42, "argument of perigee", _FLOAT),
    (44, 51, "mean anomaly", _FLOAT),
    (53, 63, "mean motion", _FLOAT),
    (64, 68, "revolution number", r"\d{0,5}"),
)
# Ranges checked after the syntax: field name -> (low, high) inclusive.
_RANGES = {
    "epoch day": (1.0, 367.0),
    "inclination": (0.0, 180.0),
    "right ascension of the ascending node": (0.0, 360.0),
    "argument of perigee": (0.0, 360.0),
    "mean anomaly": (0.0, 360.0),
    "mean motion": (1e-8, 100.0),
}
_SATNUM = re.compile(r"[ \d]{4}\d|[A-HJ-NP-Z]\d{4}")  # 5 digits (leading blanks) or Alpha-5


class TLEError(ValueError):
    """A malformed TLE.

    Attributes
    ----------
    source : str
        File name (or ``"<string>"``).
    lineno : int
        1-based line number in the source (0: the problem concerns no single line).
    reason : str
        What is wrong.
    """

    def __init__(self, source: str, lineno: int, reason: str) -> None:
        self.source = source
        self.lineno = lineno
        self.reason = reason
        where = f"line {lineno}: " if lineno > 0 else ""
        super().__init__(f"{source}: {where}{reason}")


class TLEWarning(UserWarning):
    """A TLE input that is used, but probably not as intended (duplicates, old epochs)."""


def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 characters of a TLE line.

    Digits count their value, ``-`` counts 1, every other character 0.
    """
    return sum(int(ch) if ch.isdigit() else (1 if ch == "-" else 0) for ch in line[:68]) % 10


def _check_line(line: str, expected: str, lineno: int, source: str) -> None:
    """Check length, line number, checksum and numeric fields of one TLE line."""
    if len(line) != _TLE_LINE_LENGTH:
        raise TLEError(
            source,
            lineno,
            f"TLE line {expected} has {len(line)} characters, expected {_TLE_LINE_LENGTH} "
            "(after stripping trailing whitespace)",
        )
    if not line.isascii():
        raise TLEError(source, lineno, f"TLE line {expected} contains non-ASCII characters")
    if not line.startswith(f"{expected} "):
        raise TLEError(
            source,
            lineno,
            f"expected TLE line {expected} (starting with '{expected} '), "
            f"got a line starting with {line[:2]!r}",
        )
    if not line[-1].isdigit():
        raise TLEError(source, lineno, f"checksum character {line[-1]!r} is not a digit")
    want = tle_checksum(line)
    if int(line[-1]) != want:
        raise TLEError(source, lineno, f"bad checksum: line ends with {line[-1]}, computed {want}")
    if not _SATNUM.fullmatch(line[2:7]):
        raise TLEError(source, lineno, f"bad satellite number {line[2:7]!r} in columns 3-7")
    fields = _LINE1_FIELDS if expected == "1" else _LINE2_FIELDS
    for first, last, name, pattern in fields:
        text = line[first - 1 : last].strip()
        if not re.fullmatch(pattern, text):
            raise TLEError(
                source, lineno, f"bad {name} {line[first - 1 : last]!r} in columns {first}-{last}"
            )
        if name in _RANGES:
            low, high = _RANGES[name]
            value = float(text)
            if not low <= value <= high:
                raise TLEError(source, lineno, f"{name} {value} out of range [{low:g}, {high:g}]")


def _looks_like_tle_line(line: str) -> bool:
    """A line that is meant as a TLE data line (not a satellite name)."""
    return len(line) >= 60 and line[0].isdigit() and line[1:2] == " "


def parse_tles(
    text: str, source: str = "<string>", duplicates: str = "latest"
) -> tuple[list[str], list[Satrec]]:
    """Parse and check TLE text in 2-line or 3-line (name line first) format.

    Parameters
    ----------
    text : str
        TLE text.  Blank lines are ignored, trailing whitespace is stripped, and 2-line and
        3-line entries may be mixed.  Name lines may carry Celestrak's ``"0 "`` prefix.
    source : str, optional
        Name of the text's origin, used in error messages.
    duplicates : {"latest", "error"}
        A catalogue number listed more than once: keep the element set with the latest epoch
        (at the position of the first listing) and emit a :class:`TLEWarning` naming the
        number and lines, or raise :class:`TLEError`.

    Returns
    -------
    names : list of str
        Satellite names: the name line, or the catalogue number for 2-line entries.
    satrecs : list of Satrec
        Initialised SGP4 element sets, in file order, one per catalogue number.

    Raises
    ------
    TLEError
        On the first problem: a line of the wrong length, a line not starting with ``"1 "`` /
        ``"2 "`` where one is expected, a bad checksum, a malformed or out-of-range number,
        different satellite numbers on lines 1 and 2, a name line without a TLE, or an error
        from sgp4's parser or initialisation.  The message names the 1-based line number.

    Examples
    --------
    >>> names, sats = parse_tles(open("my_constellation.tle").read())  # doctest: +SKIP
    """
    if duplicates not in ("latest", "error"):
        raise ValueError(f"duplicates must be 'latest' or 'error', got {duplicates!r}")
    lines = [(k + 1, raw.rstrip()) for k, raw in enumerate(text.splitlines())]
    lines = [(k, ln) for k, ln in lines if ln]
    names: list[str] = []
    sats: list[Satrec] = []
    first_line: dict[str, int] = {}  # catalogue number -> line of its first listing
    where: dict[str, int] = {}  # catalogue number -> index in names / sats
    i = 0
    while i < len(lines):
        name: str | None = None
        lineno, line = lines[i]
        if not line.startswith(("1 ", "2 ")):
            if _looks_like_tle_line(line):
                raise TLEError(
                    source, lineno, f"TLE line must start with '1 ' or '2 ', got {line[:2]!r}"
                )
            name_lineno = lineno
            name = line[2:].strip() if line.startswith("0 ") else line.strip()
            i += 1
            if i == len(lines):
                raise TLEError(source, name_lineno, f"name line {name!r} is not followed by a TLE")
            lineno, line = lines[i]
            if not line.startswith("1 ") and not _looks_like_tle_line(line):
                raise TLEError(
                    source,
                    lineno,
                    f"expected TLE line 1 after name line {name_lineno}, got {line[:20]!r}",
                )
        if line.startswith("2 "):
            raise TLEError(source, lineno, "TLE line 2 without a preceding line 1")
        _check_line(line, "1", lineno, source)
        if i + 1 == len(lines):
            raise TLEError(source, lineno, "TLE line 1 is not followed by line 2")
        lineno2, line2 = lines[i + 1]
        if not line2.startswith("2 ") and not _looks_like_tle_line(line2):
            raise TLEError(
                source,
                lineno2,
                f"expected TLE line 2 after line 1 (line {lineno}), got {line2[:20]!r}",
            )
        _check_line(line2, "2", lineno2, source)
        if line[2:7] != line2[2:7]:
            raise TLEError(
                source,
                lineno2,
                f"satellite number {line2[2:7].strip()!r} on line 2 differs "
                f"from {line[2:7].strip()!r} on line 1 (line {lineno})",
            )
        try:
            sat = Satrec.twoline2rv(line, line2)
        except Exception as exc:  # sgp4 raises ValueError and others on malformed input
            raise TLEError(
                source, lineno, f"sgp4 cannot parse the TLE on lines {lineno}-{lineno2}: {exc}"
            ) from exc
        if sat.error:
            raise TLEError(
                source,
                lineno,
                f"sgp4 rejects the TLE on lines {lineno}-{lineno2}: error "
                f"{sat.error}: {SGP4_ERRORS.get(sat.error, 'unknown error')}",
            )
        satnum = line[2:7].strip()
        i += 2
        if satnum in where:
            if duplicates == "error":
                raise TLEError(
                    source,
                    lineno,
                    f"duplicate satellite {satnum}: already listed at line {first_line[satnum]}",
                )
            j = where[satnum]
            newer = satrec_epoch(sat) > satrec_epoch(sats[j])
            warnings.warn(
                f"{source}: satellite {satnum} is listed again at line {lineno} (first at line "
                f"{first_line[satnum]}); keeping the element set with the latest epoch "
                f"({'line ' + str(lineno) if newer else 'line ' + str(first_line[satnum])})",
                TLEWarning,
                stacklevel=2,
            )
            if newer:
                names[j], sats[j] = (name if name else satnum), sat
            continue
        first_line[satnum], where[satnum] = lineno, len(sats)
        names.append(name if name else satnum)
        sats.append(sat)
    return names, sats


def satrec_epoch(sat: Satrec) -> datetime:
    """Epoch of an element set as an aware UTC datetime (microsecond resolution)."""
    jd = (sat.jdsatepoch - 2440587.5) + sat.jdsatepochF  # days since 1970-01-01T00:00 UTC
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=jd)


def check_epoch_age(
    satrecs: Sequence[Satrec],
    epoch: datetime,
    names: Sequence[str] | None = None,
    *,
    span_s: float = 0.0,
    warn_days: float = TLE_WARN_AGE_DAYS,
    max_days: float = TLE_MAX_AGE_DAYS,
    source: str = "<TLE>",
) -> float:
    """Compare element-set epochs with the episode ``[epoch, epoch + span_s]``.

    Parameters
    ----------
    satrecs : sequence of Satrec
        Element sets.
    epoch : datetime
        Start of the episode (naive: UTC).
    names : sequence of str, optional
        Satellite names for the messages.
    span_s : float
        Length of the episode (plus any random start shift) [s], >= 0.
    warn_days, max_days : float
        Gap [days] above which a :class:`TLEWarning` is emitted / a :class:`TLEError` raised
        (defaults :data:`TLE_WARN_AGE_DAYS`, :data:`TLE_MAX_AGE_DAYS`).
    source : str
        File name for the messages.

    Returns
    -------
    float
        The largest gap between an element set's epoch and the episode [days].

    Raises
    ------
    TLEError
        When some gap exceeds ``max_days`` (the message names the satellite and its epoch).
    """
    if not 0 <= span_s < float("inf"):
        raise ValueError(f"span_s must be finite and >= 0 [s], got {span_s}")
    if not 0 < warn_days <= max_days < float("inf"):
        raise ValueError(f"need 0 < warn_days <= max_days < inf, got {warn_days}, {max_days}")
    if epoch.tzinfo is None:
        epoch = epoch.replace(tzinfo=UTC)
    end = epoch + timedelta(seconds=span_s)
    worst, worst_i = 0.0, -1
    for i, sat in enumerate(satrecs):
        t = satrec_epoch(sat)
        gap_s = (epoch - t).total_seconds() if t < epoch else max(0.0, (t - end).total_seconds())
        gap = gap_s / 86400.0
        if gap > worst:
            worst, worst_i = gap, i
    if worst_i < 0:
        return 0.0
    who = names[worst_i] if names is not None else f"#{worst_i}"
    when = satrec_epoch(satrecs[worst_i]).isoformat(timespec="seconds")
    msg = (
        f"element set of {who} has epoch {when}, {worst:.1f} days from the episode "
        f"starting {epoch.isoformat(timespec='seconds')}"
    )
    if worst > max_days:
        raise TLEError(source, 0, f"{msg}; refused above {max_days:g} days (set the scenario "
                                  "epoch near the TLE epochs or use fresher TLEs)")
    if worst > warn_days:
        warnings.warn(f"{source}: {msg} (SGP4 accuracy degrades; warning above {warn_days:g} days)",
                      TLEWarning, stacklevel=2)
    return worst


def read_tle_file(
    path: str | PathLike[str], duplicates: str = "latest"
) -> tuple[list[str], list[Satrec]]:
    """Read and check a TLE file (see :func:`parse_tles`).

    Parameters
    ----------
    path : str or path-like
        File in 2-line or 3-line format.
    duplicates : {"latest", "error"}
        Handling of a catalogue number listed twice (see :func:`parse_tles`).

    Returns
    -------
    names : list of str
        Satellite names.
    satrecs : list of Satrec
        SGP4 element sets.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    TLEError
        If the file is malformed (message names the file and line).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"TLE file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TLEError(str(p), 1, f"file is not UTF-8/ASCII text: {exc}") from exc
    return parse_tles(text, source=str(p), duplicates=duplicates)


def export_tles(satrecs: Sequence[Satrec], names: Sequence[str]) -> str:
    """Write element sets as 3-line TLE text (name line, line 1, line 2 per satellite).

    Parameters
    ----------
    satrecs : sequence of Satrec
        Element sets (e.g. from :func:`leo_env.core.orbit.walker_satrecs`).
    names : sequence of str
        One name per satellite, written as the name line.

    Returns
    -------
    str
        TLE text ending with a newline; :func:`parse_tles` reads it back.
    """
    if len(satrecs) != len(names):
        raise ValueError(f"got {len(names)} names for {len(satrecs)} satrecs")
    out: list[str] = []
    for k, (sat, name) in enumerate(zip(satrecs, names, strict=True)):
        name = str(name).strip()
        if not name or "\n" in name or "\r" in name:
            raise ValueError(f"names[{k}] must be a non-empty single line, got {name!r}")
        if _looks_like_tle_line(name) or name.startswith(("1 ", "2 ")):
            raise ValueError(f"names[{k}] would be read back as a TLE line: {name!r}")
        line1, line2 = export_tle(sat)
        out.extend((name, line1, line2))
    return "\n".join(out) + "\n"
