"""Guards on the shape of the library: imports only go down the layers of the design, and every module
comes from a notebook (and every notebook's module exists).

The layers are those of ../shared/DESIGN.md, and the package's folders are the layers: a module's layer is its folder's
(or, for the four modules at the top, its own). A module may import its own layer and the ones below it; a method's
folder may not import another method's.
"""
import ast, json, re

import pytest
from nbdev.config import get_config
from nbdev.doclinks import nbglob

from conftest import ROOT

CFG = get_config(ROOT)
PKG = CFG.lib_path                  # finealign/
LIB = CFG.lib_name                  # 'finealign'

LAYERS = {  # first name after `finealign.` (a folder, or a module at the top) -> layer; 0 is the bottom
    'core': 0, 'registry': 0,          # finealign/core.py, finealign/registry.py
    'data': 1,                         # finealign/data/
    'encoders': 2,                     # finealign/encoders/
    'blocks': 3,                       # finealign/blocks/
    'viz': 3,                          # finealign/viz/: figure and widget helpers on tensors, importing only core;
                                       # below the methods, whose explorers draw with them (nbs/viz/maps.ipynb says why)
    'methods': 4,                      # finealign/methods/<name>/
    'engine': 5,                       # finealign/engine/: experiments, training, evaluation, records and the
                                       # run reports (the engine writes them, so report sits here, not on top)
    'cli': 6,                          # finealign/cli.py: arguments only
}

def module_name(path) -> str:
    "'finealign/methods/baselines/vse.py' -> 'finealign.methods.baselines.vse'"
    return '.'.join(path.relative_to(PKG.parent).with_suffix('').parts)

def library_modules(inits:bool=False) -> dict:
    "The package's module files by dotted name; `__init__`s (some are exported by a notebook) only if `inits`."
    return {module_name(p): p for p in sorted(PKG.rglob('*.py'))
            if '__pycache__' not in p.parts and p.name != '_modidx.py' and (inits or p.name != '__init__.py')}

def layer(mod:str):
    "The layer of `finealign.<name>...`, or None for a module outside the package."
    parts = mod.split('.')
    return LAYERS.get(parts[1]) if len(parts) > 1 and parts[0] == LIB else None

def imported(path, me:str) -> list:
    "Dotted names of the package modules that the file at `path` imports, anywhere in it."
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import): out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = me.split('.')[:-node.level]
                mod = '.'.join(base + ([node.module] if node.module else []))
            else: mod = node.module or ''
            out.append(mod)
            if mod == LIB:  # `from finealign import core`
                out += [f'{mod}.{a.name}' for a in node.names]
    return [m for m in out if m == LIB or m.startswith(LIB + '.')]

def test_every_module_has_a_layer():
    "A new module gets its place in DESIGN.md's table (and in LAYERS above) before it gets imports."
    missing = [m for m in library_modules() if layer(m) is None]
    assert not missing, f"modules with no layer in DESIGN.md (add them to LAYERS in tests/test_layers.py): {missing}"

def test_imports_only_go_down():
    up = []
    for me, path in library_modules(inits=True).items():
        mine = layer(me)
        for other in imported(path, me):
            theirs = layer(other)
            if mine is not None and theirs is not None and theirs > mine:
                up.append(f"{me} (layer {mine}) imports {other} (layer {theirs})")
    assert not up, "imports that run up the layers of DESIGN.md (move the shared piece down):\n" + '\n'.join(up)

DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(default_exp|export|exports|exporti)\s+([\w.]+)\s*$', re.M)

def exported_modules() -> dict:
    "Module -> the notebooks exporting to it, from `default_exp` and `#| export <module>` directives."
    out = {}
    for nb in nbglob(CFG.nbs_path, as_path=True):
        for cell in json.loads(nb.read_text())['cells']:
            if cell['cell_type'] != 'code': continue
            for _, mod in DIRECTIVE.findall(''.join(cell['source'])):
                out.setdefault(f'{LIB}.{mod}', set()).add(nb.relative_to(CFG.nbs_path).as_posix())
    return out

def test_every_notebook_module_exists():
    "Each `default_exp` names a module that `nbdev-export` has written."
    have = library_modules(inits=True)
    missing = [f"{mod} (from nbs/{', nbs/'.join(sorted(nbs))})" for mod, nbs in exported_modules().items() if mod not in have]
    assert not missing, f"notebooks export modules that are not in {PKG.name}/ (run nbdev-export): {missing}"

def test_no_orphan_modules():
    "Every module comes from a notebook: a file written by hand, or left behind by a renamed notebook, fails."
    from_nbs = exported_modules()
    orphans = [str(p.relative_to(ROOT)) for m, p in library_modules().items() if m not in from_nbs]
    assert not orphans, f"modules no notebook exports (delete them, or write their notebook): {orphans}"

def test_the_folders_are_the_layers():
    "`ls finealign` is the map: every entry at the top is a layer folder or one of the layer-0/6 modules."
    extra = [p.name for p in PKG.iterdir() if p.name not in ('__init__.py', '_modidx.py', '__pycache__')
             and (p.stem if p.suffix == '.py' else p.name) not in LAYERS]
    assert not extra, f"entries at the top of {PKG.name}/ that are not a layer (move them into one): {extra}"

def method_of(mod:str):
    "'finealign.methods.laps.aligner' -> 'laps'; None outside a method's folder."
    parts = mod.split('.')
    return parts[2] if len(parts) > 2 and parts[:2] == [LIB, 'methods'] and parts[2] != '__init__' else None

def test_methods_do_not_import_each_other():
    "What two methods share moves down a layer (blocks, encoders, viz): a method is one folder, on its own."
    crossed = []
    for me, path in library_modules(inits=True).items():
        mine = method_of(me)
        if mine is None: continue
        crossed += [f"{me} imports {other}" for other in imported(path, me)
                    if method_of(other) not in (None, mine)]
    assert not crossed, "methods that import another method (move the shared piece down a layer):\n" + '\n'.join(crossed)
