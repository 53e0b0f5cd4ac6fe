"""A folder in SCAN's precomp layout, written by the test (36 × 2048 float32 regions per image, 5 captions per image in
image order, a `testall` with COCO's 5-fold structure, a variant with each image's row repeated per caption), taken
from folder to recall through the `finealign` command: `train` on it, `eval --split testall --folds 5`."""
import json, os

import numpy as np
import pytest

from conftest import ROOT
from test_cli import finealign
from finealign.data.precomp import write_precomp, read_precomp

WORDS = ['dog', 'cat', 'red', 'blue', 'car', 'tree', 'man', 'ball', 'grass', 'sky', 'boat', 'house']

def regions(n, seed):
    "(n, 36, 2048) float32 regions: image i's regions lie near a direction of its own."
    g = np.random.default_rng(seed)
    base = g.standard_normal((n, 1, 2048)).astype(np.float32)
    return base + 0.1 * g.standard_normal((n, 36, 2048)).astype(np.float32)

def captions(n, seed):
    g = np.random.default_rng(seed)
    return [' '.join(g.choice(WORDS, 4)) for _ in range(5 * n)]

@pytest.fixture(scope='module')
def precomp(tmp_path_factory):
    "A precomp folder (train 40, dev 12, test 10, testall 10 images) and the same testall with repeated rows."
    root = tmp_path_factory.mktemp('precomp')
    data, rep = root/'coco_precomp', root/'coco_precomp_repeated'
    for k, (split, n) in enumerate([('train', 40), ('dev', 12), ('test', 10), ('testall', 10)]):
        write_precomp(data, split, regions(n, k), captions(n, k), ids=[1000 * k + i for i in range(n)])
    f, c = regions(10, 3), captions(10, 3)
    write_precomp(rep, 'testall', np.repeat(f, 5, 0), c)
    write_precomp(rep, 'train', regions(40, 0), captions(40, 0))
    return root, data, rep

def config(tmp_path, data, **extra):
    cfg = tmp_path/'precomp.yaml'
    lines = [f"name: precomp-tiny", f"data: {data}", "image_encoder: precomp", "image_level: regions",
             "text_encoder: bert_tiny_test", "train: {epochs: 2, batch_size: 16, lr: 0.001}",
             "methods: [{aligner: vse, config: {d: 16}}, {aligner: scan_t2i, config: {d: 16}}, {aligner: chan, config: {d: 16}}]",
             *[f"{k}: {v}" for k, v in extra.items()]]
    cfg.write_text('\n'.join(lines) + '\n')
    return cfg

@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv('FINEALIGN_CACHE', str(tmp_path/'cache'))

def test_reader_on_the_layout(precomp):
    "Caption j belongs to image j // 5, in both layouts; the repeated rows read as the same images."
    _, data, rep = precomp
    a, b = read_precomp(data, 'testall'), read_precomp(rep, 'testall')
    assert (a.n_images, a.n_captions, a.stride, b.stride) == (10, 50, 1, 5)
    assert a.captions == b.captions and a.caption_image.tolist() == [j // 5 for j in range(50)]
    assert a.images[3] == '3003' and b.images[3] == 'testall[3]'
    assert np.array_equal(a.regions[2:7].x.numpy(), b.regions[2:7].x.numpy())
    assert np.array_equal(a.regions[2:7].x.numpy(), regions(10, 3)[2:7])

def test_train_then_eval_5fold_from_the_command_line(tmp_path, precomp, cache):
    "train on the folder (dev validation, test evaluation), then eval testall with 5 folds, on both layouts."
    _, data, rep = precomp
    run = tmp_path/'run'
    r = finealign('train', str(config(tmp_path, data)), '--out', str(run), '--no-progress')
    assert r.returncode == 0, r.stderr
    metrics = json.loads((run/'metrics.json').read_text())['results']
    assert set(metrics) == {'VSE++', 'SCAN t→i', 'CHAN'}
    report = (run/'report.md').read_text()
    assert '40 train images, 200 train pairs, 10 test images, 50 test captions' in report
    assert 'best validation rSum' in report                    # dev was found and used for model selection
    spec = json.loads((run/'checkpoints'/'chan'/'features.json').read_text())
    assert spec['image_encoder'] == 'precomp'
    ck = run/'checkpoints'/'chan'/'best'
    r = finealign('eval', str(ck), '--out', str(tmp_path/'eval-test'), '--no-progress')   # default: the test split
    assert r.returncode == 0, r.stderr
    again = json.loads((tmp_path/'eval-test'/'metrics.json').read_text())['results']['CHAN']
    assert again['rsum'] == metrics['CHAN']['rsum']
    out = {}
    for name, folder in (('flat', data), ('repeated', rep)):
        r = finealign('eval', str(ck), '--data', str(folder), '--split', 'testall', '--folds', '5',
                      '--out', str(tmp_path/f'eval-{name}'), '--no-progress')
        assert r.returncode == 0, r.stderr
        out[name] = json.loads((tmp_path/f'eval-{name}'/'metrics.json').read_text())['results']
    m = out['flat']['CHAN']
    assert {'5fold_i2t_r1', '5fold_t2i_r10', '5fold_rsum', 'rsum'} <= set(m) and 0 <= m['5fold_rsum'] <= 600
    for k in ('i2t_r1', 't2i_r1', 't2i_r5', 'rsum'):            # 2 images per fold rank no worse than 10
        assert m[f'5fold_{k}'] >= m[k], k
    scores = lambda res: {k: v for k, v in res['CHAN'].items() if not k.startswith('time')}
    assert scores(out['flat']) == scores(out['repeated'])       # a row per caption reads as the same images
    assert '5-fold average' in out['flat']

def test_bad_folder_ends_with_a_message(tmp_path, precomp, cache):
    "A captions file of 58 lines, and regions given to an image-encoder config: one line each, no traceback."
    root, data, _ = precomp
    bad = tmp_path/'bad_precomp'
    write_precomp(bad, 'train', regions(12, 0), captions(12, 0)[:58])
    r = finealign('train', str(config(tmp_path, bad)), '--out', str(tmp_path/'run'), '--no-progress')
    assert r.returncode == 1 and 'train_caps.txt: 58 captions, expected a positive multiple of 5' in r.stderr
    assert 'Traceback' not in r.stderr
    cfg = config(tmp_path, data).read_text().replace('image_encoder: precomp', 'image_encoder: cnn_tiny_test')
    (tmp_path/'wrong.yaml').write_text(cfg)
    r = finealign('train', str(tmp_path/'wrong.yaml'), '--out', str(tmp_path/'run2'), '--no-progress')
    assert r.returncode == 1 and 'holds precomputed region features: set image_encoder: precomp' in r.stderr
    assert 'Traceback' not in r.stderr

def test_lazy_text_cache_trains_to_the_same_metrics(tmp_path, precomp, cache, monkeypatch):
    "A precomp run reads its captions lazily (`CachedTokens`); forcing the in-memory cache changes no metric."
    import finealign.engine.experiment as ex
    from finealign.encoders.cache import CachedTokens, cached_text_tokens
    _, data, _ = precomp
    cfg = dict(name='lazy', data=str(data), image_encoder='precomp', image_level='regions',
               text_encoder='bert_tiny_test', train=dict(epochs=2, batch_size=16, lr=0.001),
               methods=[dict(aligner='vse', config=dict(d=16)), dict(aligner='scan_t2i', config=dict(d=16))])
    seen = []
    def spy(*a, lazy=False, **k):
        t = cached_text_tokens(*a, lazy=lazy and force is None, **k)
        seen.append(type(t).__name__)
        return t
    monkeypatch.setattr(ex, 'cached_text_tokens', spy)
    scores = lambda r: {m: {k: v for k, v in d.items() if not k.startswith('time')} for m, d in r.items()}
    force = None
    lazy = ex.run_experiment(cfg, out=tmp_path/'lazy', progress=False)
    assert seen and set(seen) == {'CachedTokens'}, seen       # train, dev and test captions
    force, seen[:] = False, []
    memory = ex.run_experiment(cfg, out=tmp_path/'memory', progress=False)
    assert set(seen) == {'Tokens'}, seen
    assert set(lazy['metrics']) == {'VSE++', 'SCAN t→i'}
    assert scores(lazy['metrics']) == scores(memory['metrics'])
    assert all(v['rsum'] > 0 for v in lazy['metrics'].values())
