"""Compare two run folders of the same experiment: do they hold the same numbers and the same weights?

A refactor that claims to change no behaviour is checked by running one config at two commits (same machine,
same thread count) and comparing the folders: the metrics in `metrics.json` (wall-clock timings left out), every
row of each method's `epochs.csv` and `steps.csv` (per-step losses; timings left out), and every tensor of the
`best/` and `last/` weights (`torch.equal`).

    python tools/compare_runs.py BEFORE_RUN AFTER_RUN [--record results/<name>.json --name NAME
                                 --before-commit C --after-commit C --command CMD]

Exit status 0 when identical, 1 when anything differs (each difference is printed).
"""
import argparse, csv, json, sys
from pathlib import Path

def _untimed(r):
    "`r` without its wall-clock entries (keys starting with 'time'), which no refactor should be held to."
    if isinstance(r, dict): return {k: _untimed(v) for k, v in r.items() if not str(k).startswith('time')}
    if isinstance(r, list): return [_untimed(v) for v in r]
    return r

def _rows(p:Path) -> list:
    with open(p, newline='') as f: return [_untimed(r) for r in csv.DictReader(f)]

def compare(a:Path, b:Path) -> tuple[bool, dict, list]:
    "(identical, per-method rSum of `b`, lines of the comparison)"
    from safetensors.torch import load_file
    import torch
    lines, ok = [], True
    ra = json.loads((a/'metrics.json').read_text())['results']
    rb = json.loads((b/'metrics.json').read_text())['results']
    same = _untimed(ra) == _untimed(rb); ok &= same
    lines.append(f"metrics.json results: {'equal' if same else 'DIFFER'}")
    for m in sorted(p.name for p in (a/'checkpoints').iterdir() if p.is_dir()):
        for f in ('epochs.csv', 'steps.csv'):
            if not (a/'checkpoints'/m/f).exists(): continue
            ea, eb = _rows(a/'checkpoints'/m/f), _rows(b/'checkpoints'/m/f)
            same = ea == eb; ok &= same
            lines.append(f"{m}/{f}: {len(ea)} rows {'equal' if same else 'DIFFER'}")
        for w in ('best', 'last'):
            sa = load_file(a/'checkpoints'/m/w/'model.safetensors')
            sb = load_file(b/'checkpoints'/m/w/'model.safetensors')
            same = sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa); ok &= same
            lines.append(f"{m}/{w}: {len(sa)} tensors {'equal' if same else 'DIFFER'}")
    rsum = {k: v['rsum'] for k, v in rb.items() if isinstance(v, dict) and 'rsum' in v}
    return ok, rsum, lines

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('before', type=Path); ap.add_argument('after', type=Path)
    ap.add_argument('--record', type=Path, help='write the outcome as a record here')
    ap.add_argument('--name', help="the record's name, '<experiment>/<row>'")
    ap.add_argument('--before-commit'); ap.add_argument('--after-commit')
    ap.add_argument('--command', help='the command both runs ran')
    args = ap.parse_args()
    ok, rsum, lines = compare(args.before, args.after)
    print('\n'.join(lines)); print('IDENTICAL' if ok else 'NOT IDENTICAL')
    if args.record:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from finealign.engine.records import make_record, write_record
        rec = make_record(args.name, {**{f'rsum_{k}': v for k, v in rsum.items()}, 'identical': int(ok)},
                          command=args.command,
                          label=f"{args.name} ({args.before_commit} → {args.after_commit}, rSum)", what=__doc__.split('\n\n')[1].replace('\n', ' '),
                          before_commit=args.before_commit, after_commit=args.after_commit, checks=lines)
        write_record(args.record, rec)
    sys.exit(0 if ok else 1)

if __name__ == '__main__': main()
