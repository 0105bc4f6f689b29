import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { Evaluation } from "../../automation/offline/engine";
import { controlPlaneBootSteps } from "../../controlPlane/markControlPlane";
import { readyGateHook, readyGatePaths, renderReadyGateScript, renderReadyGateUnit } from "../../controlPlane/readyGate";
import { planCluster } from "../../plan/cluster";
import { parseClusterConfig } from "../../plan/config";
import { loadStackConfig } from "../../automation/stackConfig";
import { evaluate, ofType, roleFiles, root } from "../harness";
import { installKubeAdmin, withHeaderValues } from "../shellHeader";
import { verifyUnits } from "../systemdVerify";
import { makePki } from "../tlsFixture";
import { toolAvailable } from "../tools";

describe("control-plane ready gate (controlPlane/readyGate.ts): instance refresh moves node by node", function () {
    this.timeout(120_000);
    let prod: Evaluation;
    before(async () => {
        prod = await evaluate("prod");
    });

    it("holds every new control-plane instance in a launch hook that abandons it if it is never ready", () => {
        const group = ofType(prod, "aws:autoscaling/group:Group").find((g) => g.inputs.name === "kaws-prod-controlplane")!;
        const hooks = ofType(prod, "aws:autoscaling/lifecycleHook:LifecycleHook").filter((h) => h.inputs.lifecycleTransition === "autoscaling:EC2_INSTANCE_LAUNCHING");
        expect(hooks.map((h) => h.inputs.autoscalingGroupName)).to.deep.equal([group.inputs.name]);
        expect(hooks[0].inputs).to.include({ name: readyGateHook.name, defaultResult: "ABANDON", heartbeatTimeout: readyGateHook.heartbeatTimeoutSeconds });
        // The refresh replaces one node at a time, so the hook gates each replacement before the next.
        expect(group.inputs.instanceRefresh.preferences.maxHealthyPercentage).to.equal(100);
        expect(group.inputs.instanceRefresh.preferences.minHealthyPercentage).to.equal(66);
    });

    it("reaches only control-plane nodes, starts after kubelet, and names the group, hook and release of the node it runs on", () => {
        const files = roleFiles(prod, "controlplane");
        expect(files.get(readyGatePaths.script)?.mode).to.equal("0700");
        expect(controlPlaneBootSteps.startAfterKubelet).to.include(path.basename(readyGatePaths.unit));
        expect(roleFiles(prod, "worker-general").has(readyGatePaths.script)).to.equal(false);
        const script = files.get(readyGatePaths.script)!.content;
        expect(script).to.match(/^KAWS_GROUP=kaws-prod-controlplane$/m).and.match(/^KAWS_HOOK=kaws-ready$/m).and.match(/^KAWS_REGION=eu-west-1$/m);
        const config = loadStackConfig(root, "prod");
        expect(script).to.match(new RegExp(`^KAWS_KUBELET_VERSION=v${config["kaws:kubernetesVersion"].replace(/\./g, "\\.")}$`, "m"));
        const lagging = planCluster(parseClusterConfig({ ...config, "kaws:kubernetesVersion": "1.35.9" }));
        expect(renderReadyGateScript(lagging)).to.match(/^KAWS_KUBELET_VERSION=v1\.35\.9$/m);
    });

    it("its unit passes systemd-analyze verify", function () {
        if (!toolAvailable("systemd-analyze", this, ["--version"])) return;
        expect(verifyUnits({ "kaws-ready-gate.service": renderReadyGateUnit() })).to.deep.equal([]);
    });

    /**
     * The rendered script run for real (openssl, kubectl, curl) against a fake API server, a fake instance
     * metadata service and an `aws` on PATH that records its arguments.
     */
    describe("the script, run with real openssl, kubectl and curl", () => {
        interface World { readyz: () => number; node: () => { version: string; ready: string } | undefined; daemonSet: boolean; awsAnswer: { status: number; text: string } }

        async function run(world: World): Promise<{ status: number | null; output: string; awsCalls: string[]; nodeAsks: number }> {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-ready-gate-"));
            const servers: (http.Server | https.Server)[] = [];
            try {
                const pki = makePki(dir);
                const nodeName = spawnSync("hostname", { encoding: "utf8" }).stdout.trim();
                let nodeAsks = 0;
                const api = https.createServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
                    const url = (req.url ?? "").split("?")[0];
                    const json = (status: number, value: unknown) => { res.writeHead(status, { "Content-Type": "application/json" }); res.end(JSON.stringify(value)); };
                    const notFound = () => json(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
                    if (url === "/readyz") { const status = world.readyz(); res.writeHead(status); res.end(status === 200 ? "ok" : "[-]etcd failed"); return; }
                    if (url === "/api") return json(200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1:6443" }] });
                    if (url === "/apis") return json(200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
                    if (url === "/api/v1") return json(200, { kind: "APIResourceList", groupVersion: "v1", resources: [{ name: "nodes", singularName: "node", namespaced: false, kind: "Node", verbs: ["get", "list"] }] });
                    if (url === `/api/v1/nodes/${nodeName}`) {
                        nodeAsks++;
                        const node = world.node();
                        if (!node) return notFound();
                        return json(200, { apiVersion: "v1", kind: "Node", metadata: { name: nodeName }, status: { nodeInfo: { kubeletVersion: node.version }, conditions: [{ type: "Ready", status: node.ready }] } });
                    }
                    if (url === "/apis/apps/v1/namespaces/kube-system/daemonsets/weave-net") return world.daemonSet ? json(200, { kind: "DaemonSet", metadata: { name: "weave-net" } }) : notFound();
                    return notFound();
                });
                const imds = http.createServer((req, res) => {
                    if (req.method === "PUT" && req.url === "/latest/api/token") { res.end("imds-token"); return; }
                    if (req.url === "/latest/meta-data/instance-id" && req.headers["x-aws-ec2-metadata-token"] === "imds-token") { res.end("i-0123456789abcdef0"); return; }
                    res.writeHead(401); res.end();
                });
                for (const server of [api, imds]) { servers.push(server); await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)); }
                const port = (server: http.Server) => (server.address() as AddressInfo).port;
                fs.mkdirSync(`${dir}/bin`);
                fs.writeFileSync(`${dir}/bin/aws`, `#!/bin/bash\nprintf '%s\\n' "$*" >> ${dir}/aws-calls\nprintf '%s\\n' ${JSON.stringify(world.awsAnswer.text)} >&2\nexit ${world.awsAnswer.status}\n`, { mode: 0o755 });

                const plan = planCluster(parseClusterConfig(loadStackConfig(root, "prod")));
                const script = withHeaderValues(renderReadyGateScript(plan), {
                    KAWS_KUBE_ADMIN: installKubeAdmin(dir, { caCert: `${dir}/ca.crt`, caKey: `${dir}/ca.key`, apiServer: `https://127.0.0.1:${port(api)}` }), KAWS_IMDS: `http://127.0.0.1:${port(imds)}`,
                });
                fs.writeFileSync(`${dir}/run.sh`, script.replace(/sleep 5/, "sleep 0.2"));
                const result = await new Promise<{ status: number | null; output: string }>((resolve) => {
                    const child = spawn("bash", [`${dir}/run.sh`], { env: { PATH: `${dir}/bin:${process.env.PATH}`, HOME: dir, TMPDIR: dir } });
                    let output = "";
                    child.stdout.on("data", (d) => { output += d; });
                    child.stderr.on("data", (d) => { output += d; });
                    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
                    child.on("close", (status) => { clearTimeout(timer); resolve({ status, output }); });
                });
                const awsCalls = fs.existsSync(`${dir}/aws-calls`) ? fs.readFileSync(`${dir}/aws-calls`, "utf8").trim().split("\n") : [];
                expect(fs.readdirSync(dir).filter((f) => f.startsWith("tmp.")), "the throwaway key is deleted").to.deep.equal([]);
                return { ...result, awsCalls, nodeAsks };
            } finally {
                for (const server of servers) await new Promise<void>((resolve) => { server.close(() => resolve()); (server as https.Server).closeAllConnections?.(); });
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }

        const versionArgs: Record<string, string[]> = { kubectl: ["version", "--client"], openssl: ["version"], curl: ["--version"] };
        const tools = (ctx: Mocha.Context) => Object.entries(versionArgs).every(([tool, args]) => toolAvailable(tool, ctx, args));
        const complete = "autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name kaws-prod-controlplane --lifecycle-hook-name kaws-ready --instance-id i-0123456789abcdef0 --lifecycle-action-result CONTINUE";

        it("with the pod network installed: waits for /readyz, the node at its release, and Ready, then completes the hook once", async function () {
            if (!tools(this)) return;
            let asks = 0;
            const states = [undefined, { version: "v1.35.9", ready: "True" }, { version: "v1.36.4", ready: "False" }, { version: "v1.36.4", ready: "True" }];
            const r = await run({
                readyz: () => 200,
                node: () => states[Math.min(asks++, states.length - 1)],
                daemonSet: true,
                awsAnswer: { status: 0, text: "" },
            });
            expect(r.status, r.output).to.equal(0);
            expect(r.awsCalls).to.deep.equal([complete]);
            // Not registered, then the old release, then not Ready: each is asked again; the gate passes on the last.
            expect(asks).to.be.at.least(states.length);
        });

        it("before the pod network exists (a new cluster): completes once registered at its release, NotReady or not", async function () {
            if (!tools(this)) return;
            let readyzAsks = 0;
            const r = await run({ readyz: () => (readyzAsks++ < 2 ? 500 : 200), node: () => ({ version: "v1.36.4", ready: "False" }), daemonSet: false, awsAnswer: { status: 0, text: "" } });
            expect(r.status, r.output).to.equal(0);
            expect(readyzAsks, "no completion before /readyz answered").to.be.at.least(3);
            expect(r.awsCalls).to.deep.equal([complete]);
        });

        it("a node no hook waits for exits cleanly; any other refusal fails the unit (systemd retries it)", async function () {
            if (!tools(this)) return;
            const node = () => ({ version: "v1.36.4", ready: "True" });
            const none = await run({ readyz: () => 200, node, daemonSet: true, awsAnswer: { status: 254, text: "An error occurred (ValidationError) when calling the CompleteLifecycleAction operation: No active Lifecycle Action found with instance ID i-0123456789abcdef0" } });
            expect(none.status, none.output).to.equal(0);
            expect(none.output).to.include("no lifecycle action was waiting");
            const denied = await run({ readyz: () => 200, node, daemonSet: true, awsAnswer: { status: 254, text: "An error occurred (AccessDenied) when calling the CompleteLifecycleAction operation" } });
            expect(denied.status).to.equal(1);
            expect(denied.output).to.include("AccessDenied");
        });
    });
});
