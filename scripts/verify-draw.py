#!/usr/bin/env python3
"""An independent verifier of a Qingling draw bundle, written from DRAW.md with the Python
standard library only (no code shared with the Rust engine).

    python3 scripts/verify-draw.py BUNDLE.json

prints `verified` and exits 0 when the directories hash to what the commitment says and the draw,
run again from the published source values, gives the recorded result; otherwise prints the first
difference and exits 1 (2 when the file cannot be read as a bundle).

    python3 scripts/verify-draw.py --select "9319/2 5 12 8 10/9 18 26 34 41 45" 25 10

prints the selected 1-based positions of RFC 3797's primitive, one a line.
"""
import hashlib
import json
import sys

ALGORITHM = "qingling-draw/1 (RFC 3797)"
RISK_ORDER = ["A", "B", "C", "D"]


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(value):
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()


def key_string(sources):
    """RFC 3797: numbers sorted, each followed by '.', text as given (trimmed); '/' after each."""
    if not sources:
        raise ValueError("no sources")
    out = []
    for source in sources:
        if isinstance(source, list):
            if not source:
                raise ValueError("an empty source")
            out.append("".join(f"{n}." for n in sorted(int(n) for n in source)))
        else:
            text = str(source).strip()
            if not text or "/" in text:
                raise ValueError("an empty source")
            out.append(text)
        out.append("/")
    return "".join(out)


def position(key, index, left):
    """1-based position among `left` entries: MD5(index ‖ key ‖ index) as a big-endian integer."""
    i = index.to_bytes(2, "big")
    digest = hashlib.md5(i + key.encode("utf-8") + i).digest()
    return int.from_bytes(digest, "big") % left + 1


def select(key, pool, count):
    left = list(range(pool))
    return [left.pop(position(key, i, len(left)) - 1) for i in range(count)]


def quota(population, permille):
    return min(population, -(-population * permille // 1000))


def draw(key, plan, targets, inspectors, conflicts):
    targets = sorted(targets, key=lambda t: t["id"])

    def in_scope(t):
        return (not plan.get("districts") or t["district"] in plan["districts"]) and (
            not plan.get("facility_types") or t["facility_type"] in plan["facility_types"])

    def inspected(t):
        since = plan.get("exclude_inspected_since")
        return since is not None and any(t.get("last_inspected", {}).get(item, "") >= since
                                         for item in plan["items"] if item in t.get("last_inspected", {}))

    chosen, excluded, strata = [], [], {}
    for t in targets:
        if not in_scope(t):
            continue
        if t["credit_listed"] or t["open_major_hazards"] > 0:
            chosen.append({"target": t["id"], "by": "always",
                           "reason": "credit_listed" if t["credit_listed"] else "open_major_hazard"})
        elif inspected(t):
            excluded.append(t["id"])
        else:
            strata.setdefault((t["district"], RISK_ORDER.index(t["risk"])), []).append(t)
    counts = []
    for (district, risk) in sorted(strata):
        members = strata[(district, risk)]
        name = f"{district}/{RISK_ORDER[risk]}"
        q = quota(len(members), plan["ratio_permille"].get(RISK_ORDER[risk], 0))
        counts.append({"name": name, "population": len(members), "quota": q})
        skey = f"{key}targets/{district}/{RISK_ORDER[risk]}/"
        left = list(members)
        for i in range(q):
            p = position(skey, i, len(left))
            t = left.pop(p - 1)
            chosen.append({"target": t["id"], "by": "drawn", "stratum": name, "index": i, "position": p})
    chosen.sort(key=lambda c: c["target"])
    return {"key": key, "strata": counts, "excluded": excluded, "targets": chosen,
            "teams": teams(key, plan, chosen, targets, inspectors, conflicts)}


def teams(key, plan, chosen, targets, inspectors, conflicts):
    by_id = {t["id"]: t for t in targets}
    pool = sorted((i for i in inspectors if i["available"]), key=lambda i: i["id"])
    relation = {}
    for c in sorted(conflicts, key=lambda c: (c["inspector"], c["target"], c["relation"])):
        relation.setdefault((c["inspector"], c["target"]), c["relation"])
    load = {}
    out = []
    for drawn in chosen:
        target = by_id[drawn["target"]]
        tkey = f"{key}team/{target['id']}/"
        team, passed, picks, index = [], set(), [], 0
        slots = list(plan.get("required_specialisms", []))
        slots += [None] * max(0, plan["team_size"] - len(slots))
        for slot in slots:
            if slot is not None and any(slot in i["specialisms"] for i in pool if i["id"] in team):
                continue
            while True:
                candidates = [i for i in pool
                              if i["id"] not in team and i["id"] not in passed
                              and load.get(i["id"], 0) < plan["load_cap"]
                              and (slot is None or slot in i["specialisms"])]
                if not candidates:
                    raise ValueError(f"target {target['id']}: the team cannot be completed")
                p = position(tkey, index, len(candidates))
                index += 1
                c = candidates[p - 1]
                skipped = None
                if (c["id"], target["id"]) in relation:
                    skipped = "conflict:" + relation[(c["id"], target["id"])]
                elif plan.get("not_own_district") and c["district"] == target["district"]:
                    skipped = "own_district"
                pick = {"index": index - 1, "position": p, "inspector": c["id"]}
                if slot is not None:
                    pick["for_specialism"] = slot
                if skipped is not None:
                    pick["skipped"] = skipped
                picks.append(pick)
                if skipped is None:
                    team.append(c["id"])
                    load[c["id"]] = load.get(c["id"], 0) + 1
                    break
                passed.add(c["id"])
        out.append({"target": target["id"], "inspectors": team, "picks": picks})
    return out


def first_difference(path, want, have):
    if isinstance(want, dict) and isinstance(have, dict):
        for k in sorted(want):
            if k not in have:
                return f"{path}.{k}: the draw gives {canonical(want[k])}, the bundle records nothing"
            d = first_difference(f"{path}.{k}", want[k], have[k])
            if d:
                return d
        for k in sorted(have):
            if k not in want:
                return f"{path}.{k}: the bundle records {canonical(have[k])}, the draw gives nothing"
        return None
    if isinstance(want, list) and isinstance(have, list):
        for i, (a, b) in enumerate(zip(want, have)):
            d = first_difference(f"{path}[{i}]", a, b)
            if d:
                return d
        if len(want) != len(have):
            return f"{path}: the draw gives {len(want)} entries, the bundle records {len(have)}"
        return None
    if want != have or type(want) is not type(have):
        return f"{path}: the draw gives {canonical(want)}, the bundle records {canonical(have)}"
    return None


def canonical_inspectors(directory):
    return {"inspectors": sorted(directory["inspectors"], key=lambda i: i["id"]),
            "conflicts": sorted(directory["conflicts"], key=lambda c: (c["inspector"], c["target"], c["relation"]))}


def verify(bundle):
    c = bundle["commitment"]
    if c["algorithm"] != ALGORITHM:
        return f"commitment.algorithm: the bundle names {c['algorithm']!r}, this verifier runs {ALGORITHM!r}"
    got = sha256(sorted(bundle["targets"], key=lambda t: t["id"]))
    if got != c["targets_sha256"]:
        return f"targets: the directory in the bundle hashes to {got}, the commitment says {c['targets_sha256']}"
    got = sha256(canonical_inspectors(bundle["inspectors"]))
    if got != c["inspectors_sha256"]:
        return f"inspectors: the directory in the bundle hashes to {got}, the commitment says {c['inspectors_sha256']}"
    if len(bundle["source_values"]) != len(c["sources"]):
        return f"source_values: {len(bundle['source_values'])} values for {len(c['sources'])} named sources"
    try:
        key = key_string(bundle["source_values"])
        again = draw(key, c["plan"], bundle["targets"], bundle["inspectors"]["inspectors"], bundle["inspectors"]["conflicts"])
    except ValueError as e:
        return f"the draw does not run again: {e}"
    return first_difference("result", again, bundle["result"])


def main(argv):
    if len(argv) == 5 and argv[1] == "--select":
        sources = [[int(n) for n in part.split()] for part in argv[2].split("/")]
        for i in select(key_string(sources), int(argv[3]), int(argv[4])):
            print(i + 1)
        return 0
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            bundle = json.load(f)
        difference = verify(bundle)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"{argv[1]}: not a readable draw bundle: {e!r}", file=sys.stderr)
        return 2
    if difference:
        print(difference)
        return 1
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
