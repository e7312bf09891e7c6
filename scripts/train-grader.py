#!/usr/bin/env python3
"""Chooses the grader's learned settings (src/grade/learned.json) on the tuning part, by cross-validation
grouped by question. Plain Python 3.11+, no packages.

    GRADER_EVAL_DUMP=/tmp/tuning.jsonl cargo test --release --test grader_eval tuning_part
    scripts/train-grader.py /tmp/tuning.jsonl            # prints the CV figures, writes src/grade/learned.json
    scripts/train-grader.py /tmp/tuning.jsonl --dry-run  # prints only

The dump holds the grader's measurements of every tuning-part answer (tests/devset minus the questions in
tests/devset/split.toml; the test refuses to dump anything else): its score with no contradiction counted,
and every sentence that may state a contrast claim with its similarity to the claim and to the closest key
point, the share of the claim's words it carries and how its distinguishing words lean.

What is learned: when a sentence counts as stating a contrast claim (the rule's thresholds, and whether a key
point's phrasings count as its words and how many of its words the neighbouring sentences may carry) and what a
contradiction costs (technical points, score caps). The score is simulated here as the grader computes it:
technical points cost 4.5 score points each (technical weighs 0.45), then the cap applies. Rules are ranked with
one cost first and the best few tried with every cost (the full product is too slow in plain Python).

Then a linear combiner of the grader's measurements (FEATURES, including how close the answer came to a
contrast it words like the contrast, and to a misconception) is fit by ridge regression to the expert grades of
real attempts no guard caps, its L2 penalty chosen by an inner grouped CV; it is kept only if its out-of-fold
objective beats the hand-set formula's.

Selection: the objective is pairwise ordering + 0.5 Spearman + 0.5 adversarial-below-moderate, the figures
tests/grader_eval.rs prints. Grouped K-fold CV (questions never split across folds) chooses settings on the
other folds and scores the held-out fold, and the pooled out-of-fold figures are printed; the settings
written are then chosen on the whole tuning part.
"""

import itertools
import json
import sys
from collections import defaultdict

GRADED = {"strong", "good", "moderate", "shallow"}
# Real attempts at an answer, right or wrong: what the combiner learns to order. Gaming answers (keyword
# lists, echoes, off-topic talk, instructions to the grader, empty or "I don't know") are the guards' job.
ATTEMPTS = GRADED | {"fluent_wrong", "confidently_wrong", "rambling"}
# The combiner's inputs, in the order src/grade/mod.rs (FEATURES) computes them.
FEATURES = [
    "bias", "heuristic", "coverage", "strong_points", "reasoning", "signals", "experience", "log_words",
    "density", "hedge_rate", "misconceptions", "relevance", "novelty", "contradictions", "contrast_gap",
    "misconception_sim",
]
# Inputs that depend on the contrast rule (or were added after the dump's layout): computed here.
RULE_FEATURES = ["contrast_gap", "misconception_sim"]
FOLDS = 6


def load(path):
    answers = []
    for line in open(path):
        d = json.loads(line)
        cands = [
            (
                c["key_point"], c["sim"], c["rival_sim"], c["overlap"], c["toward"], c["against"],
                c["toward_vocab"], c["against_vocab"], c["against_context"], c.get("toward_topic", c["toward_vocab"]),
            )
            for c in d["analysis"]["candidates"]
        ]
        answers.append(
            {
                "question": d["question"],
                "kind": d["kind"],
                "grade": d["grade"],
                "base": d["base_score"],
                "cap": d["cap"],
                "features": d["features"][: len(FEATURES) - len(RULE_FEATURES)],
                "misconception_sim": d["analysis"]["mis_best"][0],
                "words": float(d.get("words", d["analysis"]["words"])),
                "flagged": d["flagged_without"],
                "cands": cands,
            }
        )
    return answers


def leans(c, rule):
    """A candidate's (toward, against) under the rule's choice of words: the point's statement, its whole
    vocabulary (True), or that and the question's words ("topic")."""
    kp, sim, rival, ov, toward, against, tv, av, actx, tt = c
    vocab = rule[5]
    if vocab == "topic":
        return (tt, av)
    return (tv, av) if vocab else (toward, against)


def worded(c, rule):
    """Whether a candidate carries the contrast's words and none of the point's, as the rule requires."""
    min_sim, margin, min_overlap, min_toward, max_against, vocab, max_ctx = rule
    toward, against = leans(c, rule)
    return toward >= min_toward and against <= max_against and (max_ctx is None or c[8] <= max_ctx)


def contradicted(a, rule):
    min_sim, margin, min_overlap = rule[:3]
    kps = {
        c[0]
        for c in a["cands"]
        if c[1] >= min_sim and c[1] >= c[2] + margin and c[3] >= min_overlap and worded(c, rule)
    }
    return len(kps)


def contrast_gap(a, rule):
    """How much closer than any key point the answer came to a contrast it words like the contrast
    (0 when none): the combiner's view of a contradiction below the rule's thresholds."""
    gaps = [c[1] - c[2] for c in a["cands"] if worded(c, rule)]
    return max(0.0, max(gaps, default=-1.0) + 0.1)


def simulate(a, n, cost):
    penalty, cap1, cap2 = cost
    if n == 0:
        return float(a["base"]), a["flagged"]
    s = a["base"] - 4.5 * penalty * min(n, 2)
    s = min(s, cap1 if n == 1 else cap2)
    return float(round(max(s, 0.0))), True


def ridge(xs, ys, lam):
    """Least squares with an L2 penalty on every weight but the first (the bias)."""
    d = len(xs[0])
    m = [[sum(x[i] * x[j] for x in xs) + (lam if i == j and i > 0 else 0.0) for j in range(d)] for i in range(d)]
    b = [sum(x[i] * y for x, y in zip(xs, ys)) for i in range(d)]
    for i in range(d):
        p = max(range(i, d), key=lambda r: abs(m[r][i]))
        m[i], m[p], b[i], b[p] = m[p], m[i], b[p], b[i]
        for r in range(d):
            if r != i:
                f = m[r][i] / m[i][i]
                m[r] = [u - f * v for u, v in zip(m[r], m[i])]
                b[r] -= f * b[i]
    return [b[i] / m[i][i] for i in range(d)]


def inputs(a, n, rule):
    return a["features"][:-1] + [float(min(n, 2)), contrast_gap(a, rule), a["misconception_sim"]]


def fit_combiner(answers, ns, rule, lam):
    """The combiner, fit to the expert grades of answers no guard caps (the guards decide the rest)."""
    rows = [
        (inputs(a, n, rule), a["grade"])
        for a, n in zip(answers, ns)
        if a["cap"] >= 100 and a["kind"] in ATTEMPTS
    ]
    xs, ys = [x for x, _ in rows], [y for _, y in rows]
    w = ridge(xs, ys, lam)
    # Least squares pulls predictions toward the mean grade (strong answers would score like good ones and the
    # verdict's bands would shift); stretch them to the grades' spread, which keeps their order.
    pred = [sum(a * b for a, b in zip(w, x)) for x in xs]
    mp, my = sum(pred) / len(pred), sum(ys) / len(ys)
    sp = (sum((p - mp) ** 2 for p in pred) / len(pred)) ** 0.5
    sy = (sum((y - my) ** 2 for y in ys) / len(ys)) ** 0.5
    k = sy / sp if sp > 0 else 1.0
    return [my - k * mp + k * w[0]] + [k * v for v in w[1:]]


def fit_combiner_cv(answers, ns, rule, cost):
    """The combiner with its L2 penalty chosen by grouped CV inside these answers."""
    questions = sorted({a["question"] for a in answers})
    inner = [questions[k::5] for k in range(5)]
    top = None
    for lam in LAMBDAS:
        scores, flags = {}, {}
        for held in inner:
            train = [(a, n) for a, n in zip(answers, ns) if a["question"] not in held]
            w = fit_combiner([a for a, _ in train], [n for _, n in train], rule, lam)
            for a, n in zip(answers, ns):
                if a["question"] in held:
                    scores[a["i"]], flags[a["i"]] = combined(a, n, cost, w, rule)
        key = objective(figures(answers, [scores[a["i"]] for a in answers], [flags[a["i"]] for a in answers]))
        if top is None or key > top[0]:
            top = (key, lam)
    return fit_combiner(answers, ns, rule, top[1]), top[1]


def combined(a, n, cost, weights, rule):
    """The grader's score with the combiner, as src/grade/mod.rs computes it."""
    s = min(max(sum(w * x for w, x in zip(weights, inputs(a, n, rule))), 0.0), 100.0)
    s = min(s, a["cap"])
    if n:
        s = min(s, cost[1] if n == 1 else cost[2])
    return float(round(s)), a["flagged"] or n > 0


def ranks(v):
    idx = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(idx):
        j = i
        while j + 1 < len(idx) and v[idx[j + 1]] == v[idx[i]]:
            j += 1
        for k in range(i, j + 1):
            r[idx[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return cov / (va * vb) ** 0.5 if va and vb else 0.0


def figures(answers, scores, flags):
    """The figures tests/grader_eval.rs prints, for these answers and scores."""
    by_q = defaultdict(list)
    for i, a in enumerate(answers):
        by_q[a["question"]].append(i)
    agree = pairs = 0
    adv = adv_below = fw = fw_below = fw_flagged = 0
    for ids in by_q.values():
        for x, i in enumerate(ids):
            for j in ids[x + 1 :]:
                gi, gj = answers[i]["grade"], answers[j]["grade"]
                if abs(gi - gj) >= 10:
                    pairs += 1
                    si, sj = scores[i], scores[j]
                    if (gi > gj) == (si > sj) and si != sj:
                        agree += 1
                    elif si == sj:
                        agree += 0.5
        mod = [scores[i] for i in ids if answers[i]["kind"] == "moderate"]
        if not mod:
            continue
        for i in ids:
            kind = answers[i]["kind"]
            if kind in GRADED:
                continue
            adv += 1
            below = scores[i] < mod[0]
            adv_below += below
            if kind == "fluent_wrong":
                fw += 1
                fw_below += below
                fw_flagged += below and flags[i]
    return {
        "pairwise": agree / max(pairs, 1),
        "spearman": spearman([a["grade"] for a in answers], scores),
        "adversarial": adv_below / max(adv, 1),
        "fluent_wrong": fw_below / max(fw, 1),
        "fluent_wrong_flagged": fw_flagged / max(fw, 1),
    }


def objective(f):
    return f["pairwise"] + 0.5 * f["spearman"] + 0.5 * f["adversarial"]


RULES = list(
    itertools.product(
        (0.45, 0.5, 0.55, 0.6),  # min_sim
        (-0.05, 0.0, 0.05, 0.1, 0.15),  # margin
        (0.1, 0.2, 0.3),  # min_overlap
        (1, 2),  # min_toward
        (0, 1),  # max_against
        (False, True, "topic"),  # the point's phrasings count as its words (True), and the question's ("topic")
        (None, 1, 2),  # max_against_context
    )
)
COSTS = [(p, c1, min(c1, c2)) for p in (2.0, 4.0) for c1 in (30.0, 40.0, 50.0) for c2 in (20.0, 25.0)]
# Rules are ranked with this cost first; the best few are then tried with every cost.
FIRST_COST = (2.0, 40.0, 20.0)
SHORTLIST = 8
NEVER = (9.0, 0.0, 0.0, 99, 0, False, None)
LAMBDAS = (3.0, 10.0, 30.0, 100.0)
MAX_FALSE_FLAGS = 0.05


def evaluate(answers, ns, cost):
    out = [simulate(a, n, cost) for a, n in zip(answers, ns)]
    return figures(answers, [s for s, _ in out], [f for _, f in out])


def best(answers, counts):
    """The (rule, cost) with the best objective on these answers; counts[rule] = contradicted key points per answer."""
    ranked = []
    expert_good = [a for a in answers if a["kind"] in ("strong", "good")]
    for rule in RULES:
        ns = [counts[rule][a["i"]] for a in answers]
        # A red flag has to be trustworthy: at most one good or strong answer in twenty may get
        # a contradiction flag (in ten, the held-out set red-flagged 21 % of its good and strong answers).
        if sum(counts[rule][a["i"]] > 0 for a in expert_good) > MAX_FALSE_FLAGS * len(expert_good):
            continue
        ranked.append((objective(evaluate(answers, ns, FIRST_COST)), rule))
    ranked.sort(key=lambda r: -r[0])
    top = None
    for _, rule in ranked[:SHORTLIST]:
        ns = [counts[rule][a["i"]] for a in answers]
        for cost in COSTS:
            key = objective(evaluate(answers, ns, cost))
            if top is None or key > top[0]:
                top = (key, rule, cost)
    return top[1], top[2]


def main():
    path = sys.argv[1]
    answers = load(path)
    for i, a in enumerate(answers):
        a["i"] = i
    counts = {rule: [contradicted(a, rule) for a in answers] for rule in RULES + [NEVER]}
    questions = sorted({a["question"] for a in answers})
    folds = [questions[k::FOLDS] for k in range(FOLDS)]
    oof_scores = [0.0] * len(answers)
    oof_flags = [False] * len(answers)
    comb_scores = [0.0] * len(answers)
    comb_flags = [False] * len(answers)
    for k, held in enumerate(folds):
        train = [a for a in answers if a["question"] not in held]
        rule, cost = best(train, counts)
        weights, lam = fit_combiner_cv(train, [counts[rule][a["i"]] for a in train], rule, cost)
        print(f"fold {k + 1}: rule {rule} cost {cost} lambda {lam} ({len(held)} questions held out)", flush=True)
        for a in answers:
            if a["question"] in held:
                n = counts[rule][a["i"]]
                oof_scores[a["i"]], oof_flags[a["i"]] = simulate(a, n, cost)
                comb_scores[a["i"]], comb_flags[a["i"]] = combined(a, n, cost, weights, rule)
    base = figures(answers, [float(a["base"]) for a in answers], [a["flagged"] for a in answers])
    oof = figures(answers, oof_scores, oof_flags)
    comb = figures(answers, comb_scores, comb_flags)
    words = figures(answers, [a["words"] for a in answers], [False] * len(answers))
    print(f"{len(answers)} answers, {len(questions)} questions, {FOLDS} folds grouped by question; out-of-fold figures")
    print(f"  {'':24} {'hand-set only':>13} {'+ contrasts':>12} {'+ combiner':>11} {'word count':>11}")
    for key in ("pairwise", "spearman", "adversarial", "fluent_wrong", "fluent_wrong_flagged"):
        print(f"  {key:24} {base[key]:13.3f} {oof[key]:12.3f} {comb[key]:11.3f} {words[key]:11.3f}")
    rule, cost = best(answers, counts)
    weights, lam = fit_combiner_cv(answers, counts[rule], rule, cost)
    full = figures(
        answers, *map(list, zip(*[combined(a, counts[rule][a["i"]], cost, weights, rule) for a in answers]))
    )
    print(f"chosen on the whole tuning part: rule {rule} cost {cost} lambda {lam}")
    print("  combiner: " + ", ".join(f"{n} {w:.2f}" for n, w in zip(FEATURES, weights)))
    print("  (in-sample: " + ", ".join(f"{k} {v:.3f}" for k, v in full.items()) + ")")
    learned = {
        "contrast_rule": dict(
            zip(
                ("min_sim", "margin", "min_overlap", "min_toward", "max_against", "vocab", "max_against_context"),
                (*rule[:5], bool(rule[5]), rule[6]),
            ),
            topic=rule[5] == "topic",
        ),
        "contradiction_penalty": cost[0],
        "contradiction_cap": [cost[1], cost[2]],
    }
    # The combiner is kept only when cross-validation says it orders answers better than the hand-set formula.
    if objective(comb) > objective(oof):
        learned["combiner"] = {"features": FEATURES, "weights": [round(w, 4) for w in weights]}
        print("the combiner beats the hand-set formula out of fold: kept")
    else:
        print("the combiner does not beat the hand-set formula out of fold: not used")
    if "--dry-run" not in sys.argv:
        with open("src/grade/learned.json", "w") as f:
            json.dump(learned, f, indent=2)
            f.write("\n")
        print("wrote src/grade/learned.json")


if __name__ == "__main__":
    main()
