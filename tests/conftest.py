"Shared setup for the test suite: the repo root, and no network for model hubs."
import os
from pathlib import Path

os.environ.setdefault('HF_HUB_OFFLINE', '1')        # library code never downloads; fail at once if it tries
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')

ROOT = Path(__file__).resolve().parents[1]

def pytest_collection_modifyitems(items):
    "The docs build first and the checks of the built site last, so one worker builds while the others run notebooks."
    first = [i for i in items if i.name == 'test_docs_build']
    last = [i for i in items if i.path.name == 'test_docs.py' and i not in first]
    items[:] = first + [i for i in items if i not in first and i not in last] + last
