#!/usr/bin/env python3
"""Measures token-level checks for fluent-but-wrong answers (issue 10) by cross-validation grouped by question,
on the tuning part only. Nothing here changes the grader: it prints out-of-fold figures so that a check is ported
to src/grade/ only if it helps. Plain Python 3.11+, no packages.

    GRADER_EVAL_DUMP=/tmp/tuning.jsonl cargo test --release --test grader_eval tuning_part -- --exact
    scripts/contrast-token-features.py /tmp/tuning.jsonl

The dump holds only tuning-part answers (the test refuses to dump anything else); the rubrics come from
bank/questions. Each family below adds one check to the current contradiction rule (src/grade/learned.json's
family, re-chosen in every fold) and is scored the way train-grader.py scores a rule:
- pairs: token order, for swapped entities. A contrast's ordered word pairs within a clause that its key point
  lacks ("hubs ... attributes" where the point has "satellites ... attributes"); a sentence close to the contrast
  carrying one of them, and none of the point's own pairs or words, states the contrast;
- polarity: the distinguishing words of the contrast and point counted with the polarity words the content-word
  filter drops (before/after, more/fewer, not, only, ...);
- flips: a sentence close to a key point that carries the antonym of one of the point's words (before/after,
  physical/logical, narrow/wide, upstream/downstream, read/write, ...) and not the word itself, sharing at least
  two other words with the point (the entity check);
- soft: a sentence that leans toward a contrast earns no coverage for that key point (no red flag, no cap);
- gap: a score penalty proportional to how much closer to a contrast than to any key point the answer came, in a
  sentence worded like the contrast (below the rule's thresholds, no red flag);
- maxsim_and, maxsim_or: contextual token alignment (MiniLM's per-token hidden states before mean pooling,
  ColBERT-style MaxSim; the dump's candidates carry it as `tokens`, src/grade/contrast.rs `TokenAlign`). _and
  keeps the current rule only where a token gap (TOKEN_GAPS) reaches a threshold, its margin optionally
  loosened; _or adds sentences worded like the contrast whose token gap is clear, with a looser pooled margin.
  "maxsim_and:shared" and so on try one gap only.

    scripts/contrast-token-features.py /tmp/tuning.jsonl old,maxsim_and:shared   # only these families
    FOLD_SEED=1 scripts/contrast-token-features.py /tmp/tuning.jsonl ...          # another fold assignment
"""

import glob
import itertools
import json
import os
import random
import re
import sys
import tomllib
from collections import Counter, defaultdict

FOLDS = 6
GRADED = {"strong", "good", "moderate", "shallow"}
MAX_FALSE_FLAGS = 0.10

# ---- the grader's word handling (src/grade/signals.rs), ported
_src = open("src/grade/signals.rs").read()
_fw = _src[_src.index("const FUNCTION_WORDS") :]
FUNC = set(re.findall(r'"([^"]+)"', _fw[: _fw.index("];")]))
FILL = {"um", "umm", "uh", "uhh", "erm", "er", "hmm", "hm", "mm", "mhm", "ah", "eh", "uhm"}


def words(t):
    return [w.strip("'-").lower() for w in re.split(r"[^\w'\-]|_", t) if w.strip("'-")]


def stem(w):
    if w.endswith("'s"):
        w = w[:-2]
    for s in ("ing", "ed", "es", "s", "ly"):
        if w.endswith(s) and len(w) - len(s) >= 4:
            return w[: -len(s)]
    return w


def ramp(x, lo, hi):
    return min(max((x - lo) / (hi - lo), 0.0), 1.0)


def dimensions(a, q, coverage, off):
    """The hand-set score (src/grade/mod.rs `dimensions`, main question) for a given coverage."""
    w = [k.get("weight", 1) for k in q["key_point"]]
    cov = sum(x * c for x, c in zip(w, coverage)) / max(sum(w), 1)
    strong, n, mis = sum(c >= 0.6 for c in coverage), len(coverage), min(len(a["misconceptions"]), 2)
    tech = min(max(10 * min(cov / 0.6, 1) ** 0.85 - 4 * mis - off, 0), 10)
    depth = min(10 * (0.6 * min(strong / (0.5 * n), 1) + 0.25 * min(a["reasoning"] / 3, 1)
                      + 0.15 * min(len(a["signals"]) / 2, 1)), tech + 2) - 2 * mis
    practical = min(10 * min(a["experience"] / 3, 1), tech + 3) * max(a["density"], 0.2)
    fr = 100 * a["fillers"] / max(a["words"], 1)
    hr = 100 * a["hedges"] / max(a["words"], 1)
    clar = 10 * (0.55 * a["density"] + 0.45 * (1 - a["salad_share"])) - min(fr / 4, 3)
    clar -= 2 if a["words"] > 150 and (a["density"] < 0.45 or hr >= 1.8) else 0
    clar -= 3 if a["words"] < 12 else 0
    conf = min(9 - 1.2 * a["hedges"] - min(fr / 5, 3), tech + 4)
    dims = [round(min(max(d, 0), 10), 1) for d in (tech, depth, practical, min(clar, tech + 4), conf)]
    return sum(d * x for d, x in zip(dims, (0.45, 0.25, 0.1, 0.1, 0.1))) * 10


# ---- token features
REFUTE = ["mistake", "myth", "misconception", "people think", "people assume", "people believe", "common trap",
          "not true", "is wrong", "it's wrong", "that's wrong", "a common error", "contrary to"]
CLAUSE = {"and", "but", "while", "whereas", "so", "because", "which", "then", "or", "since", "though", "although",
          "unless", "than"}
ANTONYMS = [
    ("before", "after"), ("more", "fewer"), ("more", "less"), ("increase", "decrease"), ("physical", "logical"),
    ("narrow", "wide"), ("append", "overwrite"), ("upstream", "downstream"), ("read", "write"), ("left", "right"),
    ("ascending", "descending"), ("first", "last"), ("higher", "lower"), ("smaller", "larger"), ("small", "large"),
    ("cheap", "expensive"), ("faster", "slower"), ("early", "late"), ("earlier", "later"), ("inner", "outer"),
    ("push", "pull"), ("synchronous", "asynchronous"), ("mutable", "immutable"), ("horizontal", "vertical"),
    ("lazy", "eager"), ("min", "max"), ("minimum", "maximum"), ("source", "target"), ("producer", "consumer"),
    ("always", "never"), ("optimistic", "pessimistic"), ("stateless", "stateful"), ("enabled", "disabled"),
    ("inside", "outside"), ("internal", "external"), ("deterministic", "nondeterministic"), ("fact", "dimension"),
    ("normalized", "denormalized"), ("leader", "follower"), ("primary", "replica"), ("same", "different"),
    ("full", "incremental"), ("hot", "cold"), ("on-heap", "off-heap"),
]
ANTI = defaultdict(set)
for x, y in ANTONYMS:
    ANTI[stem(x)].add(stem(y))
    ANTI[stem(y)].add(stem(x))
POLAR = set(ANTI) | {"only", "all", "more", "most", "before", "after"}


def toks(text):
    """(stem, clause) for content words and polarity words; negation as ¬."""
    out, clause = [], 0
    for part in re.split(r"[,;:()]|\s-\s|—", text):
        for w in words(part):
            if w in CLAUSE:
                clause += 1
            elif w in ("not", "no", "never", "without") or w.endswith("n't"):
                out.append(("¬", clause))
            elif (w not in FUNC and w not in FILL and len(w) > 1) or stem(w) in POLAR:
                out.append((stem(w), clause))
        clause += 1
    return out


def pairs(tk):
    p = set()
    for i, (x, cx) in enumerate(tk):
        for y, cy in tk[i + 1 :]:
            if cy != cx:
                break
            if x != y:
                p.add((x, y))
    return p


def stems(tk):
    return {s for s, _ in tk}


def features(rows, bank):
    cache = {}
    out = []
    for r in rows:
        q = bank[r["question"]]
        if r["question"] not in cache:
            kc = []
            for k in q["key_point"]:
                tk = toks(k["text"])
                vocab = stems(tk).union(*[stems(toks(p)) for p in k["phrasings"]])
                kc.append((tk, vocab, [toks(c) for c in k.get("contrasts", [])]))
            cache[r["question"]] = kc
        kc = cache[r["question"]]
        a = r["analysis"]
        st = [toks(c["text"]) for c in a["chunks"]]
        cands = []
        for c in a["candidates"]:
            s = st[c["chunk"]]
            k, vocab, cs = kc[c["key_point"]]
            con = cs[c["contrast"]]
            ps, pk, pc = pairs(s), pairs(k), pairs(con)
            cands.append(dict(c, tp=len(ps & (pc - pk)), ap=len(ps & (pk - pc)),
                              tf=len(stems(s) & (stems(con) - vocab)), af=len(stems(s) & (vocab - stems(con)))))
        flips = []
        for ci, (c, s) in enumerate(zip(a["chunks"], st)):
            if c["echo"] or c["salad"] or any(m in c["text"].lower() for m in REFUTE):
                continue
            ss = stems(s)
            for kp, (k, vocab, _) in enumerate(kc):
                sk = stems(k)
                fl = sum(any(y in sk and y not in ss for y in ANTI.get(x, ())) for x in ss - vocab)
                if fl:
                    flips.append(dict(chunk=ci, key_point=kp, kp_sim=c["key_points"][kp],
                                      best=max(c["key_points"]), shared=len((ss & sk) - set(ANTI) - {"¬"})))
        out.append((cands, flips))
    return out


# ---- rules and scoring
RULES = [(0.5, 0.05, 0.1, 1, 0, True, 2), (0.5, 0.05, 0.2, 1, 0, True, 2), (0.45, 0.05, 0.2, 1, 0, True, 2),
         (0.5, 0.05, 0.2, 1, 1, True, 1)]
COSTS = [(2.0, 30.0, 25.0), (2.0, 40.0, 20.0), (4.0, 30.0, 25.0)]


def old_states(c, rule):
    min_sim, margin, min_overlap, min_toward, max_against, vocab, max_ctx = rule
    t, a = (c["toward_vocab"], c["against_vocab"]) if vocab else (c["toward"], c["against"])
    return (c["sim"] >= min_sim and c["sim"] >= c["rival_sim"] + margin and c["overlap"] >= min_overlap
            and t >= min_toward and a <= max_against and (max_ctx is None or c["against_context"] <= max_ctx))


# Contextual token alignment (MiniLM's per-token hidden states before mean pooling, ColBERT-style MaxSim; see
# src/grade/contrast.rs `TokenAlign`): how much closer the sentence's tokens come to the contrast's than to the
# key points' ones.
TOKEN_GAPS = {
    # MaxSim sentence→contrast minus the most of sentence→own key point and sentence→closest key point
    "s2c": lambda t: t["s2c"] - max(t["s2k"], t["s2r"]),
    # contrast→sentence minus the most of point→sentence and closest point→sentence
    "c2s": lambda t: t["c2s"] - max(t["k2s"], t["r2s"]),
    # the same against the contrast's own key point only
    "c2s_own": lambda t: t["c2s"] - t["k2s"],
    # only the pieces that tell the contrast and its point apart, each matched in the sentence
    "distinct": lambda t: t["cd2s"] - t["kd2s"],
    # the sentence's pieces that both hold, matched to the same piece in each: context alone tells them apart
    "shared": lambda t: t["shared_gap"] if t["shared_n"] else 0.0,
    # `shared` weighted by how far apart the piece's two occurrences are: pieces whose context differs count most
    "moved": lambda t: t["moved_gap"] if t["moved_w"] else 0.0,
    # ... less the unweighted gap, which carries the texts' other differences (length, extra clauses)
    "moved_rel": lambda t: (t["moved_gap"] - t["shared_gap"]) if t["moved_w"] else 0.0,
    # the sentence's tokens whose best match is a different piece in the contrast than in the point
    "diff": lambda t: t["diff_gap"] if t["diff_n"] else 0.0,
}


def token_gap(name, c):
    return TOKEN_GAPS[name](c["tokens"])


def check(kind, x, c):
    """Whether a candidate (or a flip) states a wrong claim by the family's extra check with settings x."""
    if x is None:
        return False
    if kind == "pairs":
        s, m, tp, ctx = x
        return (c["sim"] >= s and c["sim"] >= c["rival_sim"] + m and c["tp"] >= tp and c["ap"] == 0
                and c["against_vocab"] == 0 and c["against_context"] <= ctx)
    if kind == "polarity":
        s, m = x
        return (c["sim"] >= s and c["sim"] >= c["rival_sim"] + m and c["overlap"] >= 0.1 and c["tf"] >= 1
                and c["af"] == 0 and c["against_context"] <= 2)
    if kind == "maxsim_or":
        # the token gap stands in for the pooled margin: a sentence worded like the contrast whose tokens align
        # with it clearly better than with the key points states it
        name, s, m, tau = x
        return (c["sim"] >= s and c["sim"] >= c["rival_sim"] + m and c["overlap"] >= 0.1 and c["toward_vocab"] >= 1
                and c["against_vocab"] == 0 and c["against_context"] <= 2 and token_gap(name, c) >= tau)
    if kind == "flips":
        t, gap, sh = x
        return c["kp_sim"] >= t and c["kp_sim"] >= c["best"] - gap and c["shared"] >= sh
    raise ValueError(kind)


SPACES = {
    "pairs": list(itertools.product((0.5, 0.55, 0.6), (0.0, 0.05, 0.1), (1, 2), (0, 1, 2))),
    "polarity": list(itertools.product((0.45, 0.5, 0.55), (0.0, 0.05, 0.1))),
    "flips": list(itertools.product((0.5, 0.6, 0.7), (0.0, 0.05), (2, 3))),
    "soft": list(itertools.product((0.45, 0.5, 0.55), (-0.05, 0.0, 0.05))),
    "gap": list(itertools.product((50, 100, 200, 400), (-0.05, 0.0, 0.05, 0.1))),
    # the current rule, and only where the token gap agrees (fewer false flags), its margin optionally loosened
    "maxsim_and": list(itertools.product(TOKEN_GAPS, (0.0, 0.01, 0.03, 0.06, 0.09, 0.12), (None, 0.0, -0.05))),
    # the current rule, or a looser pooled margin where the token gap is clear (more wrong answers caught)
    "maxsim_or": list(itertools.product(TOKEN_GAPS, (0.45, 0.5), (-0.05, 0.0), (0.01, 0.03, 0.06, 0.09, 0.12))),
}
# "maxsim_and:moved" (and so on): one token gap only, its thresholds still chosen per fold.
for _fam in ("maxsim_and", "maxsim_or"):
    for _g in TOKEN_GAPS:
        SPACES[f"{_fam}:{_g}"] = [x for x in SPACES[_fam] if x[0] == _g]


class Eval:
    def __init__(self, rows, feats, bank):
        self.rows, self.feats, self.bank = rows, feats, bank
        self.cov_cache = {}

    def coverage_without(self, r, deny):
        a = r["analysis"]
        lo, hi = (0.29, 0.64) if self.bank[r["question"]]["skill"] == "org-impact" else (0.37, 0.72)
        cov = [0.0] * len(a["coverage"])
        for ci, c in enumerate(a["chunks"]):
            if c["echo"]:
                continue
            wt = 0.25 if c["salad"] else 1.0
            for k in range(len(cov)):
                if (k, ci) not in deny:
                    shown = max(ramp(c["key_points"][k], lo, hi), 0.9 * ramp(c["phrasings"][k], 0.45, 0.78))
                    cov[k] = max(cov[k], shown * wt)
        return cov

    def score(self, i, family, x, rule, cost):
        r = self.rows[i]
        a = r["analysis"]
        cands, flips = self.feats[i]
        events = {(c["key_point"], c["chunk"]) for c in cands if old_states(c, rule)}
        family = family.split(":")[0]
        if family == "maxsim_and" and x is not None:
            name, tau, loose = x
            r2 = rule if loose is None else (rule[0], min(rule[1], loose), *rule[2:])
            events = {(c["key_point"], c["chunk"]) for c in cands
                      if old_states(c, r2) and token_gap(name, c) >= tau}
        if family in ("pairs", "polarity", "maxsim_or"):
            events |= {(c["key_point"], c["chunk"]) for c in cands if check(family, x, c)}
        elif family == "flips":
            events |= {(f["key_point"], f["chunk"]) for f in flips if check(family, x, f)}
        n = len({k for k, _ in events})
        base = r["heuristic"]
        if family == "soft" and x is not None and a["coverage"]:
            s, m = x
            deny = frozenset(
                (c["key_point"], c["chunk"])
                for c in cands
                if c["sim"] >= s and c["sim"] >= a["chunks"][c["chunk"]]["key_points"][c["key_point"]] + m
                and c["toward_vocab"] >= 1 and c["against_vocab"] == 0
            )
            if deny:
                key = (i, deny)
                if key not in self.cov_cache:
                    self.cov_cache[key] = dimensions(a, self.bank[r["question"]], self.coverage_without(r, deny), 0)
                base = self.cov_cache[key]
        if family == "gap" and x is not None and n == 0:
            alpha, beta = x
            worded = [c["sim"] - c["rival_sim"] for c in cands
                      if c["sim"] >= 0.45 and c["toward_vocab"] >= 1 and c["against_vocab"] == 0
                      and c["against_context"] <= 2]
            base -= alpha * max(0.0, max(worded, default=-1.0) - beta)
        if n == 0:
            return float(round(max(min(base, r["cap"]), 0))), r["flagged_without"], False
        s = min(base - 4.5 * cost[0] * min(n, 2), r["cap"], cost[1] if n == 1 else cost[2])
        return float(round(max(s, 0))), True, True


def ranks(v):
    idx = sorted(range(len(v)), key=lambda i: v[i])
    r, i = [0.0] * len(v), 0
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
    return cov / (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5


def figures(rows, idx, scores, flags, contra):
    by_q = defaultdict(list)
    for i in idx:
        by_q[rows[i]["question"]].append(i)
    agree = npairs = adv = adv_below = fw = fw_below = fw_flagged = 0
    for ids in by_q.values():
        for x, i in enumerate(ids):
            for j in ids[x + 1 :]:
                gi, gj = rows[i]["grade"], rows[j]["grade"]
                if abs(gi - gj) >= 10:
                    npairs += 1
                    si, sj = scores[i], scores[j]
                    agree += 0.5 if si == sj else float((gi > gj) == (si > sj))
        mod = [scores[i] for i in ids if rows[i]["kind"] == "moderate"]
        if not mod:
            continue
        for i in ids:
            if rows[i]["kind"] in GRADED:
                continue
            below = scores[i] < mod[0]
            adv += 1
            adv_below += below
            if rows[i]["kind"] == "fluent_wrong":
                fw += 1
                fw_below += below
                fw_flagged += below and flags[i]
    return {
        "pairwise": agree / max(npairs, 1),
        "spearman": spearman([rows[i]["grade"] for i in idx], [scores[i] for i in idx]),
        "adversarial": adv_below / max(adv, 1),
        "fluent_wrong": fw_below / max(fw, 1),
        "fluent_wrong_flagged": fw_flagged / max(fw, 1),
        "contradiction_flags_on_good_strong": sum(contra[i] for i in idx if rows[i]["kind"] in ("good", "strong")),
    }


def objective(f):
    return f["pairwise"] + 0.5 * f["spearman"] + 0.5 * f["adversarial"]


def run(ev, idx, family, combo):
    out = {i: ev.score(i, family, *combo) for i in idx}
    return figures(ev.rows, idx, *[{i: v[k] for i, v in out.items()} for k in range(3)]), out


def best(ev, idx, family):
    n_good = sum(ev.rows[i]["kind"] in ("good", "strong") for i in idx)
    # Leaving the check out is always an option: a check that flags too many good answers is not chosen.
    xs = [None] + ([] if family == "old" else SPACES[family])
    top = None
    for combo in itertools.product(xs, RULES, COSTS):
        f, _ = run(ev, idx, family, combo)
        if f["contradiction_flags_on_good_strong"] > MAX_FALSE_FLAGS * n_good:
            continue
        if top is None or objective(f) > top[0]:
            top = (objective(f), combo)
    return top[1]


def main():
    rows = [json.loads(line) for line in open(sys.argv[1])]
    bank = {}
    for p in glob.glob("bank/questions/*.toml"):
        for q in tomllib.load(open(p, "rb"))["question"]:
            bank[q["id"]] = q
    ev = Eval(rows, features(rows, bank), bank)
    questions = sorted({r["question"] for r in rows})
    # FOLD_SEED=n: another assignment of questions to folds (a check that a gain is not one split's luck).
    if os.environ.get("FOLD_SEED"):
        random.Random(int(os.environ["FOLD_SEED"])).shuffle(questions)
    folds = [questions[k::FOLDS] for k in range(FOLDS)]
    everything = list(range(len(rows)))
    print(f"{len(rows)} answers, {len(questions)} questions; out-of-fold figures, {FOLDS} folds grouped by question")
    families = sys.argv[2].split(",") if len(sys.argv) > 2 else ["old", *(f for f in SPACES if ":" not in f)]
    for family in families:
        merged = {}
        chosen = []
        for held in folds:
            train = [i for i in everything if rows[i]["question"] not in held]
            test = [i for i in everything if rows[i]["question"] in held]
            combo = best(ev, train, family)
            chosen.append(combo[0])
            merged.update(run(ev, test, family, combo)[1])
        f = figures(rows, everything, *[{i: v[k] for i, v in merged.items()} for k in range(3)])
        print(f"  {family:9} " + " ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in f.items()))
        print(f"            settings chosen per fold: {Counter(map(str, chosen)).most_common()}")


if __name__ == "__main__":
    main()
