"""Trustworthy numbers, checked where a user meets them: the `finealign` command on a seconds-long experiment.

A NaN planted in the feature cache is refused with the chunk file and the item named; a run whose learning rate
makes it diverge stops at the first non-finite loss, naming the epoch, step and batch, and leaves no `best/`;
a non-finite score is never a hit; and every file a run writes follows the process's umask (it was 0600)."""
import json, os, re, shutil, subprocess, sys, tempfile
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import ROOT
from finealign.core import atomic_write, NonFiniteError
from finealign.engine.evaluate import recall_metrics

CONFIG = ("name: tiny\nscenes: {n_train: 16, n_val: 4, n_test: 4, size: 32}\n"
          "image_encoder: cnn_tiny_test\ntext_encoder: bert_tiny_test\n"
          "train: {epochs: 1, batch_size: 8}\nmethods: [{aligner: vse, config: {d: 16}}]\n")

def finealign(*args, cache:Path, umask:int=0o022):
    "Run the `finealign` console script in a fresh process with its own cache folder and umask."
    exe = shutil.which('finealign', path=str(Path(sys.executable).parent)) or shutil.which('finealign')
    assert exe, "the `finealign` console script is not installed: pip install -e . declares it in [project.scripts]"
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'FINEALIGN_CACHE': str(cache)}
    return subprocess.run([exe, *args, '--no-progress'], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=300, preexec_fn=lambda: os.umask(umask))

@pytest.fixture(scope='module')
def tiny_run():
    "One clean tiny run under umask 027: its folder, its cache and its config file."
    root = Path(tempfile.mkdtemp())
    (root/'tiny.yaml').write_text(CONFIG)
    r = finealign('train', str(root/'tiny.yaml'), '--out', str(root/'run'), cache=root/'cache', umask=0o027)
    assert r.returncode == 0, r.stderr
    yield root
    shutil.rmtree(root, ignore_errors=True)

@pytest.mark.parametrize('mask,mode', [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)], ids=['022', '027', '077'])
def test_atomic_write_follows_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try: f = atomic_write(tmp_path/'a.json', lambda p: p.write_text('{}'))
    finally: os.umask(old)
    assert oct(f.stat().st_mode & 0o777) == oct(mode)

def test_run_files_follow_the_umask(tiny_run):
    "Reports, checkpoints and cached features of a run under umask 027 are group-readable (0640), not 0600."
    run, cache = tiny_run/'run', tiny_run/'cache'/'features'
    files = [run/'report.md', run/'metrics.json', run/'experiment.json', run/'checkpoints'/'vse'/'best'/'model.safetensors',
             run/'checkpoints'/'vse'/'last'/'state.pt', *cache.glob('*/chunk_*.safetensors'), *cache.glob('*/meta.json')]
    assert len(files) > 7
    modes = {str(f.relative_to(tiny_run)): oct(f.stat().st_mode & 0o777) for f in files}
    assert set(modes.values()) == {'0o640'}, modes

def test_nan_in_cached_features_is_named(tiny_run, tmp_path):
    "One NaN in the cached training image features: the run stops before training, naming the chunk and the image."
    cache = tmp_path/'cache'
    shutil.copytree(tiny_run/'cache', cache)
    chunk = next((cache/'features').glob('cnn_tiny_test*-train-*/chunk_000000.safetensors'))   # the image features
    d = load_file(str(chunk))
    d['x'][3, 0, 0] = float('nan'); save_file(d, str(chunk))
    r = finealign('train', str(tiny_run/'tiny.yaml'), '--out', str(tmp_path/'run'), cache=cache)
    assert r.returncode == 1 and 'Traceback' not in r.stderr, r.stderr
    assert f"{chunk} (x): 1 NaN in 1 of" in r.stderr and 'item 3 (' in r.stderr, r.stderr
    assert "train_00003.jpg')" in r.stderr, r.stderr                   # the image file of item 3
    assert 'delete it to re-encode that chunk' in r.stderr
    assert not list(tmp_path.rglob('best')), "no best/ may be written from NaN features"

def test_diverging_run_stops_at_the_first_nan_loss(tiny_run, tmp_path):
    "A learning rate of 1e30 makes the weights overflow: the run stops there, names epoch, step and batch, saves nothing."
    run = tmp_path/'run'
    r = finealign('train', str(tiny_run/'tiny.yaml'), '--out', str(run), '--train.lr', '1e30', cache=tiny_run/'cache')
    assert r.returncode == 1 and 'Traceback' not in r.stderr, r.stderr
    m = re.search(r"checkpoints/vse diverged at epoch 0, step (\d+), batch (\d+): the (loss|gradient norm) is (nan|inf)",
                  r.stderr)
    assert m, r.stderr
    logged = [json.loads(l) for l in (run/'checkpoints'/'vse'/'log.jsonl').read_text().splitlines()]
    assert int(m[1]) == len(logged) + 1 and int(m[2]) == len(logged)    # one batch per step: the steps before it
    assert all(abs(s['loss']) < float('inf') for s in logged)           # only finite steps were logged
    assert not (run/'checkpoints'/'vse'/'best').exists() and not (run/'checkpoints'/'vse'/'last').exists()

def test_a_nan_score_is_never_a_hit():
    "The matrix where one NaN used to count as a hit (rank 0 for image 0, rank -1 for caption 0)."
    S = torch.eye(3) + 0.1 * torch.arange(9.).view(3, 3); S[0, 1] = 5.0
    S[0, 0] = float('nan')
    with pytest.raises(NonFiniteError, match='in image rows 0 and caption columns 0'): recall_metrics(S, torch.arange(3))
    m = recall_metrics(S, torch.arange(3), nonfinite='last')
    assert m['i2t_r1'] == pytest.approx(100 * 2 / 3) and m['t2i_r1'] == pytest.approx(100 / 3)
