#!/usr/bin/env python3
# Copied unchanged (below this header) from shared/scim/check_server.py, which
# sits beside the repository on developers' machines and CI but is not part of
# it: .ci/run runs this copy so that a clone alone is enough.
"""Run scim2-tester's SCIM 2.0 compliance checks (RFC 7643/7644) against a server.

    python3 check_server.py URL [BEARER_TOKEN]

Needs, in the Python that runs it: scim2-tester, scim2-client and httpx2 (from the
Python package index; pin them). Prints each failed check, then a closing line
'N passed, M failed' (skipped checks counted apart), and exits 1 if any failed.
"""
import sys
from collections import Counter

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    url = sys.argv[1]
    headers = {"Authorization": f"Bearer {sys.argv[2]}"} if len(sys.argv) > 2 else {}
    client = SyncSCIMClient(httpx2.Client(base_url=url, headers=headers))
    client.discover()
    results = check_server(client)
    counts = Counter(r.status.name for r in results)
    failed = [r for r in results if r.status.name not in ("SUCCESS", "SKIPPED")]
    for r in failed:
        print(f"FAILED {getattr(r, 'title', '')}: {getattr(r, 'reason', '')}"[:400])
    skipped = counts.get("SKIPPED", 0)
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{counts.get('SUCCESS', 0)} passed, {len(failed)} failed{tail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
