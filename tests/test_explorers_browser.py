"""The LAPS and GRM explorers in a real JupyterLab: Run All, move the image slider, and the figures redraw.

A JupyterLab server (the project's, `jupyter lab`) listens on 127.0.0.1 only, with a token, its root a temporary
folder that holds a copy of the explorer at its place under nbs/ and a link to the repository's runs/ (so the
copy finds the trained models, or trains the small ones into runs/ as a fresh clone does; the copy's last cell,
`nbdev_export`, is dropped: it would export into the temporary folder). A third notebook, written by the test,
shows the LAPS explorer of an untrained model on three scenes: the same check in a minute or two. Headless Debian Chromium (Playwright, as
in tests/test_docs.py) may fetch nothing but that server. The test opens the copy, runs Run All from the Run
menu, waits for the explorer's pictures, moves the image slider one step with the keyboard, and checks that every
picture is replaced by a different, whole (decoded, not blank) PNG, with no kernel error on the page.

Long (Run All executes the `slow` cells), so opt-in, apart from `./run test`:

    FINEALIGN_NB_BROWSER=1 python -m pytest tests/test_explorers_browser.py -q -rfE
    FINEALIGN_NB_BROWSER=1 python -m pytest tests/test_explorers_browser.py -q -k quick     # the quick one only
"""
import json, os, secrets, shutil, socket, subprocess, sys, time, urllib.request
from io import BytesIO
from pathlib import Path

import PIL.Image
import pytest

from conftest import ROOT

ENABLED = os.environ.get('FINEALIGN_NB_BROWSER') == '1'
CHROMIUM = os.environ.get('FINEALIGN_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']
RUN_ALL_TIMEOUT_S = int(os.environ.get('FINEALIGN_NB_BROWSER_TIMEOUT', 3600))   # seconds Run All may take
EXPLORERS = {'methods/laps/explore.ipynb': 2, 'methods/grm/explore.ipynb': 3,   # notebook: pictures per explorer
             'quick/laps_untrained.ipynb': 2}                                     # written below: seconds, not minutes
QUICK = ["import torch, finealign.methods\n"
         "from finealign.registry import create_aligner\n"
         "from finealign.data.scenes import SceneConfig, make_scene\n"
         "from finealign.encoders.backbones import create_image_encoder, create_text_encoder\n"
         "from finealign.methods.laps.explore import explore",
         "img_enc, txt_enc = create_image_encoder('efficientnet_lite0.bundled'), create_text_encoder('minilm.bundled')\n"
         "pics = [make_scene(SceneConfig(), 'val', i)['image'] for i in range(3)]\n"
         "with torch.no_grad(): toks = img_enc.encode(pics)\n"
         "torch.manual_seed(0); model = create_aligner('laps').eval()",
         "explore(model, pics, toks, txt_enc)"]

pytestmark = pytest.mark.skipif(not ENABLED, reason='long: opt in with FINEALIGN_NB_BROWSER=1 (see the module docstring)')

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _copy_explorer(root:Path, rel:str):
    "Copy nbs/`rel` under `root`, without its nbdev_export cell and with the python3 kernelspec (or write QUICK)."
    if rel.startswith('quick/'):
        nb = dict(nbformat=4, nbformat_minor=5, metadata={}, cells=[
            dict(cell_type='code', id=f'c{i}', metadata={}, execution_count=None, outputs=[], source=src)
            for i, src in enumerate(QUICK)])
    else: nb = json.loads((ROOT/'nbs'/rel).read_text())
    nb['cells'] = [c for c in nb['cells'] if 'nbdev_export()' not in ''.join(c['source'])]
    nb['metadata']['kernelspec'] = dict(display_name='python3', language='python', name='python3')
    dest = root/'nbs'/rel
    dest.parent.mkdir(parents=True)
    dest.write_text(json.dumps(nb))
    (ROOT/'runs').mkdir(exist_ok=True)
    (root/'runs').symlink_to(ROOT/'runs')

@pytest.fixture
def lab(tmp_path):
    "(base URL, token, root folder) of a JupyterLab on 127.0.0.1 serving `tmp_path`."
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1'}
    log = open(tmp_path.parent/f'{tmp_path.name}-lab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', '--ServerApp.ip=127.0.0.1',
                             f'--ServerApp.port={port}', '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}',
                             f'--ServerApp.root_dir={tmp_path}', '--ServerApp.terminals_enabled=False',
                             '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
                             '--LabApp.extension_manager=readonly', *(['--allow-root'] if os.geteuid() == 0 else [])],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f'http://127.0.0.1:{port}/'
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f'{base}api/status?token={token}', timeout=2); break
            except OSError: time.sleep(0.5)
        else: pytest.fail(f"JupyterLab did not start; log in {log.name}", pytrace=False)
        yield base, token, tmp_path
    finally:
        proc.terminate()
        try: proc.wait(30)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()

@pytest.fixture
def page(lab):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (./run test does this as root)", pytrace=False)
    from playwright.sync_api import sync_playwright
    base = lab[0]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        ctx = b.new_context(viewport={'width': 1400, 'height': 1000})
        ctx.route('**/*', lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
        pg = ctx.new_page()
        yield pg
        b.close()

def _pictures(page, cell):
    "PNG bytes of the explorer's pictures, as drawn (element screenshots), and their decoded sizes."
    imgs = cell.locator('.widget-image')
    sizes = imgs.evaluate_all('els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])')
    return [imgs.nth(i).screenshot() for i in range(imgs.count())], sizes

def _whole(png:bytes):
    "True when the picture is not blank: many colours, not one."
    im = PIL.Image.open(BytesIO(png)).convert('RGB')
    return len(im.resize((64, 64)).getcolors(64 * 64)) > 20

@pytest.mark.parametrize('rel', list(EXPLORERS))
def test_explorer_redraws(lab, page, rel):
    try: _explorer_redraws(lab, page, rel)
    except BaseException:
        shot = lab[2].parent/f'{lab[2].name}-failed.png'
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the page at the failure: {shot}")
        raise

def _step(what): print(f"[{time.strftime('%H:%M:%S')}] {what}", flush=True)

def _explorer_redraws(lab, page, rel):
    base, token, root = lab
    _copy_explorer(root, rel)
    page.goto(f'{base}lab/tree/nbs/{rel}?token={token}', wait_until='load')
    page.wait_for_selector('.jp-NotebookPanel .jp-Cell', timeout=180_000)
    page.wait_for_function("document.body.innerText.includes('Python 3 (ipykernel) | Idle')",
                           timeout=600_000)                                              # the kernel started (status bar)
    assert page.locator('.jp-Dialog', has_text='Select Kernel').count() == 0, f"{rel}: JupyterLab asked for a kernel"
    _step('kernel idle; Run All')
    page.locator('.lm-MenuBar-itemLabel', has_text='Run').first.click()
    page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()
    cell = page.locator('.jp-CodeCell').filter(has=page.locator('.widget-image')).last
    cell.wait_for(timeout=RUN_ALL_TIMEOUT_S * 1000)
    _step('explorer shown')                                      # the explorer of the trained model
    page.wait_for_function("document.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status') === 'idle'",
                           timeout=RUN_ALL_TIMEOUT_S * 1000)
    errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]', has_text='Error')
    assert errors.count() == 0, f"{rel}: {errors.first.inner_text()[:2000]}"
    n = EXPLORERS[rel]
    srcs = lambda: cell.locator('.widget-image').evaluate_all('els => els.map(e => e.src)')
    before, sizes = _pictures(page, cell)
    assert len(before) == n and all(c and w > 0 for c, w, _ in sizes), f"{rel}: pictures {sizes}"
    assert all(_whole(p) for p in before), f"{rel}: a picture is blank before the change"
    old = srcs()
    _step(f'{len(old)} pictures; moving the slider')
    cell.locator('.widget-slider .noUi-handle').first.focus()
    page.keyboard.press('ArrowRight')                                                    # image 0 → 1
    page.wait_for_function('([sel, old]) => { const s = [...document.querySelectorAll(sel)].slice(-old.length).map(e => e.src);'
                           ' return s.every((x, i) => x !== old[i]); }',
                           arg=['.widget-image', old], timeout=120_000)
    page.wait_for_function("document.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status') === 'idle'",
                           timeout=120_000)
    _step('redrawn')
    after, sizes = _pictures(page, cell)
    assert all(c and w > 0 for c, w, _ in sizes), f"{rel}: pictures after the change {sizes}"
    assert all(_whole(p) for p in after), f"{rel}: a picture is blank after the change"
    assert all(a != b for a, b in zip(after, before)), f"{rel}: a picture did not change"
