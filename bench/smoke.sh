#!/usr/bin/env bash
# The benchmark's smoke test (ctest bench_smoke): certpin-bench --quick --json runs to the end and
# prints one JSON object holding every figure docs/PERFORMANCE.md reports, each a number. Nothing
# is timed here and no time is compared with anything: speed lives in the benchmark, not in a
# test. One count is checked, because the issue makes it a property of the check rather than a
# speed: the check allocates nothing beyond what the crypto library allocates for the floor's own
# digests (check_allocs_added_*, counted by bench/alloc_count.c).
#   bench/smoke.sh CERTPIN_BENCH
set -euo pipefail
bench=${1:?usage: smoke.sh CERTPIN_BENCH}
"$bench" --quick --json | python3 -c '
import json, math, sys
figures = json.load(sys.stdin)
keys = """check_ns_p256 floor_ns_p256 check_ratio_p256 check_ns_rsa2048 floor_ns_rsa2048
check_ratio_rsa2048 lookup_ns_10 lookup_ns_1m lookup_ratio_1m_10 load_s_1m jansson_parse_s_1m
load_ratio_1m load_bytes_per_entry_1m handshake_ratio_certpin handshake_ratio_certpin_ci95_low
handshake_ratio_certpin_ci95_high handshake_ratio_curl_certpin handshake_ratio_curl_certpin_ci95_low
handshake_ratio_curl_certpin_ci95_high handshake_ratio_curl_pin handshake_ratio_curl_pin_ci95_low
handshake_ratio_curl_pin_ci95_high""".split()
bad = [k for k in keys
       if not isinstance(figures.get(k), (int, float)) or isinstance(figures.get(k), bool)
       or not math.isfinite(figures[k])]
for k in bad:
    print("not ok - %s: %r" % (k, figures.get(k)))
for k in ("check_allocs_added_p256", "check_allocs_added_rsa2048"):
    if figures.get(k) != 0:
        print("not ok - %s: %r (the check allocates)" % (k, figures.get(k)))
        bad.append(k)
if not figures.get("quick") or "machine" not in figures or not figures.get("lookup_curve"):
    print("not ok - quick, machine or lookup_curve missing")
    bad.append("shape")
print("%d passed, %d failed" % (len(keys) - len(bad), len(bad)))
sys.exit(1 if bad else 0)
'
