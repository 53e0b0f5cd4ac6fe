"""Every notebook run the way JupyterLab runs it: a real ipykernel, every cell, top to bottom; peak memory recorded.

`nbdev-test` (tests/test_notebooks.py) runs notebooks in-process with execnb and skips the cells flagged
`notest`, `slow` and `gpu`. This test starts the notebook's kernel (python3) through `nbclient`, in the
notebook's own folder, and runs every cell, the `slow` and `notest` ones included, as a user's Run All does.
Left out: cells flagged `#| gpu` when no CUDA device is present (they need one), and `#| eval: false` cells
(written never to run). A thread polls the resident memory of the kernel's process tree; each notebook's peak,
time and cells are written to `results/notebooks/<notebook path with / as __>.json`, and the peak must stay
under `MEMORY_GB` (default 3 GB; `FINEALIGN_NB_MEMORY_GB` changes the default).

It is long (the `slow` cells train or load models; a fresh clone trains the explorers' small models), so it is
opt-in and not part of `./run test`. As a separate job:

    FINEALIGN_NB_KERNEL=1 python -m pytest tests/test_notebooks_kernel.py -q -rfE
    FINEALIGN_NB_KERNEL=1 FINEALIGN_NB_RE='methods/(laps|grm)/explore' python -m pytest tests/test_notebooks_kernel.py -q

`FINEALIGN_NB_RE` (a regular expression searched in the path under nbs/) picks notebooks;
`FINEALIGN_NB_CELL_TIMEOUT` is the longest a cell may run, in seconds (default 3600).
"""
import json, os, platform, re, subprocess, threading, time
from pathlib import Path

import pytest

from conftest import ROOT

NBS = ROOT/'nbs'
NOTEBOOKS = sorted(p for p in NBS.rglob('*.ipynb') if not any(s.startswith(('_', '.')) for s in p.relative_to(NBS).parts))
ENABLED = os.environ.get('FINEALIGN_NB_KERNEL') == '1'
PICK = re.compile(os.environ.get('FINEALIGN_NB_RE', ''))
# per-notebook bounds where the default is not enough. The LAPS and GRM explorers train a small model on a fresh
# clone; the run's test evaluation scores blocks sized to a quarter of the free memory (engine/evaluate's
# block='auto'), about 2.4 GB more than the 1.6 GB the training holds on a 24 GB machine with 13 GB free
MEMORY_GB = {'methods/laps/explore.ipynb': 5., 'methods/grm/explore.ipynb': 5.}
DEFAULT_GB = float(os.environ.get('FINEALIGN_NB_MEMORY_GB', 3))
CELL_TIMEOUT = int(os.environ.get('FINEALIGN_NB_CELL_TIMEOUT', 3600))
OUT = ROOT/'results'/'notebooks'
FLAG = re.compile(r'^\s*#\|\s*(.*)$', re.M)

def skipped(src:str, cuda:bool): # a code cell's source; whether a CUDA device is present
    "Why the cell is left out ('gpu', 'eval: false'), or None when it runs."
    lines = FLAG.findall(src)
    if any(re.fullmatch(r'eval:\s*false\s*', l) for l in lines): return 'eval: false'
    if not cuda and 'gpu' in {w for l in lines for w in re.split(r'[\s,]+', l)}: return 'gpu'
    return None

class PeakRSS:
    "Polls the summed RSS of a process and its descendants in a thread; `peak` in bytes."
    def __init__(self, pid:int, every:float=0.2): self.pid, self.every, self.peak, self._stop = pid, every, 0, threading.Event()
    def _rss(self):
        import psutil
        try: p = psutil.Process(self.pid); procs = [p, *p.children(recursive=True)]
        except psutil.NoSuchProcess: return 0
        total = 0
        for q in procs:
            try: total += q.memory_info().rss
            except psutil.NoSuchProcess: pass
        return total
    def _run(self):
        while not self._stop.is_set(): self.peak = max(self.peak, self._rss()); self._stop.wait(self.every)
    def __enter__(self): self._t = threading.Thread(target=self._run, daemon=True); self._t.start(); return self
    def __exit__(self, *_): self.peak = max(self.peak, self._rss()); self._stop.set(); self._t.join()

def run_notebook(path:Path, # a notebook
                 cuda:bool=False): # run the `gpu` cells too
    "dict(seconds, peak_rss_gb, cells_run, cells_skipped) of `path` run in a fresh python3 kernel, in its folder."
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    left_out = {}
    for c in nb.cells:
        why = skipped(c.source, cuda) if c.cell_type == 'code' else None
        if why: left_out[why] = left_out.get(why, 0) + 1; c.source = f'# left out by tests/test_notebooks_kernel.py ({why})'
    client = NotebookClient(nb, kernel_name='python3', timeout=CELL_TIMEOUT, allow_errors=False,
                            resources={'metadata': {'path': str(path.parent)}})
    t0 = time.perf_counter()
    with client.setup_kernel():
        with PeakRSS(client.km.provisioner.process.pid) as mem:
            for i, cell in enumerate(nb.cells): client.execute_cell(cell, i)
    return dict(seconds=round(time.perf_counter() - t0, 1), peak_rss_gb=round(mem.peak / 2 ** 30, 3),
                cells_run=sum(c.cell_type == 'code' for c in nb.cells) - sum(left_out.values()), cells_skipped=left_out)

def _commit():
    r = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True)
    return r.stdout.strip() or None

def test_skipped_flags():
    assert skipped('#| gpu\nx = 1', cuda=False) == 'gpu' and skipped('#| slow, gpu\nx', cuda=False) == 'gpu'
    assert skipped('#| gpu\nx = 1', cuda=True) is None
    assert skipped('#| eval: false\nx', cuda=True) == 'eval: false'
    assert skipped('#| slow\nx = 1  # a gpu comment', cuda=False) is None and skipped('#| export\ngpu = 1', cuda=False) is None

@pytest.mark.skipif(not ENABLED, reason='long: opt in with FINEALIGN_NB_KERNEL=1 (see the module docstring)')
@pytest.mark.parametrize('nb', [p for p in NOTEBOOKS if PICK.search(str(p.relative_to(NBS)))],
                         ids=lambda p: str(p.relative_to(NBS)))
def test_notebook_in_kernel(nb):
    import torch
    from nbclient.exceptions import CellExecutionError
    rel = str(nb.relative_to(NBS))
    try: rec = run_notebook(nb, cuda=torch.cuda.is_available())
    except CellExecutionError as e: pytest.fail(f"{rel}: a cell failed in the kernel:\n{str(e)[-3000:]}", pytrace=False)
    bound = MEMORY_GB.get(rel, DEFAULT_GB)
    rec = dict(notebook=rel, **rec, memory_bound_gb=bound, commit=_commit(), machine=platform.node(),
               cpus=os.cpu_count(), cuda=torch.cuda.is_available(), when=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
    stem = rel.replace('/', '__').removesuffix('.ipynb')
    rec = dict(schema='finealign.record/1', name=f'notebooks/{stem}', label=rel,   # a record (nbs/engine/records.ipynb)
               metrics={k: rec[k] for k in ('peak_rss_gb', 'seconds', 'cells_run', 'memory_bound_gb')},
               times=dict(run=rec['seconds']), threads=None,
               threads_note="not recorded: the kernel ran with torch's default thread count", **rec)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT/(stem + '.json')).write_text(json.dumps(rec, indent=1) + '\n')
    assert rec['peak_rss_gb'] < bound, f"{rel}: peak RSS {rec['peak_rss_gb']} GB over the {bound} GB bound"
