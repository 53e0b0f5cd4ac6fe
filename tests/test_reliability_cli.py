"""Bad input to the `finealign` command, as a user gives it: every case ends with `finealign: error:` and a message
that names the file, field or shape at fault, exit code 1 (argparse's 2 for usage errors), and no Python
traceback. Also: random encoder weights only when asked for, and run folders that behave (issue 19, parts 5, 7
and 8). Each case calls the command's entry point (`finealign.cli.main`) with the words a user types, on a tiny
experiment that trains in seconds; a few also run the installed console script in a fresh process."""
import contextlib, io, json, os, shutil, subprocess, sys, traceback
from pathlib import Path

import pytest
import torch

from conftest import ROOT

TINY = ("name: tiny\nscenes: {n_train: 16, n_val: 4, n_test: 4, size: 32}\n"
        "image_encoder: cnn_tiny_test\ntext_encoder: bert_tiny_test\n"
        "train: {epochs: 1, batch_size: 8}\nmethods: [{aligner: vse, config: {d: 16}}]\n")

def finealign(*args, cache:Path, process:bool=False):
    """`finealign *args` with its own feature cache: `finealign.cli.main` in this process (quick: no imports per
    case; an exception that escapes `main` is reported the way Python would print it), or with `process=True` the
    console script in a fresh process. Returns (exit code, stdout, stderr) as a CompletedProcess."""
    argv = [*map(str, args), '--no-progress']
    if process:
        exe = shutil.which('finealign', path=str(Path(sys.executable).parent)) or shutil.which('finealign')
        assert exe, "the `finealign` console script is not installed: pip install -e ."
        env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'FINEALIGN_CACHE': str(cache)}
        return subprocess.run([exe, *argv], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    from finealign.cli import main
    out, err, old = io.StringIO(), io.StringIO(), os.environ.get('FINEALIGN_CACHE')
    os.environ['FINEALIGN_CACHE'] = str(cache)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try: rc = main(argv)
            except SystemExit as e: rc = e.code                     # argparse's usage errors
            except BaseException: rc = 1; err.write(traceback.format_exc())   # what the console would print
    finally:
        if old is None: os.environ.pop('FINEALIGN_CACHE', None)
        else: os.environ['FINEALIGN_CACHE'] = old
    return subprocess.CompletedProcess(argv, rc, out.getvalue(), err.getvalue())

def refused(r, *names):
    "`r` failed with a finealign error naming each of `names`, and printed no traceback."
    assert r.returncode in (1, 2), (r.returncode, r.stdout[-1000:], r.stderr[-3000:])
    assert 'Traceback' not in r.stderr, r.stderr[-3000:]
    assert 'finealign: error:' in r.stderr, r.stderr[-3000:]
    for n in names: assert n in r.stderr, (n, r.stderr[-3000:])

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    "A tiny run, its config and its feature cache."
    root = tmp_path_factory.mktemp('reliability')
    cfg, run, cache = root/'tiny.yaml', root/'run', root/'cache'
    cfg.write_text(TINY)
    ok = finealign('train', cfg, '--out', run, cache=cache)
    assert ok.returncode == 0, ok.stderr[-3000:]
    return dict(root=root, cfg=cfg, run=run, cache=cache)

# --- part 7: every config value is checked where it is loaded ---------------------------------------------------

BAD_VALUES = [                                              # (override, what the message must say)
    (('--train.batch_size', '0'), 'train: batch_size = 0 must be positive'),
    (('--train.lr', 'nan'), 'train: lr = nan is not a finite number'),
    (('--train.lr', 'inf'), 'train: lr = inf is not a finite number'),
    (('--train.epochs', '0'), 'train: epochs = 0 must be positive'),
    (('--methods.vse.config.d', '-4'), 'methods[0] (vse): config: d = -4 must be positive'),
    (('--methods.vse.config.margin', 'big'), "config: margin = 'big' is a str, expected a float"),
    (('--max_images', '-1'), 'max_images = -1 must be positive'),
    (('--train.lr_steps', '[a]'), "train: lr_steps[0] = 'a', expected a whole number"),
    (('--methods', 'vse,chna'), "unknown aligner 'chna'; did you mean chan"),
    (('--image_encoder', 'efficientnet_lite1.bundlde'), "did you mean ['efficientnet_lite0.bundled'"),
]

@pytest.mark.parametrize('override,says', BAD_VALUES, ids=[' '.join(o) for o, _ in BAD_VALUES])
def test_bad_config_value(tiny, override, says):
    out = tiny['root']/'never'
    r = finealign('train', tiny['cfg'], '--out', out, *override, cache=tiny['cache'])
    refused(r, says)
    if 'encoder' not in override[0]: assert 'tiny.yaml' in r.stderr        # the file is named
    assert not out.exists()                                                 # and no run folder is claimed

@pytest.mark.parametrize('case', [0, 5], ids=['batch_size 0', 'margin big'])
def test_console_script_prints_no_traceback(tiny, case):
    "The same through the installed console script, in a fresh process."
    override, says = BAD_VALUES[case]
    refused(finealign('train', tiny['cfg'], '--out', tiny['root']/'never', *override, cache=tiny['cache'], process=True), says)

def test_config_file_not_utf8(tiny):
    bad = tiny['root']/'latin.yaml'
    bad.write_bytes(TINY.replace('name: tiny', 'name: caf\xe9').encode('latin-1'))
    refused(finealign('train', bad, cache=tiny['cache']), 'latin.yaml: not UTF-8 text')

KARPATHY = [                                                # (file content, what the message must say)
    (b'{"images": [{"split": "train", ', 'not valid JSON'),                                # truncated
    (b'{"images": [{"split": "train",}]}', 'not valid JSON at line 1'),                    # malformed
    ('{"images": [{"split": "tr\xe4in"}]}'.encode('latin-1'), 'not UTF-8 text'),           # not UTF-8
    (b'[{"split": "train"}]', 'holds a JSON list'),                                        # not a mapping
    (b'{"pictures": []}', "no 'images' list"),                                             # no images
]

@pytest.mark.parametrize('content,says', KARPATHY, ids=['truncated', 'malformed', 'not-utf8', 'list', 'no-images'])
def test_bad_karpathy_file(tiny, tmp_path, content, says):
    "The split check (`cli._has_split`) reads the dataset file through the checked reader."
    data = tmp_path/'data'
    data.mkdir()
    (data/'dataset_bad.json').write_bytes(content)
    r = finealign('train', tiny['cfg'], '--out', tiny['root']/'never', '--data', data, '--scenes', '{}', cache=tiny['cache'])
    refused(r, 'dataset_bad.json', says)

def checkpoint_copy(tiny, name):
    "A copy of the tiny run's VSE++ checkpoint folder (with its features.json) to damage."
    dst = tiny['root']/name
    shutil.copytree(tiny['run']/'checkpoints'/'vse', dst)
    return dst/'best'

@pytest.mark.parametrize('process', [False, True], ids=['main', 'console script'])
def test_truncated_safetensors(tiny, process):
    ck = checkpoint_copy(tiny, f'ck-truncated-{process}')
    (ck/'model.safetensors').write_bytes((ck/'model.safetensors').read_bytes()[:-100])
    refused(finealign('eval', ck, cache=tiny['cache'], process=process), 'model.safetensors: not a readable safetensors file')

def test_cut_config_json(tiny):
    ck = checkpoint_copy(tiny, 'ck-cut')
    (ck/'config.json').write_text((ck/'config.json').read_text()[:50])
    refused(finealign('eval', ck, cache=tiny['cache']), 'config.json: not valid JSON')

def test_checkpoint_config_of_wrong_type(tiny):
    "A checkpoint whose config says margin: 'big' was accepted; it is refused when loaded, naming file and field."
    ck = checkpoint_copy(tiny, 'ck-big')
    meta = json.loads((ck/'config.json').read_text())
    meta['config']['margin'] = 'big'
    (ck/'config.json').write_text(json.dumps(meta))
    refused(finealign('eval', ck, cache=tiny['cache']), 'config.json: margin = \'big\' is a str, expected a float')

def test_corrupt_cache_meta(tiny):
    "A damaged cache entry names its meta.json and how to clear it; the start that met it leaves no run behind."
    cache = tiny['root']/'cache-corrupt'
    shutil.copytree(tiny['cache'], cache)
    metas = list((cache/'features').glob('*/meta.json'))
    assert metas, 'the tiny run cached no features'
    for m in metas: m.write_text(m.read_text()[:20])
    out = tiny['root']/'run-corrupt-cache'
    r = finealign('train', tiny['cfg'], '--out', out, cache=cache)
    refused(r, 'meta.json: not valid JSON', 'FeatureCache.clear(')
    assert not out.exists()

def test_float64_tokens_into_an_aligner():
    "Tokens of another float dtype are cast to the aligner's weights; tokens of the wrong width are a ShapeError."
    from finealign.core import Tokens, ShapeError
    from finealign.registry import create_aligner
    m = create_aligner('chan_tiny').eval()
    x = torch.randn(2, 5, 8, dtype=torch.float64)                           # (B, N, img_dim) float64
    t = Tokens(x, torch.ones(2, 5, dtype=torch.bool), x.mean(1))
    with torch.no_grad(): got = m.encode_images(t)
    assert got.x.dtype == torch.float32
    with pytest.raises(ShapeError, match=r'Tokens.x has shape \(2, 5, 7\), expected \(B, N, 8\)'):
        m.encode_images(Tokens(x[..., :7], t.mask, t.pooled[:, :7]))

# --- part 5: random encoder weights only when asked for ---------------------------------------------------------

def test_plain_timm_name_is_not_random(tiny):
    out = tiny['root']/'never-random'
    refused(finealign('train', tiny['cfg'], '--out', out, '--image_encoder', 'resnet18', cache=tiny['cache']),
            "image encoder 'resnet18' has no weights", "ask by name: 'resnet18.random'")
    assert not out.exists()

def test_weights_are_recorded(tiny):
    "The test encoders are random by name; features.json, metrics.json and the report say so."
    spec = json.loads((tiny['run']/'checkpoints'/'vse'/'features.json').read_text())
    assert spec['weights'] == dict(image=dict(source='random', path=None), text=dict(source='random', path=None))
    assert json.loads((tiny['run']/'metrics.json').read_text())['weights'] == spec['weights']
    assert '**encoder weights**: image: RANDOM weights (asked for by name)' in (tiny['run']/'report.md').read_text()

def test_random_weights_when_asked_by_name(tiny):
    out = tiny['root']/'run-random'
    r = finealign('train', tiny['cfg'], '--out', out, '--image_encoder', 'resnet18.random', cache=tiny['cache'])
    assert r.returncode == 0, r.stderr[-3000:]
    spec = json.loads((out/'checkpoints'/'vse'/'features.json').read_text())
    assert (spec['image_encoder'], spec['weights']['image']['source']) == ('resnet18.random', 'random')

# --- part 8: run folders ----------------------------------------------------------------------------------------

def test_failed_start_leaves_no_claim(tiny):
    """A start that fails once the folder is claimed (the head is checked when the method is built) cleans up, so
    the fixed rerun into the same folder is not refused."""
    run = tiny['root']/'run-failed-start'
    refused(finealign('train', tiny['cfg'], '--out', run, '--methods.vse.config.head', 'gru', cache=tiny['cache']),
            "head must be 'linear' or 'mlp'")
    assert not run.exists()
    r = finealign('train', tiny['cfg'], '--out', run, cache=tiny['cache'])
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((run/'run.json').read_text())['kind'] == 'train'

def test_resume_names_the_keys_that_differ(tiny):
    r = finealign('train', tiny['cfg'], '--out', tiny['run'], '--resume', '--train.epochs', '2', '--seed', '3',
                  cache=tiny['cache'])
    refused(r, 'train.epochs: 1 in the run, 2 now', 'seed: 0 in the run, 3 now')

def test_overwrite_clears_the_folder(tiny):
    run = tiny['root']/'run-overwrite'
    shutil.copytree(tiny['run'], run)
    (run/'checkpoints'/'chan'/'last').mkdir(parents=True)                    # a method of the old run only
    r = finealign('train', tiny['cfg'], '--out', run, '--overwrite', cache=tiny['cache'])
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in (run/'checkpoints').iterdir()) == ['vse']

def test_overwrite_refuses_a_folder_without_a_run(tiny):
    mine = tiny['root']/'mine'
    mine.mkdir(); (mine/'notes.txt').write_text('mine')
    refused(finealign('train', tiny['cfg'], '--out', mine, '--overwrite', cache=tiny['cache']),
            'holds no run (no experiment.json)')
    assert (mine/'notes.txt').read_text() == 'mine'

def test_demo_refuses_a_train_run(tiny):
    before = sorted(p.name for p in tiny['run'].iterdir())
    refused(finealign('demo', '--out', tiny['run'], cache=tiny['cache']), 'holds a `finealign train` run')
    assert sorted(p.name for p in tiny['run'].iterdir()) == before
