"""Worker for test_ddp_train.py: trains a tiny VSE++ on toy features and writes what rank 0 saw.

Run as `python ddp_worker.py OUT` (one process) or `torchrun --standalone --nproc_per_node 2 ddp_worker.py OUT`;
both train on the same global batches, so they must log the same losses and end with the same weights.
`python ddp_worker.py OUT sigterm` stops itself with SIGTERM after step 4; `... OUT resume` continues that run.
$FINEALIGN_TEST_DROPOUT sets the model's dropout, $FINEALIGN_TEST_HEAD its head ('linear' or 'mlp', with BatchNorm).
"""
import json, os, signal, sys
from pathlib import Path

import torch
import torch.distributed as dist

from finealign.core import Tokens
from finealign.registry import create_aligner
from finealign.engine.train import PairFeatures, TrainConfig, fit

def toy_features(n_img=24, caps=5, dim=8, seed=0):
    "Captions are noisy linear maps of their image's tokens; caption lengths vary so that DDP pads text shards."
    g = torch.Generator().manual_seed(seed)
    img = torch.randn(n_img, 4, dim, generator=g); mix = torch.randn(dim, dim, generator=g)
    ci = torch.arange(n_img).repeat_interleave(caps)
    cap = img[ci] @ mix + 0.3 * torch.randn(n_img * caps, 4, dim, generator=g)
    lengths = torch.randint(1, 5, (len(cap),), generator=g)
    mask = torch.arange(4)[None] < lengths[:, None]                                   # (n_cap, 4)
    imgs = Tokens(img, torch.ones(n_img, 4, dtype=torch.bool), img.mean(1))
    return PairFeatures(imgs, Tokens(cap * mask[..., None], mask, cap.mean(1)), ci)

def sigterm_at(step):
    "A callback that sends this process SIGTERM after optimizer step `step` (as a scheduler would)."
    def cb(rec):
        if rec['step'] == step: os.kill(os.getpid(), signal.SIGTERM)
    return cb

if __name__ == '__main__':
    out, mode = Path(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else 'train')   # mode: train, sigterm or resume
    torch.manual_seed(0)
    dropout = float(os.environ.get('FINEALIGN_TEST_DROPOUT', '0'))   # > 0: ranks draw different dropout masks
    model = create_aligner('vse_tiny', dropout=dropout, head=os.environ.get('FINEALIGN_TEST_HEAD', 'linear'))   # mlp: with BatchNorm
    cfg = TrainConfig(epochs=2, batch_size=20, lr=1e-2, accum_steps=2, grad_clip=2.0, seed=0)
    train = toy_features()
    hist = fit(model, train, cfg, PairFeatures(train.images, train.texts, train.caption_image), out/'run', progress=False,
               callback=sigterm_at(4) if mode == 'sigterm' else None, resume=mode == 'resume')
    rank = dist.get_rank() if dist.is_initialized() else 0
    world = dist.get_world_size() if dist.is_initialized() else 1
    if rank == 0:
        torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, out/'weights.pt')
        (out/'result.json').write_text(json.dumps(dict(world=world, history=hist)))
    if dist.is_initialized(): dist.destroy_process_group()
