"""Progress through the `finealign` command as a log sees it: written to a pipe (a file, a CI log), a run prints
whole lines naming each stage, its split and its count, one per stage or epoch, and never a carriage return."""
import os

from test_cli import finealign, tiny_experiment

def test_progress_in_a_log_is_lines_naming_stage_and_split(tmp_path):
    os.environ['FINEALIGN_CACHE'] = str(tmp_path/'cache')
    try: r = finealign('train', str(tiny_experiment(tmp_path)), '--out', str(tmp_path/'run'), '--train.epochs', '2')
    finally: os.environ.pop('FINEALIGN_CACHE')
    assert r.returncode == 0, r.stderr
    assert '\r' not in r.stdout + r.stderr
    lines = r.stderr.splitlines()
    for split in ('train', 'val', 'test'):                   # every split's encoding is named, with its count and time
        enc = [l for l in lines if l.startswith('encode · ') and f' {split} · ' in l]
        assert any(': start, 1 to do' in l for l in enc) and any(': done 1/1 in ' in l for l in enc), lines
    for method in ('VSE++', 'CHAN'):                        # one line per epoch, naming the method and the split
        ep = [l for l in lines if l.startswith(f'train {method} · ') and ' train · epochs: epoch=' in l]
        assert [l.split('epoch=')[1].split()[0] for l in ep] == ['0', '1'], lines
