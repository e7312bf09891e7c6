#!/usr/bin/env python3
"""Merges grader dumps made with the two fold heads into one cross-fitted dump: every tuning answer keeps the
measurements of the head that was *not* trained on its question, so scripts/train-grader.py chooses the
contrast rule on head figures as they would be on new questions. Needs the grader of commit b9287b1 (the head's
integration; the grader today has none).

    for f in 0 1; do
      DATAREADY_CONTRAST_HEAD=/tmp/head-fold$f.safetensors GRADER_EVAL_DUMP=/tmp/tuning-$f.jsonl \\
        cargo test --release --test grader_eval tuning_part
    done
    scripts/contrast-head/crossfit.py /tmp/tuning-0.jsonl /tmp/tuning-1.jsonl > /tmp/tuning.jsonl
    scripts/train-grader.py /tmp/tuning.jsonl

The folds are train.py's: sha256(question id) % 2.
"""

import hashlib
import json
import sys

dumps = [open(p).read().splitlines() for p in sys.argv[1:3]]
assert len(dumps[0]) == len(dumps[1]), "the dumps hold different answers"
for a, b in zip(*dumps):
    da, db = json.loads(a), json.loads(b)
    assert da["question"] == db["question"]
    fold = int(hashlib.sha256(da["question"].encode()).hexdigest(), 16) % 2
    print(a if fold == 0 else b)
