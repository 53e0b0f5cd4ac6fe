"""The command line as a new user meets it on their own folders: a run started anywhere can be evaluated from
anywhere (features.json holds the absolute data path), a run without a validation split writes `last/` only and
says so, `eval` on a folder with one split scores it without `--split`, and `train --help` lists the settings."""
import json, os, shutil, subprocess
from pathlib import Path

from test_cli import finealign
from finealign.data.scenes import SceneConfig, generate_scenes

def _folder(src:Path, dst:Path, splits) -> Path:
    "A Karpathy-layout folder holding only the images of `splits` from `src` (images linked, not copied)."
    dst.mkdir()
    (dst/'images').symlink_to(src/'images')
    doc = json.loads((src/'dataset_scenes.json').read_text())
    doc['images'] = [im for im in doc['images'] if im['split'] in splits]
    (dst/'dataset_mine.json').write_text(json.dumps(doc))
    return dst

def test_a_folder_run_without_validation_then_eval_elsewhere(tmp_path):
    sc = generate_scenes(tmp_path/'scenes', SceneConfig(n_train=16, n_val=4, n_test=4, size=32), progress=False)
    _folder(sc, tmp_path/'trtest', ('train', 'test'))
    only_test = _folder(sc, tmp_path/'only-test', ('test',))
    (tmp_path/'tiny.yaml').write_text("name: tiny\ndata: trtest\nimage_encoder: cnn_tiny_test\ntext_encoder: bert_tiny_test\n"
                                      "train: {epochs: 1, batch_size: 8}\nmethods: [{aligner: vse, config: {d: 16}}]\n")
    exe = shutil.which('finealign')
    env = {**os.environ, 'FINEALIGN_CACHE': str(tmp_path/'cache'), 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1'}
    r = subprocess.run([exe, 'train', 'tiny.yaml', '--out', 'run', '--no-progress'], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)       # data given relative to the run's folder
    assert r.returncode == 0, r.stderr
    ck = tmp_path/'run'/'checkpoints'/'vse'
    assert (ck/'last').is_dir() and not (ck/'best').exists()                # no validation split: one copy, named
    assert 'run/checkpoints/vse: no validation split, so no best/; last/ holds the final epoch' in r.stderr
    assert json.loads((ck/'features.json').read_text())['data'] == str((tmp_path/'trtest').resolve())
    os.environ['FINEALIGN_CACHE'] = str(tmp_path/'cache')
    try:
        r = finealign('eval', str(ck/'last'), '--out', str(tmp_path/'ev'), '--no-progress')   # from another folder
        assert r.returncode == 0, r.stderr
        assert '(test)' in (tmp_path/'ev'/'report.md').read_text()         # no val split: test is the default
        r = finealign('eval', str(ck/'last'), '--data', str(only_test), '--out', str(tmp_path/'ev1'), '--no-progress')
        assert r.returncode == 0, r.stderr
        assert '4 test images' in (tmp_path/'ev1'/'report.md').read_text()
    finally: os.environ.pop('FINEALIGN_CACHE')

def test_train_help_lists_methods_and_settings():
    r = finealign('train', '--help')
    assert r.returncode == 0
    for want in ('--methods vse,chan', '--methods.chan.config.d', 'train.<field>', 'epochs', 'batch_size', 'zeroshot'):
        assert want in r.stdout, want
