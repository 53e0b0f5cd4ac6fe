#!/usr/bin/env python
"""Transcribe the result tables of the README at commit c5d76a4 into records under `results/` (run once).

Until the runs are repeated at the current commit, each row of the old README is a record marked
`transcribed`: where it was copied from, the commit and machine the README's prose names (None where it names
none), and the commit that first wrote the row into the README. Every table is checked: `records_table` with the
page's columns must give back the README's cells (bold and the minus sign aside).

    python tools/transcribe_readme.py          # write results/<table>.json
"""
from __future__ import annotations
import re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from finealign.engine.records import make_record, write_record, load_records, records_table  # noqa: E402
sys.path.insert(0, str(ROOT/'tools'))
from results_tables import TABLES, SCENES_MACHINE  # noqa: E402

SRC = 'c5d76a4'
NUM = re.compile(r'[−-]?\d[\d,]*(?:\.\d+)?(?:e[−-]?\d+)?')

def git(*a): return subprocess.run(['git', '-C', str(ROOT), *a], capture_output=True, text=True).stdout

def tables(text):
    out, cur = [], []
    for l in text.splitlines():
        if l.startswith('|'): cur.append(l)
        elif cur: out.append(cur); cur = []
    return out

def cells(line): return [c.strip() for c in line.strip().strip('|').split('|')]

def number(s):
    s = s.replace('−', '-').replace(',', '')
    return int(s) if re.fullmatch(r'-?\d+', s) else float(s)

def parse(cell, keys):
    "The metrics of one cell: its numbers, in order, under `keys` (a key starting with '*' takes them all as a list)."
    cell = cell.replace('**', '').strip()
    if cell in ('', '—'): return {}
    nums = [number(x) for x in NUM.findall(cell)]
    if len(keys) == 1 and keys[0].startswith('*'): return {keys[0][1:]: nums}
    if len(nums) < len(keys) and all(k.endswith('_std') for k in keys[len(nums):]): keys = keys[:len(nums)]
    if len(nums) != len(keys): raise ValueError(f"cell {cell!r}: {len(nums)} numbers for keys {keys}")
    return dict(zip(keys, nums))

def norm(c): return c.replace('**', '').replace('−', '-').strip().replace('—', '')

def main():
    readme = git('show', f'{SRC}:README.md')
    tabs = tables(readme)
    for t in TABLES:
        lines = tabs[t['index']]
        assert cells(lines[0])[1:] == [h.rstrip(':') for h, _ in t['columns']], (t['file'], cells(lines[0]))
        recs = []
        for line, name in zip(lines[2:], t['names']):
            if name is None: continue
            cs = cells(line)
            label = t.get('labels', {}).get(name, cs[0].replace('**', ''))
            metrics = {}
            for cell, keys in zip(cs[1:], t['keys']): metrics.update(parse(cell, keys))
            metrics.update(t.get('extra', {}).get(name, {}))
            first = git('log', '-S', line, '--format=%h', '--', 'README.md').split()
            prov = dict(t['transcribed'], **t.get('per_row', {}).get(name, {}))
            tr = {'from': f'README at {SRC}', 'commit': prov['commit'], 'machine': prov['machine'],
                  'note': prov['note'] + (f" Row first written into the README in commit {first[-1]}." if first else '')}
            recs.append(make_record(name, metrics, command=t['command'], label=label, transcribed=tr))
        # rows already in another table's records (same run) get their metrics merged there
        path = ROOT/'results'/f"{t['file']}.json"
        if path.exists() and t.get('merge'):
            old = {r['name']: r for r in __import__('json').loads(path.read_text())}
            for r in recs: old[r['name']]['metrics'].update(r['metrics'])
            recs = list(old.values())
        write_record(path, recs)
    # numbers the README gives in prose: the demo's rows under other conditions
    note = "Quoted from the README's prose (section Results so far)."
    prose = [('scenes-variants/vse_2threads', 'VSE++, two threads', dict(rsum=333.4), SCENES_MACHINE.replace(
                  'OMP_NUM_THREADS=1', 'OMP_NUM_THREADS=2'), None,
              'OMP_NUM_THREADS=2 ./run exec finealign train configs/scenes-baselines.yaml --methods vse'),
             ('scenes-variants/scan_t2i_b217aa2', 'SCAN t→i, one seed per run (b217aa2)', dict(rsum=400.3),
              SCENES_MACHINE, 'b217aa2', 'OMP_NUM_THREADS=1 ./run demo'),
             ('scenes-variants/chan_b217aa2', 'CHAN, one seed per run (b217aa2)', dict(rsum=396.7),
              SCENES_MACHINE, 'b217aa2', 'OMP_NUM_THREADS=1 ./run demo'),
             ('scenes-variants/pal_b217aa2', 'PAL, one seed per run (b217aa2)', dict(rsum=416.5),
              SCENES_MACHINE, 'b217aa2', 'OMP_NUM_THREADS=1 ./run demo')]
    write_record(ROOT/'results'/'scenes'/'variants.json',
                 [make_record(n, m, command=cmd, label=lab, transcribed={'from': f'README at {SRC}', 'commit': c,
                                                                         'machine': mach, 'note': note})
                  for n, lab, m, mach, c, cmd in prose])
    # check: every table, rebuilt from the records, gives the README's cells back
    R = load_records(ROOT/'results')
    for t in TABLES:
        lines = tabs[t['index']]
        got = records_table(R, t['rows'], t['columns'], first=t['first'], sources=False).splitlines()
        for want, have in zip(lines[2:], got[2:]):
            w, h = cells(want), cells(have)
            skip = t.get('skip_check', ())
            bad = [(a, b) for i, (a, b) in enumerate(zip(w, h)) if i not in skip and norm(a) != norm(b)]
            if bad: print(f"{t['file']}: {bad}")
        print(f"{t['file']}: {len(lines) - 2} rows checked")

if __name__ == '__main__': main()
