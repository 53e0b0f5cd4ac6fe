"""Gather the finished seeds of a `finealign msa` run split over processes by seed into records.

    python tools/gather_msa_seeds.py configs/mvsa-decalign.yaml runs/a,runs/b results/mvsa/decalign.json mvsa

reads each run folder's checkpoints/<method>/seed<s>/result.json (and metrics.json for the linear rows) and
writes one record per method (`finealign.engine.records.records_from_msa`, prefix the 4th argument) to the 3rd.
"""
import json, sys, time
from pathlib import Path
from dataclasses import asdict
from finealign.engine.records import records_from_msa, write_record
from finealign.engine.predict import MSAExperiment, msa_table, _mean_std, run_environment, SELECTION_SPLIT
from finealign.engine.experiment import load_experiment
cfg, outs, dest, prefix = sys.argv[1], sys.argv[2].split(','), sys.argv[3], sys.argv[4]
exp = load_experiment(cfg, cls=MSAExperiment)      # the checked config, as `finealign msa` reads it
results, missing = {}, {}
for m in exp.methods:
    name = m.get('name', m['model'])
    if m['model'] in ('logreg', 'ridge'):
        for o in outs:
            f = Path(o)/'metrics.json'
            if f.exists() and name in json.loads(f.read_text())['results']:
                results[name] = json.loads(f.read_text())['results'][name]; break
        continue
    runs = []
    for s in exp.seeds:
        for o in outs:
            f = Path(o)/'checkpoints'/name/f'seed{s}'/'result.json'
            if f.exists(): runs.append(json.loads(f.read_text())['result']); break
    if not runs: missing[name] = list(exp.seeds); continue
    results[name] = dict(runs=runs, deterministic=False, mean_std=_mean_std(runs),
                         wall_s=sum(r['wall_s'] for r in runs), seeds=[r['seed'] for r in runs])
    if len(runs) < len(exp.seeds): missing[name] = [s for s in exp.seeds if s not in results[name]['seeds']]
rec = dict(experiment=asdict(exp), selection_split=SELECTION_SPLIT, eval_split=exp.eval_split, results=results,
           seeds_missing=missing, note="the seeds ran in parallel processes (one or two seeds each) on a 2-core machine shared "
           "with other jobs (load 10-20); wall_s per row is the sum of its seeds' training and evaluation times; "
           "rows listed in seeds_missing did not finish before the deadline",
           stage_times={n: r.get('wall_s') for n, r in results.items()}, environment=run_environment(),
           date=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
rec = json.loads(json.dumps(rec, default=str))   # plain JSON, as metrics.json holds it
write_record(dest, records_from_msa(rec, prefix, command=f'finealign msa {cfg} (seeds gathered by tools/gather_msa_seeds.py)'))
tab = {(f"{n} [{len(r['runs'])} seed{'s' if len(r['runs']) > 1 else ''}]" if not r.get('deterministic') else n): r for n, r in results.items()}
print(msa_table(tab, exp)); print('missing:', missing)
