"""Every experiment config in configs/ loads and passes the same checks `finealign train` makes before any work
starts, and the demo's config file is the embedded default `finealign demo` runs."""
from pathlib import Path

import pytest

from conftest import ROOT
from finealign.engine.experiment import DEMO_CONFIG, ExperimentConfig, load_experiment, _config, _read_mapping
from finealign.engine.predict import MSAExperiment

CONFIGS = sorted((ROOT/'configs').glob('*.y*ml')) + sorted((ROOT/'configs').glob('*.json'))

def test_there_are_configs():
    assert CONFIGS, "configs/ holds no experiment files"

def is_msa(path): # predictor experiments (`finealign msa`) name a `model` per method; aligner experiments an `aligner`
    methods = _read_mapping(path).get('methods') or []
    return bool(methods) and isinstance(methods[0], dict) and 'model' in methods[0]

@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_config_loads(path):
    cfg = load_experiment(path, cls=MSAExperiment if is_msa(path) else ExperimentConfig)
    assert cfg.name and cfg.methods

def test_demo_config_file_is_the_embedded_default():
    assert load_experiment(ROOT/'configs'/'scenes-baselines.yaml') == _config(ExperimentConfig, DEMO_CONFIG, 'DEMO_CONFIG')
