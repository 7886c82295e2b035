"""PyTorch reference for `npm run bench:vs-torch`: the same configurations as Grokscope's presets,
written the way a researcher would write them (Nanda et al.'s 1-layer Transformer over the three
tokens `a b =`, causal attention, MLP at every position, logits read at `=`; the MLP control on
concat(embed a, embed b)), full-batch AdamW with decoupled weight decay. Prints one JSON line:
{"preset", "arch", "threads", "group", "device", "ms_per_step_median", "ms_per_step_min",
"ms_per_run_step", "steps"}.

--group S trains S seeds as one computation, the way a researcher stacks seeds in PyTorch: every
parameter gets a leading seed axis and products are batched (einsum); the loss is the sum of the
seeds' mean losses, so each seed gets its own gradient, and one AdamW updates all. --device cuda
runs on a GPU (timed with torch.cuda.synchronize after each step).
"""
import argparse, json, math, statistics, time
import torch

PRESETS = {
    # Kept equal to core/schema/run-config.ts's PRESETS (quick changed on 2026-11-30; fast is the old quick).
    "quick": dict(p=47, frac=0.35, d=64, heads=4, d_mlp=256, lr=3e-3),
    "fast": dict(p=31, frac=0.5, d=64, heads=4, d_mlp=256, lr=3e-3),
    "reference": dict(p=97, frac=0.3, d=128, heads=4, d_mlp=512, lr=1e-3),
}

class Transformer(torch.nn.Module):
    def __init__(s, p, d, heads, d_mlp):
        super().__init__()
        s.h, s.dh = heads, d // heads
        s.embed = torch.nn.Parameter(torch.randn(p + 1, d) / math.sqrt(d))
        s.pos = torch.nn.Parameter(torch.randn(3, d) / math.sqrt(d))
        s.W_Q, s.W_K, s.W_V, s.W_O = (torch.nn.Parameter(torch.randn(d, d) / math.sqrt(d)) for _ in range(4))
        s.W_in = torch.nn.Parameter(torch.randn(d, d_mlp) / math.sqrt(d)); s.b_in = torch.nn.Parameter(torch.zeros(d_mlp))
        s.W_out = torch.nn.Parameter(torch.randn(d_mlp, d) / math.sqrt(d_mlp)); s.b_out = torch.nn.Parameter(torch.zeros(d))
        s.W_U = torch.nn.Parameter(torch.randn(d, p) / math.sqrt(d))
        s.register_buffer("mask", torch.tril(torch.ones(3, 3, dtype=torch.bool)))
    def forward(s, x):  # x: [N, 3] tokens
        r = s.embed[x] + s.pos  # [N, 3, d]
        N = x.shape[0]
        q = (r @ s.W_Q).view(N, 3, s.h, s.dh).transpose(1, 2)
        k = (r @ s.W_K).view(N, 3, s.h, s.dh).transpose(1, 2)
        v = (r @ s.W_V).view(N, 3, s.h, s.dh).transpose(1, 2)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(s.dh)
        att = att.masked_fill(~s.mask, float("-inf")).softmax(-1)
        z = (att @ v).transpose(1, 2).reshape(N, 3, -1) @ s.W_O
        r = r + z
        r = r + torch.relu(r @ s.W_in + s.b_in) @ s.W_out + s.b_out
        return r[:, -1] @ s.W_U

class Mlp(torch.nn.Module):
    def __init__(s, p, d, d_mlp):
        super().__init__()
        s.embed = torch.nn.Parameter(torch.randn(p + 1, d) / math.sqrt(d))
        s.W_in = torch.nn.Parameter(torch.randn(2 * d, d_mlp) / math.sqrt(2 * d)); s.b_in = torch.nn.Parameter(torch.zeros(d_mlp))
        s.W_out = torch.nn.Parameter(torch.randn(d_mlp, d) / math.sqrt(d_mlp)); s.b_out = torch.nn.Parameter(torch.zeros(d))
        s.W_U = torch.nn.Parameter(torch.randn(d, p) / math.sqrt(d))
    def forward(s, x):
        h = torch.relu(torch.cat([s.embed[x[:, 0]], s.embed[x[:, 1]]], 1) @ s.W_in + s.b_in)
        return (h @ s.W_out + s.b_out) @ s.W_U

class StackedTransformer(torch.nn.Module):
    """S Transformers with a leading seed axis on every parameter (the same model as above)."""
    def __init__(s, S, p, d, heads, d_mlp):
        super().__init__()
        s.h, s.dh = heads, d // heads
        P = lambda *shape, scale: torch.nn.Parameter(torch.randn(S, *shape) * scale)
        s.embed, s.pos = P(p + 1, d, scale=1 / math.sqrt(d)), P(3, d, scale=1 / math.sqrt(d))
        s.W_Q, s.W_K, s.W_V, s.W_O = (P(d, d, scale=1 / math.sqrt(d)) for _ in range(4))
        s.W_in, s.b_in = P(d, d_mlp, scale=1 / math.sqrt(d)), torch.nn.Parameter(torch.zeros(S, d_mlp))
        s.W_out, s.b_out = P(d_mlp, d, scale=1 / math.sqrt(d_mlp)), torch.nn.Parameter(torch.zeros(S, d))
        s.W_U = P(d, p, scale=1 / math.sqrt(d))
        s.register_buffer("mask", torch.tril(torch.ones(3, 3, dtype=torch.bool)))
    def forward(s, x):  # x: [S, N, 3] tokens
        S, N = x.shape[0], x.shape[1]
        r = torch.stack([s.embed[i][x[i]] for i in range(S)]) + s.pos[:, None]  # [S, N, 3, d]
        proj = lambda W: torch.einsum("sntd,sde->snte", r, W).view(S, N, 3, s.h, s.dh).transpose(2, 3)
        q, k, v = proj(s.W_Q), proj(s.W_K), proj(s.W_V)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(s.dh)
        att = att.masked_fill(~s.mask, float("-inf")).softmax(-1)
        z = torch.einsum("sntd,sde->snte", (att @ v).transpose(2, 3).reshape(S, N, 3, -1), s.W_O)
        r = r + z
        hdn = torch.relu(torch.einsum("sntd,sde->snte", r, s.W_in) + s.b_in[:, None, None])
        r = r + torch.einsum("snte,sed->sntd", hdn, s.W_out) + s.b_out[:, None, None]
        return torch.einsum("snd,sdc->snc", r[:, :, -1], s.W_U)

class StackedMlp(torch.nn.Module):
    def __init__(s, S, p, d, d_mlp):
        super().__init__()
        s.embed = torch.nn.Parameter(torch.randn(S, p + 1, d) / math.sqrt(d))
        s.W_in = torch.nn.Parameter(torch.randn(S, 2 * d, d_mlp) / math.sqrt(2 * d)); s.b_in = torch.nn.Parameter(torch.zeros(S, d_mlp))
        s.W_out = torch.nn.Parameter(torch.randn(S, d_mlp, d) / math.sqrt(d_mlp)); s.b_out = torch.nn.Parameter(torch.zeros(S, d))
        s.W_U = torch.nn.Parameter(torch.randn(S, d, p) / math.sqrt(d))
    def forward(s, x):
        S = x.shape[0]
        e = torch.stack([torch.cat([s.embed[i][x[i, :, 0]], s.embed[i][x[i, :, 1]]], 1) for i in range(S)])
        h = torch.relu(torch.einsum("snd,sde->sne", e, s.W_in) + s.b_in[:, None])
        return torch.einsum("sne,sed,sdc->snc", h, s.W_out, s.W_U) + torch.einsum("sd,sdc->sc", s.b_out, s.W_U)[:, None]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="quick"); ap.add_argument("--arch", default="transformer")
    ap.add_argument("--steps", type=int, default=30); ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--group", type=int, default=1); ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    dev = torch.device(a.device)
    if a.threads: torch.set_num_threads(a.threads)
    c = PRESETS[a.preset]; p = c["p"]
    g = torch.Generator().manual_seed(0)
    pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    idx = torch.randperm(p * p, generator=g)[: int(round(c["frac"] * p * p))]
    x = torch.cat([pairs[idx], torch.full((len(idx), 1), p)], 1)
    y = (x[:, 0] + x[:, 1]) % p
    torch.manual_seed(0)
    S = a.group
    if S > 1:
        # Each seed its own split, as in a Grokscope run group.
        xs, ys = [], []
        for s_ in range(S):
            perm = torch.randperm(p * p, generator=torch.Generator().manual_seed(s_))[: int(round(c["frac"] * p * p))]
            xi = torch.cat([pairs[perm], torch.full((len(perm), 1), p)], 1)
            xs.append(xi); ys.append((xi[:, 0] + xi[:, 1]) % p)
        x, y = torch.stack(xs).to(dev), torch.stack(ys).to(dev)
        model = (StackedTransformer(S, p, c["d"], c["heads"], c["d_mlp"]) if a.arch == "transformer" else StackedMlp(S, p, c["d"], c["d_mlp"])).to(dev)
        objective = lambda: torch.nn.functional.cross_entropy(model(x).reshape(-1, p), y.reshape(-1), reduction="sum") / x.shape[1]
    else:
        x, y = x.to(dev), y.to(dev)
        model = (Transformer(p, c["d"], c["heads"], c["d_mlp"]) if a.arch == "transformer" else Mlp(p, c["d"], c["d_mlp"])).to(dev)
        objective = lambda: torch.nn.functional.cross_entropy(model(x), y)
    opt = torch.optim.AdamW(model.parameters(), lr=c["lr"], betas=(0.9, 0.98), weight_decay=1.0)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    def step():
        opt.zero_grad(set_to_none=True)
        loss = objective()
        loss.backward(); opt.step(); sync()
    for _ in range(3): step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter(); step(); times.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(times)
    print(json.dumps(dict(preset=a.preset, arch=a.arch, threads=torch.get_num_threads(), torch=torch.__version__, group=S, device=a.device,
                          ms_per_step_median=med, ms_per_step_min=min(times), ms_per_run_step=med / S, steps=a.steps)))

if __name__ == "__main__":
    main()
