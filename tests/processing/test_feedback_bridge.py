"""FeedbackBridge: engine progress lands in the Processing feedback's range, one log line per stage."""

from __future__ import annotations

import pytest
from qgis.core import QgsProcessingException, QgsProcessingFeedback

from deal_qgis.processing.feedback_bridge import FeedbackBridge, run_with_analyst_errors
from engine.errors import CancelledError, PromptOutsideRasterError


class RecordingFeedback(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.infos: list[str] = []
        self.texts: list[str] = []

    def pushInfo(self, info: str) -> None:
        self.infos.append(info)

    def setProgressText(self, text: str) -> None:
        self.texts.append(text)


def test_progress_maps_into_range_and_logs_each_stage_once():
    feedback = RecordingFeedback()
    bridge = FeedbackBridge(feedback, 10.0, 90.0)
    for i in range(3):
        bridge.progress(i / 4, f"encoding tile {i + 1}/4")
    bridge.progress(0.75, "detecting tile 1/4")
    bridge.progress(1.5, "merging")
    assert feedback.infos == ["encoding tile 1/4", "detecting tile 1/4", "merging"]
    assert feedback.texts == ["encoding tile 2/4", "encoding tile 3/4"]
    assert feedback.progress() == pytest.approx(90.0)
    bridge.progress(0.5, "")
    assert feedback.progress() == pytest.approx(50.0)


def test_cancel_follows_the_feedback():
    feedback = QgsProcessingFeedback()
    bridge = FeedbackBridge(feedback)
    assert not bridge.cancel()
    feedback.cancel()
    assert bridge.cancel()


@pytest.mark.parametrize("error", [PromptOutsideRasterError("the click at (5, 5) is outside"),
                                   CancelledError("cancelled by the user; nothing was written"),
                                   QgsProcessingException("The raster 'x' has no CRS")])
def test_errors_come_out_as_processing_errors_with_the_message_only(error):
    def failing_run() -> dict:
        raise error

    with pytest.raises(QgsProcessingException) as raised:
        run_with_analyst_errors(failing_run)
    assert str(raised.value) == str(error)
    assert raised.value.__context__ is None and raised.value.__cause__ is None
    assert "failing_run" not in [entry.name for entry in raised.traceback]


def test_results_pass_through_and_bugs_keep_their_traceback_as_text():
    assert run_with_analyst_errors(lambda: {"DETECTIONS": 3}) == {"DETECTIONS": 3}
    with pytest.raises(QgsProcessingException, match=r"(?s)Traceback.*1 / 0.*ZeroDivisionError") as raised:
        run_with_analyst_errors(lambda: 1 / 0)
    assert raised.value.__context__ is None
