"""Read, check and write two-line element sets (TLE) for SGP4.

The suite never downloads TLEs: users supply a file (Celestrak / Space-Track style, 2-line or
3-line with name lines) and tests use synthetic ones (:func:`leo_env.core.orbit.walker_satrecs`
written out with :func:`export_tles`).

:func:`parse_tles` checks every line before handing it to :mod:`sgp4`, because sgp4's fast
parser silently turns malformed numbers into zeros.  Every problem is reported as a
:class:`TLEError` naming the source, the 1-based line number in the file and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

from sgp4.api import SGP4_ERRORS, Satrec
from sgp4.exporter import export_tle

__all__ = ["TLEError", "tle_checksum", "parse_tles", "read_tle_file", "export_tles"]

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
        1-based line number in the source.
    reason : str
        What is wrong.
    """

    def __init__(self, source: str, lineno: int, reason: str) -> None:
        self.source = source
        self.lineno = lineno
        self.reason = reason
        super().__init__(f"{source}: line {lineno}: {reason}")


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


def parse_tles(text: str, source: str = "<string>") -> tuple[list[str], list[Satrec]]:
    """Parse and check TLE text in 2-line or 3-line (name line first) format.

    Parameters
    ----------
    text : str
        TLE text.  Blank lines are ignored, trailing whitespace is stripped, and 2-line and
        3-line entries may be mixed.  Name lines may carry Celestrak's ``"0 "`` prefix.
    source : str, optional
        Name of the text's origin, used in error messages.

    Returns
    -------
    names : list of str
        Satellite names: the name line, or the catalogue number for 2-line entries.
    satrecs : list of Satrec
        Initialised SGP4 element sets, in file order.

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
    lines = [(k + 1, raw.rstrip()) for k, raw in enumerate(text.splitlines())]
    lines = [(k, ln) for k, ln in lines if ln]
    names: list[str] = []
    sats: list[Satrec] = []
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
        names.append(name if name else line[2:7].strip())
        sats.append(sat)
        i += 2
    return names, sats


def read_tle_file(path: str | PathLike[str]) -> tuple[list[str], list[Satrec]]:
    """Read and check a TLE file (see :func:`parse_tles`).

    Parameters
    ----------
    path : str or path-like
        File in 2-line or 3-line format.

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
    return parse_tles(text, source=str(p))


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
