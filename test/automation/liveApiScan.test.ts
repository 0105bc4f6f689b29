import { expect } from "chai";
import * as net from "net";
import { LiveApiScan, deprecatedRequests, parsePrometheusText, scanEnvironment, scanLiveApis } from "../../automation/liveApiScan";
import { removedApisBy } from "../../automation/upgrade";
import { ApiCredentials } from "../../automation/validate";
import { CancelledError } from "../../automation/wait";
import { ClusterPki, FakeAnswer, FakeApi, kubeconfigFor, makeClusterPki, startFakeApi } from "../fakeApi";

const flowcontrolBeta = "flowcontrol.apiserver.k8s.io/v1beta3";
const flowcontrolV1 = "flowcontrol.apiserver.k8s.io/v1";

/** What the fake API server serves: /metrics text, discovery per group/version, and list items per collection path. */
interface FakeCluster {
    metrics: string;
    served: Record<string, { name: string; kind: string; namespaced: boolean; verbs: string[] }[]>;
    collections: Record<string, unknown[]>;
}

const metricsHeader = [
    "# HELP apiserver_requested_deprecated_apis Gauge of deprecated APIs that have been requested, broken out by API group, version, resource, subresource, and removed_release.",
    "# TYPE apiserver_requested_deprecated_apis gauge",
];
const unrelatedMetrics = [
    "# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
    "# TYPE apiserver_request_total counter",
    'apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="cluster",subresource="",verb="LIST",version="v1"} 1234',
    'apiserver_storage_objects{resource="flowschemas.flowcontrol.apiserver.k8s.io"} 13',
];

const flowResources = (suffix = "") => [
    { name: "flowschemas", kind: "FlowSchema", namespaced: false, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"] },
    { name: `flowschemas/status${suffix}`, kind: "FlowSchema", namespaced: false, verbs: ["get", "patch", "update"] },
    { name: "prioritylevelconfigurations", kind: "PriorityLevelConfiguration", namespaced: false, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"] },
];

/** A 1.31 cluster: flowcontrol v1beta3 (removed in 1.32) still served next to v1; nothing else removed is served. */
function clean(): FakeCluster {
    return {
        metrics: [...metricsHeader, ...unrelatedMetrics].join("\n") + "\n",
        served: { [flowcontrolBeta]: flowResources(), [flowcontrolV1]: flowResources() },
        collections: {
            [`/apis/${flowcontrolV1}/flowschemas`]: [
                { metadata: { name: "exempt", managedFields: [{ manager: "api-priority-and-fairness-config-producer-v1", operation: "Update", apiVersion: flowcontrolV1 }] } },
                { metadata: { name: "system-nodes", managedFields: [{ manager: "api-priority-and-fairness-config-producer-v1", operation: "Update", apiVersion: flowcontrolV1 }] } },
            ],
            [`/apis/${flowcontrolV1}/prioritylevelconfigurations`]: [
                { metadata: { name: "workload-low", annotations: { "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ apiVersion: flowcontrolV1, kind: "PriorityLevelConfiguration" }) } } },
            ],
        },
    };
}

function answer(cluster: FakeCluster, url: string): FakeAnswer | undefined {
    const { pathname, searchParams } = new URL(url, "https://fake");
    if (pathname === "/metrics") return { status: 200, body: cluster.metrics };
    const served = cluster.served[pathname.replace(/^\/apis\//, "")];
    if (served) return { status: 200, body: { kind: "APIResourceList", groupVersion: pathname.slice(6), resources: served } };
    const items = cluster.collections[pathname];
    if (!items) return undefined;
    const limit = Number(searchParams.get("limit") ?? items.length);
    const from = Number(searchParams.get("continue") ?? 0);
    const next = from + limit < items.length ? String(from + limit) : undefined;
    return { status: 200, body: { kind: "List", metadata: next ? { continue: next } : {}, items: items.slice(from, from + limit) } };
}

describe("live removed-API scan (automation/liveApiScan.ts, against a fake API server)", function () {
    this.timeout(30_000);
    let pki: ClusterPki;
    let api: FakeApi;
    let cluster: FakeCluster;
    let credentials: ApiCredentials;
    before(async () => {
        pki = await makeClusterPki();
        api = await startFakeApi({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca }, (url) => answer(cluster, url));
        credentials = { endpoint: api.endpoint, caPem: pki.ca, clientCertPem: pki.clientCert, clientKeyPem: pki.clientKey };
    });
    after(() => api.close());
    beforeEach(() => {
        cluster = clean();
        api.requests.length = 0;
    });
    const scan = (to: string, options = {}): Promise<LiveApiScan> => scanLiveApis(credentials, to, removedApisBy(to), options);
    const findings = (result: LiveApiScan) => {
        if (!result.scanned) throw new Error(`not scanned: ${result.reason}`);
        return { requests: result.requests, objects: result.objects.map((o) => `${o.kind} ${o.object} ${o.apiVersion} by ${o.manager} (${o.evidence}); removed in ${o.removedIn}, use ${o.use}`) };
    };

    it("a clean cluster: nothing requested or written through a removed version; the served removed version is named", async () => {
        const result = await scan("1.32.0");
        expect(findings(result)).to.deep.equal({ requests: [], objects: [] });
        expect(result).to.include({ scanned: true, endpoint: new URL(api.endpoint).host });
        expect(result.scanned && result.stillServed).to.deep.equal([flowcontrolBeta]);
        // Every request carried the admin client certificate; /metrics came first, before the scan's own lists.
        expect(api.requests.every((r) => r.client === "kubernetes-admin")).to.equal(true);
        expect(api.requests[0].path).to.equal("/metrics");
    });

    it("reports what apiserver_requested_deprecated_apis shows clients requested, with subresource, only for versions the target removes", async () => {
        cluster.metrics = [
            ...metricsHeader,
            `apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.32",resource="flowschemas",subresource="",version="v1beta3"} 1`,
            `apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.32",resource="prioritylevelconfigurations",subresource="status",version="v1beta3"} 1`,
            // Deprecated, removal later than the target, or not planned at all: not a blocker for 1.32.
            `apiserver_requested_deprecated_apis{group="example.kaws.io",removed_release="1.34",resource="widgets",subresource="",version="v1beta1"} 1`,
            `apiserver_requested_deprecated_apis{group="",removed_release="",resource="componentstatuses",subresource="",version="v1"} 1`,
            ...unrelatedMetrics,
        ].join("\n") + "\n";
        expect(findings(await scan("1.32.0")).requests).to.deep.equal([
            { apiVersion: flowcontrolBeta, resource: "flowschemas", removedIn: "1.32" },
            { apiVersion: flowcontrolBeta, resource: "prioritylevelconfigurations/status", removedIn: "1.32" },
        ]);
        expect(findings(await scan("1.31.9")).requests).to.deep.equal([]);
        expect(findings(await scan("1.34.0")).requests.map((r) => `${r.apiVersion} ${r.resource}`)).to.include("example.kaws.io/v1beta1 widgets").and.not.include("v1 componentstatuses");
    });

    it("reports objects written through a removed version (managedFields, last-applied-configuration) by name and manager, across list pages, listed through the replacement", async () => {
        const flowschemas = cluster.collections[`/apis/${flowcontrolV1}/flowschemas`];
        flowschemas.push(
            { metadata: { name: "tenant-a", managedFields: [
                { manager: "helm", operation: "Update", apiVersion: flowcontrolBeta },
                { manager: "api-priority-and-fairness-config-consumer-v1", operation: "Update", apiVersion: flowcontrolV1, subresource: "status" },
            ] } },
        );
        cluster.collections[`/apis/${flowcontrolV1}/prioritylevelconfigurations`].push({ metadata: {
            name: "tenant-a-level",
            annotations: { "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({ apiVersion: flowcontrolBeta, kind: "PriorityLevelConfiguration", metadata: { name: "tenant-a-level" } }) },
            managedFields: [{ manager: "kubectl-client-side-apply", operation: "Update", apiVersion: flowcontrolBeta }],
        } });
        const result = await scan("1.32.0", { pageSize: 2 });
        expect(findings(result).objects).to.deep.equal([
            `FlowSchema tenant-a ${flowcontrolBeta} by helm (managedFields); removed in 1.32, use ${flowcontrolV1}`,
            `PriorityLevelConfiguration tenant-a-level ${flowcontrolBeta} by kubectl-client-side-apply (managedFields); removed in 1.32, use ${flowcontrolV1}`,
            `PriorityLevelConfiguration tenant-a-level ${flowcontrolBeta} by kubectl apply (last-applied-configuration); removed in 1.32, use ${flowcontrolV1}`,
        ]);
        const lists = api.requests.map((r) => r.path).filter((p) => p.includes("?"));
        expect(lists).to.include(`/apis/${flowcontrolV1}/flowschemas?limit=2&continue=2`);
        // Listing through the removed version would itself show up in apiserver_requested_deprecated_apis.
        expect(lists.filter((p) => p.includes("v1beta3"))).to.deep.equal([]);
        // A target that does not remove v1beta3 finds nothing in the same cluster.
        expect(findings(await scan("1.31.9"))).to.deep.equal({ requests: [], objects: [] });
    });

    it("a namespaced kind only the removed version serves: every object is reported with namespace/name", async () => {
        cluster.served = {
            "policy/v1beta1": [
                { name: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true, verbs: ["get", "list"] },
                { name: "podsecuritypolicies", kind: "PodSecurityPolicy", namespaced: false, verbs: ["get", "list"] },
            ],
            "policy/v1": [{ name: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true, verbs: ["get", "list"] }],
        };
        cluster.collections = {
            "/apis/policy/v1beta1/podsecuritypolicies": [
                { metadata: { name: "restricted", managedFields: [{ manager: "kube-addons", apiVersion: "policy/v1beta1" }] } },
                // Created before managedFields existed: nothing names a manager, but only the removed version serves it.
                { metadata: { name: "privileged" } },
            ],
            "/apis/policy/v1/poddisruptionbudgets": [
                { metadata: { name: "web", namespace: "shop", managedFields: [{ manager: "argocd-controller", apiVersion: "policy/v1beta1" }] } },
                { metadata: { name: "coredns", namespace: "kube-system", managedFields: [{ manager: "pulumi-kubernetes", apiVersion: "policy/v1" }] } },
            ],
        };
        expect(findings(await scan("1.25.0")).objects).to.deep.equal([
            "PodDisruptionBudget shop/web policy/v1beta1 by argocd-controller (managedFields); removed in 1.25, use policy/v1",
            "PodSecurityPolicy restricted policy/v1beta1 by kube-addons (managedFields); removed in 1.25, use Pod Security Admission (no replacement API)",
            "PodSecurityPolicy privileged policy/v1beta1 by (unknown manager) (no other served version); removed in 1.25, use Pod Security Admission (no replacement API)",
        ]);
    });

    it("an API it cannot use is a scan that did not happen, with the reason: refused connection, foreign CA, HTTP error, malformed metrics", async () => {
        const port = await new Promise<number>((resolve) => {
            const probe = net.createServer().listen(0, "127.0.0.1", () => {
                const free = (probe.address() as net.AddressInfo).port;
                probe.close(() => resolve(free));
            });
        });
        const closed = await scanLiveApis({ ...credentials, endpoint: `https://127.0.0.1:${port}` }, "1.32.0", removedApisBy("1.32.0"));
        expect(closed).to.deep.equal({ scanned: false, reason: `connection refused at 127.0.0.1:${port} (nothing listening)` });
        const foreign = await scanLiveApis({ ...credentials, caPem: pki.otherCa }, "1.32.0", removedApisBy("1.32.0"));
        expect(!foreign.scanned && foreign.reason).to.match(/^TLS: the server's certificate at 127\.0\.0\.1:\d+ is not from the cluster CA/);
        cluster.collections = {};
        cluster.served[flowcontrolV1] = flowResources();
        const missing = await scan("1.32.0");
        expect(missing).to.deep.equal({ scanned: false, reason: `GET /apis/${flowcontrolV1}/flowschemas?limit=500: HTTP 404 the server could not find the requested resource (/apis/${flowcontrolV1}/flowschemas?limit=500)` });
        cluster = clean();
        cluster.metrics = 'apiserver_requested_deprecated_apis{group="x",version="v1 1\n';
        expect(await scan("1.32.0")).to.deep.equal({ scanned: false, reason: 'GET /metrics: metrics line 1: label version has an unterminated value: apiserver_requested_deprecated_apis{group="x",version="v1 1' });
    });

    it("a cancelled scan throws CancelledError instead of reporting a skip", async () => {
        const controller = new AbortController();
        controller.abort();
        let caught: unknown;
        try { await scan("1.32.0", { signal: controller.signal }); } catch (err) { caught = err; }
        expect(caught).to.be.instanceOf(CancelledError);
    });

    it("scanEnvironment: from the infra stack's kubeconfig output; says why when there is none or the outputs cannot be read", async () => {
        let given: ApiCredentials | undefined;
        const record = async (c: ApiCredentials): Promise<LiveApiScan> => { given = c; return { scanned: true, endpoint: "x", requests: [], objects: [], stillServed: [] }; };
        await scanEnvironment(async () => ({ kubeconfig: { value: kubeconfigFor(api.endpoint, pki), secret: true } }), record);
        expect(given).to.deep.equal(credentials);
        expect(await scanEnvironment(async () => ({}), record)).to.deep.equal({ scanned: false, reason: "the infra stack has no kubeconfig output (not deployed yet?)" });
        expect(await scanEnvironment(async () => { throw new Error("the Pulumi CLI is not on PATH; install it\nmore"); }, record))
            .to.deep.equal({ scanned: false, reason: "the infra stack's outputs could not be read (the Pulumi CLI is not on PATH; install it)" });
        expect(await scanEnvironment(async () => ({ kubeconfig: { value: "clusters: []", secret: true } }), record))
            .to.deep.equal({ scanned: false, reason: "kubeconfig: has no cluster server; accepted: the infra stack's kubeconfig output" });
    });
});

describe("Prometheus text format (parsePrometheusText)", () => {
    it("reads names, labels with escapes and awkward characters, special values and timestamps; skips comments and blank lines", () => {
        const text = [
            "# HELP odd A metric with \"quotes\" in its help",
            "# TYPE odd gauge",
            "",
            'odd{path="C:\\\\dir\\\\",quote="say \\"hi\\"",multi="a\\nb",brace="}{,=",empty=""} 1.5e3 1712345678901',
            "  plain 42  ",
            'trailing{a="1",} +Inf',
            'spaced{ a = "1" , b="2" } -Inf',
            "nan NaN",
            "ns:colon_metric 0",
        ].join("\n");
        const samples = parsePrometheusText(text);
        expect(samples.map((s) => s.name)).to.deep.equal(["odd", "plain", "trailing", "spaced", "nan", "ns:colon_metric"]);
        expect(samples[0]).to.deep.equal({ name: "odd", labels: { path: "C:\\dir\\", quote: 'say "hi"', multi: "a\nb", brace: "}{,=", empty: "" }, value: 1500 });
        expect(samples[1]).to.deep.equal({ name: "plain", labels: {}, value: 42 });
        expect(samples[2]).to.deep.equal({ name: "trailing", labels: { a: "1" }, value: Infinity });
        expect(samples[3]).to.deep.equal({ name: "spaced", labels: { a: "1", b: "2" }, value: -Infinity });
        expect(samples[4].value).to.be.NaN;
    });

    it("names the line that does not parse", () => {
        const bad = (line: string) => { try { parsePrometheusText(`ok 1\n${line}`); return "parsed"; } catch (err) { return (err as Error).message; } };
        expect(bad('m{a="1"}')).to.equal('metrics line 2: no numeric value: m{a="1"}');
        expect(bad("m{a=1} 2")).to.equal("metrics line 2: label a has no quoted value: m{a=1} 2");
        expect(bad('m{a="\\t"} 2')).to.equal('metrics line 2: label a has an unknown escape \\t: m{a="\\t"} 2');
        expect(bad('m{a="1" b="2"} 2')).to.equal('metrics line 2: no , or } after label a: m{a="1" b="2"} 2');
        expect(bad("m two")).to.equal("metrics line 2: no numeric value: m two");
        expect(bad("m 1 2 3")).to.equal("metrics line 2: extra text after the value: m 1 2 3");
        expect(bad("{a=\"1\"} 2")).to.equal('metrics line 2: no metric name: {a="1"} 2');
    });

    it("deprecatedRequests: only the gauge, only value 1, removed at or before the target; the core group has no prefix", () => {
        const samples = parsePrometheusText([
            'apiserver_requested_deprecated_apis{group="",removed_release="1.36",resource="endpoints",subresource="",version="v1"} 1',
            'apiserver_requested_deprecated_apis{group="batch",removed_release="1.25",resource="cronjobs",subresource="",version="v1beta1"} 0',
            'apiserver_request_total{group="batch",removed_release="1.25",resource="cronjobs",subresource="",version="v1beta1"} 1',
        ].join("\n"));
        expect(deprecatedRequests(samples, "1.36.0")).to.deep.equal([{ apiVersion: "v1", resource: "endpoints", removedIn: "1.36" }]);
        expect(deprecatedRequests(samples, "1.35.9")).to.deep.equal([]);
    });
});
