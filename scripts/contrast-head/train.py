#!/usr/bin/env python3
"""Trains the contrast head: low-rank (LoRA) updates to the top layers of all-MiniLM-L6-v2, so that a candidate's
sentence lands nearer the rubric text it actually states, a key point or one of that key point's contrast claims
(its plausible wrong versions). Mean-pooled MiniLM barely tells "ROWS counts physical rows" from "RANGE counts
physical rows"; the head is trained on exactly that distinction.

Training data: scripts/contrast-head/part-*.jsonl, sentences written by helpers from the rubric of the grader's
*tuning* questions only (tests/devset minus tests/devset/split.toml): for every key point three sentences that
state it, for every contrast claim two that state the wrong version. The held-out questions' rubrics are never
used, so the held-out grading figures measure the head on rubrics it has never seen.

  python3 -m venv /tmp/jaxenv && /tmp/jaxenv/bin/pip install jax jaxlib numpy safetensors tokenizers
  /tmp/jaxenv/bin/python scripts/contrast-head/train.py [--folds 2] [--out /tmp/contrast-head.safetensors]

With --folds N it trains N models, each on all but one group of questions, and prints how well each separates the
left-out questions' sentences (before and after). Without it, it trains one model on every tuning question and
writes the weights (float16, 224 KB). About 11 minutes a model on 2 cores.

Measured and not adopted (README, "A trained contrast head"): the grader does not use a head. Commit b9287b1 holds
the integration that measured it (Bert::head, head vectors in the bank index, the rule's head_margin/head_alone,
DATAREADY_CONTRAST_HEAD, train-grader.py's search over them) with the weights this script wrote at --out
src/grade/contrast-head.safetensors.
"""

import argparse
import copy
import glob
import hashlib
import json
import math
import os
import random
import sys
import time
import tomllib

import jax
import jax.numpy as jnp
import numpy as np
from safetensors.numpy import load_file, save_file
from tokenizers import BertWordPieceTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.expanduser(os.environ.get("DATAREADY_EMBED_DIR", "~/.local/share/dataready/models/all-MiniLM-L6-v2"))
H, HEADS, LAYERS = 384, 12, 6
MAXLEN = 64


def load_bank():
    bank = {}
    for f in sorted(glob.glob(os.path.join(ROOT, "bank/questions/*.toml"))):
        for q in tomllib.load(open(f, "rb"))["question"]:
            bank[q["id"]] = q
    return bank


def tuning_questions():
    held = set(tomllib.load(open(os.path.join(ROOT, "tests/devset/split.toml"), "rb"))["heldout"])
    qs = set()
    for f in glob.glob(os.path.join(ROOT, "tests/devset/part*.toml")):
        for a in tomllib.load(open(f, "rb"))["answer"]:
            qs.add(a["question"])
    return sorted(qs - held)


def load_rows(tuning):
    rows = []
    for f in sorted(glob.glob(os.path.join(ROOT, "scripts/contrast-head/part-*.jsonl"))):
        for line in open(f):
            if line.strip():
                r = json.loads(line)
                if r["q"] in tuning:
                    rows.append(r)
    return rows


class Tok:
    def __init__(self):
        self.t = BertWordPieceTokenizer(os.path.join(MODEL, "vocab.txt"), lowercase=True, strip_accents=True)
        self.t.enable_truncation(MAXLEN)

    def ids(self, texts):
        enc = self.t.encode_batch(texts)
        ids = np.zeros((len(texts), MAXLEN), np.int32)
        mask = np.zeros((len(texts), MAXLEN), np.float32)
        for i, e in enumerate(enc):
            n = len(e.ids)
            ids[i, :n] = e.ids
            mask[i, :n] = 1
        return ids, mask


def weights():
    w = load_file(os.path.join(MODEL, "model.safetensors"))
    return {k.removeprefix("bert."): jnp.asarray(v) for k, v in w.items()}


def layer_norm(x, g, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / jnp.sqrt(var + 1e-12) * g + b


LINEARS = [
    ("attention.self.query", H, H),
    ("attention.self.key", H, H),
    ("attention.self.value", H, H),
    ("attention.output.dense", H, H),
    ("intermediate.dense", H, 4 * H),
    ("output.dense", 4 * H, H),
]


def dense(w, lora, p, name, x, scale):
    y = x @ w[f"{p}.{name}.weight"].T + w[f"{p}.{name}.bias"]
    if lora is not None and f"{p}.{name}.lora_a" in lora:
        a, b = lora[f"{p}.{name}.lora_a"], lora[f"{p}.{name}.lora_b"]
        y = y + scale * ((x @ a.T) @ b.T)
    return y


def bert_layer(w, lora, i, x, mask, scale):
    p = f"encoder.layer.{i}"
    B, T, _ = x.shape
    dh = H // HEADS

    def split(t):
        return t.reshape(B, T, HEADS, dh).transpose(0, 2, 1, 3)

    q = split(dense(w, lora, p, "attention.self.query", x, scale))
    k = split(dense(w, lora, p, "attention.self.key", x, scale))
    v = split(dense(w, lora, p, "attention.self.value", x, scale))
    att = q @ k.transpose(0, 1, 3, 2) / math.sqrt(dh) + (1.0 - mask)[:, None, None, :] * -1e9
    att = jax.nn.softmax(att, -1)
    ctx = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, H)
    x = layer_norm(
        dense(w, lora, p, "attention.output.dense", ctx, scale) + x,
        w[f"{p}.attention.output.LayerNorm.weight"],
        w[f"{p}.attention.output.LayerNorm.bias"],
    )
    inner = jax.nn.gelu(dense(w, lora, p, "intermediate.dense", x, scale), approximate=False)
    return layer_norm(
        dense(w, lora, p, "output.dense", inner, scale) + x,
        w[f"{p}.output.LayerNorm.weight"],
        w[f"{p}.output.LayerNorm.bias"],
    )


def embed_input(w, ids):
    x = w["embeddings.word_embeddings.weight"][ids]
    x = x + w["embeddings.position_embeddings.weight"][None, : ids.shape[1]] + w["embeddings.token_type_embeddings.weight"][0]
    return layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])


def pool(x, mask):
    v = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    return v / jnp.linalg.norm(v, axis=-1, keepdims=True).clip(1e-12)


def frozen_prefix(w, tok, texts, top):
    """Hidden states after the frozen layers (all but the top `top`), computed once."""

    @jax.jit
    def run(ids, mask):
        x = embed_input(w, ids)
        for i in range(LAYERS - top):
            x = bert_layer(w, None, i, x, mask, 0.0)
        return x

    outs, masks = [], []
    for s in range(0, len(texts), 256):
        ids, mask = tok.ids(texts[s : s + 256])
        outs.append(np.asarray(run(ids, mask)))
        masks.append(mask)
    return np.concatenate(outs), np.concatenate(masks)


def top_layers(w, lora, x, mask, top, scale):
    for i in range(LAYERS - top, LAYERS):
        x = bert_layer(w, lora, i, x, mask, scale)
    return pool(x, mask)


def init_lora(rank, top, seed):
    rng = np.random.default_rng(seed)
    lora = {}
    for i in range(LAYERS - top, LAYERS):
        for name, inp, out in LINEARS:
            p = f"encoder.layer.{i}.{name}"
            lora[f"{p}.lora_a"] = jnp.asarray(rng.normal(0, 1 / math.sqrt(inp), (rank, inp)).astype(np.float32))
            lora[f"{p}.lora_b"] = jnp.zeros((out, rank), jnp.float32)
    return lora


class Data:
    """Per question: the rubric texts (key points, then contrasts) and the sentences with their target text."""

    def __init__(self, bank, rows, questions):
        self.texts, self.items = [], []
        index = {}

        def text_id(t):
            if t not in index:
                index[t] = len(self.texts)
                self.texts.append(t)
            return index[t]

        by_q = {}
        for r in rows:
            by_q.setdefault(r["q"], []).append(r)
        for qid in questions:
            q = bank[qid]
            rubric, kind, target_of = [], [], {}
            for k, kp in enumerate(q["key_point"]):
                target_of[("right", k, None)] = len(rubric)
                rubric.append(text_id(kp["text"]))
                kind.append((0, k))
            for k, kp in enumerate(q["key_point"]):
                for j, c in enumerate(kp.get("contrasts", [])):
                    target_of[("wrong", k, j)] = len(rubric)
                    rubric.append(text_id(c))
                    kind.append((1, k))
            sents = []
            for r in by_q.get(qid, []):
                key = (r["label"], r["kp"], r.get("contrast"))
                if key in target_of:
                    sents.append((text_id(r["text"]), target_of[key], r["label"] == "wrong", r["kp"]))
            if sents:
                self.items.append((qid, rubric, kind, sents))

    def only(self, questions):
        """The same texts, with the items of these questions only (indices stay valid in `texts`)."""
        keep = set(questions)
        part = copy.copy(self)
        part.items = [item for item in self.items if item[0] in keep]
        return part


def loss_fn(lora, w, x, mask, rub_idx, rub_valid, sent_idx, target, top, scale, tau):
    """x/mask: prefix states of every text in the batch; rub_idx [Q,R] and sent_idx [Q,S] index them."""
    e = top_layers(w, lora, x, mask, top, scale)
    r = e[rub_idx]  # [Q,R,H]
    s = e[sent_idx]  # [Q,S,H]
    sim = jnp.einsum("qsh,qrh->qsr", s, r) / tau + (1.0 - rub_valid)[:, None, :] * -1e9
    logp = jax.nn.log_softmax(sim, -1)
    picked = jnp.take_along_axis(logp, target[..., None], -1)[..., 0]
    valid = (target >= 0).astype(jnp.float32)
    return -(picked * valid).sum() / valid.sum()


def batches(data, qs_per_batch, rng):
    order = list(range(len(data.items)))
    rng.shuffle(order)
    for s in range(0, len(order), qs_per_batch):
        yield [data.items[i] for i in order[s : s + qs_per_batch]]


def pack(batch, R=40, S=80):
    texts = []
    pos = {}

    def at(t):
        if t not in pos:
            pos[t] = len(texts)
            texts.append(t)
        return pos[t]

    Q = len(batch)
    rub_idx = np.zeros((Q, R), np.int32)
    rub_valid = np.zeros((Q, R), np.float32)
    sent_idx = np.zeros((Q, S), np.int32)
    target = -np.ones((Q, S), np.int32)
    for qi, (_, rubric, _, sents) in enumerate(batch):
        for ri, t in enumerate(rubric[:R]):
            rub_idx[qi, ri] = at(t)
            rub_valid[qi, ri] = 1
        for si, (t, tgt, _, _) in enumerate(sents[:S]):
            sent_idx[qi, si] = at(t)
            target[qi, si] = tgt
    return texts, rub_idx, rub_valid, sent_idx, target


def embed_all(w, lora, prefix, pmask, top, scale):
    f = jax.jit(lambda x, m: top_layers(w, lora, x, m, top, scale))
    out = []
    for s in range(0, len(prefix), 256):
        out.append(np.asarray(f(prefix[s : s + 256], pmask[s : s + 256])))
    return np.concatenate(out)


def separation(data, emb):
    """For each sentence: does it come nearer its own rubric text than to the other side of its key point?
    Right sentences: own key point vs that point's contrasts; wrong ones: own contrast vs the key point.
    Also the margin rule the grader uses: nearest contrast minus nearest key point > 0."""
    ok, n, margins = 0, 0, []
    for _, rubric, kind, sents in data.items:
        R = np.array([emb[t] for t in rubric])
        kind = np.array(kind)
        for t, tgt, wrong, kp in sents:
            sims = R @ emb[t]
            same_kp = kind[:, 1] == kp
            own = sims[tgt]
            other = sims[same_kp & (kind[:, 0] != kind[tgt, 0])]
            if len(other):
                ok += own > other.max()
                n += 1
            m = sims[kind[:, 0] == 1].max() - sims[kind[:, 0] == 0].max() if (kind[:, 0] == 1).any() else 0
            margins.append((m, wrong))
    ms = np.array(margins)
    # AUC of the margin: wrong sentences above right ones.
    pos, neg = ms[ms[:, 1] == 1, 0], ms[ms[:, 1] == 0, 0]
    auc = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    return ok / max(n, 1), auc


def train(w, data, prefix, pmask, args, seed, log=print):
    lora = init_lora(args.rank, args.top, seed)
    scale = args.alpha / args.rank
    grad = jax.jit(
        jax.value_and_grad(
            lambda l, x, m, ri, rv, si, tg: loss_fn(l, w, x, m, ri, rv, si, tg, args.top, scale, args.tau)
        )
    )
    # Adam by hand: no optimiser library needed.
    mom = jax.tree_util.tree_map(jnp.zeros_like, lora)
    vel = jax.tree_util.tree_map(jnp.zeros_like, lora)
    rng = random.Random(seed)
    step = 0
    steps = args.epochs * math.ceil(len(data.items) / args.batch)
    for epoch in range(args.epochs):
        total, count, t0 = 0.0, 0, time.time()
        for batch in batches(data, args.batch, rng):
            texts, ri, rv, si, tg = pack(batch)
            # Pad the text list to a fixed size so the jitted step compiles once.
            n = len(texts)
            cap = args.batch * 120
            idx = np.array(texts + [texts[0]] * (cap - n), np.int32)
            x, m = prefix[idx], pmask[idx]
            loss, g = grad(lora, x, m, ri, rv, si, tg)
            step += 1
            lr = args.lr * min(1.0, step / 10) * 0.5 * (1 + math.cos(math.pi * step / steps))
            mom = jax.tree_util.tree_map(lambda a, b: 0.9 * a + 0.1 * b, mom, g)
            vel = jax.tree_util.tree_map(lambda a, b: 0.999 * a + 0.001 * b * b, vel, g)
            c1, c2 = 1 - 0.9**step, 1 - 0.999**step
            lora = jax.tree_util.tree_map(
                lambda p, a, b: p - lr * (a / c1) / (jnp.sqrt(b / c2) + 1e-8) - lr * args.decay * p, lora, mom, vel
            )
            total += float(loss)
            count += 1
        log(f"  epoch {epoch + 1}: loss {total / count:.3f} ({time.time() - t0:.0f} s)")
    return lora


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=0)
    ap.add_argument("--top", type=int, default=2)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16.0)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--decay", type=float, default=0.0)
    ap.add_argument("--tau", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="/tmp/contrast-head.safetensors")
    ap.add_argument(
        "--fold-out",
        help="with --folds: write fold f's head to this path with {f} replaced (for cross-fitted grader dumps)",
    )
    args = ap.parse_args()

    bank = load_bank()
    tuning = tuning_questions()
    rows = load_rows(set(tuning))
    print(f"{len(rows)} sentences for {len({r['q'] for r in rows})} of {len(tuning)} tuning questions")
    w = weights()
    tok = Tok()
    full = Data(bank, rows, tuning)
    t0 = time.time()
    prefix, pmask = frozen_prefix(w, tok, full.texts, args.top)
    print(f"frozen layers over {len(full.texts)} texts: {time.time() - t0:.0f} s")
    base = embed_all(w, None, prefix, pmask, args.top, 0.0)

    if args.folds:
        # Grouped by question: a fold's questions (rubric and sentences) are never seen by its model.
        def fold_of(qid):
            return int(hashlib.sha256(qid.encode()).hexdigest(), 16) % args.folds

        for f in range(args.folds):
            train_q = [q for q in tuning if fold_of(q) != f]
            test_q = [q for q in tuning if fold_of(q) == f]
            tr, te = full.only(train_q), full.only(test_q)
            print(f"fold {f + 1}/{args.folds}: train {len(train_q)} questions, test {len(test_q)}")
            lora = train(w, tr, prefix, pmask, args, args.seed + f)
            tuned = embed_all(w, lora, prefix, pmask, args.top, args.alpha / args.rank)
            b_ok, b_auc = separation(te, base)
            t_ok, t_auc = separation(te, tuned)
            tr_ok, tr_auc = separation(tr, tuned)
            if args.fold_out:
                save(lora, args, args.fold_out.format(f=f))
            print(
                f"  left-out questions: own side nearer {b_ok:.3f} -> {t_ok:.3f}, margin AUC {b_auc:.3f} -> {t_auc:.3f}"
                f" (training questions after: {tr_ok:.3f} / {tr_auc:.3f})"
            )
        return

    lora = train(w, full, prefix, pmask, args, args.seed)
    tuned = embed_all(w, lora, prefix, pmask, args.top, args.alpha / args.rank)
    ok, auc = separation(full, tuned)
    print(f"in sample: own side nearer {ok:.3f}, margin AUC {auc:.3f}")
    save(lora, args, args.out)


def save(lora, args, path):
    scale = args.alpha / args.rank
    out = {k: np.asarray(v * (scale if k.endswith("lora_b") else 1.0), np.float16) for k, v in lora.items()}
    save_file(out, path, metadata={"top": str(args.top), "rank": str(args.rank)})
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    sys.exit(main())
