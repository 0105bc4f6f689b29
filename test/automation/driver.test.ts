import { expect } from "chai";
import { supportedReleases } from "../../plan/versions";
import { ValidationRequest, ValidationResult } from "../../automation/validate";
import { fakeAddonSettings } from "../fixtures/addonContract";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CliDeps, exitCodes, runCli } from "../../automation/cli";
import {
    ApiWaitRequest, ChangeCounts, ClusterUnreachableError, DestroyOptions, OperationOptions, StackHandle, StackLockedError, StackOutputs,
    Redactor, addonsConfigFrom,
} from "../../automation/driver";
import { ApiNotReadyError } from "../../automation/wait";
import { PlannedStep } from "../../automation/disruptionGuard";
import { evaluate, root, throwawayProject, editStackFile } from "../harness";

const secrets = {
    weavePassword: "fake-weave-SECRET-0123456789abcdef",
    caKey: "FAKE-CLIENT-KEY-SECRET-MATERIAL",
};
const fakeCa = "-----BEGIN CERTIFICATE-----\nFAKE-CA\n-----END CERTIFICATE-----\n";
const kubeconfigText = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "  - name: kaws-test",
    "    cluster:",
    "      server: https://api.kaws-test.example:6443",
    `      certificate-authority-data: ${Buffer.from(fakeCa).toString("base64")}`,
    "users:",
    "  - name: admin",
    "    user:",
    `      client-certificate-data: ${Buffer.from("CLIENT-CERT").toString("base64")}`,
    `      client-key-data: ${Buffer.from(secrets.caKey).toString("base64")}`,
    "",
].join("\n");

const infraOutputs: StackOutputs = {
    clusterName: { value: "kaws-test", secret: false },
    region: { value: "eu-west-1", secret: false },
    apiEndpoint: { value: "https://api.kaws-test.example:6443", secret: false },
    clusterCaCertificate: { value: fakeCa, secret: false },
    kubeconfig: { value: kubeconfigText, secret: true },
    addonSettings: { value: fakeAddonSettings(), secret: false },
    addonSecrets: { value: { weavePassword: secrets.weavePassword }, secret: true },
};

type Op = "preview" | "up" | "destroy";

/** A recorded fake stack: logs every call, streams some engine output (including a secret, to test redaction). */
class FakeStack implements StackHandle {
    config: Record<string, { value: string; secret: boolean }> = {};
    readonly configs: Record<string, { value: string; secret: boolean }>[] = [];
    constructor(
        readonly name: string,
        private readonly log: string[],
        private outputsNow: StackOutputs,
        private readonly upOutputs: StackOutputs,
        private readonly failures: Partial<Record<Op, Error | "hang">> = {},
        private readonly plannedSteps: readonly PlannedStep[] = [],
        /** What the stack's state holds protected. */
        readonly protectedUrns: Set<string> = new Set(),
    ) {}
    readonly unprotected: string[][] = [];

    private async run(op: Op, o: OperationOptions): Promise<ChangeCounts> {
        o.onOutput(`${this.name}: ${op} engine output, leaking ${secrets.weavePassword} by accident\n`);
        const failure = this.failures[op];
        if (failure === "hang") {
            await new Promise<void>((_resolve, reject) => o.signal.addEventListener("abort", () => reject(new Error("update canceled by SIGINT"))));
        } else if (failure) {
            throw failure;
        }
        return op === "destroy" ? { delete: 40 } : { create: 40, same: 2 };
    }

    async preview(o: OperationOptions) {
        this.log.push(`${this.name}.preview`);
        for (const step of this.plannedSteps) o.onStep?.(step);
        return this.run("preview", o);
    }
    async up(o: OperationOptions) {
        this.log.push(`${this.name}.up`);
        const changes = await this.run("up", o);
        this.outputsNow = this.upOutputs;
        return { changes, outputs: this.upOutputs };
    }
    async destroy(o: DestroyOptions) { this.log.push(`${this.name}.destroy${o.dropUnreachable ? "(drop-unreachable)" : ""}`); return this.run("destroy", o); }
    async outputs() { this.log.push(`${this.name}.outputs`); return this.outputsNow; }
    async setConfig(values: Record<string, { value: string; secret: boolean }>) { this.log.push(`${this.name}.setConfig`); this.config = values; this.configs.push(values); }
    async unprotect(urns?: readonly string[]) {
        this.log.push(`${this.name}.unprotect`);
        const cleared = [...this.protectedUrns].filter((urn) => !urns || urns.includes(urn));
        cleared.forEach((urn) => this.protectedUrns.delete(urn));
        this.unprotected.push(cleared);
        return cleared;
    }
}

interface Scenario {
    infraOutputsBefore?: StackOutputs;
    infraFailures?: Partial<Record<Op, Error | "hang">>;
    addonsFailures?: Partial<Record<Op, Error | "hang">>;
    waitError?: Error;
    janitorError?: Error;
    leftovers?: string[];
    stdinIsTTY?: boolean;
    answer?: string;
    abortAfterMs?: number;
    preflightProblems?: string[];
    janitorFails?: boolean;
    /** What the infra preview plans, step by step (nothing but "same" unless said). */
    infraSteps?: PlannedStep[];
    /** What the infra stack's state holds protected. */
    infraProtected?: string[];
    /** What the fake validation answers (ready unless said). */
    validation?: ValidationResult;
    /** Answers of successive validations (after them: ready). */
    validations?: ValidationResult[];
    /** The project the CLI runs in (the repository by default). */
    root?: string;
}

interface Result { code: number; stdout: string; stderr: string; log: string[]; addons: FakeStack; infra: FakeStack; waits: ApiWaitRequest[]; validated: ValidationRequest[] }

async function kaws(args: string[], scenario: Scenario = {}): Promise<Result> {
    const log: string[] = [];
    const waits: ApiWaitRequest[] = [];
    const validated: ValidationRequest[] = [];
    const infra = new FakeStack("kaws/dev", log, scenario.infraOutputsBefore ?? infraOutputs, infraOutputs, scenario.infraFailures, scenario.infraSteps, new Set(scenario.infraProtected ?? []));
    const addons = new FakeStack("kaws-addons/dev", log, {}, { installedAddons: { value: ["weave-net"], secret: false } }, scenario.addonsFailures);
    const controller = new AbortController();
    if (scenario.abortAfterMs !== undefined) setTimeout(() => controller.abort(), scenario.abortAfterMs);
    const deps: CliDeps = {
        stacks: {
            infra: async (env) => { log.push(`open infra ${env}`); return infra; },
            addons: async (env) => { log.push(`open addons ${env}`); return addons; },
        },
        waitForApi: async (request) => {
            log.push("wait");
            waits.push(request);
            request.onProgress(1, 10_000, "ECONNREFUSED");
            if (scenario.waitError) throw scenario.waitError;
            return { attempts: 2, elapsedMs: 20_000 };
        },
        janitor: {
            removeCloudResources: async (kubeconfig) => {
                log.push(`janitor(${kubeconfig === kubeconfigText ? "admin kubeconfig" : "?"})`);
                if (scenario.janitorError) throw scenario.janitorError;
                return { services: 1, claims: 2 };
            },
        },
        sweeper: { leftovers: async (cluster, region) => { log.push(`sweep ${cluster} ${region}`); return scenario.leftovers ?? []; } },
        preflight: async (env) => { log.push(`preflight ${env}`); return { account: "123456789012", region: "eu-west-1", zones: ["eu-west-1a"], problems: scenario.preflightProblems ?? [] }; },
        signal: controller.signal,
        stdinIsTTY: scenario.stdinIsTTY ?? false,
        prompt: async () => { log.push("prompt"); return scenario.answer ?? ""; },
        leftovers: async (clusterName, region, yes, _signal, onEvent) => {
            log.push(`janitor ${clusterName} ${region} yes=${yes}`);
            const leftover = { kind: "load balancer", service: "elbv2", id: "k8s-default-web", ownership: "owned", tags: {} } as any;
            onEvent(`${yes ? "deleted" : "would delete"} load balancer k8s-default-web (elbv2)`);
            return { found: [leftover], deleted: yes && !scenario.janitorFails ? [leftover] : [], failed: yes && scenario.janitorFails ? [{ leftover, reason: "DependencyViolation" }] : [], kept: [] };
        },
        liveApiScan: async (credentials, to) => {
            log.push(`live API scan ${credentials.endpoint} to ${to}`);
            return { scanned: true, endpoint: new URL(credentials.endpoint).host, requests: [], objects: [], stillServed: [] };
        },
        validate: async (request, waitMs, _signal, onProgress) => {
            log.push(`validate ${request.endpoint} pools=${request.pools.map((p) => `${p.pool}:${p.desired}`).join(",")} workloads=${request.workloads.length} wait=${waitMs}`);
            onProgress("not ready yet (attempt 1, 3 s): nodes");
            validated.push(request);
            return scenario.validations?.shift() ?? scenario.validation ?? { ready: true, rows: [{ check: "API healthy", status: "ok", detail: "/readyz 200" }] };
        },
    };
    let stdout = "";
    let stderr = "";
    const code = await runCli(args, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } }, scenario.root ?? root, () => deps);
    return { code, stdout, stderr, log, addons, infra, waits, validated };
}

function expectNoSecrets(result: Result): void {
    const text = result.stdout + result.stderr;
    for (const secret of [...Object.values(secrets), kubeconfigText.split("\n")[6].trim()]) expect(text, "a secret was printed").not.to.contain(secret);
}

describe("kaws driver (through a recorded fake of the stacks)", () => {
    it("up: preflight, infra up, wait for /readyz with our CA, then add-ons up fed by infra outputs; summary table", async () => {
        const r = await kaws(["up", "dev"]);
        expect(r.code).to.equal(exitCodes.ok);
        expect(r.log).to.deep.equal(["preflight dev", "open infra dev", "kaws/dev.outputs", "kaws/dev.preview", "kaws/dev.unprotect", "kaws/dev.up", "wait", "open addons dev", "kaws-addons/dev.setConfig", "kaws-addons/dev.up",
            "validate https://api.kaws-test.example:6443 pools=general:1 workloads=11 wait=600000"]);
        expect(r.waits[0]).to.include({ endpoint: "https://api.kaws-test.example:6443", caPem: fakeCa, clientCertPem: "CLIENT-CERT" });
        expect(r.addons.config["kaws-addons:addonSecrets"].secret).to.equal(true);
        expect(JSON.parse(r.addons.config["kaws-addons:addonSecrets"].value)).to.deep.equal({ weavePassword: secrets.weavePassword });
        expect(r.addons.config["kaws-addons:kubeconfig"].secret).to.equal(true);
        expect(r.addons.config["kaws-addons:addonSettings"].secret).to.equal(false);
        expect(JSON.parse(r.addons.config["kaws-addons:addonSettings"].value)).to.include({ podCidr: "10.32.0.0/12", clusterAutoscaler: true });
        expect(r.stdout).to.match(/== infra up \(kaws\/dev\) ==/);
        expect(r.stdout).to.match(/-- infra up \(kaws\/dev\): create 40, same 2 \(\d+\.\d s\)/);
        expect(r.stdout).to.contain("not ready yet (attempt 1, 10 s): ECONNREFUSED");
        expect(r.stdout, "the endpoint is not a secret").to.contain("waiting for https://api.kaws-test.example:6443/readyz");
        expect(r.stdout).to.match(/summary ==\nstage\s+result\s+time\s+details\ndisruption guard.*ok.*no disruption\ninfra up.*ok.*create 40, same 2\nwait for API.*ok.*ready after 2 attempt\(s\)\nadd-ons up.*ok/);
        expectNoSecrets(r);
        expect(r.stdout).to.contain("leaking [secret] by accident");
    });

    it("up: a failed infra stage stops the run; add-ons are skipped; exit 1", async () => {
        const r = await kaws(["up", "dev", "--skip-preflight"], { infraFailures: { up: new Error("error: creating EC2 instance: UnauthorizedOperation") } });
        expect(r.code).to.equal(exitCodes.failed);
        expect(r.log).to.deep.equal(["open infra dev", "kaws/dev.outputs", "kaws/dev.preview", "kaws/dev.unprotect", "kaws/dev.up"]);
        expect(r.stderr).to.contain("FAILED: error: creating EC2 instance: UnauthorizedOperation");
        expect(r.stdout).to.match(/add-ons up\s+skipped/);
        expect(r.stderr).to.contain("kaws: stopped: infra up (kaws/dev) failed");
        expectNoSecrets(r);
    });

    it("up: a locked stack is reported clearly with its own exit code", async () => {
        const r = await kaws(["up", "dev", "--skip-preflight"], { infraFailures: { up: new StackLockedError("kaws/dev") } });
        expect(r.code).to.equal(exitCodes.locked);
        expect(r.stderr).to.match(/stack kaws\/dev is locked by another update/);
    });

    it("up: an API that never gets ready stops before the add-ons, exit 4", async () => {
        const r = await kaws(["up", "dev", "--skip-preflight"], { waitError: new ApiNotReadyError("https://api.kaws-test.example:6443", 1_200_000, "ECONNREFUSED") });
        expect(r.code).to.equal(exitCodes.apiNotReady);
        expect(r.log).not.to.include("kaws-addons/dev.up");
        expect(r.stdout).to.match(/add-ons up\s+skipped/);
    });

    it("up: Ctrl-C cancels the running operation through its AbortSignal and nothing after it runs; exit 130", async () => {
        const r = await kaws(["up", "dev", "--skip-preflight"], { infraFailures: { up: "hang" }, abortAfterMs: 50 });
        expect(r.code).to.equal(exitCodes.cancelled);
        expect(r.log).to.deep.equal(["open infra dev", "kaws/dev.outputs", "kaws/dev.preview", "kaws/dev.unprotect", "kaws/dev.up"]);
        expect(r.stdout).to.match(/infra up \(kaws\/dev\)\s+cancelled/);
        expect(r.stderr).to.contain("was cancelled");
    });

    describe("up: the disruption guard, over steps of the evaluated dev stack", () => {
        let steps: (ops: Record<string, string>) => PlannedStep[];
        let protectedUrns: string[];
        let urnOf: (name: string) => string;
        before(async function () {
            this.timeout(60_000);
            const evaluation = await evaluate("dev");
            steps = (ops) => evaluation.resources.map((r) => ({ op: ops[r.name] ?? "same", urn: r.urn, type: r.type }));
            // What the program protects, as the engine records it: the stack's state holds these protected.
            protectedUrns = evaluation.resources.filter((r) => r.protect).map((r) => r.urn);
            urnOf = (name) => evaluation.resources.find((r) => r.name === name)!.urn;
        });

        it("releases exactly what an accepted plan removes that is protected, just before the update, and says so", async () => {
            expect(protectedUrns).to.have.length(4);
            const plan = { infraSteps: steps({ "kaws-dev-assets": "delete", "kaws-dev-general-worker-general": "replace" }), infraProtected: protectedUrns };
            const r = await kaws(["up", "dev", "--skip-preflight", "--allow-disruption", "kaws-dev"], plan);
            expect(r.code).to.equal(exitCodes.ok);
            expect(r.infra.unprotected).to.deep.equal([[urnOf("kaws-dev-assets")]]);
            expect(r.log.indexOf("kaws/dev.unprotect")).to.be.lessThan(r.log.indexOf("kaws/dev.up"));
            expect(r.stderr).to.contain(`kaws: unprotected for this update: ${urnOf("kaws-dev-assets")}`);
            const refused = await kaws(["up", "dev", "--skip-preflight"], plan);
            expect(refused.code).to.equal(exitCodes.disruptive);
            expect(refused.infra.unprotected, "a refused plan releases nothing").to.deep.equal([]);
        });

        it("refuses replacing the only etcd member's volume before anything is applied; exit 7, one line saying how to override", async () => {
            const r = await kaws(["up", "dev", "--skip-preflight"], { infraSteps: steps({ "kaws-dev-etcd-0-data": "replace" }) });
            expect(r.code).to.equal(exitCodes.disruptive);
            expect(r.log).to.deep.equal(["open infra dev", "kaws/dev.outputs", "kaws/dev.preview"]);
            const refused = r.stderr.split("\n").filter((l) => l.startsWith("kaws: refused: "));
            expect(refused).to.have.length(1);
            expect(refused[0]).to.include("1 of 1 etcd members").and.include("kaws-dev-etcd-0-data").and.include("one member at a time");
            expect(r.stderr).to.match(/disruption guard \(kaws\/dev preview\): FAILED: .*nothing was applied; to apply it anyway: --allow-disruption kaws-dev/);
            expect(r.stdout).to.match(/infra up\s+skipped/).and.match(/add-ons up\s+skipped/);
            expectNoSecrets(r);
        });

        it("applies it with --allow-disruption <cluster name>, warning; refuses any other name, exit 2, before opening a stack", async () => {
            const allowed = await kaws(["up", "dev", "--skip-preflight", "--allow-disruption", "kaws-dev"], { infraSteps: steps({ "kaws-dev-assets": "delete" }) });
            expect(allowed.code).to.equal(exitCodes.ok);
            expect(allowed.log).to.include("kaws/dev.up");
            expect(allowed.stderr).to.match(/allowed by --allow-disruption: delete kaws-dev-assets: the assets bucket/);
            const wrong = await kaws(["up", "dev", "--skip-preflight", "--allow-disruption", "kaws-prod"], { infraSteps: steps({ "kaws-dev-assets": "delete" }) });
            expect(wrong.code).to.equal(exitCodes.usage);
            expect(wrong.log).to.deep.equal([]);
            expect(wrong.stderr).to.match(/^kaws: --allow-disruption "kaws-prod": is not this environment's cluster name; accepted: kaws-dev$/m);
        });

        it("lets a worker group's replacement through", async () => {
            const r = await kaws(["up", "dev", "--skip-preflight"], { infraSteps: steps({ "kaws-dev-general-worker-general": "replace" }) });
            expect(r.code).to.equal(exitCodes.ok);
            expect(r.stdout).to.match(/disruption guard.*ok.*no disruption/);
        });
    });

    describe("upgrade: waves through the fake stacks, in a project whose dev runs the older pinned release", () => {
        const releases = Object.keys(supportedReleases).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
        const [older, newest] = releases.slice(-2);
        let dir: string;
        before(() => {
            dir = throwawayProject();
            editStackFile(dir, "dev", (config) => {
                config["kaws:kubernetesVersion"] = older;
                config["kaws:workerPools"].push({ ...config["kaws:workerPools"][0], name: "batch" });
            });
        });
        after(() => fs.rmSync(dir, { recursive: true, force: true }));
        const notReady: ValidationResult = { ready: false, rows: [{ check: "control plane nodes", status: "not ready", detail: `0/1 Ready (expected 1); not ready: ip-10-0-0-1 (kubelet v${older}, expected v${newest})` }] };
        const versionsIn = (values: Record<string, { value: string }>) => ({
            cluster: values["kaws:kubernetesVersion"]?.value,
            pools: values["kaws:workerPools"] && JSON.parse(values["kaws:workerPools"].value).map((p: any) => `${p.name}=${p.kubernetesVersion ?? "follows"}`),
        });

        it("control plane first with every pool held back, then one pool per wave, then the add-ons; each wave gated at its own versions", async () => {
            const r = await kaws(["upgrade", "dev", "--to", newest], { root: dir });
            expect(r.stderr).to.equal("");
            expect(r.code).to.equal(exitCodes.ok);
            expect(r.log.map((l) => (l.startsWith("validate ") ? "validate" : l))).to.deep.equal([
                "open infra dev", "kaws/dev.outputs", `live API scan https://api.kaws-test.example:6443 to ${newest}`,
                "open infra dev", "kaws/dev.outputs",
                "kaws/dev.setConfig", "kaws/dev.up", "validate",
                "kaws/dev.setConfig", "kaws/dev.up", "validate",
                "kaws/dev.setConfig", "kaws/dev.up", "validate",
                "open addons dev", "kaws-addons/dev.setConfig", "kaws-addons/dev.up", "validate",
            ]);
            expect(r.infra.configs.map(versionsIn)).to.deep.equal([
                { cluster: newest, pools: [`general=${older}`, `batch=${older}`] },
                { cluster: undefined, pools: ["general=follows", `batch=${older}`] },
                { cluster: undefined, pools: ["general=follows", "batch=follows"] },
            ]);
            const gates = r.validated.map((v) => [v.controlPlaneVersion, ...v.pools.map((p) => `${p.pool}=${p.kubernetesVersion}`)]);
            expect(gates).to.deep.equal([
                [newest, `general=${older}`, `batch=${older}`],
                [newest, `general=${newest}`, `batch=${older}`],
                [newest, `general=${newest}`, `batch=${newest}`],
                [newest, `general=${newest}`, `batch=${newest}`],
            ]);
            expect(r.stdout).to.match(/wave 1 \(control plane\): gate.*ok[\s\S]*wave 4 \(add-ons\): gate.*ok/);
            expectNoSecrets(r);
        });

        it("stops at the first gate that does not pass, before any worker moves; exit 6, saying what to do", async () => {
            const r = await kaws(["upgrade", "dev", "--to", newest], { root: dir, validations: [notReady] });
            expect(r.code).to.equal(exitCodes.clusterNotReady);
            expect(r.log.filter((l) => l === "kaws/dev.up")).to.have.length(1);
            expect(r.log).not.to.include("kaws-addons/dev.up");
            expect(r.stderr).to.match(/wave 1 \(control plane\): gate: FAILED: wave "control plane" did not pass its gate: control plane nodes: 0\/1 Ready/);
            expect(r.stderr).to.contain(`kaws upgrade dev --to <version> --plan`);
        });

        it("--plan and refusals change no stack", async () => {
            const planned = await kaws(["upgrade", "dev", "--to", newest, "--plan"], { root: dir });
            expect(planned.code).to.equal(exitCodes.ok);
            expect(planned.log).to.deep.equal(["open infra dev", "kaws/dev.outputs", `live API scan https://api.kaws-test.example:6443 to ${newest}`]);
            const refused = await kaws(["upgrade", "dev", "--to", older], { root: dir });
            expect(refused.code).to.equal(exitCodes.usage);
            expect(refused.log).to.deep.equal([]);
        });
    });

    it("preview: infra then add-ons with one summary; add-ons skipped while the infra stack has no outputs", async () => {
        const r = await kaws(["preview", "dev"]);
        expect(r.code).to.equal(exitCodes.ok);
        expect(r.log).to.deep.equal(["open infra dev", "kaws/dev.outputs", "kaws/dev.preview", "open addons dev", "kaws-addons/dev.setConfig", "kaws-addons/dev.preview"]);
        expect(r.stdout).to.match(/infra preview.*ok.*create 40, same 2\nadd-ons preview.*ok.*create 40, same 2/);
        expectNoSecrets(r);
        const fresh = await kaws(["preview", "dev"], { infraOutputsBefore: {} });
        expect(fresh.code).to.equal(exitCodes.ok);
        expect(fresh.log).not.to.include("kaws-addons/dev.preview");
        expect(fresh.stdout).to.match(/add-ons preview\s+skipped.*not been deployed/);
    });

    it("destroy --yes: load balancers and volumes first, then add-ons, then infra (every protected resource released first), then the sweep", async () => {
        const held = ["urn:pulumi:dev::kaws::aws:kms/key:Key::kaws-dev-key", "urn:pulumi:dev::kaws::aws:s3/bucket:Bucket::kaws-dev-assets"];
        const r = await kaws(["destroy", "dev", "--yes"], { infraProtected: held });
        expect(r.code).to.equal(exitCodes.ok);
        expect(r.log).to.deep.equal(["open infra dev", "kaws/dev.outputs", "janitor(admin kubeconfig)", "open addons dev", "kaws-addons/dev.destroy", "kaws/dev.unprotect", "kaws/dev.destroy", "sweep kaws-test eu-west-1"]);
        expect(r.infra.unprotected).to.deep.equal([held]);
        expect(r.stdout).to.match(/infra destroy.*2 protected resource\(s\) released first/);
        expect(r.stdout).to.contain("1 LoadBalancer Service(s), 2 PVC(s) removed");
        expectNoSecrets(r);
    });

    it("destroy: an unreachable cluster is said so, and the add-ons stack drops its objects", async () => {
        const r = await kaws(["destroy", "dev", "--yes"], { janitorError: new ClusterUnreachableError("ECONNREFUSED") });
        expect(r.code).to.equal(exitCodes.ok);
        expect(r.stdout).to.contain("the cluster API is unreachable (ECONNREFUSED): skipping the clean-up");
        expect(r.log).to.include("kaws-addons/dev.destroy(drop-unreachable)");
        expect(r.log).to.include("kaws/dev.destroy");
    });

    it("destroy: resources still tagged for the cluster are listed, exit 5", async () => {
        const arn = "arn:aws:ec2:eu-west-1:123456789012:volume/vol-0123";
        const r = await kaws(["destroy", "dev", "--yes"], { leftovers: [arn] });
        expect(r.code).to.equal(exitCodes.leftovers);
        expect(r.stdout).to.contain(`still tagged kubernetes.io/cluster/kaws-test: ${arn}`);
    });

    it("destroy: never prompts without a terminal (needs --yes), and only proceeds on the exact answer", async () => {
        const noTty = await kaws(["destroy", "dev"]);
        expect(noTty.code).to.equal(exitCodes.usage);
        expect(noTty.log).to.deep.equal([]);
        expect(noTty.stderr).to.match(/^kaws: destroy deletes the whole cluster; pass --yes.*\nUsage: kaws destroy/);
        const wrong = await kaws(["destroy", "dev"], { stdinIsTTY: true, answer: "yes" });
        expect(wrong.code).to.equal(exitCodes.failed);
        expect(wrong.log).to.deep.equal(["prompt"]);
        const right = await kaws(["destroy", "dev"], { stdinIsTTY: true, answer: "dev\n" });
        expect(right.code).to.equal(exitCodes.ok);
        expect(right.log).to.include("kaws/dev.destroy");
    });

    it("outputs: secrets redacted unless --show-secrets", async () => {
        const r = await kaws(["outputs", "dev"]);
        expect(r.code).to.equal(exitCodes.ok);
        expect(r.stdout).to.match(/^addonSecrets\s+\[secret\]$/m);
        expect(r.stdout).to.match(/^addonSettings\s+\{.*"podCidr":"10\.32\.0\.0\/12"/m);
        expectNoSecrets(r);
        const shown = await kaws(["outputs", "dev", "--show-secrets"]);
        expect(shown.stdout).to.contain(secrets.weavePassword);
    });

    it("kubeconfig: writes the admin kubeconfig with mode 0600 and prints only the path", async () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kaws-kc-")), "kubeconfig");
        fs.writeFileSync(file, "old, world-readable", { mode: 0o644 });
        const r = await kaws(["kubeconfig", "dev", "--out", file]);
        expect(r.code).to.equal(exitCodes.ok);
        expect(fs.readFileSync(file, "utf8")).to.equal(kubeconfigText);
        expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
        expect(r.stdout).to.contain(file);
        expectNoSecrets(r);
    });

    it("usage errors: unknown environment, command or flag → one line and the usage, exit 2", async () => {
        for (const args of [["up", "staging"], ["frobnicate", "dev"], ["up", "dev", "--force"], ["outputs"]]) {
            const r = await kaws(args);
            expect(r.code, args.join(" ")).to.equal(exitCodes.usage);
            expect(r.stderr, args.join(" ")).to.match(/^(kaws: |error: ).*\n(\n)?Usage: kaws/);
            expect(r.log).to.deep.equal([]);
        }
        const help = await kaws(["destroy", "--help"]);
        expect(help.code).to.equal(exitCodes.ok);
        expect(help.stdout).to.contain("--yes");
    });

    it("redacts a kubeconfig's key material wherever it appears, but not its server", () => {
        const redactor = new Redactor();
        redactor.addOutputs({ kubeconfig: { value: kubeconfigText, secret: true }, podCidr: { value: "10.32.0.0/12", secret: false } });
        const keyData = Buffer.from(secrets.caKey).toString("base64");
        expect(redactor.apply(`error decoding ${keyData} at https://api.kaws-test.example:6443 for 10.32.0.0/12`))
            .to.equal("error decoding [secret] at https://api.kaws-test.example:6443 for 10.32.0.0/12");
    });

    it("preflight: checks the environment and changes nothing; up stops on its problems, one line each", async () => {
        const r = await kaws(["preflight", "prod"]);
        expect(r.code).to.equal(exitCodes.ok);
        expect(r.log).to.deep.equal(["preflight prod"]);
        expect(r.stdout).to.equal("preflight: AWS account 123456789012, region eu-west-1, zones eu-west-1a\n");
        const problems = ["aws:region eu-west-1 has 2 available zone(s); kaws:azCount asks for 3", "the Pulumi CLI is not installed; install it from https://www.pulumi.com/docs/install/"];
        const failed = await kaws(["up", "dev"], { preflightProblems: problems });
        expect(failed.code).to.equal(exitCodes.failed);
        expect(failed.log, "nothing after preflight").to.deep.equal(["preflight dev"]);
        expect(failed.stderr).to.equal(`${problems.map((p) => `preflight: ${p}\n`).join("")}kaws: preflight found 2 problems; nothing was changed\n`);
    });

    it("validate: checks the running cluster once (or until ready with --wait), prints the table, exit 6 when not ready", async () => {
        const ok = await kaws(["validate", "dev"]);
        expect(ok.code, ok.stderr).to.equal(exitCodes.ok);
        expect(ok.log).to.deep.equal(["open infra dev", "kaws/dev.outputs", "validate https://api.kaws-test.example:6443 pools=general:1 workloads=11 wait=0"]);
        expect(ok.stdout).to.match(/API healthy\s+ok\s+\/readyz 200/);
        const waited = await kaws(["validate", "dev", "--wait", "90s"]);
        expect(waited.log[2]).to.match(/ wait=90000$/);
        const notReady = { ready: false, rows: [{ check: "pool general", status: "not ready" as const, detail: "1/2 Ready" }] };
        const bad = await kaws(["validate", "dev"], { validation: notReady });
        expect(bad.code).to.equal(exitCodes.clusterNotReady);
        expect(bad.stdout).to.match(/pool general\s+not ready\s+1\/2 Ready/);
        expect(bad.stderr).to.match(/^kaws: the cluster is not ready: /);
        const badWait = await kaws(["validate", "dev", "--wait", "5x"]);
        expect(badWait.code).to.equal(exitCodes.usage);
        expect(badWait.stderr).to.match(/^kaws: --wait "5x": is not a duration; accepted: /);
        expect(badWait.log).to.deep.equal([]);
        const upNotReady = await kaws(["up", "dev", "--skip-preflight"], { validation: notReady });
        expect(upNotReady.code, "up runs validate last").to.equal(exitCodes.clusterNotReady);
        expect(upNotReady.stdout).to.contain("not ready yet (attempt 1, 3 s): nodes");
    });

    it("janitor: lists what controllers left (changing nothing) without --yes; deletes with --yes; exit 5 when something could not be deleted", async () => {
        const dry = await kaws(["janitor", "dev"]);
        expect(dry.code, dry.stderr).to.equal(exitCodes.ok);
        expect(dry.log).to.deep.equal(["janitor kaws-dev eu-west-1 yes=false"]);
        expect(dry.stdout).to.contain("would delete load balancer k8s-default-web (elbv2)").and.to.contain("1 left behind for kaws-dev; run with --yes to delete them");
        const yes = await kaws(["janitor", "dev", "--yes"]);
        expect(yes.code).to.equal(exitCodes.ok);
        expect(yes.stdout).to.contain("deleted 1 of 1");
        const failed = await kaws(["janitor", "dev", "--yes"], { janitorFails: true });
        expect(failed.code).to.equal(exitCodes.leftovers);
    });

    it("names every infra output the add-ons stage is missing, and every missing or wrong setting", () => {
        const { addonSecrets: _s, kubeconfig: _k, ...partial } = infraOutputs;
        expect(() => addonsConfigFrom(partial)).to.throw(/the infra stack has no output addonSecrets, kubeconfig;/);
        const { vpcCidr: _v, ...settings } = infraOutputs.addonSettings.value as Record<string, unknown>;
        expect(() => addonsConfigFrom({ ...infraOutputs, addonSettings: { value: { ...settings, clusterAutoscaler: "yes", extra: 1 }, secret: false } }))
            .to.throw(/^the infra stack's addonSettings output: vpcCidr \(a string\) is missing or wrong; clusterAutoscaler \(a boolean\) is missing or wrong; extra is not a setting; accepted: /);
        const thrown = (() => { try { addonsConfigFrom({ ...infraOutputs, addonSecrets: { value: { stale: secrets.weavePassword }, secret: true } }); return ""; } catch (e) { return String(e); } })();
        expect(thrown).to.contain("weavePassword (a string) is missing or wrong; stale is not a setting").and.not.to.contain(secrets.weavePassword);
    });
});

describe("kaws driver with the real Pulumi CLI", function () {
    this.timeout(60000);

    before(function () {
        try {
            execFileSync("pulumi", ["version"], { stdio: "ignore" });
        } catch {
            console.log("    skipped: the Pulumi CLI is not on PATH (this test opens the add-ons stack on a local file backend)");
            this.skip();
        }
    });

    it("opens the add-ons stack through the Automation API, sets its config and reads its (empty) outputs", async () => {
        const backend = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-backend-"));
        const saved = { ...process.env };
        Object.assign(process.env, { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "test-only" });
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const stacks = require("../../automation/stacks").pulumiStacks(root);
            const addons: StackHandle = await stacks.addons("kawstest");
            await addons.setConfig(addonsConfigFrom(infraOutputs));
            expect(await addons.outputs()).to.deep.equal({});
        } finally {
            process.env = saved;
            fs.rmSync(path.join(root, "addons", "program", "Pulumi.kawstest.yaml"), { force: true });
        }
    });
});

describe("the ESC example for Pulumi Deployments", () => {
    it("maps every infra output the driver passes to the add-ons stack, under the same config key", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const doc = require("yaml").parse(fs.readFileSync(path.join(root, "addons", "program", "esc-environment.example.yaml"), "utf8"));
        const expected = Object.keys(addonsConfigFrom(infraOutputs)).sort();
        expect(Object.keys(doc.values.pulumiConfig).sort()).to.deep.equal(expected);
        for (const [key, value] of Object.entries<unknown>(doc.values.pulumiConfig)) {
            const reference = `\${infra.dev.${key.slice("kaws-addons:".length)}}`;
            // Structured outputs travel as JSON strings, as the driver writes them.
            const structured = typeof infraOutputs[key.slice("kaws-addons:".length)].value === "object";
            expect(value, key).to.deep.equal(structured ? { "fn::toJSON": reference } : reference);
        }
    });
});
