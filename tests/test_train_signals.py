"""SIGTERM (what schedulers and torchrun send) makes `fit` save a checkpoint at a step boundary and exit with 143;
`resume=True` then finishes the run with the same per-step losses as an uninterrupted one.

The notebook cannot check this under nbdev's runner (signal handlers need the main thread), so a subprocess does.
"""
import json, os, subprocess, sys
from pathlib import Path

import pytest
import torch

from conftest import ROOT

WORKER = Path(__file__).with_name('ddp_worker.py')

def worker(*args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=os.pathsep.join([str(ROOT/'tests'), str(ROOT)]))
    return subprocess.Popen([sys.executable, WORKER, *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

def step_losses(out):
    return [l['loss'] for l in map(json.loads, (out/'run'/'log.jsonl').read_text().splitlines()) if 'step' in l]

def test_sigterm_saves_then_resume_matches(tmp_path):
    ref, cut = tmp_path/'ref', tmp_path/'cut'
    p_ref, p_cut = worker(ref, cwd=tmp_path), worker(cut, 'sigterm', cwd=tmp_path)   # both at once: imports dominate
    log_ref, _ = p_ref.communicate(timeout=150); log_cut, _ = p_cut.communicate(timeout=150)
    assert p_ref.returncode == 0, log_ref[-4000:]
    assert p_cut.returncode == 128 + 15, f"expected exit status 143 after SIGTERM, got {p_cut.returncode}:\n{log_cut[-4000:]}"
    state = torch.load(cut/'run'/'last'/'state.pt', weights_only=True)
    assert (state['step'], state['epoch'], state['micro']) == (4, 1, 2)                 # mid-epoch 1, after 2 micro-batches
    assert len(step_losses(cut)) == 4
    p = worker(cut, 'resume', cwd=tmp_path); log, _ = p.communicate(timeout=150)
    assert p.returncode == 0, log[-4000:]
    assert step_losses(cut) == pytest.approx(step_losses(ref), rel=1e-6)
    w_ref, w_cut = (torch.load(d/'weights.pt') for d in (ref, cut))
    for k in w_ref: torch.testing.assert_close(w_cut[k], w_ref[k], rtol=1e-6, atol=1e-7)
