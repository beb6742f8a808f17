"""DEAL model parts: shapes, RoI sampling, the count-to-queries rule, export and torch/ONNX parity."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.exemplars import bilinear_sample  # noqa: E402
from engine.model.config import ModelConfig  # noqa: E402
from engine.model.deal import PromptHeadExport, build, sample_exemplars  # noqa: E402
from engine.model.density_head import queries_for_count  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    cfg = ModelConfig(backbone="tiny", tile_size=256, overlap=32, num_queries=50)
    enc, head = build(cfg, pretrained=False)
    return cfg, enc.eval(), head.eval()


def test_encoder_and_head_shapes(tiny):
    cfg, enc, head = tiny
    with torch.no_grad():
        p8, p16, p32, size = enc(torch.rand(1, 3, 256, 320))
        assert p8.shape == (1, cfg.dim, 32, 40) and p16.shape == (1, cfg.dim, 16, 20) and p32.shape == (1, cfg.dim, 8, 10)
        assert size.shape == (1, 2, 32, 40)
        ex = torch.randn(3, 2, cfg.dim)
        mask = torch.tensor([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
        density, count_density, boxes, scores, valid, count = PromptHeadExport(head)(p8, p16, p32, ex, mask)
    assert density.shape == (3, 32, 40) and count_density.shape == (3, 32, 40)
    # density-guided query assignment: the decoder runs as many queries as the densest set needs
    per_set = queries_for_count(count, cfg.min_queries, cfg.num_queries)
    q = int(per_set.max())
    assert boxes.shape == (3, q, 4) and scores.shape == (3, q) and valid.shape == (3, q) and count.shape == (3,)
    assert valid.sum(1).tolist() == per_set.tolist()
    assert torch.all((density >= 0) & (density <= 1)) and torch.all(count_density >= 0)
    assert torch.all(boxes[..., 2] >= boxes[..., 0]) and torch.all(boxes[..., 3] >= boxes[..., 1])


def test_padded_points_do_not_change_a_prompt_set(tiny):
    cfg, enc, head = tiny
    with torch.no_grad():
        p8, p16, p32, _ = enc(torch.rand(1, 3, 256, 256))
        ex = torch.randn(1, 1, cfg.dim)
        a = PromptHeadExport(head)(p8, p16, p32, ex, torch.ones(1, 1))
        padded = torch.cat([ex, torch.randn(1, 2, cfg.dim) * 50], 1)
        b = PromptHeadExport(head)(p8, p16, p32, padded, torch.tensor([[1.0, 0.0, 0.0]]))
    assert torch.allclose(a[0], b[0], atol=1e-4)  # density ignores padded points
    assert torch.allclose(a[3], b[3], atol=1e-4)


def test_roi_sampling_matches_hand_computed_value():
    # 2x3 map, stride 8: cell (i, j) is centred on pixel ((j+0.5)*8, (i+0.5)*8)
    fmap = np.array([[[0.0, 10.0, 20.0], [30.0, 40.0, 50.0]]], np.float32)  # (C=1, h=2, w=3)
    # pixel (14, 8): fx = 14/8 - 0.5 = 1.25, fy = 8/8 - 0.5 = 0.5
    # -> between cells (0,1),(0,2),(1,1),(1,2): 10*.75*.5 + 20*.25*.5 + 40*.75*.5 + 50*.25*.5 = 27.5
    expected = 27.5
    got_np = bilinear_sample(fmap, np.array([[14.0, 8.0]]), 8)
    got_torch = sample_exemplars(torch.from_numpy(fmap)[None], torch.tensor([[14.0, 8.0]]), 8)
    assert got_np[0, 0] == pytest.approx(expected)
    assert float(got_torch[0, 0]) == pytest.approx(expected)
    # beyond the outermost cell centres: the border value
    assert bilinear_sample(fmap, np.array([[0.0, 0.0]]), 8)[0, 0] == pytest.approx(0.0)
    assert bilinear_sample(fmap, np.array([[24.0, 16.0]]), 8)[0, 0] == pytest.approx(50.0)


def test_numpy_and_torch_sampling_agree_on_random_points():
    rng = np.random.default_rng(1)
    fmap = rng.normal(size=(5, 7, 9)).astype(np.float32)
    pts = rng.uniform(-4, 80, size=(20, 2)).astype(np.float32)
    a = bilinear_sample(fmap, pts, 8)
    b = sample_exemplars(torch.from_numpy(fmap)[None], torch.from_numpy(pts), 8).numpy()
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("count, expected", [(0.0, 10), (4.0, 16), (10.2, 26), (500.0, 300)])
def test_count_to_queries_rule(count, expected):
    n = queries_for_count(torch.tensor([count]), q_min=10, q_max=300)
    assert int(n[0]) == expected


def test_onnx_export_round_trip_and_parity(tiny_model_dir):
    """Same inputs through torch and onnxruntime; tolerance 1e-3 absolute on features and scores
    (float32 accumulation order differs between the two runtimes, nothing else), 0.05 px on boxes."""
    import onnxruntime as ort

    from engine.model.deal import build as build_model
    from engine.runtime import load_model
    from engine.training.checkpoint import load_weights  # noqa: F401  (torch side only)

    model = load_model(tiny_model_dir, device="cpu")
    md = model.metadata
    assert md.name == "deal-tiny-test" and md.tile_size == 256 and md.stride == 8 and len(md.content_hash) == 16
    # rebuild the same torch weights the fixture exported (seeded) and compare
    torch.manual_seed(0)
    enc, head = build_model(ModelConfig(backbone="tiny", name="deal-tiny-test", tile_size=256, overlap=32, num_queries=100), pretrained=False)
    enc.eval(); head.eval()
    image = np.random.default_rng(0).random((3, 320, 288), dtype=np.float32)
    feats = model.encode(image)
    with torch.no_grad():
        t_p8, t_p16, t_p32, t_size = enc(torch.from_numpy(image)[None])
    np.testing.assert_allclose(feats.p8, t_p8.numpy(), atol=1e-3)
    np.testing.assert_allclose(feats.size, t_size.numpy(), atol=1e-3)
    ex = np.random.default_rng(1).normal(size=(2, 3, md.dim)).astype(np.float32)
    mask = np.array([[1, 1, 0], [1, 0, 0]], np.float32)
    out = model.predict(feats, ex, mask)
    with torch.no_grad():
        t = PromptHeadExport(head)(t_p8, t_p16, t_p32, torch.from_numpy(ex), torch.from_numpy(mask))
    np.testing.assert_allclose(out.density, t[0].numpy(), atol=1e-3)
    np.testing.assert_allclose(out.count, t[5].numpy(), rtol=1e-3)
    # queries come from a top-k over near-equal untrained logits, so their order may differ
    # between runtimes: compare the sets (sorted scores; every ONNX box has a torch twin)
    np.testing.assert_allclose(np.sort(out.scores, 1), np.sort(t[3].numpy(), 1), atol=1e-3)
    for k in range(2):
        dist = np.abs(out.boxes[k][:, None, :] - t[2].numpy()[k][None]).max(-1).min(1)
        assert np.quantile(dist, 0.95) < 0.05, dist.max()
    assert out.boxes.shape == t[2].shape  # the same density-guided number of queries
    assert ort.get_device() in ("CPU", "GPU")


def test_tiny_training_steps_lower_the_loss():
    """A few optimisation steps on one fixed synthetic crop must lower DEAL's loss."""
    from engine.training.losses import LossWeights, set_loss, size_loss

    torch.manual_seed(0)
    cfg = ModelConfig(backbone="tiny", tile_size=256, num_queries=40)
    enc, head = build(cfg, pretrained=False)
    rng = np.random.default_rng(3)
    img = rng.normal(0.45, 0.05, (3, 256, 256)).astype(np.float32)
    boxes = []
    for i in range(4):
        for j in range(3):
            x, y = 24 + i * 56, 30 + j * 70
            img[:, y:y + 14, x:x + 30] = rng.uniform(0.7, 0.95, (3, 1, 1))  # light car bodies
            boxes.append([x, y, x + 30, y + 14])
    boxes = np.array(boxes, np.float32)
    image = torch.from_numpy(img)[None]
    c = (boxes[0, :2] + boxes[0, 2:]) / 2
    opt = torch.optim.AdamW(list(enc.parameters()) + list(head.parameters()), lr=2e-3)
    losses = []
    for _ in range(25):
        p8, p16, p32, size = enc(image)
        ex = sample_exemplars(p8, torch.from_numpy(c)[None, None], 8)
        out = head(p8, p16, p32, ex, torch.ones(1, 1), num_queries=40)
        loss, _, _ = set_loss(out, 0, boxes, 8, LossWeights())
        loss = loss + size_loss(size[0], boxes, 8)
        opt.zero_grad(); loss.backward(); opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:3]), losses


def test_prompt_independent_work_runs_in_the_encoder_graph(tiny_model_dir, tmp_path):
    """The encoder graph ends with the head's preparation (format 2): the head graph reads its outputs
    and never p16/p32, and a folder whose encoder lacks them is refused with the remedy."""
    import shutil

    import onnx

    from engine.errors import ModelError
    from engine.model.deal import PREPARED
    from engine.model.export import _strip_preparation
    from engine.runtime import load_model

    model = load_model(tiny_model_dir, device="cpu")
    assert model.feature_names == PREPARED
    head_inputs = [i.name for i in onnx.load(str(tiny_model_dir / "prompt_head.onnx")).graph.input]
    assert head_inputs == ["p8", *PREPARED, "exemplars", "exemplar_mask"]
    feats = model.encode(np.random.default_rng(0).random((3, 256, 256), dtype=np.float32))
    assert set(feats.extra) == set(PREPARED)  # p16/p32 are neither fetched nor cached
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    enc = onnx.load(str(broken / "encoder.onnx"))
    _strip_preparation(enc.graph)
    onnx.save(enc, str(broken / "encoder.onnx"))
    with pytest.raises(ModelError, match="does not compute.*re-export"):
        load_model(broken, device="cpu")


@pytest.mark.parametrize("k", [1, 3])
def test_gather_sampling_equals_grid_sample(k):
    """The decoder's one-gather sampler reproduces grid_sample (bilinear, zeros, align_corners=False)
    on every level, weighted and summed as the attention does: level 0 one map per prompt set,
    the coarser levels shared by every set (their rows prepared once per tile)."""
    import torch.nn.functional as fn

    from engine.model.decoder import LevelStack, level_rows, sample_levels

    g = torch.Generator().manual_seed(0)
    hd, q, p, c = 4, 7, 5, 16
    sizes = [(12, 16), (6, 8), (3, 4)]  # strides 8, 16, 32 of a 96 x 128 tile
    values = [torch.randn(k if i == 0 else 1, c, h, w, generator=g) for i, (h, w) in enumerate(sizes)]
    loc = torch.rand(k, q, hd, len(sizes), p, 2, generator=g) * 1.4 - 0.2  # some points fall outside the maps
    weights = torch.rand(k, q, hd, len(sizes), p, generator=g)
    stack = LevelStack(values[0], level_rows(values[1:], hd), torch.zeros(k, q, c), hd, c, p)
    got = sample_levels(stack, loc[..., 0].reshape(k * q, -1), loc[..., 1].reshape(k * q, -1), weights.reshape(k * q, -1))
    want = 0
    for level, v in enumerate(values):
        full = v.expand(k, -1, -1, -1).reshape(k * hd, c // hd, *v.shape[-2:])
        grid = (loc[:, :, :, level] * 2 - 1).transpose(1, 2).reshape(k * hd, q, p, 2)
        s = fn.grid_sample(full, grid, mode="bilinear", padding_mode="zeros", align_corners=False).reshape(k, hd, c // hd, q, p)
        want = want + (s * weights[:, :, :, level].transpose(1, 2)[:, :, None]).sum(-1)  # (K,hd,c/hd,Q)
    torch.testing.assert_close(got.reshape(k, q, c), want.reshape(k, c, q).transpose(1, 2), atol=1e-5, rtol=1e-5)


def test_swin_backbone_option_exports_and_matches_torch(tmp_path):
    """The paper's backbone family is selectable by config: a small Swin variant builds, keeps
    strides 8/16/32, exports with dynamic tile sizes and runs in onnxruntime like in torch."""
    from engine.model.export import export_onnx
    from engine.runtime import load_model

    torch.manual_seed(0)
    cfg = ModelConfig(backbone="swin_nano", name="deal-swin-test", tile_size=256, overlap=32, num_queries=40)
    enc, head = build(cfg, pretrained=False)
    enc.eval(); head.eval()
    assert enc.backbone.channels == (64, 128, 256)
    swin_t = build(ModelConfig(backbone="swin_t"), pretrained=False)[0].backbone
    assert 25e6 < sum(p.numel() for p in swin_t.parameters()) < 30e6  # Swin-T's size (28 M with its head)
    model = load_model(export_onnx(enc, head, cfg, tmp_path / "swin", {"trained": False}), device="cpu")
    assert model.metadata.tile_multiple == 256
    for side in (256, 512):
        image = np.random.default_rng(side).random((3, side, side), dtype=np.float32)
        feats = model.encode(image)
        with torch.no_grad():
            p8, p16, p32, size = enc(torch.from_numpy(image)[None])
        assert feats.p8.shape == (1, cfg.dim, side // 8, side // 8) and feats.extra["context_k"].shape == (1, cfg.heads, (side // 32) ** 2, cfg.dim // cfg.heads)
        np.testing.assert_allclose(feats.p8, p8.numpy(), atol=2e-3)
        np.testing.assert_allclose(feats.size, size.numpy(), atol=2e-3)
    from engine.errors import SettingsError
    from engine.raster_source import ArraySource
    from engine.session import Session

    with pytest.raises(SettingsError, match="multiple of 256"):
        Session(ArraySource(np.zeros((3, 300, 300), np.float32)), model, tile_size=320)


@pytest.mark.parametrize("cos_context", [False, True])
def test_folded_correlation_equals_its_definition(cos_context):
    """The eval-mode Correlation (gate and batch norm folded into one set of weights, F shared by
    the sets) equals the fusion written out: conv(cat[F * gate, T*cos_max, T*cos_mean]) -> BN -> act
    (with ``cos_context``, also ReLU(conv3x3(T*[cos_max, cos_mean])) in the concatenation); the
    training-mode path computes the same with the batch norm's running statistics frozen."""
    import torch.nn.functional as fn

    from engine.model.point_prompt import Correlation, inverse_norm

    torch.manual_seed(3)
    corr = Correlation(16, cos_context=cos_context, context=not cos_context)
    with torch.no_grad():  # non-trivial batch-norm statistics
        bn = corr.fuse[0][1]
        bn.running_mean.uniform_(-0.5, 0.5); bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5); bn.bias.uniform_(-0.3, 0.3)
    corr.eval()
    f = torch.randn(1, 16, 7, 9)
    kernels = torch.randn(2, 3, 16)
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    with torch.no_grad():
        got = corr(f, kernels, mask, inverse_norm(f))
        cos = torch.einsum("kmc,chw->kmhw", fn.normalize(kernels, dim=-1), fn.normalize(f[0], dim=0))
        cos_max = torch.stack([cos[0, :2].amax(0), cos[1, :1].amax(0)])[:, None]
        cos_mean = torch.stack([cos[0, :2].mean(0), cos[1, :1].mean(0)])[:, None]
        mean_kernel = torch.stack([kernels[0, :2].mean(0), kernels[1, :1].mean(0)])
        gate = torch.sigmoid(corr.gate(mean_kernel))
        x = torch.cat([f * gate[:, :, None, None], corr.temperature * cos_max, corr.temperature * cos_mean], 1)
        if cos_context:
            around = fn.relu(fn.conv2d(x[:, -2:], corr.cos_context.weight, corr.cos_context.bias, padding=1))
            assert float(around.abs().max()) > 0  # the context is really part of the fusion
            x = torch.cat([x, around], 1)
        want = corr.fuse(x) + f
        corr.train()  # the training path (unfolded), its batch norms with frozen statistics
        for module in corr.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.eval()
        trained_path = corr(f, kernels, mask, inverse_norm(f))
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(trained_path, want, atol=1e-5, rtol=1e-5)


def test_a_models_own_score_threshold_is_exported_read_and_used(tmp_path):
    """`deal export --score-threshold` writes it into the graphs; the engine keeps and counts
    detections from it unless told otherwise; bad values are refused at export and at load."""
    from engine.errors import ModelError
    from engine.model.export_command import run as export_run
    from engine.prompts import PointPrompt
    from engine.raster_source import ArraySource
    from engine.runtime import load_model
    from engine.session import Session

    def export(out, threshold):
        args = type("A", (), dict(checkpoint=None, out=str(out), untrained=True, tiny=True, min_queries=None, model_version=None,
                                  head_source="decoder", encoder_from=None, score_threshold=threshold))
        torch.manual_seed(0)  # random weights, but the same ones in every run (some of them score above 0.55)
        return export_run(args)

    assert export(tmp_path / "plain", None) == 0 and export(tmp_path / "own", 0.55) == 0
    plain, own = load_model(tmp_path / "plain", device="cpu"), load_model(tmp_path / "own", device="cpu")
    assert plain.metadata.score_threshold == 0.3 and own.metadata.score_threshold == 0.55
    image = np.random.default_rng(0).random((3, 256, 256)).astype(np.float32)
    click = [PointPrompt(128.0, 128.0, "thing")]
    by_default = Session(ArraySource(image), own).detect(click)
    low = Session(ArraySource(image), own).detect(click, score_threshold=0.0)  # random weights score ~0.01: keep all
    assert (by_default.scores >= 0.55).all() and len(low.scores) > len(by_default.scores)
    with pytest.raises(ModelError, match="between 0 and 1"):
        export(tmp_path / "bad", 1.2)
    assert not (tmp_path / "bad").exists()
    _assert_refused_when_hand_edited(tmp_path / "own", "score_threshold", "lots")


def test_a_views_score_threshold_is_written_into_a_model_folder_and_used_with_views(tmp_path):
    """`deal export MODEL_DIR --views-score-threshold S` rewrites only that setting (graphs, outputs and
    content hash unchanged; the source folder untouched); a session searching several views keeps
    and counts fused detections from it by default, one view from the model's score threshold."""
    from engine.errors import ModelError
    from engine.model.export_command import run as export_run
    from engine.prompts import PointPrompt
    from engine.raster_source import ArraySource
    from engine.runtime import load_model
    from engine.session import Session

    def export(source, out, score=None, views_score=None):
        args = type("A", (), dict(checkpoint=source, out=str(out), untrained=source is None, tiny=True, min_queries=None,
                                  model_version=None, head_source="decoder", encoder_from=None, score_threshold=score,
                                  views_score_threshold=views_score))
        torch.manual_seed(0)  # random weights, but the same ones in every run
        return export_run(args)

    assert export(None, tmp_path / "plain", score=0.3) == 0
    assert export(str(tmp_path / "plain"), tmp_path / "tagged", views_score=1e-6) == 0
    plain, tagged = load_model(tmp_path / "plain", device="cpu"), load_model(tmp_path / "tagged", device="cpu")
    assert plain.metadata.views_score_threshold is None and plain.metadata.threshold(8) == 0.3
    assert tagged.metadata.views_score_threshold == 1e-6 and tagged.metadata.score_threshold == 0.3
    assert tagged.metadata.threshold(1) == 0.3 and tagged.metadata.threshold(2) == 1e-6
    assert tagged.model_id == plain.model_id
    image = np.random.default_rng(0).random((3, 256, 256)).astype(np.float32)
    feats = plain.encode(image)
    ex, mask = feats.p8[0, :, 10, 10][None, None].copy(), np.ones((1, 1), np.float32)
    np.testing.assert_array_equal(tagged.predict(feats, ex, mask).scores, plain.predict(feats, ex, mask).scores)
    click = [PointPrompt(128.0, 128.0, "thing")]
    by_default = Session(ArraySource(image), tagged, views=2).detect(click)
    at_views_threshold = Session(ArraySource(image), tagged, views=2).detect(click, score_threshold=1e-6)
    at_model_threshold = Session(ArraySource(image), tagged, views=2).detect(click, score_threshold=0.3)
    assert len(by_default) == len(at_views_threshold) > len(at_model_threshold)
    assert (by_default.scores >= 1e-6).all()
    assert (Session(ArraySource(image), tagged).detect(click).scores >= 0.3).all()
    with pytest.raises(ModelError, match="between 0 and 1"):
        export(str(tmp_path / "plain"), tmp_path / "bad", views_score=1.5)
    with pytest.raises(ModelError, match="give the settings"):
        export(str(tmp_path / "plain"), tmp_path / "bad")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="missing encoder.onnx"):
        export(str(tmp_path / "empty"), tmp_path / "bad", views_score=0.4)
    assert not (tmp_path / "bad").exists()
    _assert_refused_when_hand_edited(tmp_path / "tagged", "views_score_threshold", "some")


def _assert_refused_when_hand_edited(folder, key: str, value: str) -> None:
    """A model folder whose ``key`` metadata was hand-edited to nonsense fails to load, naming the key."""
    import onnx

    from engine.errors import ModelError
    from engine.model.export import ENCODER_FILE, HEAD_FILE, _add_metadata
    from engine.runtime import load_model

    for name in (ENCODER_FILE, HEAD_FILE):
        path = folder / name
        meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
        _add_metadata(path, {**meta, key: value})
    with pytest.raises(ModelError, match=key):
        load_model(folder, device="cpu")
