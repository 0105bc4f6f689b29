import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { KubeObject } from "../../addons";
import * as net from "net";
import { CliDeps, exitCodes, runCli } from "../../automation/cli";
import { StackOutputs } from "../../automation/driver";
import { scanLiveApis } from "../../automation/liveApiScan";
import { evaluateStack } from "../../automation/offline/engine";
import { addonObjectsOf } from "../../automation/offline/render";
import { loadStackConfig } from "../../automation/stackConfig";
import { removedApiUses, upgradeRefusals, upgradeWaves } from "../../automation/upgrade";
import { ClusterConfig, parseClusterConfig } from "../../plan/config";
import { supportedReleases } from "../../plan/versions";
import { root, throwawayProject, editStackFile } from "../harness";
import { ClusterPki, FakeAnswer, FakeApi, kubeconfigFor, makeClusterPki, startFakeApi } from "../fakeApi";

const configAt = (env: string, version: string): ClusterConfig => parseClusterConfig({ ...loadStackConfig(root, env), "kaws:kubernetesVersion": version });
const releases = Object.keys(supportedReleases).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
const [older, newest] = [releases[releases.length - 2], releases[releases.length - 1]];

async function kaws(argv: string[], dir: string, deps?: () => CliDeps) {
    let stdout = "";
    let stderr = "";
    const code = await runCli(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } }, dir, deps);
    return { code, stdout, stderr };
}

describe(`kaws upgrade (${older} → ${newest}, the two newest pinned releases)`, function () {
    this.timeout(60_000);

    it("accepts the next pinned minor; refuses the same version, a downgrade, a skipped minor and a target without pins, naming what is accepted", () => {
        expect(upgradeRefusals(configAt("prod", older), newest)).to.deep.equal([]);
        const at = configAt("prod", newest);
        expect(upgradeRefusals(at, newest)).to.have.length(1).and.satisfy((p: string[]) => /already runs/.test(p[0]));
        expect(upgradeRefusals(at, older)[0]).to.match(/is a downgrade from/);
        const [major, minor] = newest.split(".").map(Number);
        const skipped = upgradeRefusals(configAt("prod", older), `${major}.${minor + 1}.0`);
        expect(skipped.join("\n")).to.match(/skips a minor version/).and.match(/has no pinned components in plan\/versions\.ts/);
        expect(upgradeRefusals(configAt("prod", older), `${major}.${minor}.99`)).to.deep.equal([`--to ${major}.${minor}.99: has no pinned components in plan/versions.ts; accepted: ${newest}`]);
        expect(upgradeRefusals(at, "v1.37")[0]).to.match(/^--to "v1\.37": is not a version like 1\.36\.4; accepted: /);
    });

    it("refuses when a pool pinned to its own version would fall outside the skew policy of the target", () => {
        const base = configAt("prod", older);
        const [major, minor] = newest.split(".").map(Number);
        const poolAt = (version: string) => ({ ...base, workerPools: base.workerPools.map((p, i) => (i === 0 ? { ...p, kubernetesVersion: version } : p)) });
        expect(upgradeRefusals(poolAt(`${major}.${minor - 3}.0`), newest)).to.deep.equal([]);
        expect(upgradeRefusals(poolAt(`${major}.${minor - 4}.0`), newest)).to.deep.equal([
            `kaws:workerPools "${base.workerPools[0].name}" pinned at ${major}.${minor - 4}.0 is 4 minor versions older than the target \"${newest}\", more than the 3 the Kubernetes version skew policy allows a kubelet; upgrade that pool first`,
        ]);
    });

    it("plans the control plane first, then every pool that follows it in turn, then the add-ons; a pinned pool stays", () => {
        const base = configAt("prod", older);
        expect(base.workerPools.length).to.be.greaterThan(1);
        const pinned = { ...base, workerPools: base.workerPools.map((p, i) => (i === 0 ? { ...p, kubernetesVersion: older } : p)) };
        const raw = loadStackConfig(root, "prod");
        const rawPinned = { ...raw, "kaws:workerPools": JSON.stringify(JSON.parse(raw["kaws:workerPools"]).map((p: any, i: number) => (i === 0 ? { ...p, kubernetesVersion: older } : p))) };
        const waves = upgradeWaves(pinned, rawPinned, newest);
        const following = base.workerPools.slice(1).map((p) => `pool ${p.name}`);
        expect(waves.map((w) => w.name)).to.deep.equal(["control plane", ...following, "add-ons"]);
        expect(waves[0].change).to.include(`kaws:kubernetesVersion: ${newest}`);
        for (const pool of base.workerPools.slice(1)) expect(waves[0].change).to.include(`workerPools "${pool.name}".kubernetesVersion: ${older}`);
        expect(waves[0].change).not.to.include(`"${base.workerPools[0].name}"`);
        expect(waves[0].gate).to.include(`every control-plane node Ready at v${newest}`);
        // Each wave's configuration is valid, and releases exactly one more pool than the one before.
        const versionsOf = (w: typeof waves[number]) => {
            const c = parseClusterConfig(w.stackConfig);
            return [c.kubernetes.version, ...c.workerPools.map((p) => `${p.name}=${p.kubernetesVersion ?? c.kubernetes.version}`)];
        };
        const [first, ...rest] = base.workerPools.map((p) => p.name);
        expect(versionsOf(waves[0])).to.deep.equal([newest, `${first}=${older}`, ...rest.map((n) => `${n}=${older}`)]);
        rest.forEach((_name, i) => expect(versionsOf(waves[i + 1])).to.deep.equal([newest, `${first}=${older}`, ...rest.map((n, j) => `${n}=${j <= i ? newest : older}`)]));
        expect(waves.at(-1)!.stackConfig).to.deep.equal(waves.at(-2)!.stackConfig);
    });

    it("finds add-on objects on removed APIs by the deprecation guide's table, at its boundary, and none in the target's real add-ons", async () => {
        const pdb = { apiVersion: "policy/v1beta1", kind: "PodDisruptionBudget", metadata: { name: "coredns", namespace: "kube-system" } } as KubeObject;
        const flow = { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta3", kind: "FlowSchema", metadata: { name: "kaws" } } as KubeObject;
        const current = { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "coredns", namespace: "kube-system" } } as KubeObject;
        expect(removedApiUses([pdb, flow, current], newest).map((r) => `${r.apiVersion} ${r.removedIn} ${r.use}`)).to.deep.equal([
            "policy/v1beta1 1.25 policy/v1", "flowcontrol.apiserver.k8s.io/v1beta3 1.32 flowcontrol.apiserver.k8s.io/v1",
        ]);
        expect(removedApiUses([flow], "1.31.9")).to.deep.equal([]);
        expect(removedApiUses([flow], "1.32.0")).to.have.length(1);
        const evaluation = await evaluateStack({ root, stack: "prod", config: { ...loadStackConfig(root, "prod"), "kaws:kubernetesVersion": newest } });
        const objects = addonObjectsOf(evaluation);
        expect(objects.length).to.be.greaterThan(20);
        expect(removedApiUses(objects, newest)).to.deep.equal([]);
    });

    describe("the command", () => {
        let dir: string;
        before(() => {
            dir = throwawayProject();
            editStackFile(dir, "dev", (config) => { config["kaws:kubernetesVersion"] = older; });
        });
        after(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("--plan prints the etcd step, the waves and the scan, and changes nothing", async () => {
            const before = fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8");
            const r = await kaws(["upgrade", "dev", "--to", newest, "--plan"], dir);
            expect(r.stderr).to.equal("");
            expect(r.code).to.equal(exitCodes.ok);
            const etcdMoves = supportedReleases[older].etcd !== supportedReleases[newest].etcd;
            expect(r.stdout).to.match(etcdMoves ? /etcd: .* FIRST, one member at a time/ : new RegExp(`etcd: stays at ${supportedReleases[newest].etcd}`));
            expect(r.stdout).to.match(/wave 1: control plane[\s\S]*wave 2: pool general[\s\S]*wave 3: add-ons/);
            expect(r.stdout).to.match(/removed APIs: none of the rendered add-on objects/);
            // No deployed stack here (no Pulumi CLI, or no such stack): the live scan says it did not happen.
            expect(r.stdout).to.match(/\nlive cluster: not scanned: .+; requests clients make and objects others created are unchecked\n$/);
            expect(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")).to.equal(before);
        });

        it("refuses the version it runs in one line, a malformed --wait and a missing --to, exit 2, before anything runs", async () => {
            const down = await kaws(["upgrade", "dev", "--to", older, "--plan"], dir);
            expect(down.code).to.equal(exitCodes.usage);
            expect(down.stderr).to.match(new RegExp(`^kaws: --to ${older.replace(/\./g, "\\.")}: the cluster already runs`));
            expect(down.stderr.trim().split("\n")).to.have.length(1);
            const wait = await kaws(["upgrade", "dev", "--to", newest, "--wait", "soon"], dir);
            expect(wait.code).to.equal(exitCodes.usage);
            expect(wait.stderr).to.match(/^kaws: --wait "soon": is not a duration; accepted: /);
            const none = await kaws(["upgrade", "dev", "--plan"], dir);
            expect(none.code).to.equal(exitCodes.usage);
            expect(none.stderr).to.match(/required option '--to <version>' not specified/);
        });

        describe("the live cluster scan (the infra stack's kubeconfig, a fake API server, the real scanner)", () => {
            let pki: ClusterPki;
            let api: FakeApi;
            let answer: (path: string) => FakeAnswer | undefined;
            before(async () => {
                pki = await makeClusterPki();
                api = await startFakeApi({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca }, (p) => answer(p));
            });
            after(() => api.close());
            const metrics = (lines: string[]) => ["# TYPE apiserver_requested_deprecated_apis gauge", ...lines, 'apiserver_request_total{code="200",resource="pods",verb="LIST",version="v1"} 7', ""].join("\n");
            const cleanCluster = (p: string): FakeAnswer | undefined => (p === "/metrics" ? { status: 200, body: metrics([]) } : undefined);

            /** A deployed dev: its infra stack has the admin kubeconfig for `endpoint`; the stack log shows anything that would change it. */
            const liveApiScan: CliDeps["liveApiScan"] = (credentials, to, removed, signal) => scanLiveApis(credentials, to, removed, { signal });
            const deployed = (endpoint: string, log: string[]) => (): CliDeps => ({
                stacks: {
                    infra: async () => ({
                        outputs: async (): Promise<StackOutputs> => { log.push("outputs"); return { kubeconfig: { value: kubeconfigFor(endpoint, pki), secret: true } }; },
                        setConfig: async () => { log.push("setConfig"); },
                        up: async () => { log.push("up"); throw new Error("the upgrade must not start"); },
                    }),
                    addons: async () => { throw new Error("the upgrade must not start"); },
                },
                signal: new AbortController().signal,
                liveApiScan,
            }) as unknown as CliDeps;

            it("--plan on a clean cluster: says what it asked and found nothing, exit 0", async () => {
                answer = cleanCluster;
                const log: string[] = [];
                const r = await kaws(["upgrade", "dev", "--to", newest, "--plan"], dir, deployed(api.endpoint, log));
                expect(r.stderr).to.equal("");
                expect(r.code).to.equal(exitCodes.ok);
                expect(r.stdout).to.contain(`live cluster (${new URL(api.endpoint).host}):\n`);
                expect(r.stdout).to.match(new RegExp(`requests: apiserver_requested_deprecated_apis shows none to an API ${newest.replace(/\./g, "\\.")} no longer serves`));
                expect(r.stdout).to.contain(`objects: none written through an API ${newest} no longer serves (the cluster serves none of them)`);
                expect(log).to.deep.equal(["outputs"]);
                expect(api.requests.map((q) => q.path)).to.include("/metrics").and.include("/apis/flowcontrol.apiserver.k8s.io/v1beta3");
            });

            it("objects written and requests made through a removed version are listed by name and manager and stop the upgrade, exit 1, before any stack changes", async () => {
                const beta = "flowcontrol.apiserver.k8s.io/v1beta3";
                const resources = [{ name: "flowschemas", kind: "FlowSchema", namespaced: false, verbs: ["get", "list"] }];
                answer = (p) => {
                    if (p === "/metrics") return { status: 200, body: metrics([`apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.32",resource="flowschemas",subresource="",version="v1beta3"} 1`]) };
                    if (p === `/apis/${beta}` || p === "/apis/flowcontrol.apiserver.k8s.io/v1") return { status: 200, body: { kind: "APIResourceList", resources } };
                    if (p.startsWith("/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas?")) {
                        return { status: 200, body: { kind: "List", metadata: {}, items: [{ metadata: { name: "tenant-a", managedFields: [{ manager: "helm", operation: "Update", apiVersion: beta }] } }] } };
                    }
                    return undefined;
                };
                for (const applying of [false, true]) {
                    const log: string[] = [];
                    const r = await kaws(["upgrade", "dev", "--to", newest, ...(applying ? [] : ["--plan"])], dir, deployed(api.endpoint, log));
                    expect(r.code).to.equal(exitCodes.failed);
                    expect(r.stdout).to.contain(`requests: 1 API(s) ${newest} no longer serves were requested`);
                    expect(r.stdout).to.contain(`    ${beta} flowschemas (removed in 1.32)\n`);
                    expect(r.stdout).to.contain(`    FlowSchema tenant-a: ${beta} (removed in 1.32) by helm (managedFields); use flowcontrol.apiserver.k8s.io/v1\n`);
                    expect(r.stderr).to.equal(`kaws: the cluster uses APIs ${newest} no longer serves (1 requested API(s), 1 object(s) written through one); migrate them (listed above), then run this again\n`);
                    expect(log).to.deep.equal(["outputs"]);
                }
            });

            it("an unreachable cluster: --plan says the scan was skipped and why; the upgrade itself refuses, exit 1, before any stack changes", async () => {
                const port = await new Promise<number>((resolve) => {
                    const probe = net.createServer().listen(0, "127.0.0.1", () => {
                        const free = (probe.address() as net.AddressInfo).port;
                        probe.close(() => resolve(free));
                    });
                });
                const why = `connection refused at 127.0.0.1:${port} (nothing listening)`;
                const planned = await kaws(["upgrade", "dev", "--to", newest, "--plan"], dir, deployed(`https://127.0.0.1:${port}`, []));
                expect(planned.code).to.equal(exitCodes.ok);
                expect(planned.stdout).to.contain(`live cluster: not scanned: ${why}; requests clients make and objects others created are unchecked\n`);
                const log: string[] = [];
                const applied = await kaws(["upgrade", "dev", "--to", newest], dir, deployed(`https://127.0.0.1:${port}`, log));
                expect(applied.code).to.equal(exitCodes.failed);
                expect(applied.stderr).to.equal(`kaws: the cluster was not scanned for APIs ${newest} removes (${why}); kaws upgrades only a cluster it has scanned: fix that (\`kaws validate dev\` checks the API), then run this again\n`);
                expect(log).to.deep.equal(["outputs"]);
            });
        });
    });
});
