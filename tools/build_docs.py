#!/usr/bin/env python
"""Build the docs site without Quarto, into `_proc/_docs/`.

Where Quarto is installed, `nbdev-docs` builds the site into `_docs/`. Quarto cannot be installed on
the machines this project is built and tested on, so this script builds the same site from the same
nbdev output:

1. check `nbs/sidebar.yml` (the hand-written reading order) against the notebooks that exist;
2. `nbdev-export`, then `nbdev-proc-nbs` with a stub `quarto` first on PATH;
3. check that every page's `output-file` is the name smalldocs will give it;
4. `smalldocs render _proc`, failing on any warning outside an explicit allow-list;
5. copy KaTeX (the npm package `katex`, pinned and checked against its registry hash, fetched
   once into `.cache/`) into the site and point the pages at it instead of smalldocs' CDN links,
   so that maths renders offline and from `file://`; fail if a page still loads a script or
   stylesheet from the network.

Run it with the project's Python (`./run docs`, or `.venv/bin/python tools/build_docs.py`).
The pitfalls each step avoids are described in ../shared/reference/offline-assets.md.
"""
from __future__ import annotations
import argparse, base64, hashlib, json, os, re, shutil, subprocess, sys, tarfile, tempfile, time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
NBS, PROC = ROOT/'nbs', ROOT/'_proc'
SITE = PROC/'_docs'  # smalldocs writes to the `output-dir` of nbdev.yml, relative to _proc
BIN = Path(sys.executable).parent  # the venv's bin: nbdev-* and smalldocs live next to its python

# nbdev 3.3.26 applies `--file-re` to notebooks only; other files are always staged. With our hand-written
# sidebar the filter changes nothing, but it keeps nbdev's generated sidebar (if ever switched back on)
# from listing nbdev.yml, sidebar.yml and styles.css (pitfall 2).
FILE_RE = r'\.(?:ipynb|qmd|html)$'

# smalldocs warns about nbdev settings that only Quarto reads (pitfall 5); those, and only those, are expected.
ALLOWED_WARNINGS = [
    r'unknown key format-links',                                 # nbdev.yml: the "Markdown" link under each page
    r'format commonmark is not built: smalldocs makes only html',  # _quarto.yml: the .md twin of every page
    r'format\.html\.keep-md is ignored',                         # _quarto.yml
    r'\S+\.(?:ipynb|qmd): output-file is not read by smalldocs',  # safe: check_output_files() checks the names
]

# KaTeX: smalldocs links it from a CDN (katex@0.16.11 on jsdelivr), so offline every equation stays
# raw TeX. The build copies the npm package's `dist/` into the site instead, pinned by version
# and by the registry's integrity hash (`npm view katex@VERSION dist.integrity`).
# FINEALIGN_KATEX_DIR may name an unpacked `dist/` (with the package's LICENSE) to use instead.
KATEX_VERSION = '0.16.47'
KATEX_INTEGRITY = ('sha512-Eeo8Ys1doU1z+x8AZsPpQu+p/QcZBI5PeOo7QGQdy2x2m0MU/hYagBbGOmXwr5KVbEfVuWv9'
                   'LpnQWeehogurjg==')
KATEX_CACHE = ROOT/'.cache'/f'katex-{KATEX_VERSION}'  # .cache/ is git-ignored
# what the pages use
KATEX_FILES = ['katex.min.css', 'katex.min.js', 'contrib/auto-render.min.js', 'fonts', 'LICENSE']
KATEX_SITE = 'site_libs/katex'  # where the site keeps them
KATEX_CDN = re.compile(r'https://cdn\.jsdelivr\.net/npm/katex@[^/"\']+/dist/')
# a script, stylesheet, font or module the browser would fetch from another host
REMOTE_ASSET = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"[^>]*>',
                          re.I)

class DocsError(Exception): "The docs site cannot be built as it stands."

def doc_sources(nbs:Path=NBS) -> list[str]:
    "Pages nbdev renders from `nbs`: notebooks and .qmd files, skipping names (and folders) starting with `_` or `.`."
    out = []
    for p in sorted(nbs.rglob('*')):
        rel = p.relative_to(nbs)
        if p.suffix in ('.ipynb', '.qmd') and p.is_file() and not any(s[0] in '_.' for s in rel.parts):
            out.append(rel.as_posix())
    return out

def sidebar_entries(sidebar:Path=NBS/'sidebar.yml') -> list[str]:
    "Every page `sidebar.yml` names: plain entries, and the `href`/`file` of sections and links."
    if not sidebar.exists(): raise DocsError(f"{sidebar.relative_to(ROOT)} is missing: it gives the docs' reading order")
    cfg = yaml.safe_load(sidebar.read_text()) or {}
    contents = ((cfg.get('website') or {}).get('sidebar') or {}).get('contents')
    if not contents: raise DocsError(f"{sidebar.relative_to(ROOT)} has no website.sidebar.contents list")
    out = []
    def walk(items):
        for it in items:
            if isinstance(it, str): out.append(it)
            elif isinstance(it, dict):
                ref = it.get('href') or it.get('file')
                if ref and not re.match(r'^[a-z]+:', str(ref)): out.append(str(ref))
                walk(it.get('contents') or [])
    walk(contents)
    return out

def check_sidebar(nbs:Path=NBS):
    "Raise `DocsError` unless the sidebar names exactly the pages that exist, each once."
    listed, have = sidebar_entries(nbs/'sidebar.yml'), doc_sources(nbs)
    problems = [f"nbs/sidebar.yml lists {e}, but nbs/{e} does not exist" for e in listed if e not in have]
    problems += [f"nbs/{e} is not in nbs/sidebar.yml: add it where it belongs in the reading order"
                 for e in have if e not in listed]
    problems += [f"nbs/sidebar.yml lists {e} more than once" for e in sorted(set(listed)) if listed.count(e) > 1]
    if problems: raise DocsError('\n'.join(problems))

def _run(cmd:list[str], env:dict, what:str) -> str:
    "Run `cmd` in the repo root; raise `DocsError` with its output when it fails."
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if r.returncode: raise DocsError(f"{what} failed (exit {r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout + r.stderr

def tool_env(stub_dir:Path) -> dict:
    "The environment for nbdev and smalldocs: a stub `quarto` first on PATH, then the venv's bin, offline hubs."
    env = dict(os.environ, HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1')
    env['PATH'] = os.pathsep.join([str(stub_dir), str(BIN), env.get('PATH', '')])
    return env

def quarto_stub(folder:Path) -> Path:
    "Write a `quarto` that exits 1: `nbdev-proc-nbs` only checks it exists, and without one it tries to install Quarto (pitfall 1)."
    q = folder/'quarto'
    q.write_text('#!/bin/sh\necho "quarto: not installed (stub from tools/build_docs.py)" >&2\nexit 1\n')
    q.chmod(0o755)
    return folder

def proc(env:dict, export:bool=True, file_re:str=FILE_RE):
    "Export the library, then stage processed notebooks in `_proc/` as `nbdev-docs` does before calling Quarto."
    if export: _run([str(BIN/'nbdev-export')], env, 'nbdev-export')
    r = subprocess.run([str(BIN/'nbdev-proc-nbs'), '--file-re', file_re], cwd=ROOT, env=env, capture_output=True, text=True)
    out = r.stdout + r.stderr
    if r.returncode or 'Traceback' in out or 'Quarto is not installed' in out:
        # nbdev's own message comes last ("Exception: Error in notebook: <title> in cell <n> : <source> <error>")
        i = out.rfind('Exception: Error in notebook')
        raise DocsError(f"nbdev-proc-nbs failed (exit {r.returncode}):\n" + (out[i:] if i >= 0 else out[-4000:]) +
                        "\nTo show the API docs, nbdev-proc-nbs runs, in order and in one kernel, only the exported cells, "
                        "the cells containing an import and the show_doc cells: such a cell must not need any other cell.")

def front_matter(nb:Path) -> dict:
    "The YAML front matter nbdev writes into the first raw cell of a processed notebook."
    cells = json.loads(nb.read_text()).get('cells') or []
    src = ''.join(cells[0]['source']) if cells and cells[0]['cell_type'] == 'raw' else ''
    m = re.match(r'^---\n(.*?)\n---', src, re.S)
    return (yaml.safe_load(m.group(1)) or {}) if m else {}

def check_output_files(proc_dir:Path=PROC):
    "Raise unless each page's `output-file` is `<stem>.html`: smalldocs ignores it, nbdev's links use it (pitfall 3)."
    bad = []
    for nb in sorted(proc_dir.rglob('*.ipynb')):
        if '_docs' in nb.relative_to(proc_dir).parts: continue
        want = front_matter(nb).get('output-file')
        if want and want != nb.with_suffix('.html').name:
            bad.append(f"nbs/{nb.relative_to(proc_dir)}: nbdev links to {want}, smalldocs writes {nb.stem}.html; "
                       f"name the notebook {Path(want).stem}.ipynb (no number prefixes)")
    if bad: raise DocsError('\n'.join(bad))

def render(env:dict, proc_dir:Path=PROC) -> list[str]:
    "Render `_proc/` with smalldocs into `_proc/_docs/`; raise on a warning outside `ALLOWED_WARNINGS`."
    shutil.rmtree(proc_dir/'_docs', ignore_errors=True)  # no page of a deleted notebook survives
    r = subprocess.run([str(BIN/'smalldocs'), 'render', '--quiet', str(proc_dir)], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    lines = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    warns = [l.removeprefix('warning: ') for l in lines if l.startswith('warning: ')]
    unexpected = [w for w in warns if not any(re.fullmatch(a, w) for a in ALLOWED_WARNINGS)]
    other = [l for l in lines if not l.startswith('warning: ')]
    if r.returncode or unexpected or other:
        msg = [f"smalldocs render exited {r.returncode}"] if r.returncode else []
        msg += [f"unexpected smalldocs warning: {w}" for w in unexpected] + other
        raise DocsError('\n'.join(msg))
    return warns

def _katex_missing(folder:Path) -> list[str]:
    "The files of `KATEX_FILES` that `folder` lacks."
    return [f for f in KATEX_FILES if not (folder/f).exists()]

def fetch_katex(cache:Path=KATEX_CACHE) -> Path:
    "KaTeX's `dist/` files: `FINEALIGN_KATEX_DIR`, else the cache, filled once by `npm pack`."
    if d := os.environ.get('FINEALIGN_KATEX_DIR'):
        folder = Path(d)
        if missing := _katex_missing(folder):
            raise DocsError(f"FINEALIGN_KATEX_DIR={d} lacks {', '.join(missing)}: it must be "
                            f"the dist/ folder of the npm package katex (with LICENSE copied in)")
        return folder
    if not _katex_missing(cache): return cache
    npm = shutil.which('npm')
    if not npm: raise DocsError(f"npm is not on PATH: it fetches KaTeX {KATEX_VERSION} once into "
                                f"{cache}/ (or set FINEALIGN_KATEX_DIR to an unpacked dist/)")
    with tempfile.TemporaryDirectory() as d:
        cmd = [npm, 'pack', f'katex@{KATEX_VERSION}', '--pack-destination', d, '--silent']
        r = subprocess.run(cmd, cwd=d, capture_output=True, text=True, timeout=600)
        tgz = Path(d)/f'katex-{KATEX_VERSION}.tgz'
        if r.returncode or not tgz.exists():
            raise DocsError(f"npm pack katex@{KATEX_VERSION} failed (exit {r.returncode}):\n"
                            f"{r.stdout}{r.stderr}")
        got = 'sha512-' + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
        if got != KATEX_INTEGRITY:
            raise DocsError(f"katex-{KATEX_VERSION}.tgz has integrity {got}, "
                            f"expected {KATEX_INTEGRITY}")
        staged = Path(d)/'katex'
        with tarfile.open(tgz) as tf:
            for m in tf.getmembers():
                rel = m.name.removeprefix('package/')
                if m.isfile() and (rel == 'LICENSE' or rel.startswith('dist/')):
                    m.name = rel.removeprefix('dist/')
                    tf.extract(m, staged, filter='data')
        if missing := _katex_missing(staged):
            raise DocsError(f"katex-{KATEX_VERSION}.tgz lacks {', '.join(missing)}")
        cache.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(cache, ignore_errors=True)
        shutil.move(str(staged), cache)
    return cache

def localise_katex(katex:Path, site:Path=SITE) -> int:
    "Copy KaTeX into the site, point the pages' links at the copy; return how many pages use it."
    dest = site/KATEX_SITE
    shutil.rmtree(dest, ignore_errors=True)
    for f in KATEX_FILES:
        (dest/f).parent.mkdir(parents=True, exist_ok=True)
        if (katex/f).is_dir(): shutil.copytree(katex/f, dest/f)
        else: shutil.copy2(katex/f, dest/f)
    n = 0
    for page in site.rglob('*.html'):
        text = page.read_text()
        offset = '../' * (len(page.relative_to(site).parts) - 1)  # relative: file:// works too
        new = KATEX_CDN.sub(f'{offset}{KATEX_SITE}/', text)
        if new != text: page.write_text(new); n += 1
    return n

def check_no_remote_assets(site:Path=SITE):
    "Raise when a page loads a script or stylesheet from another host: offline it would not load."
    bad = [f"{p.relative_to(site)}: {m.group(1)}" for p in sorted(site.rglob('*.html'))
           for m in REMOTE_ASSET.finditer(p.read_text())
           if not re.search(r'\brel="(?:canonical|alternate|license)"', m.group(0))]
    if bad: raise DocsError("pages load assets from the network (the site must work offline):\n"
                            + '\n'.join(sorted(set(bad))))

def build(export:bool=True) -> Path:
    "Build the whole site; return the folder holding it."
    check_sidebar()
    with tempfile.TemporaryDirectory() as d:
        env = tool_env(quarto_stub(Path(d)))
        proc(env, export=export)
        check_output_files()
        render(env)
    localise_katex(fetch_katex())
    check_no_remote_assets()
    return SITE

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--no-export', action='store_true', help="skip nbdev-export (the library is already in sync)")
    args = ap.parse_args()
    t0 = time.time()
    try: site = build(export=not args.no_export)
    except DocsError as e:
        print(f"[docs] FAILED:\n{e}", file=sys.stderr)
        sys.exit(1)
    n = len(list(site.rglob('*.html')))
    print(f"[docs] built {n} pages into {site.relative_to(ROOT)}/ in {time.time()-t0:.1f}s")

if __name__ == '__main__': main()
