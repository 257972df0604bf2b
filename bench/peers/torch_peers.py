#!/usr/bin/env python3
"""Eager PyTorch peers of onward's learners, timed per time step (one thread, float32, CPU).

Each case builds the same model as onward's `perf` (input 8, MSE loss at every step, the same sizes) and runs
the same algorithm the idiomatic eager way: BPTT with autograd (fused nn.GRU, or a GRUCell loop), streaming
inference with a GRUCell under no_grad, e-prop with per-synapse traces in in-place tensor ops, the online LRU
(Zucchet et al. 2023) with complex traces and the spatial gradient from autograd, TANP (activity-based node
perturbation with a carried noisy pass) under no_grad. It prints one JSON record per case.

    python3 bench/peers/torch_peers.py --case gru-bptt-fused --B 16 --n 256 --T 100
    python3 bench/peers/torch_peers.py --info      # torch version, threads and the BLAS library in use

Torch takes its BLAS from libblas.so.3 (Debian alternatives): with OpenBLAS it is ~30× faster than the
reference BLAS, so every record names the library that is actually mapped into the process.
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.set_num_interop_threads(1)
torch.manual_seed(0)
D_IN, D_OUT = 8, 8


def blas_library():
    """the BLAS shared object mapped into this process (after one matrix product has loaded it)"""
    torch.randn(64, 64) @ torch.randn(64, 64)
    libs = set()
    with open('/proc/self/maps') as f:
        for line in f:
            path = line.split()[-1]
            name = path.rsplit('/', 1)[-1]
            if any(k in name for k in ('openblas', 'libblas', 'blis', 'mkl_rt', 'atlas')):
                libs.add(path)
    return sorted(libs)


def timed(fn, steps, min_runs=3, budget=1.5):
    """median seconds per time step over repeated runs (one warm-up run first)"""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < budget and len(times) < 50):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) / steps


def data(T, B, d=D_IN, o=D_OUT):
    return torch.randn(T, B, d), torch.randn(T, B, o)


def mse(y, target):
    # onward's convention: mean over outputs, mean over the batch, summed over time
    return ((y - target) ** 2).mean(dim=-1).sum() / y.shape[-2]


def gru_bptt_fused(B, n, T):
    gru, out = torch.nn.GRU(D_IN, n), torch.nn.Linear(n, D_OUT)
    x, y = data(T, B)
    params = list(gru.parameters()) + list(out.parameters())

    def run():
        for p in params:
            p.grad = None
        h, _ = gru(x)
        mse(out(h), y).backward()
    return timed(run, T)


def gru_bptt_cell(B, n, T):
    cell, out = torch.nn.GRUCell(D_IN, n), torch.nn.Linear(n, D_OUT)
    x, y = data(T, B)
    params = list(cell.parameters()) + list(out.parameters())

    def run():
        for p in params:
            p.grad = None
        h = torch.zeros(B, n)
        loss = 0
        for t in range(T):
            h = cell(x[t], h)
            loss = loss + mse(out(h), y[t])
        loss.backward()
    return timed(run, T)


def gru_inference(B, n, T):
    cell, out = torch.nn.GRUCell(D_IN, n), torch.nn.Linear(n, D_OUT)
    x, _ = data(T, B)

    @torch.no_grad()
    def run():
        h = torch.zeros(B, n)
        for t in range(T):
            h = cell(x[t], h)
            out(h)
    return timed(run, T)


def eprop_gru(B, n, T):
    """e-prop on a GRU layer: traces of every synapse, each unit's own ∂h/∂h (z) as decay, signal W_outᵀ·error"""
    cell, out = torch.nn.GRUCell(D_IN, n), torch.nn.Linear(n, D_OUT)
    x, y = data(T, B)
    Wih, Whh, bih, bhh = cell.weight_ih.detach(), cell.weight_hh.detach(), cell.bias_ih.detach(), cell.bias_hh.detach()
    Wo, bo = out.weight.detach(), out.bias.detach()
    e_ih, e_hh = torch.zeros(B, 3 * n, D_IN), torch.zeros(B, 3 * n, n)
    e_bi, e_bh = torch.zeros(B, 3 * n), torch.zeros(B, 3 * n)
    g_ih, g_hh, g_bi, g_bh = torch.zeros_like(Wih), torch.zeros_like(Whh), torch.zeros_like(bih), torch.zeros_like(bhh)
    g_o, g_bo = torch.zeros_like(Wo), torch.zeros_like(bo)

    @torch.no_grad()
    def run():
        h = torch.zeros(B, n)
        for tr in (e_ih, e_hh, e_bi, e_bh):
            tr.zero_()
        for t in range(T):
            gi, gh = torch.addmm(bih, x[t], Wih.t()), torch.addmm(bhh, h, Whh.t())
            r = torch.sigmoid(gi[:, :n] + gh[:, :n])
            z = torch.sigmoid(gi[:, n:2 * n] + gh[:, n:2 * n])
            c = torch.tanh(gi[:, 2 * n:] + r * gh[:, 2 * n:])
            hn = (1 - z) * c + z * h
            # local partials ∂h/∂a of the gate preactivations (input and recurrent synapse groups)
            dc = (1 - z) * (1 - c * c)
            da_r = dc * gh[:, 2 * n:] * r * (1 - r)
            da_z = (h - c) * z * (1 - z)
            u_ih = torch.cat((da_r, da_z, dc), 1)
            u_hh = torch.cat((da_r, da_z, dc * r), 1)
            a = z.repeat(1, 3)
            # e ← a ⊙ e + u ⊗ v, per sample and synapse
            e_ih.mul_(a.unsqueeze(2)).addcmul_(u_ih.unsqueeze(2), x[t].unsqueeze(1))
            e_hh.mul_(a.unsqueeze(2)).addcmul_(u_hh.unsqueeze(2), h.unsqueeze(1))
            e_bi.mul_(a).add_(u_ih)
            e_bh.mul_(a).add_(u_hh)
            yo = torch.addmm(bo, hn, Wo.t())
            err = 2 * (yo - y[t]) / (D_OUT * B)
            g_o.addmm_(err.t(), hn)
            g_bo.add_(err.sum(0))
            L = (err @ Wo).repeat(1, 3)  # the learning signal at each gate row
            g_ih.add_(torch.einsum('br,brj->rj', L, e_ih))
            g_hh.add_(torch.einsum('br,brj->rj', L, e_hh))
            g_bi.add_((L * e_bi).sum(0))
            g_bh.add_((L * e_bh).sum(0))
            h = hn
    return timed(run, T)


class LruBlock(torch.nn.Module):
    """pre-norm block of the online-LRU paper: LayerNorm → LRU → GELU → GLU → + input"""

    def __init__(self, H, N):
        super().__init__()
        self.norm = torch.nn.LayerNorm(H)
        r = torch.sqrt(torch.rand(N))  # |λ| uniform on the disc by area
        self.nu_log = torch.nn.Parameter(torch.log(-torch.log(r)))
        self.theta_log = torch.nn.Parameter(torch.log(torch.rand(N) * 6.28))
        self.gamma_log = torch.nn.Parameter(torch.log(torch.sqrt(1 - r * r)))
        self.B = torch.nn.Parameter(torch.randn(N, H, dtype=torch.cfloat) / math.sqrt(2 * H))
        self.C = torch.nn.Parameter(torch.randn(H, N, dtype=torch.cfloat) / math.sqrt(N))
        self.D = torch.nn.Parameter(torch.randn(H))
        self.glu1, self.glu2 = torch.nn.Linear(H, H), torch.nn.Linear(H, H)

    def lam(self):
        return torch.exp(torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log)))


def online_lru(B, n, T, layers=4, N=64, d_out=14):
    """online LRU: exact elementwise traces for λ, γ, B in every layer; everything else by autograd at time t"""
    H = n
    enc, dec = torch.nn.Linear(D_IN, H), torch.nn.Linear(H, d_out)
    blocks = [LruBlock(H, N) for _ in range(layers)]
    x, y = data(T, B, D_IN, d_out)
    params = list(enc.parameters()) + list(dec.parameters()) + [p for b in blocks for p in b.parameters()]
    traced = {id(p) for b in blocks for p in (b.nu_log, b.theta_log, b.gamma_log, b.B)}
    spatial = [p for p in params if id(p) not in traced]
    grads = {id(p): torch.zeros_like(p) for p in params}

    def run():
        hs = [torch.zeros(B, N, dtype=torch.cfloat) for _ in blocks]
        e_lam = [torch.zeros(B, N, dtype=torch.cfloat) for _ in blocks]
        e_gam = [torch.zeros(B, N, dtype=torch.cfloat) for _ in blocks]
        e_B = [torch.zeros(B, N, H, dtype=torch.cfloat) for _ in blocks]
        for t in range(T):
            z = enc(x[t])
            hts, us, bxs, lams = [], [], [], []
            for k, blk in enumerate(blocks):
                u = blk.norm(z)
                with torch.no_grad():
                    lam, gam = blk.lam(), torch.exp(blk.gamma_log)
                bx = u.to(torch.cfloat) @ blk.B.detach().t()
                h = lam * hs[k] + gam * bx  # h_{t-1} held: no path back in time
                h.retain_grad()
                v = (h @ blk.C.t()).real + blk.D * u
                v = F.gelu(v)
                z = z + blk.glu1(v) * torch.sigmoid(blk.glu2(v))
                hts.append(h); us.append(u); bxs.append(bx); lams.append((lam, gam))
            loss = mse(dec(z), y[t])
            gs = torch.autograd.grad(loss, spatial + hts)
            with torch.no_grad():
                for p, g in zip(spatial, gs[:len(spatial)]):
                    grads[id(p)].add_(g)
                for k, blk in enumerate(blocks):
                    delta, (lam, gam) = gs[len(spatial) + k].conj(), lams[k]
                    e_lam[k].mul_(lam).add_(hs[k])
                    e_gam[k].mul_(lam).add_(bxs[k].detach())
                    e_B[k].mul_(lam.unsqueeze(1)).add_(gam.unsqueeze(1) * us[k].detach().unsqueeze(1))
                    grads[id(blk.nu_log)].add_((delta * e_lam[k]).real.sum(0))
                    grads[id(blk.gamma_log)].add_((delta * e_gam[k]).real.sum(0))
                    grads[id(blk.B)].add_(torch.einsum('bn,bnh->nh', delta, e_B[k]))
                    hs[k] = hts[k].detach()
    return timed(run, T)


def tanp_rnn(B, n, T, sigma=1e-3):
    """TANP: a clean and a carried noisy pass, noise on both synapse groups and the readout, activity estimate"""
    cell, out = torch.nn.RNNCell(D_IN, n), torch.nn.Linear(n, D_OUT)
    x, y = data(T, B)
    Wih, Whh, bih, bhh = (p.detach() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
    Wo, bo = out.weight.detach(), out.bias.detach()
    g = [torch.zeros_like(p) for p in (Wih, Whh, bih, bhh, Wo, bo)]
    nodes_rec, nodes_out = 2 * n, D_OUT

    @torch.no_grad()
    def run():
        h, hn = torch.zeros(B, n), torch.zeros(B, n)
        for t in range(T):
            ai, ah = torch.addmm(bih, x[t], Wih.t()), torch.addmm(bhh, h, Whh.t())
            h1 = torch.tanh(ai + ah)
            yo = torch.addmm(bo, h1, Wo.t())
            ai_n = torch.addmm(bih, x[t], Wih.t()) + sigma * torch.randn(B, n)
            ah_n = torch.addmm(bhh, hn, Whh.t()) + sigma * torch.randn(B, n)
            hn1 = torch.tanh(ai_n + ah_n)
            yo_n = torch.addmm(bo, hn1, Wo.t()) + sigma * torch.randn(B, D_OUT)
            dL = (((yo_n - y[t]) ** 2).mean(1) - ((yo - y[t]) ** 2).mean(1)) / B
            di, dh, do = ai_n - ai, ah_n - ah, yo_n - yo
            ci = nodes_rec * dL / ((di * di).sum(1) + (dh * dh).sum(1))
            co = nodes_out * dL / (do * do).sum(1)
            di, dh, do = di * ci[:, None], dh * ci[:, None], do * co[:, None]
            g[0].addmm_(di.t(), x[t]); g[1].addmm_(dh.t(), h); g[2].add_(di.sum(0)); g[3].add_(dh.sum(0))
            g[4].addmm_(do.t(), h1); g[5].add_(do.sum(0))
            h, hn = h1, hn1
    return timed(run, T)


CASES = {
    'gru-bptt-fused': gru_bptt_fused,
    'gru-bptt-cell': gru_bptt_cell,
    'gru-inference': gru_inference,
    'eprop-gru': eprop_gru,
    'online-lru': online_lru,
    'tanp-rnn': tanp_rnn,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--case', choices=sorted(CASES))
    ap.add_argument('--B', type=int, default=1)
    ap.add_argument('--n', type=int, default=64)
    ap.add_argument('--T', type=int, default=100)
    ap.add_argument('--info', action='store_true')
    a = ap.parse_args()
    info = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': blas_library()}
    if a.info or not a.case:
        print(json.dumps(info))
        return
    s = CASES[a.case](a.B, a.n, a.T)
    print(json.dumps({'case': a.case, 'B': a.B, 'n': a.n, 'T': a.T, 'usPerStep': s * 1e6, **info}))


if __name__ == '__main__':
    sys.exit(main())
