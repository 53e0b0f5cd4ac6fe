"""The `finealign` console script as a user calls it: installed on PATH by `pip install -e .`, answering in a
fresh process (no notebook state), listing the registered methods, and refusing a bad argument with argparse's
usage error rather than a traceback."""
import os, shutil, subprocess, sys
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
