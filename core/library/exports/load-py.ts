/** The load.py written beside an exported model (exports/transformerlens.ts). */
export const LOAD_TRANSFORMER_PY = `"""A Grokscope run as a TransformerLens HookedTransformer.

    python load.py                      # model.safetensors beside this file
    python load.py checkpoints/step_N.safetensors

Needs torch, safetensors and transformer_lens. config.json holds the config, the task, its
train/test split and the run's final metrics.
"""
import json
import os
import sys

from safetensors.torch import load_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "config.json")) as f:
    cfg = json.load(f)
model = HookedTransformer(HookedTransformerConfig(**cfg["hooked_transformer_config"]))
weights = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "model.safetensors")
model.load_state_dict(load_file(weights))
model.eval()

if __name__ == "__main__":
    import torch

    eq = cfg["hooked_transformer_config"]["d_vocab"] - 1
    pairs = torch.tensor(cfg["split"]["test_pairs"])
    tokens = torch.cat([pairs, torch.full((len(pairs), 1), eq)], dim=1)
    logits = model(tokens)[:, -1]
    print(f"loaded {weights}: logits at '=' for {len(pairs)} test pairs, shape {tuple(logits.shape)}")
`;

export const LOAD_MLP_PY = `"""A Grokscope MLP control in plain torch (TransformerLens has no counterpart).

    python load.py                      # model.safetensors beside this file
    python load.py checkpoints/step_N.safetensors

logits = relu([E[a], E[b]] @ W_in + b_in) @ W_out + b_out, then @ W_U. Needs torch and safetensors.
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "config.json")) as f:
    cfg = json.load(f)
w = load_file(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "model.safetensors"))


def forward(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Logits for token ids a, b (LongTensors of one shape)."""
    x = torch.cat([w["embed"][a], w["embed"][b]], dim=-1)
    hidden = torch.relu(x @ w["W_in"] + w["b_in"])
    return (hidden @ w["W_out"] + w["b_out"]) @ w["W_U"]


if __name__ == "__main__":
    pairs = torch.tensor(cfg["split"]["test_pairs"])
    print(f"logits for {len(pairs)} test pairs, shape {tuple(forward(pairs[:, 0], pairs[:, 1]).shape)}")
`;
