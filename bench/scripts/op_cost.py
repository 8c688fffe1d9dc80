#!/usr/bin/env python3
"""Server CPU per API operation, one kind of request at a time.

Starts `wharf server --no-scheduler --no-controllers` on a fresh data directory,
then for each phase sends N requests from 8 keep-alive connections and reads the
server's CPU time (utime + stime from /proc) before and after. CPU time is not
moved by waiting for a core, so it compares builds on a noisy machine better than
throughput does. The client is Python and shares the cores, so requests arrive at
a few thousand per second: about the rate each kind arrives at in the scheduler's
end-to-end benchmark, and a fair picture of the per-request fixed costs.

    bench/scripts/op_cost.py WHARF_BINARY [N] [--phases create,status] [--watchers W]

Phases, in order: livez, get (of a pod created first), dry-create, create, bind,
event, status (a merge patch of the pod's status, as `wharf sim` sends).
"""
import argparse, http.client, json, os, shutil, socket, subprocess, tempfile, threading, time

PHASES = ["livez", "get", "dry-create", "create", "bind", "event", "status"]
CLIENTS = 8
J, MERGE = "application/json", "application/merge-patch+json"


def pod(i):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "labels": {"app": "bench"}},
            "spec": {"containers": [{"name": "app", "image": "registry.local/bench/app:1.0.0",
                                     "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}


def status(i):
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    cond = lambda t: {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
    kinds = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    return {"status": {"phase": "Running", "conditions": [cond(t) for t in kinds],
                       "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}], "startTime": now,
                       "containerStatuses": [{"name": "app", "image": "registry.local/bench/app:1.0.0",
                                              "imageID": "", "containerID": "sim://app", "ready": True,
                                              "started": True, "restartCount": 0,
                                              "state": {"running": {"startedAt": now}}}],
                       "qosClass": "Burstable"}}


def event(i):
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"generateName": f"p{i}."},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": f"p{i}", "namespace": "default"},
            "reason": "Scheduled", "message": f"Successfully assigned default/p{i} to n1", "type": "Normal",
            "source": {"component": "default-scheduler"}, "action": "Binding"}


REQUESTS = {
    "livez": lambda i: ("GET", "/livez", None, J),
    "get": lambda i: ("GET", "/api/v1/namespaces/default/pods/probe", None, J),
    "dry-create": lambda i: ("POST", "/api/v1/namespaces/default/pods?dryRun=All", pod(i), J),
    "create": lambda i: ("POST", "/api/v1/namespaces/default/pods", pod(i), J),
    "bind": lambda i: ("POST", f"/api/v1/namespaces/default/pods/p{i}/binding",
                       {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": f"p{i}"},
                        "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}}, J),
    "event": lambda i: ("POST", "/api/v1/namespaces/default/events", event(i), J),
    "status": lambda i: ("PATCH", f"/api/v1/namespaces/default/pods/p{i}/status", status(i), MERGE),
}


def main():
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("wharf")
    args.add_argument("n", nargs="?", type=int, default=6000)
    args.add_argument("--phases", default=",".join(PHASES))
    args.add_argument("--watchers", type=int, default=0, help="open pod watches while measuring")
    o = args.parse_args()
    phases = o.phases.split(",")
    for p in phases:
        if p not in REQUESTS:
            raise SystemExit(f"--phases: unknown phase {p!r} (known: {', '.join(PHASES)})")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tempfile.mkdtemp(dir="/var/tmp", prefix="wharf-op-cost-")
    server = subprocess.Popen([o.wharf, "server", "--no-scheduler", "--no-controllers",
                               "--listen", f"127.0.0.1:{port}", "--data-dir", data],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "RUST_LOG": "warn"})
    tick = os.sysconf("SC_CLK_TCK")

    def cpu():
        fields = open(f"/proc/{server.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    def send(conn, method, path, body, content_type):
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={"Content-Type": content_type})
        response = conn.getresponse()
        response.read()
        return response.status

    try:
        for _ in range(300):
            try:
                if send(http.client.HTTPConnection("127.0.0.1", port), "GET", "/readyz", None, J) == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        probe = pod(0)
        probe["metadata"]["name"] = "probe"
        send(http.client.HTTPConnection("127.0.0.1", port), "POST", "/api/v1/namespaces/default/pods", probe, J)

        def watch():
            conn = http.client.HTTPConnection("127.0.0.1", port)
            conn.request("GET", "/api/v1/pods?watch=true&resourceVersion=0")
            response = conn.getresponse()
            while response.readline():
                pass

        for _ in range(o.watchers):
            threading.Thread(target=watch, daemon=True).start()
        time.sleep(1)
        for phase in PHASES:
            if phase not in phases:
                continue
            errors = [0]

            def client(k):
                conn = http.client.HTTPConnection("127.0.0.1", port)
                for i in range(k, o.n, CLIENTS):
                    if send(conn, *REQUESTS[phase](i)) >= 300:
                        errors[0] += 1

            threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
            before, started = cpu(), time.time()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            used, took = cpu() - before, time.time() - started
            print(f"{phase:10s} {o.n} requests in {took:5.2f} s: server CPU {used * 1e6 / o.n:4.0f} µs each"
                  f"{f', {errors[0]} refused' if errors[0] else ''}", flush=True)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
