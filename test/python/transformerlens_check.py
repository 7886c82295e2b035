"""Recompute a Grokscope export's logits with TransformerLens' formulas, independently of Grokscope.

    /usr/bin/python3 transformerlens_check.py EXPORT_DIR OUT.json

Reads model.safetensors with a plain reader (struct + json + numpy; no safetensors package) and
computes HookedTransformer's forward for a 1-layer, LayerNorm-free, ReLU model in torch, einsum
over heads as TransformerLens writes it (components/abstract_attention.py, mlps/mlp.py,
unembed.py): q, k, v per head with biases, scores / sqrt(d_head), the causal mask with IGNORE,
softmax, z, W_O and b_O, the MLP, W_U and b_U. Writes the logits at '=' for every pair of the
task and the accuracies on the export's train and test pairs.
"""
import json
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F64": np.float64, "BOOL": np.bool_, "U8": np.uint8}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def forward(w, tokens, cfg):
    d_head = cfg["d_head"]
    resid = w["embed.W_E"][tokens] + w["pos_embed.W_pos"][None, : tokens.shape[1]]
    a = "blocks.0.attn."
    q = torch.einsum("bpd,hde->bphe", resid, w[a + "W_Q"]) + w[a + "b_Q"]
    k = torch.einsum("bpd,hde->bphe", resid, w[a + "W_K"]) + w[a + "b_K"]
    v = torch.einsum("bpd,hde->bphe", resid, w[a + "W_V"]) + w[a + "b_V"]
    scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / d_head**0.5
    n = tokens.shape[1]
    scores = torch.where(w[a + "mask"][:n, :n], scores, w[a + "IGNORE"])
    pattern = torch.softmax(scores, dim=-1)
    z = torch.einsum("bkhe,bhqk->bqhe", v, pattern)
    resid = resid + torch.einsum("bqhe,hed->bqd", z, w[a + "W_O"]) + w[a + "b_O"]
    m = "blocks.0.mlp."
    post = torch.relu(torch.einsum("bpd,dm->bpm", resid, w[m + "W_in"]) + w[m + "b_in"])
    resid = resid + torch.einsum("bpm,md->bpd", post, w[m + "W_out"]) + w[m + "b_out"]
    return torch.einsum("bpd,dv->bpv", resid, w["unembed.W_U"]) + w["unembed.b_U"]


def main():
    folder, out = sys.argv[1], sys.argv[2]
    with open(folder + "/config.json") as f:
        config = json.load(f)
    cfg = config["hooked_transformer_config"]
    w = read_safetensors(folder + "/model.safetensors")
    order = cfg["d_vocab_out"]
    eq = cfg["d_vocab"] - 1
    pairs = torch.tensor([[a, b] for a in range(order) for b in range(order)])
    tokens = torch.cat([pairs, torch.full((len(pairs), 1), eq)], dim=1)
    with torch.no_grad():
        logits = forward(w, tokens, cfg)[:, -1]
    p = config["p"]
    ops = {"mod-add": lambda a, b: (a + b) % p, "mod-sub": lambda a, b: (a - b) % p, "mod-mul": lambda a, b: (a * b) % p}
    op = ops[config["task"]]

    def accuracy(split):
        s = torch.tensor(config["split"][split])
        labels = torch.tensor([op(int(a), int(b)) for a, b in s])
        return float((logits[s[:, 0] * order + s[:, 1]].argmax(-1) == labels).float().mean())

    with open(out, "w") as f:
        json.dump({"logits": logits.flatten().tolist(), "train_acc": accuracy("train_pairs"), "test_acc": accuracy("test_pairs"), "torch": torch.__version__}, f)


main()
