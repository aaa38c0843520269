"""TLE parsing, checking and export (synthetic TLEs only: real snapshots are not redistributable)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from sgp4.io import compute_checksum

import leo_env.core.tle as tle_mod
from leo_env.core.orbit import Constellation, WalkerShell, propagate_teme, walker_satrecs
from leo_env.core.tle import TLEError, export_tles, parse_tles, read_tle_file, tle_checksum

EPOCH = datetime(2024, 3, 1, 6, 0, 0)


def _checksum(line: str) -> int:
    return sum(int(c) if c.isdigit() else int(c == "-") for c in line[:68]) % 10


def _fix(line: str) -> str:
    """Recompute the checksum so that only the intended defect remains."""
    return line[:68] + str(_checksum(line))


def _put(line: str, col: int, text: str) -> str:
    """Overwrite ``text`` at 1-based column ``col`` and fix the checksum."""
    return _fix(line[: col - 1] + text + line[col - 1 + len(text) :])


@pytest.fixture(scope="module")
def base_lines() -> list[str]:
    """Two synthetic satellites in 3-line format, with blank lines; file lines are 1-based:
    1 blank, 2 name A, 3 line 1 A, 4 line 2 A, 5 blank, 6 name B, 7 line 1 B, 8 line 2 B."""
    shell = WalkerShell("syn", 53.0, 2, 2, 1, 550.0, raan0_deg=12.5, arg_lat0_deg=33.0)
    sats = walker_satrecs(shell, EPOCH, satnum_start=44713)
    lines = export_tles(sats, ["SAT-A", "SAT-B"]).splitlines()
    return ["", *lines[:3], "", *lines[3:]]


Edit = Callable[[list[str]], list[str]]


def _edit(lineno: int, fn: Callable[[str], str]) -> Edit:
    def apply(lines: list[str]) -> list[str]:
        out = list(lines)
        out[lineno - 1] = fn(out[lineno - 1])
        return out

    return apply


MALFORMED: list[tuple[str, Edit, int, str]] = [
    ("bad-checksum", _edit(7, lambda s: s[:68] + str((int(s[68]) + 1) % 10)), 7, "bad checksum"),
    ("checksum-not-digit", _edit(3, lambda s: s[:68] + "X"), 3, "checksum character"),
    ("too-short", _edit(4, lambda s: s[:20] + s[21:]), 4, "68 characters"),
    ("too-long", _edit(3, lambda s: s + "0"), 3, "70 characters"),
    ("line2-numbered-3", _edit(4, lambda s: _put(s, 1, "3")), 4, "expected TLE line 2"),
    ("line1-numbered-3", _edit(7, lambda s: _put(s, 1, "3")), 7, "expected TLE line 1"),
    ("lines-swapped", lambda ls: [*ls[:2], ls[3], ls[2], *ls[4:]], 3, "line 2 without"),
    ("satnum-mismatch", _edit(8, lambda s: _put(s, 3, "44799")), 8, "satellite number"),
    ("satnum-garbage", _edit(3, lambda s: _put(s, 3, "4a713")), 3, "satellite number"),
    ("epoch-garbage", _edit(7, lambda s: _put(s, 21, "0x1")), 7, "epoch day"),
    ("epoch-day-zero", _edit(7, lambda s: _put(s, 21, "000.00000000")), 7, "epoch day"),
    ("bstar-garbage", _edit(3, lambda s: _put(s, 54, "1.3e-04 ")), 3, "BSTAR"),
    ("ndot-garbage", _edit(7, lambda s: _put(s, 34, " .00abc000")), 7, "first derivative"),
    ("inclination-garbage", _edit(4, lambda s: _put(s, 9, " 5x.0000")), 4, "inclination"),
    ("inclination-range", _edit(8, lambda s: _put(s, 9, "190.0000")), 8, "inclination"),
    ("raan-range", _edit(4, lambda s: _put(s, 18, "361.0000")), 4, "ascending node"),
    ("eccentricity-garbage", _edit(8, lambda s: _put(s, 27, "00a0000")), 8, "eccentricity"),
    ("eccentricity-decimal", _edit(8, lambda s: _put(s, 27, "0.00100")), 8, "eccentricity"),
    ("mean-motion-garbage", _edit(4, lambda s: _put(s, 53, "15.05.9064")), 4, "mean motion"),
    ("mean-motion-zero", _edit(4, lambda s: _put(s, 53, " 0.00000000")), 4, "mean motion"),
    ("revnum-garbage", _edit(8, lambda s: _put(s, 64, "  x  ")), 8, "revolution number"),
    ("non-ascii", _edit(3, lambda s: s[:9] + "é" + s[10:]), 3, "non-ASCII"),
    ("missing-line2-at-eof", lambda ls: ls[:7], 7, "not followed by line 2"),
    ("line1-then-name", lambda ls: [*ls[:3], "SAT-X", *ls[4:]], 4, "expected TLE line 2"),
    ("two-name-lines", lambda ls: [*ls[:2], "SAT-X", *ls[2:]], 3, "expected TLE line 1"),
    ("name-at-eof", lambda ls: [*ls, "SAT-C"], 9, "not followed by a TLE"),
    ("stray-tle-like-line", lambda ls: [*ls, _put(ls[7], 1, "7")], 9, "must start with"),
]


@pytest.mark.parametrize(
    ("edit", "lineno", "reason"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED]
)
def test_malformed_tle_names_the_line(
    base_lines: list[str], edit: Edit, lineno: int, reason: str
) -> None:
    text = "\n".join(edit(base_lines)) + "\n"
    with pytest.raises(TLEError, match=f"line {lineno}: .*{reason}") as info:
        parse_tles(text, source="mine.tle")
    assert info.value.lineno == lineno
    assert info.value.source == "mine.tle"
    assert str(info.value).startswith("mine.tle: line ")
    assert isinstance(info.value, ValueError)


def test_base_text_parses(base_lines: list[str]) -> None:
    names, sats = parse_tles("\n".join(base_lines))
    assert names == ["SAT-A", "SAT-B"]
    assert [s.satnum for s in sats] == [44713, 44714]


def test_two_line_format_whitespace_crlf_and_celestrak_prefix(base_lines: list[str]) -> None:
    two_line = "\n".join([base_lines[2], base_lines[3], base_lines[6], base_lines[7]])
    names, sats = parse_tles(two_line)
    assert names == ["44713", "44714"] and len(sats) == 2
    messy = "\r\n".join(
        [
            "",
            "0 SAT-A   ",
            base_lines[2] + "   ",
            base_lines[3] + "\t",
            "",
            "",
            base_lines[6],
            base_lines[7],
            "   ",
        ]
    )
    names, sats = parse_tles(messy)
    assert names == ["SAT-A", "44714"]
    assert parse_tles("") == ([], [])


def test_checksum_matches_sgp4_reference(base_lines: list[str]) -> None:
    tle_lines = [ln for ln in base_lines if ln.startswith(("1 ", "2 "))]
    assert len(tle_lines) == 4
    for line in tle_lines:
        assert tle_checksum(line) == compute_checksum(line[:68]) == int(line[68])
    assert tle_checksum("1 -----" + " " * 61) == 6  # '1' + five '-'


def test_sgp4_parser_failure_is_wrapped(
    base_lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        @staticmethod
        def twoline2rv(line1: str, line2: str) -> None:
            raise ValueError("boom")

    monkeypatch.setattr(tle_mod, "Satrec", Broken)
    with pytest.raises(TLEError, match=r"line 3: sgp4 cannot parse the TLE on lines 3-4: boom"):
        parse_tles("\n".join(base_lines))


def test_walker_shells_round_trip_through_tle_text(tmp_path: Path) -> None:
    c = Constellation(
        (
            WalkerShell("lo", 53.0, 12, 3, 1, 550.0, raan0_deg=7.77777, arg_lat0_deg=1.234567),
            WalkerShell("polar", 87.9, 6, 2, 1, 1200.0),
            WalkerShell("retro", 97.6, 4, 4, 3, 700.0, raan0_deg=359.99999),
        )
    )
    epoch = datetime(2024, 3, 1, 6, 12, 34, 567891)  # sub-millisecond on purpose
    sats = walker_satrecs(c, epoch)
    text = export_tles(sats, c.names)
    path = tmp_path / "walker.tle"
    path.write_text(text)
    names, back = read_tle_file(path)
    assert names == list(c.names)
    t = np.linspace(0.0, 3 * 3600.0, 37)
    r0 = propagate_teme(sats, epoch, t)
    r1 = propagate_teme(back, epoch, t)
    assert np.linalg.norm(r0 - r1, axis=-1).max() < 1.0  # metres
    # And once more: the text is a fixed point of export -> parse -> export.
    assert export_tles(back, names) == text


def test_read_tle_file_errors(tmp_path: Path, base_lines: list[str]) -> None:
    missing = tmp_path / "nope.tle"
    with pytest.raises(FileNotFoundError, match="nope.tle"):
        read_tle_file(missing)
    bad = tmp_path / "bad.tle"
    lines = list(base_lines)
    lines[7] = lines[7][:68] + str((int(lines[7][68]) + 1) % 10)
    bad.write_text("\n".join(lines))
    with pytest.raises(TLEError, match=r"bad\.tle: line 8: bad checksum"):
        read_tle_file(bad)


def test_export_tles_validates_names() -> None:
    sats = walker_satrecs(WalkerShell("x", 53.0, 2, 1, 0, 550.0), EPOCH)
    with pytest.raises(ValueError, match="2 satrecs"):
        export_tles(sats, ["only-one"])
    with pytest.raises(ValueError, match="single line"):
        export_tles(sats, ["a", "b\nc"])
    with pytest.raises(ValueError, match="read back as a TLE line"):
        export_tles(sats, ["a", "1 b"])
