import { expect } from "chai";
import { exampleAddonSettings } from "../fixtures/addonContract";
import * as net from "net";
import { renderAddons } from "../../addons";
import {
    DurationError, ExpectedWorkload, ValidationRequest, ValidationResult, credentialsFromKubeconfig, expectedWorkloads,
    formatValidation, notReadySummary, parseDuration, validateCluster, validateUntil,
} from "../../automation/validate";
import { CancelledError } from "../../automation/wait";
import { ClusterPki, FakeAnswer, FakeApi, makeClusterPki, startFakeApi } from "../fakeApi";

const settings = exampleAddonSettings;

const now = new Date("2026-03-01T00:00:00Z");
const inDays = (days: number) => new Date(now.getTime() + days * 86_400_000).toISOString().replace(/\.000Z$/, "Z");

/** What the fake API server reports; every test starts from a healthy cluster and breaks one thing. */
interface FakeCluster {
    readyz: string[];
    etcdStatus: number;
    nodes: any[];
    deployments: any[];
    daemonSets: any[];
}

const readyzChecks = ["ping", "log", "etcd", "etcd-readiness", "informer-sync", "poststarthook/start-apiextensions-informers", "shutdown"];

const version = settings.kubernetesVersion;

function node(name: string, labels: Record<string, string>, ready: "True" | "False" | "Unknown" = "True", kubelet = `v${version}`): any {
    return {
        metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
        status: {
            conditions: [{ type: "MemoryPressure", status: "False" }, { type: "Ready", status: ready, reason: ready === "True" ? "KubeletReady" : ready === "False" ? "KubeletNotReady" : "NodeStatusUnknown" }],
            nodeInfo: { kubeletVersion: kubelet },
        },
    };
}

const controlPlaneNode = (i: number) => node(`ip-10-0-0-${i}.eu-west-1.compute.internal`, { "kaws.io/role": "control-plane", "node-role.kubernetes.io/control-plane": "" });
const workerNode = (pool: string, i: number, ready: "True" | "False" | "Unknown" = "True") => node(`ip-10-0-${pool === "general" ? 1 : 2}-${i}.eu-west-1.compute.internal`, { "kaws.io/pool": pool }, ready);

function workloadObject(w: ExpectedWorkload): any {
    const metadata = { name: w.name, namespace: "kube-system", generation: 2 };
    return w.kind === "Deployment"
        ? { metadata, spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, availableReplicas: 2, updatedReplicas: 2 } }
        : { metadata, status: { observedGeneration: 2, desiredNumberScheduled: 5, currentNumberScheduled: 5, numberAvailable: 5, updatedNumberScheduled: 5, numberReady: 5 } };
}

const workloads = expectedWorkloads(renderAddons(settings));

function healthyCluster(): FakeCluster {
    return {
        readyz: readyzChecks.map((c) => `[+]${c} ok`),
        etcdStatus: 200,
        nodes: [controlPlaneNode(1), controlPlaneNode(2), controlPlaneNode(3), workerNode("general", 1), workerNode("general", 2), workerNode("batch", 1)],
        deployments: [...workloads.filter((w) => w.kind === "Deployment").map(workloadObject), { metadata: { name: "not-ours", namespace: "kube-system", generation: 1 }, spec: { replicas: 1 }, status: { observedGeneration: 1 } }],
        daemonSets: workloads.filter((w) => w.kind === "DaemonSet").map(workloadObject),
    };
}

function answerFrom(cluster: () => FakeCluster): (path: string) => FakeAnswer | undefined {
    return (path) => {
        const c = cluster();
        const failed = c.readyz.some((l) => l.startsWith("[-]"));
        const list = (kind: string, items: any[]) => ({ status: 200, body: { kind, apiVersion: "v1", metadata: { resourceVersion: "1" }, items } });
        switch (path) {
            case "/readyz?verbose": return { status: failed ? 500 : 200, body: [...c.readyz, failed ? "readyz check failed" : "readyz check passed"].join("\n") + "\n" };
            case "/readyz/etcd": return { status: c.etcdStatus, body: c.etcdStatus === 200 ? "ok" : "[-]etcd failed: reason withheld\nreadyz check failed\n" };
            case "/api/v1/nodes": return list("NodeList", c.nodes);
            case "/apis/apps/v1/namespaces/kube-system/deployments": return list("DeploymentList", c.deployments);
            case "/apis/apps/v1/namespaces/kube-system/daemonsets": return list("DaemonSetList", c.daemonSets);
            default: return undefined;
        }
    };
}

const rowOf = (result: ValidationResult, check: string) => {
    const row = result.rows.find((r) => r.check === check);
    if (!row) throw new Error(`no row ${check} in ${JSON.stringify(result.rows)}`);
    return row;
};
const notReadyChecks = (result: ValidationResult) => result.rows.filter((r) => r.status !== "ok").map((r) => r.check);

describe("kaws validate", function () {
    this.timeout(5000);
    let pki: ClusterPki;
    let api: FakeApi;
    let cluster: FakeCluster;

    const request = (overrides: Partial<ValidationRequest> = {}): ValidationRequest => ({
        endpoint: api.endpoint,
        caPem: pki.ca,
        clientCertPem: pki.clientCert,
        clientKeyPem: pki.clientKey,
        pools: [{ pool: "general", desired: 2, kubernetesVersion: version }, { pool: "batch", desired: 1, kubernetesVersion: version }],
        controlPlaneCount: 3,
        controlPlaneVersion: version,
        workloads,
        certificateExpiry: { ca: inDays(3650), "etcd-ca": inDays(3650), apiserver: inDays(365), admin: inDays(300), "etcd-0-server": inDays(365) },
        ...overrides,
    });
    const validate = (overrides: Partial<ValidationRequest> = {}) => validateCluster(request(overrides), { now: () => now, requestTimeoutMs: 2000 });

    before(async () => {
        pki = await makeClusterPki();
        api = await startFakeApi({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca }, answerFrom(() => cluster));
    });
    after(() => api?.close());
    beforeEach(() => {
        cluster = healthyCluster();
        api.requests.length = 0;
    });

    it("derives the kube-system Deployments and DaemonSets from the rendered add-ons", () => {
        expect(workloads).to.deep.include.members([
            { kind: "DaemonSet", name: "kube-proxy" }, { kind: "DaemonSet", name: "weave-net" }, { kind: "DaemonSet", name: "ebs-csi-node" },
            { kind: "Deployment", name: "coredns" }, { kind: "Deployment", name: "metrics-server" }, { kind: "Deployment", name: "cluster-autoscaler" },
        ]);
        const flat = renderAddons(settings).flatMap((a) => a.objects);
        expect(expectedWorkloads(flat)).to.deep.equal(workloads);
        const inSystem = flat.filter((o) => (o.kind === "Deployment" || o.kind === "DaemonSet") && o.metadata.namespace === "kube-system");
        expect(workloads).to.have.length(inSystem.length);
        expect(expectedWorkloads(renderAddons({ ...settings, clusterAutoscaler: false }))).to.not.deep.include({ kind: "Deployment", name: "cluster-autoscaler" });
        expect(expectedWorkloads([{ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "app", namespace: "default" } }])).to.deep.equal([]);
    });

    it("all ready: ready=true and the table lists every check ok, authenticated with the admin certificate", async () => {
        const result = await validate();
        expect(notReadyChecks(result)).to.deep.equal([]);
        expect(result.ready).to.equal(true);
        const checks = result.rows.map((r) => r.check);
        expect(checks.slice(0, 5)).to.deep.equal(["API reachable", "API healthy", "etcd healthy", "control plane nodes", "pool general"]);
        for (const w of workloads) expect(checks).to.include(`${w.kind} ${w.name}`);
        expect(checks).to.include.members(["pool batch", "certificates"]);
        expect(rowOf(result, "pool general").detail).to.equal("2/2 Ready (ASG desired 2)");
        expect(rowOf(result, "control plane nodes").detail).to.equal("3/3 Ready");
        expect(rowOf(result, "DaemonSet weave-net").detail).to.equal("5/5 available, 5/5 updated");
        expect(rowOf(result, "certificates").detail).to.equal(`soonest: admin expires ${inDays(300)} (300 days left, 5 certificates)`);
        const table = formatValidation(result).trimEnd().split("\n");
        expect(table[0]).to.match(/^CHECK\s+STATUS\s+DETAIL$/);
        expect(table).to.have.length(result.rows.length + 2);
        expect(table.at(-1)).to.equal(`cluster ready: all ${result.rows.length} checks ok`);
        const statusColumn = table[0].indexOf("STATUS");
        for (const line of table.slice(1, -1)) expect(line.slice(statusColumn, statusColumn + 4)).to.equal("ok  ");
        expect(new Set(api.requests.map((r) => r.client))).to.deep.equal(new Set(["kubernetes-admin"]));
        expect(api.requests.map((r) => r.path)).to.have.members(["/readyz?verbose", "/readyz/etcd", "/api/v1/nodes", "/apis/apps/v1/namespaces/kube-system/deployments", "/apis/apps/v1/namespaces/kube-system/daemonsets"]);
    });

    it("names a pool with fewer Ready nodes than its ASG desires, and the node that is not ready", async () => {
        cluster.nodes.push(workerNode("general", 3, "False"));
        const result = await validate({ pools: [{ pool: "general", desired: 3, kubernetesVersion: version }, { pool: "batch", desired: 1, kubernetesVersion: version }] });
        expect(result.ready).to.equal(false);
        expect(notReadyChecks(result)).to.deep.equal(["pool general"]);
        expect(rowOf(result, "pool general").detail).to.equal("2/3 Ready (ASG desired 3, 3 registered); not ready: ip-10-0-1-3.eu-west-1.compute.internal (KubeletNotReady)");
        const table = formatValidation(result).split("\n");
        expect(table[1]).to.match(/^pool general\s+not ready\s+2\/3 Ready/);
        expect(table.at(-2)).to.equal(`cluster not ready: 1 of ${result.rows.length} checks not ready`);
    });

    it("does not count a Ready node whose kubelet runs another release than its pool's or the control plane's", async () => {
        cluster.nodes = cluster.nodes.map((n: any) => (n.metadata.name === "ip-10-0-0-2.eu-west-1.compute.internal" || n.metadata.name === "ip-10-0-1-1.eu-west-1.compute.internal"
            ? { ...n, status: { ...n.status, nodeInfo: { kubeletVersion: "v1.35.9" } } } : n));
        const result = await validate();
        expect(notReadyChecks(result)).to.deep.equal(["control plane nodes", "pool general"]);
        expect(rowOf(result, "control plane nodes").detail).to.equal(`2/3 Ready (expected 3); not ready: ip-10-0-0-2.eu-west-1.compute.internal (kubelet v1.35.9, expected v${version})`);
        expect(rowOf(result, "pool general").detail).to.equal(`1/2 Ready (ASG desired 2, 2 registered); not ready: ip-10-0-1-1.eu-west-1.compute.internal (kubelet v1.35.9, expected v${version})`);
        const lagging = await validate({ pools: [{ pool: "general", desired: 2, kubernetesVersion: "1.35.9" }, { pool: "batch", desired: 1, kubernetesVersion: version }] });
        expect(rowOf(lagging, "pool general").detail, "a pool pinned to 1.35.9 wants 1.35.9")
            .to.equal(`1/2 Ready (ASG desired 2, 2 registered); not ready: ip-10-0-1-2.eu-west-1.compute.internal (kubelet v${version}, expected v1.35.9)`);
    });

    it("reports a pool with no nodes at all as missing", async () => {
        const result = await validate({ pools: [{ pool: "general", desired: 2, kubernetesVersion: version }, { pool: "batch", desired: 1, kubernetesVersion: version }, { pool: "gpu", desired: 1, kubernetesVersion: version }] });
        expect(notReadyChecks(result)).to.deep.equal(["pool gpu"]);
        expect(rowOf(result, "pool gpu").detail).to.equal("missing: no node carries kaws.io/pool=gpu (ASG desired 1)");
        expect(notReadySummary(result)).to.equal("pool gpu: missing: no node carries kaws.io/pool=gpu (ASG desired 1)");
    });

    it("checks the control plane count and that every control-plane node carries the node-role label", async () => {
        cluster.nodes[2] = node("ip-10-0-0-3.eu-west-1.compute.internal", { "kaws.io/role": "control-plane" });
        cluster.nodes[1].status.conditions[1] = { type: "Ready", status: "Unknown", reason: "NodeStatusUnknown" };
        const result = await validate();
        expect(notReadyChecks(result)).to.deep.equal(["control plane nodes"]);
        expect(rowOf(result, "control plane nodes").detail).to.equal("1/3 Ready (expected 3); not ready: ip-10-0-0-2.eu-west-1.compute.internal (Unknown); without the node-role.kubernetes.io/control-plane label: ip-10-0-0-3.eu-west-1.compute.internal");
    });

    it("names an unavailable DaemonSet with available/desired, a stale Deployment and a missing one", async () => {
        const weave = cluster.daemonSets.find((d) => d.metadata.name === "weave-net");
        weave.status = { ...weave.status, desiredNumberScheduled: 6, numberAvailable: 4, updatedNumberScheduled: 5 };
        const coredns = cluster.deployments.find((d) => d.metadata.name === "coredns");
        coredns.metadata.generation = 3;
        cluster.deployments = cluster.deployments.filter((d) => d.metadata.name !== "metrics-server");
        const result = await validate();
        expect(notReadyChecks(result)).to.deep.equal(["Deployment coredns", "Deployment metrics-server", "DaemonSet weave-net"]);
        expect(rowOf(result, "DaemonSet weave-net").detail).to.equal("4/6 available, 5/6 updated");
        expect(rowOf(result, "Deployment coredns").detail).to.equal("2/2 available; generation 3 not observed yet (observed 2)");
        expect(rowOf(result, "Deployment metrics-server").detail).to.equal("missing from kube-system");
    });

    it("reports etcd failing in /readyz: the API row names the failing checks and the etcd row is not ready", async () => {
        cluster.readyz = cluster.readyz.map((l) => (l === "[+]etcd ok" ? "[-]etcd failed: reason withheld" : l));
        cluster.etcdStatus = 500;
        const result = await validate();
        expect(notReadyChecks(result)).to.deep.equal(["API healthy", "etcd healthy"]);
        expect(rowOf(result, "API healthy").detail).to.equal("/readyz: HTTP 500; failing: etcd");
        expect(rowOf(result, "etcd healthy").detail).to.equal("as the API server sees it: etcd failed: reason withheld");
    });

    it("flags a certificate expiring in 10 days (and the others within 30)", async () => {
        const result = await validate({ certificateExpiry: { ca: inDays(3650), apiserver: inDays(10), "front-proxy-client": inDays(25), admin: inDays(40) } });
        expect(notReadyChecks(result)).to.deep.equal(["certificates"]);
        expect(rowOf(result, "certificates").detail).to.equal(`soonest: apiserver expires ${inDays(10)} (10 days left, 4 certificates); within 30 days, also: front-proxy-client`);
        const expired = await validate({ certificateExpiry: { admin: inDays(-2) } });
        expect(rowOf(expired, "certificates").detail).to.equal(`admin expired ${inDays(-2)} (2 days ago)`);
        const bad = await validate({ certificateExpiry: { admin: "next tuesday" } });
        expect(rowOf(bad, "certificates").detail).to.contain('admin: "next tuesday" is not an RFC3339 time');
    });

    it("unreachable (nothing listening): a single API reachable row with the reason", async () => {
        const port = await new Promise<number>((resolve) => {
            const probe = net.createServer().listen(0, "127.0.0.1", () => {
                const { port } = probe.address() as net.AddressInfo;
                probe.close(() => resolve(port));
            });
        });
        const started = Date.now();
        const result = await validate({ endpoint: `https://127.0.0.1:${port}` });
        expect(result).to.deep.equal({ ready: false, rows: [{ check: "API reachable", status: "not ready", detail: `connection refused at 127.0.0.1:${port} (nothing listening)` }] });
        expect(formatValidation(result)).to.not.match(/\bat .*\.ts:\d+/);
        expect(Date.now() - started).to.be.lessThan(1000);
    });

    it("refuses a server whose certificate is not from the cluster CA: one row saying so", async () => {
        const impostor = await startFakeApi({ cert: pki.otherServerCert, key: pki.otherServerKey, ca: pki.ca }, answerFrom(() => cluster));
        try {
            const result = await validate({ endpoint: impostor.endpoint });
            expect(result.ready).to.equal(false);
            expect(result.rows).to.have.length(1);
            expect(result.rows[0].check).to.equal("API reachable");
            expect(result.rows[0].detail).to.match(/^TLS: the server's certificate at 127\.0\.0\.1:\d+ is not from the cluster CA \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)$/);
            expect(impostor.requests).to.deep.equal([]);
        } finally {
            await impostor.close();
        }
    });

    it("without the admin client certificate the API refuses the handshake: one row saying so", async () => {
        const result = await validate({ clientCertPem: undefined, clientKeyPem: undefined });
        expect(result.rows).to.have.length(1);
        expect(result.rows[0].detail).to.match(/refused the client certificate|connection to 127\.0\.0\.1:\d+ was reset/);
    });

    it("bounds every request: a server that never answers is one row after the request timeout", async () => {
        const silent = net.createServer((socket) => socket.resume()); // reads the ClientHello, never answers
        await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
        try {
            const port = (silent.address() as net.AddressInfo).port;
            const started = Date.now();
            const result = await validateCluster(request({ endpoint: `https://127.0.0.1:${port}` }), { requestTimeoutMs: 200 });
            expect(result.rows).to.deep.equal([{ check: "API reachable", status: "not ready", detail: `no answer from 127.0.0.1:${port} within 200 ms` }]);
            expect(Date.now() - started).to.be.within(150, 1000);
        } finally {
            await new Promise<void>((resolve) => { silent.close(() => resolve()); });
        }
    });

    it("validateUntil keeps asking until the cluster is ready (third poll) and reports progress", async () => {
        const original = api.requests.length;
        const base = cluster.nodes;
        // The nodes request being answered is already recorded: its count is the poll number.
        const poll = () => api.requests.slice(original).filter((r) => r.path === "/api/v1/nodes").length;
        cluster = new Proxy(cluster, {
            get: (target, key) => (key === "nodes" && poll() < 3 ? base.map((n, i) => (i === 3 ? workerNode("general", 1, "False") : n)) : (target as any)[key]),
        });
        const progress: string[] = [];
        const result = await validateUntil(request(), { timeoutMs: 3000, intervalMs: 20, now: () => now, onProgress: (attempt, _ms, r) => progress.push(`${attempt}: ${notReadySummary(r)}`) });
        expect(result.ready).to.equal(true);
        expect(result.attempts).to.equal(3);
        expect(progress).to.deep.equal([1, 2].map((n) => `${n}: pool general: 1/2 Ready (ASG desired 2, 2 registered); not ready: ip-10-0-1-1.eu-west-1.compute.internal (KubeletNotReady)`));
        expect(api.requests.length - original).to.equal(15);
    });

    it("validateUntil gives up when its time is spent and returns the last result", async () => {
        cluster.etcdStatus = 500;
        const started = Date.now();
        let rounds = 0;
        const result = await validateUntil(request(), { timeoutMs: 300, intervalMs: 50, now: () => now, onProgress: () => { rounds++; } });
        expect(result.ready).to.equal(false);
        expect(notReadyChecks(result)).to.deep.equal(["etcd healthy"]);
        expect(result.attempts).to.equal(rounds).and.to.be.within(2, 8);
        expect(Date.now() - started).to.be.lessThan(1500);
    });

    it("stops at once when cancelled", async () => {
        cluster.etcdStatus = 500;
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 100);
        const started = Date.now();
        let error: unknown;
        try { await validateUntil(request(), { timeoutMs: 60_000, intervalMs: 5_000, signal: controller.signal }); } catch (err) { error = err; }
        expect(error).to.be.instanceOf(CancelledError);
        expect(Date.now() - started).to.be.lessThan(1000);
        let early: unknown;
        try { await validateCluster(request(), { signal: controller.signal }); } catch (err) { early = err; }
        expect(early).to.be.instanceOf(CancelledError);
    });

    it("reads the endpoint, cluster CA and admin certificate from the infra stack's kubeconfig", async () => {
        const b64 = (s: string) => Buffer.from(s).toString("base64");
        const kubeconfig = [
            "apiVersion: v1", "kind: Config", "current-context: admin@kaws-test",
            "clusters:", "- name: other", "  cluster:", "    server: https://example.invalid", `    certificate-authority-data: ${b64(pki.otherCa)}`,
            "- name: kaws-test", "  cluster:", `    server: ${api.endpoint}`, `    certificate-authority-data: ${b64(pki.ca)}`,
            "contexts:", "- name: admin@kaws-test", "  context:", "    cluster: kaws-test", "    user: admin",
            "users:", "- name: admin", "  user:", `    client-certificate-data: ${b64(pki.clientCert)}`, `    client-key-data: ${b64(pki.clientKey)}`, "",
        ].join("\n");
        const credentials = credentialsFromKubeconfig(kubeconfig);
        expect(credentials).to.deep.equal({ endpoint: api.endpoint, caPem: pki.ca, clientCertPem: pki.clientCert, clientKeyPem: pki.clientKey });
        const result = await validateCluster({ ...request(), ...credentials }, { now: () => now });
        expect(result.ready).to.equal(true);
        expect(() => credentialsFromKubeconfig("clusters: [")).to.throw(/^kubeconfig: does not parse as YAML/);
        expect(() => credentialsFromKubeconfig("clusters: []\n")).to.throw(/^kubeconfig: has no cluster server/);
        let error: unknown;
        try { await validateCluster(request({ endpoint: "http://127.0.0.1:1" })); } catch (err) { error = err; }
        expect((error as Error).message).to.match(/must be an https URL/);
    });

    it("parses durations like 10m, 90s, 1h and names the argument otherwise", () => {
        expect(parseDuration("10m")).to.equal(600_000);
        expect(parseDuration("90s")).to.equal(90_000);
        expect(parseDuration("1h")).to.equal(3_600_000);
        expect(parseDuration("1h30m")).to.equal(5_400_000);
        expect(parseDuration("500ms")).to.equal(500);
        for (const bad of ["", "10", "ten minutes", "5x", "-1m", "1.5h", "0s", "m"]) {
            expect(() => parseDuration(bad), bad).to.throw(DurationError, `--wait ${JSON.stringify(bad)}: is not a duration; accepted: a whole number with a unit (ms, s, m, h), such as 90s, 10m, 1h or 1h30m`);
        }
        expect(() => parseDuration("soon", "--timeout")).to.throw(/^--timeout "soon": is not a duration/);
    });
});
