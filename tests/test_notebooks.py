"""One test per notebook, run by nbdev's own runner, so a failure is named after its notebook.

The notebooks are the ones `nbdev-test` runs: every `*.ipynb` under `nbs/`, skipping names and folders
starting with `_` or `.`, and notebooks beside a `.notest` file. Cells flagged with a `tst_flags`
directive (`#| slow`, `#| gpu`, `#| notest`) are skipped as they are by `nbdev-test`.
"""
import sys
from pathlib import Path

import pytest
from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.test import test_nb as run_notebook  # renamed so pytest does not collect it

from conftest import ROOT

CFG = get_config(ROOT)
NBS = CFG.nbs_path
SKIP_FLAGS = CFG.tst_flags.split()
NOTEBOOKS = sorted(p for p in nbglob(NBS, as_path=True) if not (p.parent/'.notest').exists())

def test_notebooks_found():
    "An empty list would make every notebook test vanish silently."
    assert NOTEBOOKS, f"no notebooks found under {NBS}"

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.relative_to(NBS).as_posix() for p in NOTEBOOKS])
def test_notebook(nb: Path, capfd):
    "Run every cell of `nb` with cwd = its folder, as `nbdev-test` does; fail with the traceback it printed."
    ok, secs = run_notebook(nb, skip_flags=SKIP_FLAGS, basepath=CFG.config_path,
                            cell_timeout=CFG.get('cell_timeout', 600) or None)
    sys.__stderr__.flush()  # test_nb writes its traceback to the real stderr, which capfd captures at fd level
    err = capfd.readouterr().err
    if not ok: pytest.fail(f"{nb.relative_to(NBS)} failed under nbdev's runner after {secs:.1f}s:\n{err}", pytrace=False)
