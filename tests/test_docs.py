"""The docs site: built without Quarto (tools/build_docs.py), served on 127.0.0.1, and read in headless Chromium.

The checks read what a visitor sees: page titles, an API entry with its docments signature, the sidebar,
a figure that really draws, cross-links that land on pages that exist, maths that KaTeX renders,
and code blocks that fit the page. The browser may fetch nothing but the local server (the theme
asks for web fonts from a CDN; those requests are refused), so maths renders from the site's copy.
Chromium is Debian's (`apt-get install chromium`; `./run test` installs it), driven by Playwright.
"""
import base64, contextlib, fcntl, functools, html.parser, http.server, importlib, io, json, os, re, subprocess, sys, threading
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import PIL.Image
import pytest
from fastcore.docments import docments
from nbdev.config import get_config

from conftest import ROOT

sys.path.insert(0, str(ROOT/'tools'))
import build_docs  # noqa: E402

CFG = get_config(ROOT)
SITE = build_docs.SITE
CHROMIUM = os.environ.get('FINEALIGN_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']  # Playwright adds --headless and a fresh --user-data-dir
API_PAGE, API_MODULE, API_FUNC = 'core.html', 'finealign.core', 'masked_softmax'  # one exported function and its page
DOC_URL = CFG.doc_host.rstrip('/') + '/' + CFG.doc_baseurl.strip('/') + '/'   # where nbdev's cross-links point

@pytest.fixture(scope='session')
def shared_dir(tmp_path_factory, request):
    "A folder shared by the pytest-xdist workers of this run (and by this run only)."
    base = tmp_path_factory.getbasetemp()
    return base.parent if hasattr(request.config, 'workerinput') else base

@contextlib.contextmanager
def docs_lock(shared_dir):
    "Hold the lock that serialises work on `_proc/` between the workers."
    with open(shared_dir/'docs.lock', 'w') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield

@pytest.fixture(scope='session')
def build(shared_dir):
    "(exit code, output) of tools/build_docs.py: the first worker to ask builds the site, the others reuse its result."
    # `--dist loadgroup` cannot keep these tests on one worker: xdist 3.8 tags `item._nodeid`, which pytest 9 no
    # longer reads. So a lock, not a worker, makes one build.
    result = shared_dir/'docs-build.json'
    with docs_lock(shared_dir):
        if not result.exists():
            r = subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), '--no-export'], cwd=ROOT,
                               capture_output=True, text=True)
            result.write_text(json.dumps([r.returncode, r.stdout + r.stderr]))
        return tuple(json.loads(result.read_text()))

@pytest.fixture(scope='session')
def site(build):
    "The built site's folder; the tests that need it fail, pointing at test_docs_build, when the build failed."
    if build[0]: pytest.fail("the docs site was not built: see test_docs_build", pytrace=False)
    return SITE

def test_docs_build(build):
    "The build succeeds: sidebar in sync with the notebooks, nbdev's processing, only allow-listed smalldocs warnings."
    code, out = build
    assert code == 0, f"tools/build_docs.py failed:\n{out}"

def test_readme_is_generated(build, shared_dir):
    "README.md is what tools/readme.py makes from nbs/index.ipynb."
    with docs_lock(shared_dir):  # it stages the index notebook in _proc/ again
        r = subprocess.run([sys.executable, str(ROOT/'tools'/'readme.py'), '--check'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

# ---- reading the HTML without a browser

class _Links(html.parser.HTMLParser):
    "Collect the `href` of every `<a>`."
    def __init__(self):
        super().__init__(); self.hrefs = []
    def handle_starttag(self, tag, attrs):
        if tag == 'a' and (h := dict(attrs).get('href')): self.hrefs.append(h)

def local_target(page:Path, href:str, site:Path):
    "The file under `site` that `href` on `page` points to, or None when it points off the site."
    if href.startswith(DOC_URL): rel = href[len(DOC_URL):]   # nbdev's absolute cross-link: check its suffix only
    elif urlsplit(href).scheme or href.startswith(('//', '#')): return None
    else: rel = urljoin(page.relative_to(site).as_posix(), href)
    path = urlsplit(rel).path
    if path.endswith('.html.md'): path = path[:-3]  # Quarto's Markdown twin of a page; smalldocs builds HTML only
    if path == '' or path.endswith('/'): path += 'index.html'
    return site/path

def test_cross_links_land(site):
    "Every link to a page of this site (nbdev's cross-links included) names a page that was built."
    broken = []
    for page in sorted(site.rglob('*.html')):
        p = _Links(); p.feed(page.read_text())
        for href in p.hrefs:
            t = local_target(page, href, site)
            if t is not None and not t.exists(): broken.append(f"{page.relative_to(site)}: {href}")
    assert not broken, "links to pages that do not exist:\n" + '\n'.join(sorted(set(broken)))

def pages_with_figures(site:Path) -> list:
    "Pages showing an image from a notebook output, in sidebar order, then the rest."
    order = [str(Path(e).with_suffix('.html')) for e in build_docs.sidebar_entries()]
    pages = sorted((p.relative_to(site).as_posix() for p in site.rglob('*.html')),
                   key=lambda p: (order.index(p) if p in order else len(order), p))
    fig = re.compile(r'class="cell-output cell-output-display"[^>]*>\s*<img ')
    return [p for p in pages if fig.search((site/p).read_text())]

# ---- in the browser

@pytest.fixture(scope='session')
def server(site):
    "Serve the site on 127.0.0.1 at a free port; yield its base URL."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_port}/'
    srv.shutdown()

@pytest.fixture(scope='session')
def browser():
    "Headless Debian Chromium under Playwright; a missing Chromium fails (CI installs it), it does not skip."
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (./run test does this as root)", pytrace=False)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()

@pytest.fixture
def open_page(browser, server):
    "Open a page of the site; refuse every request that does not go to the local server; record script errors."
    ctx = browser.new_context()
    ctx.route('**/*', lambda route: route.continue_() if route.request.url.startswith(server) else route.abort())
    def _open(path):
        page = ctx.new_page()
        page.errors = []
        page.on('pageerror', lambda e: page.errors.append(str(e)))
        resp = page.goto(server + path, wait_until='load')
        assert resp is not None and resp.ok, f"{path}: HTTP {resp.status if resp else 'no response'}"
        return page
    yield _open
    ctx.close()

def test_index_page(open_page):
    "The index page has the site's title and its sidebar lists every page of nbs/sidebar.yml, in that order."
    page = open_page('index.html')
    assert CFG.title in page.title(), page.title()
    assert page.locator('main h1').first.inner_text().strip() == CFG.title
    hrefs = page.eval_on_selector_all('#quarto-sidebar a.sidebar-link[href]',
                                      f"els => els.map(a => a.href.replace({page.url.rsplit('/', 1)[0]!r} + '/', ''))")
    want = [str(Path(e).with_suffix('.html')) for e in build_docs.sidebar_entries()]
    assert [h for h in hrefs if h in want] == want, f"sidebar links {hrefs}, expected {want}"
    assert not page.errors, page.errors

def test_api_page(open_page):
    "An exported function is shown with its docments signature: each parameter with its comment."
    page = open_page(API_PAGE)
    mod = importlib.import_module(API_MODULE)
    assert page.title().startswith(API_MODULE.split('.')[-1]), page.title()
    text = page.locator('main').inner_text()
    m = re.search(rf'^(?:def )?{API_FUNC}\s*\((.*?)\n\s*\)', text, re.S | re.M)  # one parameter a line, then `)`
    assert m, f"{API_PAGE} shows no signature of {API_FUNC}"
    sig = m.group(1)
    for name, comment in docments(getattr(mod, API_FUNC)).items():
        if name == 'return' or comment is None: continue
        assert re.search(rf'\b{name}\s*:', sig), f"{API_FUNC} signature on {API_PAGE} lacks parameter {name}: {sig}"
        assert comment.strip() in sig, f"{API_FUNC}'s {name} on {API_PAGE} lacks its comment {comment!r}: {sig}"
    assert not page.errors, page.errors

DRAWN_PIXELS = """async img => {
  await img.decode();  // rejects when the image cannot be decoded
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  const count = new Map();  // the commonest colour is the background
  for (let i = 0; i < d.length; i += 4) { const k = d.slice(i, i + 4).join(); count.set(k, (count.get(k) || 0) + 1); }
  const bg = [...count.entries()].sort((a, b) => b[1] - a[1])[0][0].split(',').map(Number);
  let ink = 0;
  for (let i = 0; i < d.length; i += 4)
    if (d[i + 3] > 0 && Math.max(...[0, 1, 2, 3].map(j => Math.abs(d[i + j] - bg[j]))) > 32) ink++;
  return {w: c.width, h: c.height, ink};
}"""

def test_a_figure_draws(site, open_page):
    "A figure saved in a notebook's outputs draws on the page: pixels decoded and drawn, not just a PNG header."
    pages = pages_with_figures(site)
    assert pages, "no page of the site shows a figure from a notebook output (save outputs with `nbdev-test --save`)"
    page = open_page(pages[0])
    img = page.locator('.cell-output-display img').first
    r = img.evaluate(DRAWN_PIXELS)
    assert r['w'] > 0 and r['h'] > 0, f"{pages[0]}: the first figure has no size: {r}"
    assert r['ink'] >= 0.005 * r['w'] * r['h'], f"{pages[0]}: the first figure draws (almost) nothing: {r}"
    # Chromium draws the rows a truncated PNG still has, so the file itself must decode to its last row.
    src = img.get_attribute('src')
    data = base64.b64decode(src.split(',', 1)[1]) if src.startswith('data:') else (site/Path(pages[0]).parent/src).read_bytes()
    try: PIL.Image.open(io.BytesIO(data)).load()
    except OSError as e: pytest.fail(f"{pages[0]}: the first figure is damaged: {e}", pytrace=False)
    assert not page.errors, page.errors

# ---- maths and code on the derivation pages (every page with maths), offline, 1440 pixels wide

WINDOW = {'width': 1440, 'height': 900}


def math_pages(site:Path) -> list:
    "Pages that load KaTeX (the site's own copy), in sidebar order, then the rest."
    order = [str(Path(e).with_suffix('.html')) for e in build_docs.sidebar_entries()]
    pages = sorted((p.relative_to(site).as_posix() for p in site.rglob('*.html')),
                   key=lambda p: (order.index(p) if p in order else len(order), p))
    return [p for p in pages if f'{build_docs.KATEX_SITE}/katex.min.js' in (site/p).read_text()]

READ_PAGE = r"""async () => {
  await document.fonts.ready;
  const main = document.querySelector('main'), doc = document.documentElement;
  const prose = main.cloneNode(true);  // the text a reader sees outside code and rendered maths
  prose.querySelectorAll('pre, code, .katex, script, style').forEach(e => e.remove());
  const raw = prose.textContent.match(/\\\(|\\\[|\\\)|\\\]|\$\$/g) || [];
  const blocks = [...main.querySelectorAll('pre, div.sourceCode')].map(e => ({
    longest: Math.max(...e.innerText.split('\n').map(l => l.length)),
    scroll: e.scrollWidth, client: e.clientWidth,
    start: e.innerText.trim().split('\n')[0].slice(0, 60)}));
  const katexFont = [...document.fonts].some(
    f => f.family.replace(/"/g, '') === 'KaTeX_Main' && f.status === 'loaded');
  return {katex: main.querySelectorAll('.katex').length, raw: raw.slice(0, 5), blocks, katexFont,
          katexErrors: main.querySelectorAll('.katex-error').length,
          pageScroll: doc.scrollWidth - doc.clientWidth};
}"""

def read_page(ctx, url:str) -> dict:
    "Open `url` in `ctx`: what READ_PAGE measures, the requests that failed, the script errors."
    page = ctx.new_page()
    refused, errors = [], []
    page.on('requestfailed', lambda r: refused.append(r.url))
    page.on('pageerror', lambda e: errors.append(str(e)))
    page.goto(url, wait_until='load')
    r = page.evaluate(READ_PAGE)
    page.close()
    return dict(r, refused=refused, errors=errors)

def offline_context(browser, allowed:str):
    "A browser context 1440 pixels wide that refuses every request not starting with `allowed`."
    ctx = browser.new_context(viewport=WINDOW)
    ctx.route('**/*', lambda route: route.continue_() if route.request.url.startswith(allowed)
              else route.abort())
    return ctx

@pytest.fixture(scope='session')
def derivations(site, browser, server):
    "{page: what read_page saw} for every page with maths, read once through the local server."
    ctx = offline_context(browser, server)
    try: return {p: read_page(ctx, server + p) for p in math_pages(site)}
    finally: ctx.close()

def check_math(path:str, r:dict) -> list:
    "What is wrong with one page's maths: none rendered, KaTeX errors, raw TeX, KaTeX not loaded."
    bad = []
    if not r['katex']: bad.append(f"{path}: no maths rendered (no .katex element)")
    if r['katexErrors']:
        bad.append(f"{path}: {r['katexErrors']} formulas KaTeX could not parse (.katex-error)")
    if r['raw']: bad.append(f"{path}: raw TeX delimiters left in the text: {r['raw']}")
    if not r['katexFont']: bad.append(f"{path}: KaTeX's fonts did not load")
    bad += [f"{path}: could not load {u}" for u in r['refused'] if 'katex' in u.lower()]
    bad += [f"{path}: script error {e}" for e in r['errors']]
    return bad

def test_site_has_no_remote_scripts_or_styles(site):
    "No page loads a script or a stylesheet from another host; the site carries KaTeX itself."
    build_docs.check_no_remote_assets(site)
    for f in build_docs.KATEX_FILES:
        assert (site/build_docs.KATEX_SITE/f).exists(), f"{build_docs.KATEX_SITE}/{f} is missing"

def test_math_renders_offline(site, derivations):
    r"On each page with maths, the network refused, KaTeX renders it all: no raw \( \[ $$ left."
    assert len(derivations) >= 10, f"only {len(derivations)} pages with maths: {list(derivations)}"
    bad = [b for path, r in derivations.items() for b in check_math(path, r)]
    assert not bad, '\n'.join(bad)

def test_math_renders_from_file(site, browser):
    "A page opened from disk (file://, nothing else reachable) renders its maths: relative links."
    nested = [p for p in math_pages(site) if '/' in p]  # in a sub-folder: checks the links' ../
    assert nested, "no page with maths in a sub-folder of the site"
    ctx = offline_context(browser, 'file:')
    try: r = read_page(ctx, (site/nested[0]).as_uri())
    finally: ctx.close()
    bad = check_math(nested[0] + ' (file://)', r)
    assert not bad, '\n'.join(bad)

def test_code_fits_the_page(derivations):
    """1440 pixels wide, no code block scrolls sideways, nor the page: the notebooks' code lines fit 100
    characters (tests/test_notebook_style.py), and what nbdev writes wider (signatures, outputs) wraps."""
    bad = []
    for path, r in derivations.items():
        if r['pageScroll'] > 0: bad.append(f"{path}: page scrolls sideways ({r['pageScroll']}px)")
        bad += [f"{path}: a block of lines up to {b['longest']} characters scrolls "
                f"({b['scroll']}px in {b['client']}px): {b['start']!r}"
                for b in r['blocks'] if b['scroll'] > b['client']]
    assert not bad, '\n'.join(bad)
