"""The front door, `import finealign as fa` (nbs/api.ipynb): the names resolve, importing the
package stays cheap, and the registry finds the methods without importing them itself.

Each check of what an import loads runs in a fresh interpreter (this process imported torch)."""
import ast, importlib, json, os, subprocess, sys

try: import tomllib
except ImportError: import tomli as tomllib   # Python 3.10

import pytest

from conftest import ROOT
import finealign as fa

API = ['Tokens', 'FinealignError', 'DataError', 'ConfigError', 'ShapeError', 'NonFiniteError',
       'create_aligner', 'list_aligners', 'get_aligner_config', 'register_aligner',
       'save_pretrained', 'from_pretrained', 'create_image_encoder', 'create_text_encoder']
LAYER_0 = {'core', 'registry'}   # what finealign/registry.py may import of the package (layer 0)

def fresh(code:str) -> str:
    "stdout of `code` run by a new interpreter that imports finealign from this checkout."
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout.strip()

def test_the_api_names_resolve():
    assert sorted(fa.__all__) == sorted(API)
    home = dict(Tokens='core', create_image_encoder='encoders.backbones',
                create_text_encoder='encoders.backbones')
    for name in API:
        mod = home.get(name, 'core' if name.endswith('Error') else 'registry')
        assert getattr(fa, name) is getattr(importlib.import_module(f'finealign.{mod}'), name), name
    assert all(issubclass(getattr(fa, n), fa.FinealignError) for n in API if n.endswith('Error'))

def test_dir_lists_the_api():
    assert set(API) <= set(dir(fa))

def test_star_import_gives_the_api():
    ns = {}
    exec('from finealign import *', ns)
    assert set(API) <= set(ns) and ns['create_aligner'] is fa.create_aligner

def test_a_misspelt_name_says_what_was_meant():
    misspelt = "no attribute 'create_aligne'; did you mean create_aligner"
    with pytest.raises(AttributeError, match=misspelt):
        fa.create_aligne
    with pytest.raises(AttributeError, match="it is a module: import finealign.engine"):
        fa.__getattr__('engine')        # what `fa.engine` calls until finealign.engine is loaded
    with pytest.raises(AttributeError, match=r"no attribute 'zzz'; the API is Tokens"):
        fa.zzz
    assert not hasattr(fa, '_private_thing')

def test_import_finealign_is_lazy():
    "`import finealign` loads no torch, numpy, timm or transformers, and no module of the package."
    code = 'import sys, json, finealign; print(json.dumps(sorted(sys.modules)))'
    loaded = json.loads(fresh(code))
    heavy = [m for m in loaded
             if m.split('.')[0] in ('torch', 'numpy', 'timm', 'transformers', 'PIL')]
    assert not heavy, heavy
    assert [m for m in loaded if m.startswith('finealign')] == ['finealign']

def test_a_name_imports_its_module_when_first_used():
    out = fresh("import sys, finealign as fa\n"
                "before = 'torch' in sys.modules; fa.Tokens\n"
                "print(before, 'torch' in sys.modules, 'finealign.methods' in sys.modules,"
                " 'timm' in sys.modules)")
    assert out == 'False True False False'

def test_fa_create_aligner_in_a_fresh_interpreter():
    out = fresh("import finealign as fa\nm = fa.create_aligner('chan_tiny')\n"
                "print(type(m).__name__, m.aligner_name,"
                " fa.create_aligner is fa.registry.create_aligner)")
    assert out == 'CHAN chan_tiny True'

def test_the_registry_finds_the_methods_when_imported_directly():
    "Code that never touches `fa.` (`from finealign.registry import ...`) still finds every method."
    out = fresh("import sys\n"
                "from finealign.registry import create_aligner, list_aligners, _DISCOVERY\n"
                "print(len(_DISCOVERY), 'finealign.methods' in sys.modules)\n"
                "names = list_aligners(); m = create_aligner('vse_tiny')\n"
                "families = ('chan_tiny', 'laps_tiny', 'grm_tiny', 'decalign_tiny', 'pal')\n"
                "print(len(_DISCOVERY), 'finealign.methods' in sys.modules, type(m).__name__,"
                " all(n in names for n in families))")
    assert out.splitlines() == ['1 False', '0 True VSE True']

def imports_of(path) -> list:
    "Dotted names a module imports: by statement or by `import_module('...')`, `__import__('...')`."
    me = 'finealign.' + path.stem
    out = []
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.Import): out += [a.name for a in n.names]
        elif isinstance(n, ast.ImportFrom):
            base = '.'.join(me.split('.')[:-n.level]) if n.level else ''
            mod = '.'.join(filter(None, [base, n.module or '']))
            out += [mod] + ([f'{mod}.{a.name}' for a in n.names] if mod == 'finealign' else [])
        elif isinstance(n, ast.Call) and n.args and isinstance(n.args[0], ast.Constant):
            fn = getattr(n.func, 'attr', getattr(n.func, 'id', None))
            if fn in ('import_module', '__import__'): out.append(str(n.args[0].value))
    return out

def test_the_registry_imports_nothing_above_its_layer():
    mods = imports_of(ROOT/'finealign'/'registry.py')
    ours = [m for m in mods if m.startswith('finealign.')]
    assert ours and not [m for m in ours if 'methods' in m]
    assert all(m.split('.')[1] in LAYER_0 for m in ours), ours

def test_the_ast_check_can_fail(tmp_path):
    "The check above sees each way a module can import the methods."
    f = tmp_path/'registry.py'
    f.write_text("from .methods import laps\nimport importlib\n"
                 "importlib.import_module('finealign.methods')\n"
                 "from finealign import methods\nimport finealign.methods.grm\n")
    assert sorted(imports_of(f)) == ['finealign', 'finealign.methods', 'finealign.methods',
                                     'finealign.methods', 'finealign.methods.grm', 'importlib']

def test_the_post_import_hook(tmp_path, monkeypatch):
    "`_after_import` calls back once, after the module ran; keeps its loader; re-arms on failure."
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path/'_fa_hook_ok.py').write_text('x = 1\n')
    (tmp_path/'_fa_hook_bad.py').write_text('raise ImportError("not yet")\n')
    seen = []
    fa._after_import('_fa_hook_ok', lambda m: seen.append(m.x))
    fa._after_import('_fa_hook_bad', lambda m: seen.append(m.y))
    try:
        mod = importlib.import_module('_fa_hook_ok')
        assert seen == [1] and type(mod.__loader__).__name__ == 'SourceFileLoader'
        with pytest.raises(ImportError, match='not yet'): importlib.import_module('_fa_hook_bad')
        (tmp_path/'_fa_hook_bad.py').write_text('y = 2\n')
        importlib.invalidate_caches()
        importlib.import_module('_fa_hook_bad')
        assert seen == [1, 2]
        assert not any(isinstance(f, fa._AfterImport) for f in sys.meta_path)
        fa._after_import('_fa_hook_ok', lambda m: seen.append('now'))   # imported: called at once
        assert seen == [1, 2, 'now']
    finally:
        for m in ('_fa_hook_ok', '_fa_hook_bad'): sys.modules.pop(m, None)
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, fa._AfterImport)]

def test_version_agrees_with_pyproject():
    "nbdev keeps the `__version__` it finds in `__init__.py` (from nbs/api.ipynb): pyproject's."
    from nbdev.config import read_version
    want = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['version']
    assert fa.__version__ == want == read_version(ROOT/'finealign')
    src = (ROOT/'finealign'/'__init__.py').read_text()
    assert src.count('__version__ =') == 1 and 'File to edit: ../nbs/api.ipynb' in src
