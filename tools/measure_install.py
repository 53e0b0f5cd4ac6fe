"""Install finealign's wheel beside another torch and check that pip keeps it.

    python tools/measure_install.py --out results/install/torch-2.12.1.json \\
        --pre torch==2.12.1 torchvision==0.27.1 numpy==2.1.3 pillow==11.3.0

1. builds the wheel from a copy of this checkout (`pip wheel --no-deps --no-build-isolation`);
2. makes a fresh virtual environment under /tmp and installs the `--pre` packages there first: the
   researcher's environment;
3. `pip install`s the wheel into it, its dependencies resolved by pip against pyproject's ranges;
4. in that environment: imports every finealign module, builds `fa.create_aligner('chan_tiny')` and
   scores a random batch and takes one gradient of its loss;
5. writes a JSON record: what was there before and after, what pip changed, the check's results and
   the timings. nbs/install.ipynb reads it.

pip runs as a researcher's would, from pypi.org alone: this machine's pip configuration (a local
wheel folder, local indexes, a cap on torch) is switched off with PIP_CONFIG_FILE=/dev/null."""
import argparse, json, os, platform, re, shutil, subprocess, sys, tempfile, time, zipfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def build_wheel(dest:Path, root:Path=ROOT) -> Path:
    "Build finealign's wheel into `dest` from a copy of what it needs (no build/ here)."
    src = Path(tempfile.mkdtemp(prefix='finealign-src-'))
    try:
        for f in ('pyproject.toml', 'README.md'): shutil.copy(root/f, src/f)
        skip = shutil.ignore_patterns('__pycache__', '*.pyc')
        shutil.copytree(root/'finealign', src/'finealign', ignore=skip)
        cmd = [sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q']
        r = subprocess.run(cmd + ['-w', str(dest), str(src)], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"pip wheel failed (exit {r.returncode}):\n{r.stdout}\n{r.stderr}")
    finally: shutil.rmtree(src, ignore_errors=True)
    wheels = sorted(dest.glob('finealign-*.whl'))
    if len(wheels) != 1:
        found = [w.name for w in wheels]
        raise RuntimeError(f"one finealign wheel expected in {dest}, found {found}")
    return wheels[0]

def wheel_requires(wheel:Path) -> list[str]:
    "The `Requires-Dist` lines of `wheel`'s METADATA."
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))
        lines = z.read(meta).decode().splitlines()
    return [l.split(':', 1)[1].strip() for l in lines if l.startswith('Requires-Dist:')]

CHECK = r'''
import importlib, json, pkgutil, sys, time
t0 = time.perf_counter()
import torch, torchvision, numpy, PIL, timm, transformers
import finealign
mods = [m.name for m in pkgutil.walk_packages(finealign.__path__, 'finealign.')]
for m in mods: importlib.import_module(m)
t_import = time.perf_counter() - t0
from finealign.core import Tokens
import finealign as fa
t1 = time.perf_counter()
torch.manual_seed(0)
model = fa.create_aligner('chan_tiny')
def tokens(B, N, d, n_real):
    mask = torch.arange(N)[None] < torch.tensor(n_real)[:, None]     # (B, N)
    return Tokens(torch.randn(B, N, d), mask, torch.randn(B, d))
img, txt = tokens(4, 6, 8, [6, 5, 6, 3]), tokens(4, 5, 8, [5, 2, 4, 5])
enc_i, enc_t = model.encode_images(img), model.encode_texts(txt)
sims = model.similarity(enc_i, enc_t)                                  # (4, 4)
loss = model.loss(dict(image=img, text=txt, image_ids=torch.arange(4)))['loss']
loss.backward()
grads = [p.grad for p in model.parameters()]
print(json.dumps(dict(
    versions=dict(python=sys.version.split()[0], torch=torch.__version__,
                  torchvision=torchvision.__version__, numpy=numpy.__version__,
                  pillow=PIL.__version__, timm=timm.__version__,
                  transformers=transformers.__version__),
    modules_imported=len(mods), aligner=type(model).__name__,
    similarity_shape=list(sims.shape), similarity_finite=bool(torch.isfinite(sims).all()),
    loss=round(float(loss.detach()), 6), loss_finite=bool(torch.isfinite(loss)),
    all_parameters_have_grad=all(g is not None and bool(torch.isfinite(g).all()) for g in grads),
    import_s=round(t_import, 2), build_and_score_s=round(time.perf_counter() - t1, 3),
    threads=torch.get_num_threads())))
'''

def pip_env() -> dict:
    "The environment pip runs in: pypi.org only, none of this machine's pip configuration."
    keep = ('PIP_CERT', 'PIP_CACHE_DIR')
    env = {k: v for k, v in os.environ.items() if not k.startswith('PIP_') or k in keep}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK='1',
               HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1')
    env.pop('PYTHONPATH', None); env.pop('VIRTUAL_ENV', None)
    return env

def run(cmd, env, what) -> tuple[str, float]:
    "Run `cmd`; (stdout, seconds); raise with its output if it fails."
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode:
        tail = (r.stdout[-3000:] + '\n' + r.stderr[-3000:]).strip()
        raise RuntimeError(f"{what} failed (exit {r.returncode}):\n{tail}")
    return r.stdout, round(time.perf_counter() - t, 1)

def freeze(py, env) -> dict:
    out, _ = run([py, '-m', 'pip', 'list', '--format=json'], env, 'pip list')
    return {d['name'].lower(): d['version'] for d in json.loads(out)}

def git_commit() -> str:
    "HEAD's hash, with ' (+ uncommitted changes)' when the checkout differs from it."
    r = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True)
    if r.returncode: return 'unknown'
    dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return r.stdout.strip() + (' (+ uncommitted changes)' if dirty else '')

def dist_name(spec:str) -> str:
    "The distribution a pip spec names: 'torch' for 'torch==2.12.1' or for 'torch-2.13.0-(…).whl'."
    if spec.endswith('.whl'): return Path(spec).name.split('-')[0].lower().replace('_', '-')
    return re.split(r'[=<>!~;\[ ]', spec, maxsplit=1)[0].lower()

def measure(pre:list[str], venv:Path, keep_venv:bool=False) -> dict:
    env = pip_env()
    with tempfile.TemporaryDirectory(prefix='finealign-wheel-') as d:
        t = time.perf_counter()
        wheel = build_wheel(Path(d))
        t_wheel = round(time.perf_counter() - t, 1)
        requires = wheel_requires(wheel)
        if venv.exists(): shutil.rmtree(venv)
        _, t_venv = run([sys.executable, '-m', 'venv', str(venv)], env, 'python -m venv')
        py = str(venv/'bin'/'python')
        pip = [py, '-m', 'pip', 'install']
        _, t_pre = run(pip + ['-q', *pre], env, 'pip install ' + ' '.join(pre))
        before = freeze(py, env)
        out, t_fa = run(pip + [str(wheel)], env, 'pip install <the wheel>')
        after = freeze(py, env)
    try:
        check_out, t_check = run([py, '-c', CHECK], env, 'the check in the new environment')
        check = json.loads(check_out.strip().splitlines()[-1])
    except RuntimeError as e:   # recorded: a failing release is a result too
        check, t_check = dict(error=str(e)[-2000:]), None
    if not keep_venv: shutil.rmtree(venv, ignore_errors=True)
    changed = {k: [before[k], after[k]] for k in before if k in after and before[k] != after[k]}
    pre_names = [dist_name(p) for p in pre]
    return dict(
        what="finealign's wheel pip-installed into a fresh environment that already held `pre`",
        made_by='python tools/measure_install.py --pre ' + ' '.join(pre),
        date=datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'), commit=git_commit(),
        machine=dict(python=platform.python_version(), platform=platform.platform(),
                     cpus=os.cpu_count()),
        index='pypi.org only (PIP_CONFIG_FILE=/dev/null)', pip=before.get('pip'),
        wheel=wheel.name, wheel_requires=requires, pre=pre,
        kept={n: before.get(n) == after.get(n) for n in pre_names},
        changed=changed, removed=sorted(set(before) - set(after)),
        added={k: after[k] for k in sorted(set(after) - set(before))},
        pip_said=[l for l in out.splitlines() if l.startswith('Successfully')],
        check=check,
        seconds=dict(build_wheel=t_wheel, venv=t_venv, install_pre=t_pre, install_finealign=t_fa,
                     check=t_check))

def as_record(rec:dict, name:str) -> dict:
    "`rec` with the fields of a finealign record (nbs/engine/records.ipynb): name, metrics, times, threads."
    c = rec['check']
    metrics = {k: c[k] for k in ('modules_imported', 'import_s', 'build_and_score_s') if k in c}
    out = dict(schema='finealign.record/1', name=name, label=name, metrics=metrics,
               times={k: v for k, v in rec['seconds'].items() if v is not None},
               threads=c.get('threads'), **rec)
    if out['threads'] is None:
        out['threads_note'] = "not recorded: the check failed before it could report torch's thread count"
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--pre', nargs='+', required=True,
                    help='what the environment holds before finealign (pip requirement specs)')
    ap.add_argument('--out', required=True, help='the JSON record to write')
    ap.add_argument('--venv', default='/tmp/finealign-install-check',
                    help='where to make the environment (replaced if there)')
    ap.add_argument('--keep-venv', action='store_true')
    a = ap.parse_args()
    rec = measure(a.pre, Path(a.venv), a.keep_venv)
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    rec = as_record(rec, 'install/' + out.stem)
    out.write_text(json.dumps(rec, indent=1) + '\n')
    print(json.dumps({k: rec[k] for k in ('kept', 'changed', 'check', 'seconds')}, indent=1))
    if 'error' in rec['check']: sys.exit(f"the check failed; recorded in {out}")
