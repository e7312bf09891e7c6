#!/usr/bin/env python3
"""Merges contrast claims (plausible wrong versions of each key point) into the bank's question files.

Usage: scripts/merge-contrasts.py CONTRASTS.toml... [--bank bank/questions] [--append]

Each input file holds [[question]] id, issues, [[question.key_point]] index (0-based) and contrasts = [...].
The claims are written as `contrasts = [...]` right after each key point's `phrasings` line (replacing any
already there; with --append, after the claims already there, skipping repeats), so the rest of the file,
comments included, stays as it is. Prints the `issues` the writers
flagged and any question or key point that got no contrasts.
"""

import glob
import json
import re
import sys
import tomllib


def main() -> None:
    args = sys.argv[1:]
    bank = "bank/questions"
    if "--bank" in args:
        i = args.index("--bank")
        bank = args[i + 1]
        del args[i : i + 2]
    append = "--append" in args
    if append:
        args.remove("--append")
    claims: dict[tuple[str, int], list[str]] = {}
    issues: dict[str, list[str]] = {}
    for path in args:
        data = tomllib.load(open(path, "rb"))
        for q in data.get("question", []):
            if q.get("issues"):
                issues[q["id"]] = q["issues"]
            for kp in q.get("key_point", []):
                cs = [c.strip() for c in kp.get("contrasts", []) if c.strip()]
                if cs:
                    claims[(q["id"], kp["index"])] = cs
    merged, missing = 0, []
    for path in sorted(glob.glob(f"{bank}/*.toml")):
        lines = open(path).read().split("\n")
        out: list[str] = []
        qid, kp = None, -1
        for at, line in enumerate(lines):
            if line.startswith("contrasts = "):
                continue
            out.append(line)
            if line.strip() == "[[question]]":
                qid, kp = None, -1
            elif qid is None and (m := re.match(r'^id = "([^"]+)"', line)):
                qid = m.group(1)
            elif line.strip() == "[[question.key_point]]":
                kp += 1
            elif line.startswith("phrasings = ") and qid is not None:
                cs = claims.get((qid, kp), [])
                nxt = lines[at + 1] if at + 1 < len(lines) else ""
                old = json.loads(nxt[len("contrasts = ") :]) if append and nxt.startswith("contrasts = ") else []
                cs = old + [c for c in cs if c not in old]
                if cs:
                    out.append("contrasts = " + json.dumps(cs, ensure_ascii=False))
                    merged += 1
                else:
                    missing.append(f"{qid} key point {kp}")
        open(path, "w").write("\n".join(out))
    print(f"merged contrasts into {merged} key points; {len(missing)} key points have none")
    for m in missing:
        print(f"  no contrasts: {m}")
    for qid, qs in sorted(issues.items()):
        for i in qs:
            print(f"  issue flagged on {qid}: {i}")


if __name__ == "__main__":
    main()
