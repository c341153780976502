"""Optimizer-step benchmark, the PyTorch twin of io.hgkd.examples.bench.OptimBenchmark.

    /usr/bin/python3 tools/bench/optim_bench.py [--model resnet50] [--warmup 3] [--reps 10] [--threads 2]

Parameters of torchvision's model (25.6 M for resnet50) in SparK's two groups (no weight decay for 1-D tensors),
fixed random gradients (std 1e-4), one timed step() per run. Rows: torch.optim.AdamW with the default per-tensor
loop and with foreach=True, torch.optim.SGD (momentum 0.9, wd 1e-4), and LAMB as SparK's pretrain/utils/lamb.py
computes it (timm 0.5.4: global grad-norm clip, per-tensor Adam moments, trust ratio ||p|| / ||update||), written
with the same torch ops. Prints median, min and max wall time and the median process CPU time in ms.
"""
import argparse
import math
import time

import torch
import torchvision


class Lamb(torch.optim.Optimizer):
    """SparK's LAMB (timm 0.5.4 lamb.py: grad_averaging, no trust clip), the formula of io.hgkd.core.optim.Lamb."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.95), eps=1e-6, weight_decay=0.0, max_grad_norm=5.0,
                 always_adapt=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      max_grad_norm=max_grad_norm, always_adapt=always_adapt))

    @torch.no_grad()
    def step(self):
        one = torch.tensor(1.0)
        norm_sq = torch.zeros(())
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is not None:
                    norm_sq.add_(p.grad.pow(2).sum())
        global_norm = torch.sqrt(norm_sq)
        max_norm = torch.tensor(self.defaults['max_grad_norm'])
        clip = torch.where(global_norm > max_norm, global_norm / max_norm, one)
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            group['step'] = group.get('step', 0) + 1
            bc1 = 1 - beta1 ** group['step']
            bc2 = 1 - beta2 ** group['step']
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad.div_(clip)
                state = self.state[p]
                if len(state) == 0:
                    state['exp_avg'] = torch.zeros_like(p)
                    state['exp_avg_sq'] = torch.zeros_like(p)
                m, v = state['exp_avg'], state['exp_avg_sq']
                m.mul_(beta1).add_(grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = (v.sqrt() / math.sqrt(bc2)).add_(group['eps'])
                update = (m / bc1).div_(denom)
                wd = group['weight_decay']
                if wd != 0:
                    update.add_(p, alpha=wd)
                if wd != 0 or group['always_adapt']:
                    w_norm = p.norm(2.0)
                    g_norm = update.norm(2.0)
                    trust = torch.where(w_norm > 0, torch.where(g_norm > 0, w_norm / g_norm, one), one)
                    update.mul_(trust)
                p.add_(update, alpha=-group['lr'])


def groups(model, wd):
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    return [dict(params=decay, weight_decay=wd), dict(params=no_decay, weight_decay=0.0)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default='resnet50')
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--reps', type=int, default=10)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models, args.model)()
    for p in model.parameters():
        p.grad = torch.randn_like(p) * 1e-4
    n = sum(p.numel() for p in model.parameters())
    print(f'model {args.model}: {len(list(model.parameters()))} tensors, {n} parameters, threads {args.threads}')
    makers = {
        'adamw': lambda: torch.optim.AdamW(groups(model, 0.05), lr=1e-3),
        'adamw_foreach': lambda: torch.optim.AdamW(groups(model, 0.05), lr=1e-3, foreach=True),
        'lamb': lambda: Lamb(groups(model, 0.04), lr=2e-4),
        'sgd': lambda: torch.optim.SGD(groups(model, 1e-4), lr=0.1, momentum=0.9),
        'sgd_foreach': lambda: torch.optim.SGD(groups(model, 1e-4), lr=0.1, momentum=0.9, foreach=True),
    }
    for name, make in makers.items():
        opt = make()
        wall, cpu = [], []
        for r in range(args.warmup + args.reps):
            c0, t0 = time.process_time(), time.perf_counter()
            opt.step()
            t1, c1 = time.perf_counter(), time.process_time()
            if r >= args.warmup:
                wall.append((t1 - t0) * 1e3)
                cpu.append((c1 - c0) * 1e3)
        wall.sort()
        cpu.sort()
        print(f'{name:<14} median {wall[len(wall) // 2]:8.1f} ms  min {wall[0]:8.1f}  max {wall[-1]:8.1f}'
              f'  cpu median {cpu[len(cpu) // 2]:8.1f} ms')


if __name__ == '__main__':
    main()
