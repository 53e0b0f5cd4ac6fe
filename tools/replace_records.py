"""Replace records under results/ by the records of a run made again, keeping each row's name and label.

    python tools/replace_records.py RESULTS_FILE RUN_RECORDS NAME=ROW [NAME=ROW ...] [--relabel NAME=TEXT ...]

RESULTS_FILE  a committed record file, e.g. results/scenes/laps.json
RUN_RECORDS   the record.json a run wrote (`finealign train`, `demo`, `msa`), or a file of records made from one
NAME=ROW      the record NAME in RESULTS_FILE takes the run's record whose name is ROW (or ends in '/ROW')

Each replaced record is the run's record (metrics, resolved config, command, commit, machine, threads, versions,
stage times, date) under the old NAME and label, with `previous` holding what it replaces (metrics, commit, and
where a transcribed row came from), so that a page can show the two side by side. Records of RESULTS_FILE that
are not named are kept as they are. Nothing is written if a name or a row is missing or named twice.
"""
import argparse, copy, json, sys
from pathlib import Path

from finealign.engine.records import write_record


def _records(path):
    try: recs = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e: sys.exit(f"{path}: cannot read records ({e})")
    recs = recs if isinstance(recs, list) else [recs]
    if not all(isinstance(r, dict) and 'name' in r and 'metrics' in r for r in recs):
        sys.exit(f"{path}: expected a record or a list of records (dicts with 'name' and 'metrics')")
    return recs


def _pairs(items, what):
    out = {}
    for it in items:
        k, sep, v = it.partition('=')
        if not sep or not k or not v: sys.exit(f"{what} {it!r}: expected NAME=VALUE")
        if k in out: sys.exit(f"{what}: {k!r} is named twice")
        out[k] = v
    return out


def replace(results, run, mapping, relabel=None):
    "The records of `results` with those named in `mapping` replaced by `run`'s rows (see the module doc)."
    relabel, by_name = relabel or {}, {r['name']: r for r in results}
    for name in [*mapping, *relabel]:
        if name not in by_name: sys.exit(f"no record {name!r} in the results file; it has {sorted(by_name)}")
    out = []
    for old in results:
        if old['name'] not in mapping: out.append(old); continue
        row = mapping[old['name']]
        hits = [r for r in run if r['name'] == row or r['name'].endswith('/' + row)]
        if len(hits) != 1:
            sys.exit(f"run row {row!r} matches {len(hits)} of the run's records {[r['name'] for r in run]}")
        new = copy.deepcopy(hits[0])
        tr = old.get('transcribed') or {}
        new.update(name=old['name'], label=relabel.get(old['name'], old.get('label', old['name'])),
                   transcribed=None, run_row=hits[0]['name'],
                   previous=dict(metrics=old['metrics'], commit=old.get('commit') or tr.get('commit'),
                                 machine=old.get('machine'), threads=old.get('threads'),
                                 transcribed_from=tr.get('from')))
        out.append(new)
    return out


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('results'); p.add_argument('run'); p.add_argument('pairs', nargs='+')
    p.add_argument('--relabel', action='append', default=[])
    a = p.parse_args()
    new = replace(_records(a.results), _records(a.run), _pairs(a.pairs, 'NAME=ROW'),
                  _pairs(a.relabel, '--relabel'))
    write_record(a.results, new)
    print(f"{a.results}: {len(a.pairs)} of {len(new)} records replaced from {a.run}")
