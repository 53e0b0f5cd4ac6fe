"""Worker for test_ddp_eval.py, run by `torchrun --nproc_per_node 2`: shards the similarity matrix over the ranks
(gloo, CPU) and, on rank 0, compares every gathered matrix with the single-process one. Writes a JSON report
to the path given as its only argument (rank 0) and exits non-zero on a mismatch."""
import json, sys

import torch
import torch.distributed as dist

from finealign.core import Tokens, l2norm
from finealign.engine.evaluate import distributed_similarity_matrix, evaluate_retrieval, similarity_matrix


class MaxMean:
    "Each word's best patch cosine, averaged over the caption's words (SCAN-like, fine-grained)."
    def encode_images(self, t): return t
    def encode_texts(self, t): return t
    def similarity(self, img, txt):
        c = torch.einsum('ind,jld->ijln', l2norm(img.x), l2norm(txt.x)).masked_fill(~img.mask[:, None, None, :], -2.0)
        best, m = c.amax(-1), txt.mask[None].float()          # (n_img, n_txt, L), (1, n_txt, L)
        return (best * m).sum(-1) / m.sum(-1)


def tokens(n, length, d, seed):
    "The same random tokens on every rank (seeded), with ragged lengths."
    g = torch.Generator().manual_seed(seed)
    x, lens = torch.randn(n, length, d, generator=g), torch.randint(1, length + 1, (n,), generator=g)
    mask = torch.arange(length)[None] < lens[:, None]
    return Tokens(x * mask[..., None], mask, torch.randn(n, d, generator=g))


def main(out_path):
    dist.init_process_group('gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    img, txt = tokens(7, 5, 8, 1), tokens(23, 4, 8, 2)       # odd sizes: unequal shards, padding exercised
    aligner, report = MaxMean(), {'world': world}
    full = similarity_matrix(aligner, img, txt, block=(3, 5))
    for axis in ('text', 'image'):
        for dst in (0, None):
            got = distributed_similarity_matrix(aligner, img, txt, axis=axis, dst=dst, block=(2, 3))
            key = f'{axis}_dst{dst}'
            if rank == 0 or dst is None: report[key] = float((got - full).abs().max()) if got is not None else None
            elif got is not None: report[key] = 'non-dst rank got a matrix'
    ci = torch.arange(23) % 7
    metrics, sims = evaluate_retrieval(aligner, img, txt, ci, distributed=True, block=(4, 4))
    single, _ = evaluate_retrieval(aligner, img, txt, ci)
    if rank == 0:
        report['eval_max_diff'] = float((sims - full).abs().max())
        report['eval_same_rsum'] = metrics['rsum'] == single['rsum']
    else: report['eval_other_rank_none'] = metrics is None and sims is None
    reports = [None] * world
    dist.all_gather_object(reports, report)
    dist.destroy_process_group()
    if rank == 0:
        with open(out_path, 'w') as f: json.dump(reports, f)


if __name__ == '__main__': main(sys.argv[1])
