"""The results pages show tables built from records, not typed by hand.

Each page of `nbs/results/` builds its tables with `finealign.engine.records.records_table` from the records committed
under `results/`, and saves the tables as cell outputs (the docs show saved outputs). These tests run each page's
code again, on the committed records, and compare every table with the one saved in the page; so a record changed
without re-running its page (`nbdev-test --save nbs/results/<page>.ipynb`) fails here, and so does a table typed
into a page's prose.
"""
import ast, contextlib, json, os, shutil
from pathlib import Path

import pytest

from conftest import ROOT
import finealign.engine.records as records

PAGES = sorted((ROOT/'nbs'/'results').glob('*.ipynb')) + [ROOT/'nbs'/'index.ipynb']  # the README shows the demo's table
RESULTS = ROOT/'results'

def src(cell): return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def saved_markdown(cell):
    "The text/markdown a code cell's saved outputs show, or None."
    for o in cell.get('outputs', []):
        md = o.get('data', {}).get('text/markdown')
        if md is not None: return ''.join(md) if isinstance(md, list) else md
    return None

def recompute(page:Path, results:Path=RESULTS) -> list:
    "[(cell number, saved table, recomputed table)] for each code cell of `page` that saved a Markdown output."
    real, ns, out = records.load_records, {}, []
    with contextlib.chdir(page.parent):
        for i, c in enumerate(json.loads(page.read_text())['cells']):
            if c['cell_type'] != 'code': continue
            tree = ast.parse(src(c))
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, f'{page.name} cell {i}', 'exec'), ns)
            if 'load_records' in ns: ns['load_records'] = lambda _folder: real(results)  # the records under test
            value = eval(compile(ast.Expression(last.value), f'{page.name} cell {i}', 'eval'), ns) if last else None
            saved = saved_markdown(c)
            if saved is not None: out.append((i, saved, str(value)))
    return out

def test_pages_found():
    assert len(PAGES) >= 9, [p.name for p in PAGES]

@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.name)
def test_tables_are_records_table_output(page):
    "Every saved table is what `records_table` makes of the committed records now."
    tables = recompute(page)
    calls = [i for i, c in enumerate(json.loads(page.read_text())['cells'])
             if c['cell_type'] == 'code' and 'records_table(' in src(c)]
    assert calls, f"{page.name} builds no table from records"
    assert [i for i, *_ in tables] == calls, (f"{page.name}: cells {calls} call records_table, cells "
        f"{[i for i, *_ in tables]} saved a table: run `nbdev-test --save {page.relative_to(ROOT)}`")
    stale = [i for i, saved, new in tables if saved != new]
    assert not stale, (f"{page.name}: the tables of cells {stale} differ from the records under results/: "
                       f"run `nbdev-test --save {page.relative_to(ROOT)}`")

@pytest.mark.parametrize('page', PAGES, ids=lambda p: p.name)
def test_no_hand_typed_tables(page):
    "The prose interprets the tables; it does not carry tables of its own."
    typed = [i for i, c in enumerate(json.loads(page.read_text())['cells'])
             if c['cell_type'] == 'markdown' and '|---' in src(c)]
    assert not typed, f"{page.name}: markdown cells {typed} hold a table: build it from records with records_table"

def test_a_changed_record_is_caught(tmp_path):
    "The comparison can fail: one number changed in a copy of the records changes a saved table."
    shutil.copytree(RESULTS, tmp_path/'results')
    f = tmp_path/'results'/'scenes'/'baselines.json'
    recs = json.loads(f.read_text())
    recs[0]['metrics']['rsum'] += 1.0
    f.write_text(json.dumps(recs))
    tables = recompute(ROOT/'nbs'/'results'/'scenes.ipynb', tmp_path/'results')
    assert any(saved != new for _, saved, new in tables)

def test_records_say_where_they_come_from():
    """Each record is measured (commit, machine, threads) or transcribed (from, commit, machine, note).

    A measured record whose run did not record its thread count says so in `threads_note` (nothing is filled in)."""
    bad = []
    for r in records.load_records(RESULTS):
        t = r.get('transcribed')
        if t: ok = {'from', 'commit', 'machine', 'note'} <= set(t) and t['from'] and t['machine']
        else: ok = (all(r.get(k) is not None for k in ('commit', 'machine'))
                    and (r.get('threads') is not None or bool(r.get('threads_note'))))
        if not ok: bad.append(f"{r['file']}: {r['name']}")
    assert not bad, "records that do not say which run they come from:\n" + '\n'.join(bad)
