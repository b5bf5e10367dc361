#!/usr/bin/env python3
"""Run amqdr's Plan the way the seed does by hand: kubectl apply --server-side per step,
kubectl rollout resume, kubectl wait — sequentially, site after site. Input: the JSON of
`amqdr render -o json --show-secrets`. Usage: kubectl_plan.py PLAN.json KUBECTL..."""
import json, subprocess, sys, tempfile, os

PLACEHOLDER = "<discovered: site a external bootstrap>"

def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

def main():
    plan = json.load(open(sys.argv[1]))
    kubectl = sys.argv[2:]
    objects = iter(plan["objects"])
    steps = plan["steps"]
    bootstrap = None
    tmp = tempfile.mkdtemp(prefix="kubectl-plan-")
    i = 0
    while i < len(steps):
        s = steps[i]
        if s["action"] == "apply":
            # Consecutive applies of one step go in one kubectl call (`oc apply -f dir/`).
            batch = []
            while i < len(steps) and steps[i]["action"] == "apply" and steps[i]["step"] == s["step"] and steps[i]["site"] == s["site"]:
                batch.append(next(objects))
                i += 1
            path = os.path.join(tmp, f"step-{i}.json")
            text = json.dumps({"apiVersion": "v1", "kind": "List", "items": batch})
            if bootstrap:
                text = text.replace(PLACEHOLDER, bootstrap)
            open(path, "w").write(text)
            run(kubectl + ["apply", "--server-side", "--field-manager", "kubectl-bench", "-f", path])
            continue
        ns = ["-n", s["namespace"]] if s["namespace"] else []
        kind = s["kind"].lower()
        if s["action"].startswith("wait "):
            condition = s["action"].split(" ", 1)[1]
            names = []
            while i < len(steps) and steps[i]["action"] == s["action"] and steps[i]["kind"] == s["kind"] and steps[i]["namespace"] == s["namespace"]:
                names.append(f"{kind}/{steps[i]['name']}")
                i += 1
            run(kubectl + ["wait", "--for", f"condition={condition}", "--timeout", "120s"] + ns + names)
            continue
        if s["action"] == "resume rollout":
            run(kubectl + ["rollout", "resume", f"deployment/{s['name']}"] + ns)
        elif s["action"].startswith("discover bootstrap"):
            jsonpath = '{.status.listeners[?(@.name=="external")].bootstrapServers}'
            for _ in range(600):
                out = subprocess.run(kubectl + ["get", kind, s["name"], "-o", f"jsonpath={jsonpath}"] + ns, check=True, capture_output=True, text=True).stdout.strip()
                if out:
                    bootstrap = out
                    break
                run(kubectl + ["wait", "--for", "condition=Ready", "--timeout", "120s", f"{kind}/{s['name']}"] + ns)
        i += 1

main()
