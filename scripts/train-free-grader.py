#!/usr/bin/env python3
"""Fits how the grader scores an answer to a question without a rubric of its own (`grade --question`, an
LLM's question when the LLM fails): src/grade/free.json. Plain Python 3.11+, no packages.

    GRADER_EVAL_FREE_DUMP=/tmp/free.jsonl cargo test --release --test grader_eval dump_free_features -- --ignored
    scripts/train-free-grader.py /tmp/free.jsonl            # prints grouped-CV figures, writes src/grade/free.json
    scripts/train-free-grader.py /tmp/free.jsonl --dry-run  # prints only

The dump holds what the grader measures without a rubric (src/grade/free.rs, FreeFeatures) for every answer
of the off-bank tuning set (tests/offbank-tuning: questions outside the bank) and of the bank's tuning part
graded as if the bank did not hold its question. Never the held-out sets (tests/heldout, tests/offbank, the
split's questions).

The model: a ridge regression of the expert grade on the features below, each but the hedge rate multiplied
by a gate on how close the answer as a whole is to the question (so talk beside the question earns
nothing), fit to real attempts and to off-topic answers (not the other gaming answers, which the guards cap, nor
fluent-but-wrong ones, which need a rubric to catch). The L2 penalty is chosen by 6-fold CV grouped by question; the pooled out-of-fold
figures are printed beside "score = word count" and the weights are then fit on everything.
"""

import json
import math
import random
import sys
from collections import defaultdict

GRADED = {"strong", "good", "moderate", "shallow"}
# Off-topic answers are fit too: most of them say a sentence or two about the question (so the off-topic guard
# lets them through), and without them the model never learns what an answer far from the question earns (it
# gave them about 40 through its bias). On the off-bank tuning set, 6-fold grouped CV: 0.724 / 0.494 -> 0.731 / 0.509.
FIT_ON = GRADED | {"rambling", "off_topic"}
# The gate on how close the answer as a whole is to the question: 0 below LO, 1 above HI. Chosen with the
# inputs below among 15 variants (gate on the sentences' mean closeness, the answer's or the topics'
# agreement; with and without the ungated closeness inputs) by the same grouped CV, so its figures are
# slightly optimistic.
GATE = (0.25, 0.40)
FEATURES = ["bias", "log_words", "on_question", "log_rare", "pool_best", "reasoning", "experience",
            "rare_share", "pool_points", "relevance", "hedge_rate", "gate", "answer_to_question",
            "topic_agreement"]


def ramp(x, lo, hi):
    return min(max((x - lo) / (hi - lo), 0.0), 1.0)


def features(f):
    """The model's inputs, exactly as src/grade/free.rs (FreeFeatures::inputs) computes them."""
    w = max(f["words"], 1.0)
    g = ramp(f["answer_to_question"], *GATE)
    gated = [
        math.log(w) / 5,
        min(f["on_question"], 10) / 10,
        math.log1p(f["rare"]) / 3,
        f["pool_best"],
        min(f["reasoning"], 4) / 4,
        min(f["experience"], 3) / 3,
        f["rare_share"],
        min(f["pool_points"], 4) / 4,
        f["relevance"],
    ]
    return [1.0] + [x * g for x in gated] + [min(100 * f["hedges"] / w, 5) / 5, g, f["answer_to_question"],
                                             f["topic_agreement"]]


def guard(r, s):
    """The caps the grader's guards put on gaming answers (src/grade/guards.rs, rubric_free, and
    src/grade/free.rs, off_question)."""
    f = r["features"]
    cap = 100.0
    if r["injection"]:
        cap = min(cap, 12)
    if r["echo_only"]:
        cap = min(cap, 8)
    off_question = (
        f["evidence"] > 0 and f["on_question"] == 0 and f["answer_to_question"] < 0.3 and f["pool_best"] < 0.45
    )
    if r["off_topic"] or off_question:
        cap = min(cap, 5)
    if r["salad_share"] > 0.5:
        cap = min(cap, 15)
    if r["idk"]:
        cap = min(cap, 8)
    return min(max(s, 0.0), cap)


def solve(a, b):
    n = len(a)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c and m[c][c] != 0:
                k = m[r][c] / m[c][c]
                for j in range(c, n + 1):
                    m[r][j] -= k * m[c][j]
    return [m[i][n] / m[i][i] for i in range(n)]


def ridge(rows, lam):
    x = [features(r["features"]) for r in rows if r["kind"] in FIT_ON]
    y = [r["grade"] for r in rows if r["kind"] in FIT_ON]
    d = len(x[0])
    a = [[sum(v[i] * v[j] for v in x) + (lam if i == j and i > 0 else 0) for j in range(d)] for i in range(d)]
    b = [sum(v[i] * t for v, t in zip(x, y)) for i in range(d)]
    return solve(a, b)


def score(w, r):
    return guard(r, sum(a * b for a, b in zip(w, features(r["features"]))))


def ranks(v):
    idx = sorted(range(len(v)), key=lambda i: v[i])
    out, i = [0.0] * len(v), 0
    while i < len(idx):
        j = i
        while j + 1 < len(idx) and v[idx[j + 1]] == v[idx[i]]:
            j += 1
        for k in range(i, j + 1):
            out[idx[k]] = (i + j) / 2
        i = j + 1
    return out


def figures(rows, s):
    """Pairwise ordering (grades 10+ apart, ties half), Spearman, adversarial below moderate, as
    tests/grader_eval.rs computes them."""
    by_q = defaultdict(list)
    for r in rows:
        by_q[r["question"]].append(r)
    agree = pairs = adv = below = 0
    for answers in by_q.values():
        sc = [s(r) for r in answers]
        for i in range(len(answers)):
            for j in range(i + 1, len(answers)):
                d = answers[i]["grade"] - answers[j]["grade"]
                if abs(d) >= 10:
                    pairs += 1
                    agree += 0.5 if sc[i] == sc[j] else float(d * (sc[i] - sc[j]) > 0)
        mod = [sc[i] for i, r in enumerate(answers) if r["kind"] == "moderate"]
        for i, r in enumerate(answers):
            if mod and r["kind"] not in GRADED:
                adv += 1
                below += sc[i] < mod[0]
    g, v = [r["grade"] for r in rows], [s(r) for r in rows]
    rg, rv = ranks(g), ranks(v)
    n = len(rows)
    mg, mv = sum(rg) / n, sum(rv) / n
    cov = sum((a - mg) * (b - mv) for a, b in zip(rg, rv))
    sp = cov / math.sqrt(sum((a - mg) ** 2 for a in rg) * sum((b - mv) ** 2 for b in rv))
    return agree / max(pairs, 1), sp, below / max(adv, 1)


def out_of_fold(rows, lam, k=6):
    qs = sorted({r["question"] for r in rows})
    random.Random(1).shuffle(qs)
    fold = {q: i % k for i, q in enumerate(qs)}
    pred = {}
    for f in range(k):
        w = ridge([r for r in rows if fold[r["question"]] != f], lam)
        for r in rows:
            if fold[r["question"]] == f:
                pred[id(r)] = score(w, r)
    return pred


def main():
    rows = [json.loads(line) for line in open(sys.argv[1])]
    best = None
    for lam in [0.1, 0.3, 1.0, 3.0]:
        pred = out_of_fold(rows, lam)
        line = []
        objective = 0.0
        for name in ["offbank", "standin"]:
            part = [r for r in rows if r["set"] == name]
            pw, sp, adv = figures(part, lambda r: pred[id(r)])
            wc = figures(part, lambda r: r["words"])
            line.append(f"{name} pw {pw:.3f} sp {sp:.3f} adv {adv:.3f} (word count {wc[0]:.3f} / {wc[1]:.3f} / {wc[2]:.3f})")
            if name == "offbank":
                objective = pw + 0.5 * sp
        print(f"lambda {lam}: " + "; ".join(line))
        if best is None or objective > best[0]:
            best = (objective, lam)
    lam = best[1]
    w = ridge(rows, lam)
    print(f"chosen lambda {lam}; weights " + ", ".join(f"{n} {x:.2f}" for n, x in zip(FEATURES, w)))
    if "--dry-run" not in sys.argv:
        with open("src/grade/free.json", "w") as f:
            json.dump({"gate": list(GATE), "features": FEATURES, "weights": [round(x, 4) for x in w]}, f, indent=2)
            f.write("\n")
        print("wrote src/grade/free.json")


if __name__ == "__main__":
    main()
