"""The `finealign` console script as a user calls it: installed on PATH by `pip install -e .`, answering in a
fresh process (no notebook state), listing the registered methods, and refusing a bad argument with argparse's
usage error rather than a traceback."""
import json, os, shutil, subprocess, sys
from pathlib import Path

import pytest

from conftest import ROOT

def finealign(*args):
    exe = shutil.which('finealign', path=str(Path(sys.executable).parent)) or shutil.which('finealign')
    assert exe, "the `finealign` console script is not installed: pip install -e . declares it in [project.scripts]"
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1'}
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)

def test_list_names_registered_methods():
    r = finealign('list')
    assert r.returncode == 0, r.stderr
    names = r.stdout.split()
    assert {'vse', 'vse_tiny'} <= set(names), names

def test_bad_argument_is_a_usage_error():
    r = finealign('demo', '--head', 'gru')
    assert r.returncode == 2
    assert "invalid choice: 'gru'" in r.stderr and 'Traceback' not in r.stderr

def test_missing_data_folder_names_it(tmp_path):
    r = finealign('demo', '--data', str(tmp_path/'nowhere'), '--out', str(tmp_path/'out'), '--no-progress')
    assert r.returncode != 0
    assert 'nowhere' in r.stderr and 'folder not found' in r.stderr and 'Traceback' not in r.stderr

def tiny_experiment(tmp_path):
    "A config file for a seconds-long experiment: tiny scenes, tiny random encoders, two methods."
    cfg = tmp_path/'tiny.yaml'
    cfg.write_text("name: tiny\nscenes: {n_train: 16, n_val: 4, n_test: 4, size: 32}\n"
                   "image_encoder: cnn_tiny_test\ntext_encoder: bert_tiny_test\n"
                   "train: {epochs: 1, batch_size: 8}\nmethods: [{aligner: vse, config: {d: 16}}, {aligner: chan, config: {d: 16}}]\n")
    return cfg

def test_train_then_eval_from_the_command_line(tmp_path):
    "`finealign train CONFIG --key value` writes a run; `finealign eval` scores its checkpoint to the same recall."
    env_cache = {'FINEALIGN_CACHE': str(tmp_path/'cache')}
    os.environ.update(env_cache)
    try:
        run = tmp_path/'run'
        r = finealign('train', str(tiny_experiment(tmp_path)), '--out', str(run), '--train.epochs', '2', '--methods.chan.config.d=8', '--no-progress')
        assert r.returncode == 0, r.stderr
        exp = json.loads((run/'experiment.json').read_text())
        assert exp['train']['epochs'] == 2 and exp['methods'][1]['config']['d'] == 8
        metrics = json.loads((run/'metrics.json').read_text())['results']
        assert set(metrics) == {'VSE++', 'CHAN'}
        recs = {r['name']: r for r in json.loads((run/'record.json').read_text())}   # the run's record (results/)
        assert set(recs) == {'tiny/VSE++', 'tiny/CHAN'}
        assert recs['tiny/CHAN']['metrics']['rsum'] == metrics['CHAN']['rsum'] and recs['tiny/CHAN']['threads'] >= 1
        assert recs['tiny/CHAN']['command'].startswith('finealign train') and 'total' in recs['tiny/CHAN']['times']
        r = finealign('train', str(tiny_experiment(tmp_path)), '--out', str(run), '--no-progress')
        assert r.returncode == 1 and 'already holds a run; pass --resume' in r.stderr
        r = finealign('eval', str(run/'checkpoints'/'chan'/'best'), '--out', str(tmp_path/'eval'), '--no-progress')
        assert r.returncode == 0, r.stderr
        again = json.loads((tmp_path/'eval'/'metrics.json').read_text())['results']['CHAN']
        assert again['rsum'] == metrics['CHAN']['rsum'] and again['binding_acc'] == metrics['CHAN']['binding_acc']
    finally:
        for k in env_cache: os.environ.pop(k, None)

def test_bad_override_names_the_key(tmp_path):
    r = finealign('train', str(tiny_experiment(tmp_path)), '--out', str(tmp_path/'run'), '--train.epoch', '2')
    assert r.returncode == 1 and "'epoch' (did you mean 'epochs'?)" in r.stderr and 'Traceback' not in r.stderr

def test_bench_writes_its_table(tmp_path):
    "`finealign bench` on the tiny shape: every method's engine matrix equals its per-caption reference."
    r = finealign('bench', '--shape', 'tiny', '--out', str(tmp_path/'bench'), '--no-progress')
    assert r.returncode == 0, r.stderr
    rows = json.loads((tmp_path/'bench'/'bench.json').read_text())['rows']
    assert {row['method'] for row in rows} >= {'vse', 'scan_t2i', 'chan', 'laps_sparse'}
    assert all(row['equal'] for row in rows)
    assert '| method | engine pairs/s |' in (tmp_path/'bench'/'bench.md').read_text()
