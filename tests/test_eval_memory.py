"""'auto' blocks keep the peak memory of scoring within the budget: SCAN's scorer (both directions) on the CPU,
in a fresh process, its peak resident memory measured around `similarity_matrix`."""
import json, os, subprocess, sys

import pytest

PROBE = r'''
import json, sys, torch
def hwm():  # peak resident memory (bytes) since the last reset
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) * 1024
def reset_hwm():  # Linux: writing 5 to clear_refs resets VmHWM to the current resident size
    with open('/proc/self/clear_refs', 'w') as f: f.write('5')
from finealign.core import Tokens
from finealign.methods.baselines.scan import SCAN, SCANConfig
from finealign.engine.evaluate import similarity_matrix, pair_bytes, block_sizes
direction, budget = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0); torch.set_num_threads(1)
ni, nt, N, L, d = 96, 480, 49, 20, 32
mk = lambda n, k: Tokens(torch.randn(n, k, d), torch.ones(n, k, dtype=torch.bool), torch.randn(n, d))
img, txt = mk(ni, N), mk(nt, L)
m = SCAN(SCANConfig(direction=direction, img_dim=d, txt_dim=d, d=d)).eval()
out = torch.zeros(ni, nt)                                        # allocated (and touched) before the baseline
with torch.no_grad():
    similarity_matrix(m, img[:2], txt[:2], block=(2, 2))         # warm up the allocator and kernels
    reset_hwm(); base = hwm()   # a lifetime maximum (ru_maxrss) would include the import's transient peak
    similarity_matrix(m, img, txt, budget_bytes=budget, out=out)
    peak = hwm()
bi, bt = block_sizes(ni, nt, pair_bytes(m, img, txt), budget)
print(json.dumps(dict(extra=peak - base, block=[bi, bt], budget=budget)))
'''

@pytest.mark.parametrize('direction', ['t2i', 'i2t'])
def test_auto_blocks_stay_within_budget(direction):
    pytest.importorskip('finealign.methods.baselines.scan')
    budget = 48 << 20
    env = dict(os.environ, OMP_NUM_THREADS='1')
    # ./run keeps freed blocks in the heap (GLIBC_TUNABLES), so later blocks reuse resident pages and the peak
    # resident size stops growing with the block: measure with glibc's default allocator instead.
    env.pop('GLIBC_TUNABLES', None)
    r = subprocess.run([sys.executable, '-c', PROBE, direction, str(budget)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    bi, bt = res['block']
    assert (bi, bt) != (96, 480), "the budget should force several blocks, or the test checks nothing"
    assert res['extra'] <= budget, f"peak {res['extra'] >> 20} MiB above the baseline exceeds the {budget >> 20} MiB budget with blocks {bi}×{bt}"
    assert res['extra'] >= budget // 4, f"peak {res['extra'] >> 20} MiB: blocks {bi}×{bt} use under a quarter of the budget"
