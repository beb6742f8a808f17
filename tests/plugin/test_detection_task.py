"""What a failed detection task keeps of its exception."""

from __future__ import annotations

from deal_qgis.detection_task import _without_frames


def _raise_chained() -> BaseException:
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise ValueError("outer") from inner
    except ValueError as exc:
        return exc


def test_a_kept_error_holds_no_frames_along_its_chain():
    exc = _raise_chained()
    assert exc.__traceback__ is not None and exc.__cause__.__traceback__ is not None
    kept = _without_frames(exc)
    assert kept is exc and str(kept) == "outer" and isinstance(kept.__cause__, KeyError)
    assert kept.__traceback__ is None and kept.__cause__.__traceback__ is None and kept.__context__.__traceback__ is None


def test_a_cycle_in_the_chain_ends():
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    assert _without_frames(first) is first
