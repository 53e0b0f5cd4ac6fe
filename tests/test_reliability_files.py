"""Files a user hands to finealign are data, never code, and a run folder is always one consistent state.

Each test goes through the `finealign` command where a user would meet the problem (a planted `state.pt`, a kill
inside the checkpoint write, two datasets with the same names, a Karpathy JSON pointing out of its folder) and
checks the exit status, that the message names the file or record, and that no traceback is printed. The
subprocesses import the tree these tests belong to (PYTHONPATH), not whichever copy the venv has installed.
"""
import json, os, pickle, shutil, signal, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT

TINY = ("name: tiny\nscenes: {n_train: 16, n_val: 4, n_test: 4, size: 32}\n"
        "image_encoder: cnn_tiny_test\ntext_encoder: bert_tiny_test\n"
        "train: {epochs: 2, batch_size: 8}\nmethods: [{aligner: vse, config: {d: 16}}]\n")
FOLDER = TINY.replace("scenes: {n_train: 16, n_val: 4, n_test: 4, size: 32}\n", '').replace('epochs: 2', 'epochs: 1')

def finealign(*args, cache, fault=None):
    "Run the `finealign` console script on this tree, with its own feature cache; return the CompletedProcess."
    exe = shutil.which('finealign', path=str(Path(sys.executable).parent)) or shutil.which('finealign')
    assert exe, "the `finealign` console script is not installed: pip install -e . declares it in [project.scripts]"
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'OMP_NUM_THREADS': '1',
           'FINEALIGN_CACHE': str(cache), 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
    env.pop('FINEALIGN_FAULT', None)
    if fault: env['FINEALIGN_FAULT'] = fault
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)

def config(tmp_path, text=TINY, name='tiny.yaml'):
    (tmp_path/name).write_text(text); return tmp_path/name

def step_losses(run, method='vse'):
    return [l['loss'] for l in map(json.loads, (run/'checkpoints'/method/'log.jsonl').read_text().splitlines()) if 'step' in l]

def refused(r, *names):
    "A clean refusal: nonzero exit, every name in the message, no traceback."
    assert r.returncode not in (0, -signal.SIGKILL), r.stdout[-2000:] + r.stderr[-3000:]
    for n in names: assert str(n) in r.stderr, (n, r.stderr[-3000:])
    assert 'Traceback' not in r.stderr, r.stderr[-3000:]

@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    "One uninterrupted tiny run (2 epochs, VSE++): its folder and feature cache."
    tmp = tmp_path_factory.mktemp('reference')
    r = finealign('train', config(tmp), '--out', tmp/'run', '--no-progress', cache=tmp/'cache')
    assert r.returncode == 0, r.stderr[-3000:]
    return tmp


class _Planted:
    "Unpickling this runs a command that creates a marker file."
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (os.system, (f"touch {self.marker}",))

def test_resume_refuses_a_planted_state_file(tmp_path, reference):
    "`--resume` on a run folder whose state.pt unpickles to a command: refused, naming the file; nothing runs."
    run, marker = tmp_path/'run', tmp_path/'ran'
    shutil.copytree(reference/'run', run)
    state = run/'checkpoints'/'vse'/'last'/'state.pt'
    good = torch.load(state, weights_only=False)                 # the reference run's own file: trusted
    torch.save({**good, 'step': _Planted(marker)}, state)       # still a valid-looking state dict
    r = finealign('train', config(tmp_path), '--out', run, '--resume', '--no-progress', cache=reference/'cache')
    refused(r, state, 'refused to load')
    assert not marker.exists(), "the planted command ran"


def test_loaders_never_unpickle_code(tmp_path):
    "Every file the library reads with an unpickler: a planted payload is refused, naming the file, and never runs."
    from finealign.core import FinealignError, load_torch_state
    from finealign.encoders.backbones import create_image_encoder
    from finealign.data.msa import read_mmsa
    from finealign.registry import create_aligner, from_pretrained, save_pretrained
    marker, payload = tmp_path/'ran', _Planted(tmp_path/'ran')
    torch.save({'x': payload}, tmp_path/'state.pt')
    torch.save({'state_dict': {'x': payload}}, tmp_path/'weights.pth')
    (tmp_path/'mosi.pkl').write_bytes(pickle.dumps({'train': payload}))
    ck = save_pretrained(create_aligner('vse_tiny'), tmp_path/'ck')
    (ck/'model.safetensors').write_bytes(pickle.dumps({'x': payload}))   # not safetensors at all
    cases = [(lambda: load_torch_state(tmp_path/'state.pt'), 'state.pt'),
             (lambda: create_image_encoder('vit_tiny_test', checkpoint=tmp_path/'weights.pth'), 'weights.pth'),
             (lambda: read_mmsa(tmp_path/'mosi.pkl'), 'mosi.pkl'),
             (lambda: from_pretrained(ck), 'model.safetensors')]
    for load, name in cases:
        with pytest.raises(FinealignError) as e: load()                # our error, naming the file
        assert name in str(e.value), (name, e.value)
        assert not marker.exists(), f"loading {name} ran the planted command"


@pytest.mark.parametrize('point', ['checkpoint-weights:2', 'folder-swap:2'])
def test_kill_inside_the_checkpoint_write(tmp_path, reference, point):
    """SIGKILL after the new weights are written but before state.pt (or between the folder renames) of the second
    checkpoint: `--resume` continues from the previous complete checkpoint and ends like the uninterrupted run."""
    run = tmp_path/'run'
    r = finealign('train', config(tmp_path), '--out', run, '--no-progress', cache=reference/'cache', fault=point)
    assert r.returncode == -signal.SIGKILL, f"the fault point {point} was not reached:\n{r.stderr[-3000:]}"
    ck, per_epoch = run/'checkpoints'/'vse', len(step_losses(reference/'run')) // 2
    if point.startswith('checkpoint-weights'):                          # new weights written, state.pt not yet
        assert (ck/'.last.new'/'model.safetensors').exists() and not (ck/'.last.new'/'state.pt').exists()
        previous = ck/'last'
    else:                                                               # between the two renames: no last/ at all
        assert not (ck/'last').exists() and (ck/'.last.new'/'state.pt').exists()
        previous = ck/'.last.old'
    assert torch.load(previous/'state.pt', weights_only=True)['step'] == per_epoch   # the epoch-0 checkpoint, whole
    r = finealign('train', config(tmp_path), '--out', run, '--resume', '--no-progress', cache=reference/'cache')
    assert r.returncode == 0, r.stderr[-3000:]
    assert not any(p.name.startswith('.last') for p in ck.iterdir())    # recovered and cleaned up
    assert step_losses(run) == pytest.approx(step_losses(reference/'run'), rel=1e-6)
    got, want = (json.loads((d/'metrics.json').read_text())['results']['VSE++'] for d in (run, reference/'run'))
    assert got['rsum'] == pytest.approx(want['rsum'], rel=1e-6)


def invert_images(folder):
    "Same file names, other pixels."
    for p in sorted((folder/'images').iterdir()):
        with Image.open(p) as im: a = np.asarray(im.convert('RGB'))
        Image.fromarray(255 - a).save(p, quality=95)

def test_cache_never_serves_another_datasets_features(tmp_path, reference):
    "Two Karpathy folders with the same folder and file names but other pixels: the second gets its own features."
    from finealign.encoders.cache import FeatureCache, cached_image_tokens
    from finealign.data.karpathy import eval_transform, load_image
    from finealign.encoders.backbones import create_image_encoder
    scenes = next((reference/'cache'/'scenes').iterdir())
    a, b = tmp_path/'a'/'ds', tmp_path/'b'/'ds'
    for d in (a, b): shutil.copytree(scenes, d)
    invert_images(b)
    cache, cfg = tmp_path/'cache', FOLDER
    image_entries = lambda: {e['key'] for e in FeatureCache(cache/'features').info() if e['encoder'].startswith('cnn')}
    r = finealign('train', config(tmp_path, cfg), '--data', a, '--out', tmp_path/'run_a', '--no-progress', cache=cache)
    assert r.returncode == 0, r.stderr[-3000:]
    first = image_entries()
    r = finealign('train', config(tmp_path, cfg), '--data', b, '--out', tmp_path/'run_b', '--no-progress', cache=cache)
    assert r.returncode == 0, r.stderr[-3000:]
    assert first and len(image_entries() - first) == len(first), "the second dataset reused the first one's image features"
    # and the features served are those of its own pixels
    enc = create_image_encoder('cnn_tiny_test')
    paths = [sorted((d/'images').glob('test_*.jpg')) for d in (a, b)]
    fa, fb = (cached_image_tokens(p, enc, FeatureCache(cache/'features'), 'ds', 'test', progress=False) for p in paths)
    tfm = eval_transform(enc.input_size[-1], enc.mean, enc.std)
    with torch.no_grad(): direct = enc(torch.stack([tfm(load_image(p)) for p in paths[1]]))
    rel = lambda x, y: float((x - y).norm() / y.norm())             # these features are ~1e-3 in size
    assert rel(fb.pooled, direct.pooled) < 1e-2                      # its own pixels' features (stored as float16)
    assert rel(fa.pooled, direct.pooled) > 0.5                       # not those of the first folder


@pytest.mark.parametrize('kind', ['dotdot', 'absolute', 'symlink'])
def test_karpathy_paths_stay_inside_the_dataset(tmp_path, reference, kind):
    "A record whose image path leaves the dataset folder is refused, naming the JSON and the record."
    scenes = next((reference/'cache'/'scenes').iterdir())
    ds = tmp_path/'ds'; shutil.copytree(scenes, ds)
    doc = json.loads((ds/'dataset_scenes.json').read_text())
    k = next(i for i, im in enumerate(doc['images']) if im['split'] == 'train')
    if kind == 'dotdot': doc['images'][k]['filename'], field = '../../../../../../etc/hostname', 'filename'
    elif kind == 'absolute': doc['images'][k]['filename'], field = '/etc/hostname', 'filename'
    else:
        (ds/'images'/'evil.jpg').symlink_to('/etc/hostname'); doc['images'][k]['filename'], field = 'evil.jpg', 'filename'
    (ds/'dataset_scenes.json').write_text(json.dumps(doc))
    r = finealign('train', config(tmp_path, FOLDER), '--data', ds, '--out', tmp_path/'run', '--no-progress', cache=tmp_path/'cache')
    refused(r, 'dataset_scenes.json', f'images[{k}].{field}', 'absolute path' if kind == 'absolute' else 'resolves outside')
