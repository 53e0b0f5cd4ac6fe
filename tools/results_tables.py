"""The README tables of commit c5d76a4 that `transcribe_readme.py` copied into `results/`: where each table was,
its record names and metric keys, and the columns the results pages show them with."""

RET = ['i2t_r1', 'i2t_r5', 'i2t_r10', 't2i_r1', 't2i_r5', 't2i_r10', 'rsum']
RET_COLS = [('I→T R@1', '{i2t_r1:.1f}'), ('R@5', '{i2t_r5:.1f}'), ('R@10', '{i2t_r10:.1f}'),
            ('T→I R@1', '{t2i_r1:.1f}'), ('R@5', '{t2i_r5:.1f}'), ('R@10', '{t2i_r10:.1f}'), ('rSum', '{rsum:.1f}')]
SCENE_COLS = RET_COLS + [('binding %', '{binding:.1f}'),
                         ('pointing % (chance)', '{pointing:.1f} ({pointing_chance:.1f})')]
SCENE_KEYS = [[k] for k in RET] + [['binding'], ['pointing', 'pointing_chance']]
PAIRS = ['100', '300', '1000', '3000', 'all']
CURVE_COLS = [(h, f'{{rsum_{p}:.1f}}') for h, p in zip(['100 pairs', '300', '1,000', '3,000', '30,000 (all)'], PAIRS)]
MSA = ['mae', 'corr', 'acc2_has0', 'acc2_non0', 'f1_non0', 'acc7']
def pm(k, d): return (f'{{{k}:.{d}f}} ± {{{k}_std:.{d}f}}', f'{{{k}:.{d}f}}')
MSA_COLS = [('MAE', pm('mae', 3)), ('Corr', pm('corr', 3)), ('Acc-2 (has 0)', pm('acc2_has0', 1)),
            ('Acc-2 (non 0)', pm('acc2_non0', 1)), ('F1 (non 0)', pm('f1_non0', 1)), ('Acc-7', pm('acc7', 1))]
def pmk(k): return [k, f'{k}_std']

SCENES_MACHINE = ("2-core x86_64 CPU, Linux, Python 3.11, torch 2.14.1, OMP_NUM_THREADS=1 (the README names no "
                  "CPU model)")
GRM_MACHINE = "2-core Intel Xeon with AVX-512, OMP_NUM_THREADS=1, each run on one core with another job on the other"
SHARED = "2-core x86_64 CPU shared with other jobs, Linux, Python 3.11, torch 2.14.1"
def tr(machine, note, commit=None): return dict(commit=commit, machine=machine, note=note)

TABLES = [
 dict(index=1, file='scenes/baselines', first='method', command='OMP_NUM_THREADS=1 ./run demo',
      names=['scenes/vse', 'scenes/scan_t2i', 'scenes/chan', 'scenes/pal'], keys=SCENE_KEYS, columns=SCENE_COLS,
      transcribed=tr(SCENES_MACHINE, "configs/scenes-baselines.yaml, seed 0, per-method seeds (after b217aa2); "
                     "the epoch with the best validation rSum.")),
 dict(index=2, file='scenes/zeroshot', first='method',
      command='./run exec finealign zeroshot runs/demo/checkpoints/<method>/best --tasks scenes-cls,scenes-seg',
      names=['scenes-zeroshot/vse', 'scenes-zeroshot/scan_t2i', 'scenes-zeroshot/chan', 'scenes-zeroshot/pal'],
      keys=[['top1', 'top1_ensemble'], ['miou', 'miou_ensemble'], ['miou_fg', 'miou_fg_ensemble']],
      columns=[('top-1 %', '{top1:.1f} ({top1_ensemble:.1f})'),
               ('mIoU (background prompted)', '{miou:.1f} ({miou_ensemble:.1f})'),
               ('mIoU-fg (object pixels only)', '{miou_fg:.1f} ({miou_fg_ensemble:.1f})')],
      transcribed=tr(SCENES_MACHINE, "The demo's checkpoints on the 200 test scenes; one prompt, and the 80-prompt "
                     "ensemble in brackets.")),
 dict(index=3, file='scenes/laps', first='method',
      command='./run exec finealign train configs/scenes-laps.yaml --methods laps --out runs/scenes-laps '
              '(and --methods laps_official --out runs/scenes-laps-official)',
      names=['scenes/laps', 'scenes/laps_official'], keys=SCENE_KEYS, columns=SCENE_COLS,
      transcribed=tr(SCENES_MACHINE, "Each LAPS mode ran alone (untouched by the per-method seeding of b217aa2); "
                     "one seed.")),
 dict(index=4, file='scenes/grm', first='method',
      command='./run exec finealign train configs/scenes-grm.yaml (and --train.seed 1 --out runs/scenes-grm-seed1)',
      names=['scenes/grm', 'scenes/grm_seed1'], keys=SCENE_KEYS, columns=SCENE_COLS,
      transcribed=tr(GRM_MACHINE, "All GRM tables measured in one session on one machine.")),
 dict(index=5, file='scenes/grm_ablations', first='GRM',
      command='./run exec finealign train configs/scenes-grm-ablations.yaml (and configs/scenes-grm-sweeps.yaml), '
              'each once more with --train.seed 1',
      names=[f'scenes-grm-ablations/{n}' for n in
             ['full', 'no_significance', 'no_granularity', 'no_regions', 'no_uncertainty', 'no_ori', 'no_key',
              'no_unc', 'no_recon', 'no_kl_ent', 'k1', 'k3', 'k10', 'k25', 'k50',
              'abc_0.6_0.2_0.2', 'abc_0.2_0.6_0.2', 'abc_0.3_0.3_0.4', 'abc_0.2_0.2_0.6']],
      keys=[['rsum_seed0'], ['rsum_seed1'], ['rsum_mean'], ['rsum_vs_full'], ['binding'], ['pointing']],
      columns=[('rSum, seed 0', '{rsum_seed0:.1f}'), ('seed 1', '{rsum_seed1:.1f}'), ('mean', '{rsum_mean:.1f}'),
               ('vs full', '{rsum_vs_full:+.1f}'), ('binding %', '{binding:.1f}'), ('pointing %', '{pointing:.1f}')],
      transcribed=tr(GRM_MACHINE, "Two training seeds; binding and pointing are the two seeds' means; chance "
                     "pointing 2.9 %.")),
 dict(index=6, file='flickr8k/baselines', first='method',
      command='./run exec finealign train configs/flickr8k-baselines.yaml (LAPS: configs/flickr8k-laps.yaml; '
              'GRM: configs/flickr8k-grm.yaml)',
      names=['flickr8k/vse', 'flickr8k/scan_t2i', 'flickr8k/chan', 'flickr8k/laps_official', 'flickr8k/laps',
             'flickr8k/grm'], keys=[[k] for k in RET], columns=RET_COLS,
      transcribed=tr(SHARED, "Val: 1,000 images, 5,000 captions; trained on 6,000 train images; last epoch."),
      per_row={'flickr8k/scan_t2i': tr(SHARED, "Measured before per-method seeds; reproduces at b217aa2.", 'b217aa2'),
               'flickr8k/chan': tr(SHARED, "Measured before per-method seeds; reproduces at b217aa2.", 'b217aa2'),
               'flickr8k/laps_official': tr(SHARED, "Ran alone; interrupted and resumed with --resume."),
               'flickr8k/laps': tr(SHARED, "Ran alone; interrupted and resumed with --resume."),
               'flickr8k/grm': tr(SHARED, "Ran alone; interrupted and resumed with --resume.")}),
 dict(index=7, file='flickr8k/pal_curve', first='rSum',
      command='./run exec finealign curve configs/flickr8k-pal-curve.yaml --pairs 100,300,1000,3000,all --min-steps 200',
      names=[f'flickr8k-pal-curve/{n}' for n in ['pal', 'pal_mean', 'pal_global', 'linear_head', 'mlp_head', 'asif']],
      keys=[[f'rsum_{p}'] for p in PAIRS], columns=CURVE_COLS,
      transcribed=tr(SHARED, "Measured before per-method seeds: the rows after PAL reproduce at b217aa2. Val rSum "
                     "on the 1,000 val images; the zero-shot metrics are of the model trained on all pairs.",
                     'b217aa2')),
 dict(index=8, file='flickr8k/pal_curve', first='trained on 30,000 pairs', merge=True, command='',
      names=[f'flickr8k-pal-curve/{n}' for n in ['pal', 'pal_mean', 'pal_global', 'linear_head', 'mlp_head', 'asif']],
      keys=[['i2t_r1'], ['t2i_r1'], ['imagenet_top1'], ['imagenet_top5'], ['coco_miou_fg'], ['camvid_miou']],
      columns=[('I→T R@1', '{i2t_r1:.1f}'), ('T→I R@1', '{t2i_r1:.1f}'), ('ImageNet top-1', '{imagenet_top1:.1f}'),
               ('top-5', '{imagenet_top5:.1f}'), ('COCO mIoU-fg', '{coco_miou_fg:.1f}'),
               ('CamVid mIoU', '{camvid_miou:.1f}')],
      labels={'flickr8k-pal-curve/pal': 'PAL (`relative_anchors`, CAP pooling)',
              'flickr8k-pal-curve/pal_mean': 'PAL, mean pooling (`pal_mean`)',
              'flickr8k-pal-curve/pal_global': 'PAL, global feature only (`pal_global`)',
              'flickr8k-pal-curve/linear_head': 'linear heads (d 512, InfoNCE)',
              'flickr8k-pal-curve/mlp_head': 'MLP heads',
              'flickr8k-pal-curve/asif': 'ASIF (training-free, the pairs as anchors)'},
      transcribed=tr(SHARED, "", 'b217aa2')),
 dict(index=9, file='flickr8k/heads_structure_curve', first='rSum',
      command='./run exec finealign curve configs/flickr8k-heads-structure-curve.yaml --pairs 100,300,1000,3000,all '
              '--min-steps 200',
      names=[f'flickr8k-heads-structure-curve/{n}' for n in ['linear_head', 'linear_rs', 'mlp_head', 'mlp_rs']],
      keys=[[f'rsum_{p}'] for p in PAIRS], columns=CURVE_COLS,
      transcribed=tr(SHARED, "Per-method seeds. The segmentation metrics: ./run exec finealign zeroshot "
                     "runs/flickr8k-heads-structure-curve/pairs-<n>/checkpoints/<m>/last --tasks coco-mini,camvid "
                     "--templates ensemble.")),
 dict(index=10, file='flickr8k/heads_structure_curve', first='COCO-mini mIoU-fg / CamVid mIoU', merge=True, command='',
      names=[f'flickr8k-heads-structure-curve/{n}' for n in ['linear_head', 'linear_rs', 'mlp_head', 'mlp_rs']],
      keys=[[f'coco_miou_fg_{p}', f'camvid_miou_{p}'] for p in PAIRS],
      columns=[(h, f'{{coco_miou_fg_{p}:.1f}} / {{camvid_miou_{p}:.1f}}')
               for h, p in zip(['100 pairs', '300', '1,000', '3,000', '30,000 (all)'], PAIRS)],
      labels={'flickr8k-heads-structure-curve/linear_head': 'linear heads',
              'flickr8k-heads-structure-curve/linear_rs': 'LinearRS (`linear_rs`)',
              'flickr8k-heads-structure-curve/mlp_head': 'MLP heads',
              'flickr8k-heads-structure-curve/mlp_rs': 'MLPRS (`mlp_rs`)'},
      transcribed=tr(SHARED, "")),
 dict(index=11, file='flickr8k/pal_sweeps', first='PAL',
      command='./run exec finealign train configs/flickr8k-pal-sweeps.yaml',
      names=[f'flickr8k-pal-sweeps/{n}' for n in ['tau_0.02', 'tau_0.03', 'tau_0.05', 'tau_0.07', 'tau_0.10',
                                                   'k32', 'k64', 'k128', 'k256', None]],
      keys=[['rsum'], ['i2t_r1'], ['t2i_r1'], ['imagenet_top1'], ['coco_miou_fg'], ['camvid_miou'],
            ['paper_cls', 'paper_ret', 'paper_seg']],
      columns=[('rSum', '{rsum:.1f}'), ('I→T R@1', '{i2t_r1:.1f}'), ('T→I R@1', '{t2i_r1:.1f}'),
               ('ImageNet top-1', '{imagenet_top1:.1f}'), ('COCO mIoU-fg', '{coco_miou_fg:.1f}'),
               ('CamVid mIoU', '{camvid_miou:.1f}'),
               ('paper: cls / ret / seg', ('{paper_cls:.1f} / {paper_ret:.1f} / {paper_seg:.1f}', ''))],
      transcribed=tr(SHARED, "3,000 pairs, 9 epochs, 80-prompt ensemble for zero-shot. Measured before per-method "
                     "seeds: the rows after the first reproduce at b217aa2. paper_* are the paper's Table 7 "
                     "averages (DINOv2 ViT-L, RoBERTa-Large, ~80,000 COCO pairs), not measured here.", 'b217aa2')),
 dict(index=12, file='mosi/decalign', first='method', command='./run exec finealign msa configs/mosi-decalign.yaml',
      names=['mosi/decalign', 'mosi/decalign_official', 'mosi/fusion_only', 'mosi/late_fusion_mlp', 'mosi/ridge'],
      keys=[pmk(k) for k in MSA], columns=MSA_COLS,
      transcribed=tr(SHARED, "Five seeds (1111-1115), mean ± standard deviation, on the valid split (which also "
                     "chose each run's epoch); utterance-level features in ../shared/data.")),
 dict(index=13, file='mosi/decalign_ablations', first='DecAlign (paper mode)',
      command='./run exec finealign msa configs/mosi-decalign-ablations.yaml',
      names=[f'mosi-ablations/{n}' for n in ['full', 'no_homo', 'no_hete', 'decoupling_only', 'none', 'no_mmd',
                                              'no_sem', 'no_ct', 'no_proto_ot']],
      keys=[pmk(k) for k in MSA], columns=MSA_COLS,
      transcribed=tr(SHARED, "Paper mode, five seeds each, valid split.")),
 dict(index=14, file='mosi/decalign_sweeps', first='DecAlign (paper mode)',
      command='./run exec finealign msa configs/mosi-decalign-sweeps.yaml',
      names=[f'mosi-sweeps/{n}' for n in ['a0.005_b0.005', 'a0.005_b0.05', 'a0.005_b0.5', 'a0.05_b0.005',
                                           'a0.05_b0.05', 'a0.05_b0.5', 'a0.5_b0.005', 'a0.5_b0.05', 'a0.5_b0.5',
                                           'k2', 'k3', 'k5', 'k10']],
      keys=[pmk('mae'), pmk('corr'), pmk('acc2_non0'), pmk('f1_non0'), pmk('acc7'), ['*epoch_kept'], ['paper_f1']],
      columns=[('MAE', pm('mae', 3)), ('Corr', pm('corr', 3)), ('Acc-2 (non 0)', pm('acc2_non0', 1)),
               ('F1 (non 0)', pm('f1_non0', 1)), ('Acc-7', pm('acc7', 1)),
               ('epoch kept, per seed', '{epoch_kept}'), ('paper: MOSI F1', ('{paper_f1:.1f}', ''))],
      transcribed=tr(SHARED, "Paper mode, five seeds each, valid split; about 40 s per seed on one core. "
                     "paper_f1 is the paper's figure, not measured here.")),
 dict(index=15, file='flickr8k/decalign_regulariser', first='linear heads (d 512)',
      command='./run exec finealign train configs/flickr8k-decalign-regulariser.yaml',
      names=[f'flickr8k-decalign-regulariser/{n}' for n in ['infonce', 'ab_0.05', 'ab_1', 'hete_1', 'homo_1']],
      keys=[['rsum'], ['i2t_r1'], ['t2i_r1'], ['imagenet_top1'], ['time_train']],
      columns=[('rSum', '{rsum:.1f}'), ('I→T R@1', '{i2t_r1:.1f}'), ('T→I R@1', '{t2i_r1:.1f}'),
               ('ImageNet-sample top-1 (ensemble)', '{imagenet_top1:.1f}'), ('training time', '{time_train:.0f} s')],
      transcribed=tr(SHARED, "All 30,000 pairs, 3 epochs, one seed; training times on the shared, loaded machine.")),
 dict(index=16, file='bench/msa', first='variant',
      command='./run exec finealign bench --msa utterance --out runs/bench-msa-utterance (and --msa aligned)',
      names=[f'bench-msa/{n}' for n in ['fusion_only', 'decoupling', 'hete', 'homo', 'decalign', 'decalign_official']],
      keys=[['ratio_utterance'], ['ratio_aligned']],
      columns=[('utterance features (1 step, 100/73/100-d):', ('{ratio_utterance:.2f} ({ms_utterance:.1f} ms)',
                                                              '{ratio_utterance:.2f}')),
               ('MMSA aligned shape (50 steps, 768/5/20-d):', ('{ratio_aligned:.2f} ({ms_aligned:.1f} ms)',
                                                              '{ratio_aligned:.2f}'))],
      labels={'bench-msa/fusion_only': 'fusion transformer only'},
      extra={'bench-msa/fusion_only': dict(ms_utterance=42.4, ms_aligned=663.7)}, skip_check=(0, 1, 2),
      transcribed=tr("2-core CPU shared with other jobs, one thread; variants timed in alternating rounds",
                     "One training step (forward and backward), batch 32, as a multiple of the fusion transformer "
                     "with every alignment loss off.")),
 dict(index=17, file='bench/engine', first='method',
      command='./run exec finealign bench --shape cpu --device cpu --out runs/bench-cpu',
      names=[f'bench-cpu/{n}' for n in ['vse', 'scan_t2i', 'scan_i2t', 'chan', 'laps_alignment', 'laps']],
      keys=[['engine_pairs_s'], ['reference_pairs_s'], ['speedup'], ['engine_peak_mib'], ['reference_peak_mib'],
            ['max_abs_diff']],
      columns=[('engine pairs/s:', '{engine_pairs_s:,.0f}'), ('reference pairs/s:', '{reference_pairs_s:,.0f}'),
               ('speed-up:', '{speedup:.1f}×'), ('engine peak MiB:', '{engine_peak_mib:.1f}'),
               ('reference peak MiB:', '{reference_peak_mib:.1f}'), ('max abs diff:', '{max_abs_diff:.1e}')],
      transcribed=tr("2-core x86_64 CPU, quiet machine", "50 images × 250 captions, 50 image tokens, 15 words on "
                     "average, d = 512; one run.")),
]
for t in TABLES:  # the rows a page shows: every transcribed row of the README's table, in its order
    t.setdefault('rows', [n for n in t['names'] if n])
TABLES[11]['rows'] = TABLES[11]['rows'] + [('K 512 (= τ_p 0.03)', 'flickr8k-pal-sweeps/tau_0.03')]
