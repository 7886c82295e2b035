"""PyTorch reference for `npm run bench:vs-torch`: the same configurations as Grokscope's presets,
written the way a researcher would write them (Nanda et al.'s 1-layer Transformer over the three
tokens `a b =`, causal attention, MLP at every position, logits read at `=`; the MLP control on
concat(embed a, embed b)), full-batch AdamW with decoupled weight decay. Prints one JSON line:
{"preset", "arch", "threads", "ms_per_step_median", "ms_per_step_min", "steps"}.
"""
import argparse, json, math, statistics, time
import torch

PRESETS = {
    "quick": dict(p=31, frac=0.5, d=64, heads=4, d_mlp=256, lr=3e-3),
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

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="quick"); ap.add_argument("--arch", default="transformer")
    ap.add_argument("--steps", type=int, default=30); ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    c = PRESETS[a.preset]; p = c["p"]
    g = torch.Generator().manual_seed(0)
    pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    idx = torch.randperm(p * p, generator=g)[: int(round(c["frac"] * p * p))]
    x = torch.cat([pairs[idx], torch.full((len(idx), 1), p)], 1)
    y = (x[:, 0] + x[:, 1]) % p
    torch.manual_seed(0)
    model = Transformer(p, c["d"], c["heads"], c["d_mlp"]) if a.arch == "transformer" else Mlp(p, c["d"], c["d_mlp"])
    opt = torch.optim.AdamW(model.parameters(), lr=c["lr"], betas=(0.9, 0.98), weight_decay=1.0)
    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward(); opt.step()
    for _ in range(3): step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter(); step(); times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps(dict(preset=a.preset, arch=a.arch, threads=torch.get_num_threads(), torch=torch.__version__,
                          ms_per_step_median=statistics.median(times), ms_per_step_min=min(times), steps=a.steps)))

if __name__ == "__main__":
    main()
