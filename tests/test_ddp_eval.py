"""The distributed similarity matrix equals the single-process one: two CPU processes on the gloo backend,
launched with the venv's torchrun, each scoring a shard of the caption (or image) axis."""
import json, os, subprocess, sys
from pathlib import Path

from conftest import ROOT


def test_two_processes_gloo_equal_single_process(tmp_path):
    torchrun = Path(sys.executable).with_name('torchrun')
    out = tmp_path/'report.json'
    env = dict(os.environ, OMP_NUM_THREADS='1', HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1')
    cmd = [str(torchrun), '--standalone', '--nproc_per_node', '2', str(ROOT/'tests'/'ddp_eval_worker.py'), str(out)]
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, f"torchrun failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    rank0, rank1 = json.loads(out.read_text())
    assert rank0['world'] == 2
    for key in ('text_dst0', 'text_dstNone', 'image_dst0', 'image_dstNone'):
        assert rank0[key] is not None and rank0[key] < 1e-6, (key, rank0[key])
    for key in ('text_dstNone', 'image_dstNone'):             # the all-gather gives rank 1 the matrix too
        assert rank1[key] is not None and rank1[key] < 1e-6, (key, rank1[key])
    assert 'text_dst0' not in rank1 and 'image_dst0' not in rank1   # rank 1 got None from the gather to rank 0
    assert rank0['eval_max_diff'] < 1e-6 and rank0['eval_same_rsum']
    assert rank1['eval_other_rank_none']
