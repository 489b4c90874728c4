"""Round trip of the per-transaction set_config (row-level security) against a bare query:
`.venv/bin/python -m bench.rls_roundtrip` after `bench.rls_cost` has created amtstermin_bench_rls_after."""
import time, psycopg, statistics
conn = psycopg.connect("postgresql://postgres@127.0.0.1:5432/amtstermin_bench_rls_after")
conn.execute("SET ROLE amtstermin_app")
tid = conn.execute("SELECT 1").fetchone()
def bench(sqls, n=1500):
    t = time.perf_counter()
    for _ in range(n):
        for s, p in sqls:
            conn.execute(s, p)
        conn.commit()
    return (time.perf_counter() - t) / n * 1000
SET = ("SELECT set_config('app.tenant_id', %s, true), set_config('app.all_tenants', %s, true)", ("2", "off"))
Q = ("SELECT * FROM services WHERE tenant_id = %s", (2,))
conn.execute("SELECT set_config('app.tenant_id', '2', false)"); conn.commit()
res = {"query only (policy applies)": [], "set_config + query": []}
for _ in range(5):
    res["query only (policy applies)"].append(bench([Q]))
    res["set_config + query"].append(bench([SET, Q]))
conn.execute("RESET ROLE"); conn.commit()
res["query as superuser (no policy)"] = [bench([Q]) for _ in range(5)]
for k, v in res.items():
    print(f"{k}: median {statistics.median(v):.3f} ms per transaction")
