"""How long finealign takes to import, in two checkouts side by side: before and after a change.

    python tools/measure_import.py /work/eq/before . --runs 7 --out results/install/import-time.json

For each checkout, each command below runs in a fresh interpreter (the checkout first on PYTHONPATH,
so the same environment imports either tree), and its wall time is taken from outside, start to
exit. The two trees take turns run by run, so a busy machine slows both alike; the record keeps
every run and the median of each. nbs/install.ipynb reads the record.

- `import finealign`: what a script or `import finealign as fa` pays before using anything;
- `import finealign.cli`: the command line's module and everything it imports;
- `finealign --help`: the console script itself, as a user types it.

A last fresh interpreter per tree says which modules `import finealign` loaded (torch or not) and
from which folder it imported the package, so a record cannot time the wrong tree."""
import argparse, json, os, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from finealign.engine.records import make_record, write_record  # noqa: E402

SCRIPT = Path(sys.executable).parent/'finealign'     # the console script of this environment
COMMANDS = {   # metric prefix -> the command, run from the tree's folder
    'import_finealign': [sys.executable, '-c', 'import finealign'],
    'import_finealign_cli': [sys.executable, '-c', 'import finealign.cli'],
    'finealign_help': [str(SCRIPT), '--help'],
}
PROBE = ("import json, sys, finealign; print(json.dumps(dict(file=finealign.__file__, "
         "torch='torch' in sys.modules, modules=len(sys.modules))))")

def tree_env(tree:Path) -> dict:
    "This environment with `tree` first on the import path and the hubs offline."
    return dict(os.environ, PYTHONPATH=str(tree), HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1')

def wall(cmd:list, tree:Path) -> float:
    "Seconds from start to exit of `cmd` run in `tree`; raises with its output if it fails."
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=tree, env=tree_env(tree), capture_output=True, text=True)
    s = time.perf_counter() - t
    if r.returncode: raise RuntimeError(f"{' '.join(cmd)} in {tree} failed:\n{r.stderr[-2000:]}")
    return s

def probe(tree:Path) -> dict:
    "Where `import finealign` comes from in `tree`, and whether it imported torch."
    out = subprocess.run([sys.executable, '-c', PROBE], cwd=tree, env=tree_env(tree),
                         capture_output=True, text=True, check=True).stdout
    info = json.loads(out)
    if not Path(info['file']).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"{tree}: `import finealign` loaded {info['file']}, not this tree's")
    return info

def measure(trees:dict, runs:int) -> dict:
    "{tree label: {command: [seconds of each run]}}, the trees taking turns within each run."
    out = {label: {c: [] for c in COMMANDS} for label in trees}
    for _ in range(runs):
        for c, cmd in COMMANDS.items():
            for label, tree in trees.items(): out[label][c].append(round(wall(cmd, tree), 4))
    return out

def head(tree:Path):
    "The commit checked out in `tree`, or None."
    r = subprocess.run(['git', '-C', str(tree), 'rev-parse', 'HEAD'], capture_output=True,
                       text=True)
    return r.stdout.strip() or None

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('before', type=Path, help='the checkout before the change')
    p.add_argument('after', type=Path, help='the checkout after it')
    p.add_argument('--runs', type=int, default=7, help='fresh interpreters per command and tree')
    p.add_argument('--out', type=Path, help='write the record here (default: print it)')
    a = p.parse_args(argv)
    if not SCRIPT.exists(): p.error(f"no console script {SCRIPT}: install finealign here first")
    trees = dict(before=a.before.resolve(), after=a.after.resolve())
    probes = {label: probe(tree) for label, tree in trees.items()}
    load = os.getloadavg()
    t = time.perf_counter()
    samples = measure(trees, a.runs)
    seconds = round(time.perf_counter() - t, 1)
    metrics = {}
    for c in COMMANDS:
        before, after = (statistics.median(samples[label][c]) for label in ('before', 'after'))
        metrics.update({f'{c}_before_s': round(before, 3), f'{c}_after_s': round(after, 3),
                        f'{c}_ratio': round(after / before, 3)})
    cmd = ['python tools/measure_import.py', str(a.before), str(a.after), '--runs', str(a.runs)]
    cmd += ['--out', str(a.out)] if a.out else []
    commands = {c: ' '.join([Path(x[0]).name, *x[1:]]) for c, x in COMMANDS.items()}
    rec = make_record('install/import-time', metrics, label='import time: before / after',
                      config=dict(runs=a.runs, commands=commands), command=' '.join(cmd),
                      times=dict(measure=seconds), root=trees['after'],
                      what="wall seconds of fresh interpreters, median of `runs`",
                      trees={label: str(tree) for label, tree in trees.items()},
                      before_commit=head(trees['before']), probe=probes, samples=samples,
                      load_average=[round(x, 2) for x in load])
    if a.out: print(write_record(a.out, rec))
    else: print(json.dumps(rec, indent=1))
    for c in COMMANDS:
        b, f, r = (metrics[f'{c}_{k}'] for k in ('before_s', 'after_s', 'ratio'))
        print(f"{c:<22} before {b:6.3f} s  after {f:6.3f} s  ratio {r:.3f}", file=sys.stderr)

if __name__ == '__main__': main()
