"""``make bench`` end to end on a small scene with the tiny model: it must not rot between the
long runs it is meant for (the figures themselves are reported, not asserted)."""

from __future__ import annotations

import json

from engine import bench
from engine.views import MAX_VIEWS


def test_bench_runs_and_reports_every_measure(tiny_model_dir, tmp_path, capsys):
    assert bench.main(["--out", str(tmp_path), "--size", "1024", "--rss-size", "0", "--tile", "256",
                       "--tile-repeats", "1", "--rounds", "2", "--model", str(tiny_model_dir)]) == 0
    report = json.loads((tmp_path / "bench.json").read_text())
    tile, pipe = report["tile"], report["pipeline"]
    assert tile["encoder_ms"] > 0 and tile["head_ms_1_prompts"] > 0 and tile["head_ms_10_prompts"] > 0
    for n in (1, 10):  # the head as run over a scene: side by side, per tile
        assert tile[f"head_ms_{n}_prompts_side_by_side"] > 0
        assert tile[f"head_fraction_of_encoder_{n}_prompts_side_by_side"] == tile[f"head_ms_{n}_prompts_side_by_side"] / tile["encoder_ms"]
    assert pipe["rounds"] == 2 and len(pipe["overhead_per_round"]) == 2
    assert pipe["first_encoder_calls"] == pipe["tiles"] > 1  # the first pass encodes every tile once
    assert pipe["reprompt_encoder_calls"] == 0  # re-prompts never re-run the encoder
    assert pipe["pipeline_overhead"] in [r for r in pipe["overhead_per_round"]]  # the median round
    views = report["views"]  # each view encodes the scene's tiles; a re-prompt encodes none
    n = views["views"]
    assert n == MAX_VIEWS and views[f"encoder_calls_{n}"] == n * views["encoder_calls_1"] == n * pipe["tiles"]
    assert views["first_pass_ratio"] == views[f"first_pass_s_{n}"] / views["first_pass_s_1"] > 1
    table = capsys.readouterr().out
    assert "side by side (as over a scene)" in table and "| first pass, 1024² scene |" in table and "re-prompt, one new category clicked" in table
    assert f"| {n} test-time views vs 1, first pass / re-prompt |" in table
