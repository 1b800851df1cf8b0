"""PyTorch's training step on this machine's CPU, the peer of adaptc's training row.

The program of bench/specs-training/pfeiffer-train.adapt, as bench/training/step.ts trains it:
hidden states in (the bench's models have no embeddings), a post-LN BERT encoder (hidden 768, 12
heads, FFN 3072, 2 layers, GELU), a Pfeiffer adapter (bottleneck 64, ReLU) after each FFN, the
AdapterHub classification head on the first token (Linear 768x768, tanh, Linear 768x2), batch 8
of 128 tokens. The base is frozen (requires_grad False), so
autograd computes weight gradients for the adapter and the head only, as adaptc does; AdamW
(torch.optim.AdamW, weight decay 0) over those. Eval mode: no dropout. Threads as the bench
says (bench/run.ts passes this machine's cores). Prints one JSON line: per-step and forward-only times
in milliseconds (median of the timed rounds after the warm-up).

Run: /usr/bin/python3 bench/training/torch_step.py [--threads N] [--warmup W] [--rounds R]
"""
import argparse
import json
import re
import statistics
import time

import torch
from torch import nn


class Adapter(nn.Module):
    def __init__(self, hidden, bottleneck):
        super().__init__()
        self.down = nn.Linear(hidden, bottleneck)
        self.up = nn.Linear(bottleneck, hidden)

    def forward(self, x):
        return x + self.up(torch.relu(self.down(x)))


class Layer(nn.Module):
    def __init__(self, hidden, heads, ffn, bottleneck):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.ffn_in = nn.Linear(hidden, ffn)
        self.ffn_out = nn.Linear(ffn, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)
        self.adapter = Adapter(hidden, bottleneck)

    def forward(self, x, mask):
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / (d // self.heads) ** 0.5 + mask
        attention = torch.softmax(scores, dim=-1) @ v
        x = self.ln1(x + self.out(attention.transpose(1, 2).reshape(b, t, d)))
        y = self.ffn_out(nn.functional.gelu(self.ffn_in(x)))
        return self.ln2(x + self.adapter(y))


class Model(nn.Module):
    def __init__(self, hidden=768, heads=12, ffn=3072, layers=2, bottleneck=64, classes=2):
        super().__init__()
        self.layers = nn.ModuleList(Layer(hidden, heads, ffn, bottleneck) for _ in range(layers))
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, classes))

    def forward(self, x, mask):
        for layer in self.layers:
            x = layer(x, mask)
        return self.head(x[:, 0])


def median_ms(fn, warmup, rounds):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Model().eval()
    trained = []
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith("head.") or ".adapter." in name
        if parameter.requires_grad:
            trained.append(parameter)
    optimizer = torch.optim.AdamW(trained, lr=1e-4, weight_decay=0.0)
    x = torch.randn(args.batch, args.seq, 768)
    # BERT's extended attention mask: 0 where a key is visible (every key here), added to the scores.
    mask = torch.zeros(args.batch, 1, 1, args.seq)
    labels = torch.randint(0, 2, (args.batch,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x, mask), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    def forward():
        with torch.no_grad():
            return model(x, mask)[0, 0].item()

    step_ms, step_times = median_ms(step, args.warmup, args.rounds)
    forward_ms, forward_times = median_ms(forward, args.warmup, args.rounds)
    # The BLAS torch was built with: Debian's is the generic reference one.
    blas = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": args.threads,
                "blas": blas.group(1) if blas else "unknown",
                "warmup": args.warmup,
                "rounds": args.rounds,
                "batch": args.batch,
                "seq": args.seq,
                "trainable": sum(p.numel() for p in trained),
                "step_ms": step_ms,
                "forward_ms": forward_ms,
                "step_times_ms": step_times,
                "forward_times_ms": forward_times,
            }
        )
    )


if __name__ == "__main__":
    main()
