"`tools/replace_records.py`: a re-run replaces transcribed rows under their names and labels, keeping what it replaced."
import json, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
from replace_records import replace

OLD = [dict(name='scenes/laps', label='LAPS, paper mode', metrics={'rsum': 399.4}, commit=None,
            transcribed=dict(**{'from': 'README at c5d76a4'}, commit=None, machine='2-core', note='n')),
       dict(name='scenes/other', label='kept', metrics={'rsum': 1.0}, commit='abc')]
RUN = [dict(name='scenes-laps/LAPS', label='LAPS', metrics={'rsum': 401.2}, commit='def', machine={'cpu': 'x'},
            threads=1, transcribed=None)]

def test_replace_keeps_name_label_and_previous():
    new = replace(OLD, RUN, {'scenes/laps': 'LAPS'})
    assert [r['name'] for r in new] == ['scenes/laps', 'scenes/other']
    r = new[0]
    assert (r['label'], r['metrics'], r['commit'], r['transcribed']) == ('LAPS, paper mode', {'rsum': 401.2}, 'def', None)
    assert r['previous']['metrics'] == {'rsum': 399.4} and r['previous']['transcribed_from'] == 'README at c5d76a4'
    assert new[1] is OLD[1]
    assert replace(OLD, RUN, {'scenes/laps': 'LAPS'}, {'scenes/laps': 'new words'})[0]['label'] == 'new words'

@pytest.mark.parametrize('mapping, msg', [({'scenes/nope': 'LAPS'}, "no record 'scenes/nope'"),
                                          ({'scenes/laps': 'GRM'}, "run row 'GRM' matches 0")])
def test_missing_names_stop_before_writing(mapping, msg):
    with pytest.raises(SystemExit, match=msg): replace(OLD, RUN, mapping)

def test_command_line_writes_the_file(tmp_path):
    res, run = tmp_path/'r.json', tmp_path/'run.json'
    res.write_text(json.dumps(OLD)); run.write_text(json.dumps(RUN))
    p = subprocess.run([sys.executable, str(ROOT/'tools'/'replace_records.py'), str(res), str(run),
                        'scenes/laps=LAPS'], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert json.loads(res.read_text())[0]['metrics'] == {'rsum': 401.2}
