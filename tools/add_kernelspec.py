"""Give every notebook under nbs/ the python3 kernelspec, so JupyterLab opens it without a "Select Kernel" dialog.

Touches only `metadata.kernelspec` (nbdev-clean keeps that key); a notebook that has it is left as it is.
Run from the repository root: `python tools/add_kernelspec.py` (then `nbdev-clean`, which changes nothing more).
"""
import json, sys
from pathlib import Path

KERNELSPEC = {'display_name': 'python3', 'language': 'python', 'name': 'python3'}   # nbdev-clean sets display_name = name

def add_kernelspec(path:Path): # a notebook
    "True when `path` lacked the kernelspec and now has it."
    text = path.read_text()
    nb = json.loads(text)
    if nb.get('metadata', {}).get('kernelspec', {}).get('name'): return False
    nb.setdefault('metadata', {})['kernelspec'] = KERNELSPEC
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    return True

if __name__ == '__main__':
    root = Path(sys.argv[1] if len(sys.argv) > 1 else 'nbs')
    nbs = sorted(p for p in root.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)
    changed = [p for p in nbs if add_kernelspec(p)]
    print(f"kernelspec added to {len(changed)} of {len(nbs)} notebooks under {root}")
