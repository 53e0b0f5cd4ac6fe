"""Records from the `bench.json` files of `finealign bench`, for tools/replace_records.py and the benchmarks page.

    python tools/bench_records.py engine RUN_DIR OUT.json --command CMD [--root CHECKOUT]
    python tools/bench_records.py msa UTTERANCE_DIR ALIGNED_DIR OUT.json --command CMD [--root CHECKOUT]
        [--threads N --threads-note TEXT]

engine: one record per method row (`bench-cpu/<method>`): pairs/s of the engine and of the per-caption loop,
their ratio, peak MiB of each, the largest difference between the two matrices; threads from the row.
msa: one record per variant (`bench-msa/<k>`, in the bench's order): ms per training step and the ratio to the
fusion transformer alone, on the utterance and on the aligned shape; then the EM fit and the Sinkhorn alone, as a
share of the paper mode's step. The msa bench does not write its thread
count, so it is given with --threads and the record says where it comes from (--threads-note).
The commit is read from --root, the checkout that ran the bench; run this right after the bench, from it.
"""
import argparse, json, sys
from pathlib import Path

from finealign.engine.records import make_record, write_record

MSA_KEYS = ['fusion_only', 'decoupling', 'hete', 'homo', 'decalign', 'decalign_official',
            'em_fit', 'sinkhorn']  # the last two: forward alone, ratio to the paper mode's whole step
MIB = 2 ** 20


def _rows(run_dir):
    f = Path(run_dir)/'bench.json'
    try: d = json.loads(f.read_text())
    except (OSError, ValueError) as e: sys.exit(f"{f}: cannot read the bench's results ({e})")
    if not isinstance(d.get('rows'), list) or not d['rows']: sys.exit(f"{f}: no 'rows' list")
    return d['rows']


def engine_records(run_dir, command, root='.'):
    out = []
    for r in _rows(run_dir):
        m = dict(engine_pairs_s=r['engine_pairs_per_s'], reference_pairs_s=r['reference_pairs_per_s'],
                 speedup=r['speedup'], engine_peak_mib=r['engine_peak_bytes'] / MIB,
                 reference_peak_mib=r['reference_peak_bytes'] / MIB, max_abs_diff=r['max_abs_diff'])
        rec = make_record(f"bench-cpu/{r['method']}", m, config={k: v for k, v in r.items() if k not in m},
                          command=command, times=dict(engine=r['engine_s'], reference=r['reference_s']),
                          label=r['method'], root=root)
        rec['threads'] = r['threads']
        out.append(rec)
    return out


def msa_records(utt_dir, aligned_dir, command, threads, threads_note, root='.'):
    utt, ali = _rows(utt_dir), _rows(aligned_dir)
    if not len(utt) == len(ali) == len(MSA_KEYS):
        sys.exit(f"expected {len(MSA_KEYS)} variants in each bench.json, found {len(utt)} and {len(ali)}")
    out = []
    for k, u, a in zip(MSA_KEYS, utt, ali):
        if u['variant'] != a['variant']: sys.exit(f"variant {u['variant']!r} is {a['variant']!r} in {aligned_dir}")
        m = dict(ratio_utterance=u['ratio'], ms_utterance=u['ms_per_step'], ratio_aligned=a['ratio'],
                 ms_aligned=a['ms_per_step'])
        rec = make_record(f'bench-msa/{k}', m, config=dict(utterance=u['shape'], aligned=a['shape']),
                          command=command, label=u['variant'], root=root)
        rec.update(threads=threads, threads_note=threads_note)
        out.append(rec)
    return out


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('kind', choices=['engine', 'msa']); p.add_argument('paths', nargs='+')
    p.add_argument('--command', required=True); p.add_argument('--root', default='.')
    p.add_argument('--threads', type=int); p.add_argument('--threads-note')
    a = p.parse_args()
    if a.kind == 'engine':
        if len(a.paths) != 2: sys.exit("engine: RUN_DIR OUT.json")
        recs = engine_records(a.paths[0], a.command, a.root)
    else:
        if len(a.paths) != 3: sys.exit("msa: UTTERANCE_DIR ALIGNED_DIR OUT.json")
        if a.threads is None or not a.threads_note: sys.exit("msa: give --threads and --threads-note")
        recs = msa_records(a.paths[0], a.paths[1], a.command, a.threads, a.threads_note, a.root)
    write_record(a.paths[-1], recs)
    print(f"{a.paths[-1]}: {len(recs)} records")
