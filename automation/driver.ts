import { parseAddonSecrets, parseAddonSettings } from "../addons/settings";
import { ClusterNotReadyError, ValidationResult, formatValidation, notReadySummary } from "./validate";
import * as fs from "fs";
import { CancelledError } from "./wait";
import { DisruptionError, PlannedStep, StatefulResources, disruptionsOf, removedBy } from "./disruptionGuard";

/** A stack output as the Automation API returns it (secrets in plaintext, flagged). */
export interface StackOutput {
    readonly value: unknown;
    readonly secret: boolean;
}
export type StackOutputs = Record<string, StackOutput>;
/** Resource operation counts of one operation: create, update, delete, replace, same... */
export type ChangeCounts = Record<string, number>;

export interface OperationOptions {
    /** Streamed engine output. */
    readonly onOutput: (text: string) => void;
    readonly signal: AbortSignal;
    /** Receives each step a preview plans (wired by `up`'s disruption guard). */
    readonly onStep?: (step: PlannedStep) => void;
}

export interface DestroyOptions extends OperationOptions {
    /** The cluster is unreachable: let the kubernetes provider drop its objects from state. */
    readonly dropUnreachable?: boolean;
}

/** One Pulumi stack, as the driver sees it. The real one wraps @pulumi/pulumi/automation (stacks.ts). */
export interface StackHandle {
    /** "<project>/<stack>", for messages. */
    readonly name: string;
    preview(options: OperationOptions): Promise<ChangeCounts>;
    up(options: OperationOptions): Promise<{ changes: ChangeCounts; outputs: StackOutputs }>;
    destroy(options: DestroyOptions): Promise<ChangeCounts>;
    outputs(): Promise<StackOutputs>;
    setConfig(values: Record<string, { value: string; secret: boolean }>): Promise<void>;
    /** Clears `protect` in the stack's state on these resources (every one when omitted); returns the URNs it cleared. */
    unprotect(urns?: readonly string[]): Promise<string[]>;
}

/** The seam: opens the two stacks of an environment. Tests pass a recorded fake. */
export interface StackFactory {
    infra(env: string): Promise<StackHandle>;
    addons(env: string): Promise<StackHandle>;
}

/** Another update holds the stack's lock (Pulumi's ConcurrentUpdateError). */
export class StackLockedError extends Error {
    constructor(stack: string) {
        super(`stack ${stack} is locked by another update; wait for it to finish (or, if it died, run \`pulumi cancel\` after checking)`);
        this.name = "StackLockedError";
    }
}

export class ClusterUnreachableError extends Error {
    constructor(reason: string) {
        super(`the cluster API is unreachable (${reason})`);
        this.name = "ClusterUnreachableError";
    }
}

/** A stage failed; the run stopped there. */
export class StageFailedError extends Error {
    constructor(readonly stage: string, readonly cause: unknown) {
        super(`${stage} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
        this.name = "StageFailedError";
    }
}

/** destroy finished, but AWS still holds resources tagged for the cluster. */
export class LeftoversError extends Error {
    constructor(readonly leftovers: string[]) {
        super(`${leftovers.length} AWS resource(s) still tagged for the cluster; delete them or re-run destroy`);
        this.name = "LeftoversError";
    }
}

export interface ApiWaitRequest {
    readonly endpoint: string;
    readonly caPem: string;
    readonly clientCertPem?: string;
    readonly clientKeyPem?: string;
    readonly signal: AbortSignal;
    readonly onProgress: (attempt: number, elapsedMs: number, reason: string) => void;
}

/** Removes what Kubernetes created in AWS (load balancers, volumes) and waits for AWS to finish. */
export interface ClusterJanitor {
    /** Throws ClusterUnreachableError when the API cannot be reached. */
    removeCloudResources(kubeconfig: string, signal: AbortSignal, progress: (message: string) => void): Promise<{ services: number; claims: number }>;
}

/** Lists AWS resources still tagged kubernetes.io/cluster/<name>. */
export interface LeftoverFinder {
    leftovers(clusterName: string, region: string, signal: AbortSignal): Promise<string[]>;
}

/**
 * Deletes what in-cluster controllers left in AWS tagged for the cluster (automation/janitor.ts, awsLeftoverJanitor):
 * load balancers, target groups, ENIs, security groups, volumes, snapshots; never kaws' own resources.
 */
export interface LeftoverJanitor {
    removeLeftovers(clusterName: string, region: string, signal: AbortSignal, onEvent: (line: string) => void): Promise<LeftoverJanitorResult>;
}

/** One resource a controller left (automation/janitor.ts Leftover, as the driver needs it). */
export interface ControllerLeftover {
    readonly kind: string;
    readonly id: string;
    readonly arn?: string;
}
export interface LeftoverJanitorResult {
    readonly found: readonly ControllerLeftover[];
    readonly deleted: readonly ControllerLeftover[];
    readonly failed: readonly { leftover: ControllerLeftover; reason: string }[];
    readonly kept: readonly { leftover: ControllerLeftover; reason: string }[];
}

export interface DriverDeps {
    readonly stacks: StackFactory;
    readonly stdout: (text: string) => void;
    readonly stderr: (text: string) => void;
    readonly signal: AbortSignal;
    readonly waitForApi: (request: ApiWaitRequest) => Promise<{ attempts: number; elapsedMs: number }>;
    readonly janitor: ClusterJanitor;
    readonly sweeper: LeftoverFinder;
    /** Run by destroy after the infra stack is gone, before the sweep; absent: that stage is skipped. */
    readonly leftoverJanitor?: LeftoverJanitor;
    readonly now?: () => number;
    /** Checks `up` runs before anything else (automation/aws.ts preflightEnvironment); absent: none. */
    readonly preflight?: PreflightCheck;
    /** What `up` runs last: validates the cluster from the infra outputs (bounded, with progress); absent: none. */
    readonly validate?: (outputs: StackOutputs, signal: AbortSignal, onProgress: (line: string) => void) => Promise<ValidationResult>;
    /** `up` previews the infra stack first and refuses a plan that would lose quorum or state (automation/disruptionGuard.ts); absent: no guard. */
    readonly guard?: { readonly cluster: StatefulResources; readonly allowDisruption: boolean };
}

/** What preflight found: one line per problem (what is wrong, what to do), notes, and the facts. */
export interface PreflightReport {
    readonly account: string;
    readonly region?: string;
    readonly zones?: readonly string[];
    readonly problems: readonly string[];
    readonly notes?: readonly string[];
}
export type PreflightCheck = (env: string, signal: AbortSignal) => Promise<PreflightReport>;

/** Preflight found problems (each already printed on its own line); nothing was changed. */
export class PreflightError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`preflight found ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was changed`);
        this.name = "PreflightError";
    }
}

/**
 * Runs preflight and prints what it found: the facts on stdout, then each note and each problem on its own
 * line on stderr. Throws PreflightError when there are problems (exit code 1, "failed").
 */
export async function runPreflight(env: string, check: PreflightCheck, io: Pick<DriverDeps, "stdout" | "stderr" | "signal">): Promise<PreflightReport> {
    const report = await check(env, io.signal);
    const zones = report.zones && report.zones.length > 0 ? `, zones ${report.zones.join(", ")}` : "";
    io.stdout(`preflight: AWS account ${report.account}, region ${report.region ?? "unknown"}${zones}\n`);
    for (const note of report.notes ?? []) io.stderr(`preflight: note: ${note}\n`);
    for (const problem of report.problems) io.stderr(`preflight: ${problem}\n`);
    if (report.problems.length > 0) throw new PreflightError(report.problems);
    return report;
}

/**
 * The add-ons stack's config from the infra stack's outputs (the contract of addons/settings.ts): its
 * settings (plain), secrets and the admin kubeconfig (secret). Names whatever is missing or malformed.
 */
export function addonsConfigFrom(outputs: StackOutputs): Record<string, { value: string; secret: boolean }> {
    const missing = ["addonSettings", "addonSecrets", "kubeconfig"].filter((key) => outputs[key] === undefined || outputs[key].value === undefined || outputs[key].value === null);
    if (missing.length > 0) throw new Error(`the infra stack has no output ${missing.join(", ")}; the add-ons stage needs addonSettings, addonSecrets and kubeconfig`);
    const settings = parseAddonSettings(outputs.addonSettings.value, "the infra stack's addonSettings output");
    const secrets = parseAddonSecrets(outputs.addonSecrets.value, "the infra stack's addonSecrets output");
    return {
        "kaws-addons:addonSettings": { value: JSON.stringify(settings), secret: false },
        "kaws-addons:addonSecrets": { value: JSON.stringify(secrets), secret: true },
        "kaws-addons:kubeconfig": { value: String(outputs.kubeconfig.value), secret: true },
    };
}

export const redacted = "[secret]";

/** Replaces every known secret value (and every long line of a multi-line one) in text written out. */
export class Redactor {
    private readonly secrets = new Set<string>();

    addOutputs(outputs: StackOutputs): void {
        for (const output of Object.values(outputs)) {
            if (!output.secret) continue;
            // A structured secret output (addonSecrets): every string in it, and the whole as it would print.
            const strings = (value: unknown): string[] => (typeof value === "string" ? [value]
                : value !== null && typeof value === "object" ? Object.values(value).flatMap(strings) : []);
            for (const text of strings(output.value)) this.add(text);
            if (typeof output.value !== "string") this.add(JSON.stringify(output.value));
        }
    }

    /** A secret value, plus the parts of a multi-line one (a kubeconfig) that are key material on their own. */
    add(text: string): void {
        if (text.length >= 6) this.secrets.add(text);
        for (const line of text.split("\n").map((l) => l.trim())) {
            if (line.length >= 32 && !/\s/.test(line)) this.secrets.add(line);
            const value = /(data|token|key|password|secret)"?\s*:\s*"?([^\s"]{8,})"?$/i.exec(line)?.[2];
            if (value) this.secrets.add(value);
        }
    }

    apply(text: string): string {
        let result = text;
        for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) result = result.split(secret).join(redacted);
        return result;
    }
}

interface StageRow {
    readonly stage: string;
    readonly result: "ok" | "failed" | "skipped" | "cancelled";
    readonly detail: string;
    readonly seconds: number;
}

export function formatChanges(changes: ChangeCounts): string {
    const order = ["create", "update", "replace", "delete", "same"];
    const keys = Object.keys(changes).sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
    const parts = keys.filter((k) => changes[k] > 0).map((k) => `${k} ${changes[k]}`);
    return parts.length > 0 ? parts.join(", ") : "no changes";
}

/** One run of the driver: stage headers, streamed output through the redactor, a summary table. */
class Run {
    readonly redactor = new Redactor();
    private readonly rows: StageRow[] = [];
    private readonly now: () => number;

    constructor(private readonly deps: DriverDeps, private readonly title: string) {
        this.now = deps.now ?? Date.now;
    }

    out(text: string): void {
        this.deps.stdout(this.redactor.apply(text));
    }

    err(text: string): void {
        this.deps.stderr(this.redactor.apply(text));
    }

    get operation(): OperationOptions {
        return { onOutput: (text) => this.out(text), signal: this.deps.signal };
    }

    skip(stage: string, why: string): void {
        this.out(`\n== ${stage}: skipped (${why})\n`);
        this.rows.push({ stage, result: "skipped", detail: why, seconds: 0 });
    }

    /** Runs one stage: header, body, its summary line; a failure is recorded and rethrown as StageFailedError. */
    async stage<T>(stage: string, body: () => Promise<{ value: T; detail: string }>): Promise<T> {
        const started = this.now();
        this.out(`\n== ${stage} ==\n`);
        try {
            if (this.deps.signal.aborted) throw new CancelledError(stage);
            const { value, detail } = await body();
            const seconds = (this.now() - started) / 1000;
            this.out(`-- ${stage}: ${detail} (${seconds.toFixed(1)} s)\n`);
            this.rows.push({ stage, result: "ok", detail, seconds });
            return value;
        } catch (err) {
            const seconds = (this.now() - started) / 1000;
            const cancelled = this.deps.signal.aborted || err instanceof CancelledError;
            const cause = cancelled && !(err instanceof CancelledError) ? new CancelledError(stage) : err;
            const message = firstLine(cause);
            this.rows.push({ stage, result: cancelled ? "cancelled" : "failed", detail: message, seconds });
            this.err(`-- ${stage}: ${cancelled ? "cancelled" : "FAILED"}: ${message} (${seconds.toFixed(1)} s)\n`);
            throw new StageFailedError(stage, cause);
        }
    }

    summary(): void {
        if (this.rows.length === 0) return;
        const width = Math.max(5, ...this.rows.map((r) => r.stage.length));
        const lines = [
            `\n== ${this.title}: summary ==`,
            `${"stage".padEnd(width)}  ${"result".padEnd(9)}  ${"time".padStart(8)}  details`,
            ...this.rows.map((r) => `${r.stage.padEnd(width)}  ${r.result.padEnd(9)}  ${`${r.seconds.toFixed(1)} s`.padStart(8)}  ${r.detail}`),
        ];
        this.out(lines.join("\n") + "\n");
    }
}

function firstLine(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    const lines = message.split("\n").map((l) => l.trim()).filter(Boolean);
    const meaningful = lines.find((l) => /error|fail|denied|locked|cancel/i.test(l)) ?? lines[0] ?? "unknown error";
    return meaningful.length > 300 ? `${meaningful.slice(0, 300)}...` : meaningful;
}

async function runStages(run: Run, body: () => Promise<void>): Promise<void> {
    try {
        await body();
    } finally {
        run.summary();
    }
}

interface Kubeconfig {
    readonly server: string;
    readonly caPem: string;
    readonly clientCertPem?: string;
    readonly clientKeyPem?: string;
}

/** Server, CA and client credentials of the first cluster/user of a kubeconfig (data fields, base64). */
export function parseKubeconfig(text: string): Kubeconfig {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const doc = require("yaml").parse(text);
    const cluster = doc?.clusters?.[0]?.cluster;
    const user = doc?.users?.[0]?.user ?? {};
    if (!cluster?.server || !cluster["certificate-authority-data"]) throw new Error("the kubeconfig output has no cluster server and certificate-authority-data");
    const decode = (value?: string) => (value ? Buffer.from(value, "base64").toString("utf8") : undefined);
    return {
        server: cluster.server,
        caPem: decode(cluster["certificate-authority-data"])!,
        clientCertPem: decode(user["client-certificate-data"]),
        clientKeyPem: decode(user["client-key-data"]),
    };
}

async function waitStage(run: Run, deps: DriverDeps, outputs: StackOutputs): Promise<void> {
    await run.stage("wait for API", async () => {
        const kubeconfig = parseKubeconfig(String(outputs.kubeconfig?.value ?? ""));
        const caPem = typeof outputs.clusterCaCertificate?.value === "string" ? outputs.clusterCaCertificate.value : kubeconfig.caPem;
        const endpoint = typeof outputs.apiEndpoint?.value === "string" ? outputs.apiEndpoint.value : kubeconfig.server;
        run.out(`waiting for ${endpoint}/readyz (certificate checked against the cluster CA)\n`);
        const result = await deps.waitForApi({
            endpoint, caPem, clientCertPem: kubeconfig.clientCertPem, clientKeyPem: kubeconfig.clientKeyPem, signal: deps.signal,
            onProgress: (attempt, elapsedMs, reason) => run.out(`  not ready yet (attempt ${attempt}, ${Math.round(elapsedMs / 1000)} s): ${reason}\n`),
        });
        return { value: undefined, detail: `ready after ${result.attempts} attempt(s)` };
    });
}

/** `kaws preview <env>`: infra preview, then add-ons preview (when the infra stack has outputs to feed it). */
export async function preview(env: string, deps: DriverDeps): Promise<void> {
    const run = new Run(deps, `preview ${env}`);
    await runStages(run, async () => {
        const infra = await deps.stacks.infra(env);
        const outputs = await infra.outputs();
        run.redactor.addOutputs(outputs);
        await run.stage(`infra preview (${infra.name})`, async () => {
            const changes = await infra.preview(run.operation);
            return { value: undefined, detail: formatChanges(changes) };
        });
        if (Object.keys(outputs).length === 0) {
            run.skip("add-ons preview", "the infra stack has not been deployed yet; its outputs feed the add-ons");
            return;
        }
        const addons = await deps.stacks.addons(env);
        await run.stage(`add-ons preview (${addons.name})`, async () => {
            await addons.setConfig(addonsConfigFrom(outputs));
            const changes = await addons.preview(run.operation);
            return { value: undefined, detail: formatChanges(changes) };
        });
    });
}

/** Applies a stack as one stage (after `configure`, when given); its outputs join the redactor. */
async function upStage(run: Run, stage: string, stack: StackHandle, configure?: () => Promise<void>): Promise<StackOutputs> {
    return run.stage(stage, async () => {
        await configure?.();
        const result = await stack.up(run.operation);
        run.redactor.addOutputs(result.outputs);
        return { value: result.outputs, detail: formatChanges(result.changes) };
    });
}

/** Validates as one stage, printing the table; a cluster that is not ready fails it with `notReady`'s error. */
async function validationStage(run: Run, stage: string, check: (onProgress: (line: string) => void) => Promise<ValidationResult>, notReady: (result: ValidationResult) => Error): Promise<void> {
    await run.stage(stage, async () => {
        const result = await check((line) => run.out(`${line}\n`));
        run.out(formatValidation(result));
        if (!result.ready) throw notReady(result);
        return { value: undefined, detail: `${result.rows.length} checks ok` };
    });
}

/** `kaws up <env>`: preflight (when deps.preflight is given; its problems stop the run) → infra up → wait for /readyz → add-ons up. A failed stage stops the run. */
export async function up(env: string, deps: DriverDeps): Promise<void> {
    if (deps.preflight) await runPreflight(env, deps.preflight, deps);
    const run = new Run(deps, `up ${env}`);
    await runStages(run, async () => {
        const infra = await deps.stacks.infra(env);
        run.redactor.addOutputs(await infra.outputs());
        const guard = deps.guard;
        if (guard) {
            await run.stage(`disruption guard (${infra.name} preview)`, async () => {
                const steps: PlannedStep[] = [];
                const changes = await infra.preview({ ...run.operation, onStep: (step) => steps.push(step) });
                const problems = disruptionsOf(steps, guard.cluster);
                for (const problem of problems) run.err(`kaws: ${guard.allowDisruption ? "allowed by --allow-disruption: " : "refused: "}${problem}\n`);
                if (problems.length > 0 && !guard.allowDisruption) throw new DisruptionError(problems, guard.cluster.clusterName);
                // The plan is accepted: what it removes that holds state (protected in the program) is unprotected
                // for this update only; the update protects what replaces it.
                const unprotected = await infra.unprotect(removedBy(steps));
                for (const urn of unprotected) run.err(`kaws: unprotected for this update: ${urn}\n`);
                const allowed = problems.length ? `${problems.length} disruption(s) allowed` : "no disruption";
                return { value: undefined, detail: `${formatChanges(changes)}; ${allowed}${unprotected.length ? `; ${unprotected.length} protected resource(s) released` : ""}` };
            }).catch((err) => {
                for (const stage of ["infra up", "wait for API", "add-ons up"]) run.skip(stage, "the disruption guard stopped the run");
                throw err;
            });
        }
        let outputs: StackOutputs = {};
        try {
            outputs = await upStage(run, `infra up (${infra.name})`, infra);
        } catch (err) {
            run.skip("wait for API", "infra failed");
            run.skip("add-ons up", "infra failed");
            throw err;
        }
        const config = addonsConfigFrom(outputs);
        try {
            await waitStage(run, deps, outputs);
        } catch (err) {
            run.skip("add-ons up", "the API is not ready");
            throw err;
        }
        const addons = await deps.stacks.addons(env);
        await upStage(run, `add-ons up (${addons.name})`, addons, () => addons.setConfig(config));
        const validate = deps.validate;
        if (validate) {
            await validationStage(run, "validate", (onProgress) => validate(outputs, deps.signal, onProgress), (result) => new ClusterNotReadyError(result));
        }
    });
}

/** One wave of `kaws upgrade`, as the driver runs it (automation/upgrade.ts plans them). */
export interface UpgradeStep {
    readonly name: string;
    /** Infra stack settings this wave changes (none: the add-ons wave). */
    readonly settings: Readonly<Record<string, string>>;
    /** Waits until the cluster passes the wave's gate, bounded; the configuration is the wave's. */
    readonly gate: (outputs: StackOutputs, signal: AbortSignal, onProgress: (line: string) => void) => Promise<ValidationResult>;
}

/** A wave's gate did not pass: the run stopped there. */
export class UpgradeGateError extends Error {
    constructor(readonly wave: string, result: ValidationResult, readonly env: string) {
        super(`wave "${wave}" did not pass its gate: ${notReadySummary(result)}; the infra stack keeps this wave's configuration; fix what the table shows, then run \`kaws upgrade ${env} --to <version> --plan\` and apply the rest`);
        this.name = "UpgradeGateError";
    }
}

/**
 * `kaws upgrade <env> --to VERSION`: each wave in order — its settings into the infra stack, infra up,
 * then its gate — and after the infra waves the add-ons stack, gated on validation. The first gate that
 * does not pass stops the run.
 */
export async function upgrade(env: string, steps: readonly UpgradeStep[], deps: DriverDeps): Promise<void> {
    const run = new Run(deps, `upgrade ${env}`);
    await runStages(run, async () => {
        const infra = await deps.stacks.infra(env);
        run.redactor.addOutputs(await infra.outputs());
        let outputs: StackOutputs = {};
        for (const [i, step] of steps.entries()) {
            const wave = `wave ${i + 1} (${step.name})`;
            if (Object.keys(step.settings).length > 0) {
                const settings = Object.fromEntries(Object.entries(step.settings).map(([key, value]) => [key, { value, secret: false }]));
                outputs = await upStage(run, `${wave}: infra up`, infra, () => infra.setConfig(settings));
            } else {
                const addons = await deps.stacks.addons(env);
                await upStage(run, `${wave}: add-ons up`, addons, () => addons.setConfig(addonsConfigFrom(outputs)));
            }
            await validationStage(run, `${wave}: gate`, (onProgress) => step.gate(outputs, deps.signal, onProgress), (result) => new UpgradeGateError(step.name, result, env));
        }
    });
}

/**
 * `kaws destroy <env>`: remove LoadBalancer Services and PVCs (waiting until AWS has deleted what they
 * created) → destroy add-ons → destroy infra → delete what controllers still left tagged for the cluster
 * (deps.leftoverJanitor, automation/janitor.ts) → report AWS resources still tagged for the cluster. An
 * unreachable cluster skips the clean-up and lets the add-ons stack drop its objects from state.
 */
export async function destroy(env: string, deps: DriverDeps): Promise<void> {
    const run = new Run(deps, `destroy ${env}`);
    await runStages(run, async () => {
        const infra = await deps.stacks.infra(env);
        const outputs = await infra.outputs();
        run.redactor.addOutputs(outputs);
        const kubeconfig = outputs.kubeconfig?.value;
        let dropUnreachable = false;
        if (typeof kubeconfig !== "string") {
            run.skip("remove load balancers and volumes", "the infra stack has no kubeconfig output");
            dropUnreachable = true;
        } else {
            await run.stage("remove load balancers and volumes", async () => {
                try {
                    const removed = await deps.janitor.removeCloudResources(kubeconfig, deps.signal, (message) => run.out(`  ${message}\n`));
                    return { value: undefined, detail: `${removed.services} LoadBalancer Service(s), ${removed.claims} PVC(s) removed` };
                } catch (err) {
                    if (!(err instanceof ClusterUnreachableError)) throw err;
                    dropUnreachable = true;
                    run.out(`${err.message}: skipping the clean-up; load balancers or volumes Kubernetes created may be left (the sweep below lists them), and the add-ons stack drops its objects from state\n`);
                    return { value: undefined, detail: "cluster unreachable: skipped" };
                }
            });
        }
        const addons = await deps.stacks.addons(env);
        await run.stage(`add-ons destroy (${addons.name})`, async () => {
            const changes = await addons.destroy({ ...run.operation, dropUnreachable });
            return { value: undefined, detail: formatChanges(changes) };
        });
        await run.stage(`infra destroy (${infra.name})`, async () => {
            // destroy was confirmed: release what the program protects (etcd volumes and ENIs, the key, the bucket).
            // A destroy that fails after this leaves them unprotected until the next `kaws up` protects them again.
            const unprotected = await infra.unprotect();
            const changes = await infra.destroy(run.operation);
            return { value: undefined, detail: `${formatChanges(changes)}${unprotected.length ? ` (${unprotected.length} protected resource(s) released first)` : ""}` };
        });
        const clusterName = outputs.clusterName?.value;
        const region = outputs.region?.value;
        if (typeof clusterName !== "string" || typeof region !== "string") {
            run.skip("remove controller leftovers", "the infra stack had no clusterName/region outputs");
            run.skip("sweep", "the infra stack had no clusterName/region outputs");
            return;
        }
        // What controllers left (load balancers, target groups, ENIs, security groups, volumes, snapshots): deleted
        // without asking again, destroy was confirmed. Its failures are listed and kept for the sweep's verdict; a
        // janitor that could not run at all (access, network) still lets the sweep list what is left, then fails.
        let janitorFailed: unknown;
        let notRemoved: readonly ControllerLeftover[] = [];
        if (!deps.leftoverJanitor) {
            run.skip("remove controller leftovers", "no janitor configured");
        } else {
            const leftoverJanitor = deps.leftoverJanitor;
            try {
                await run.stage("remove controller leftovers", async () => {
                    const result = await leftoverJanitor.removeLeftovers(clusterName, region, deps.signal, (line) => run.out(`  ${line}\n`));
                    notRemoved = result.failed.map((f) => f.leftover);
                    const detail = `${result.deleted.length} of ${result.found.length} deleted`
                        + (result.failed.length > 0 ? `, ${result.failed.length} failed` : "")
                        + (result.kept.length > 0 ? `, ${result.kept.length} kept (shared or in use)` : "");
                    return { value: undefined, detail };
                });
            } catch (err) {
                if (deps.signal.aborted || (err instanceof StageFailedError && err.cause instanceof CancelledError)) throw err;
                janitorFailed = err;
            }
        }
        await run.stage("sweep", async () => {
            const tagged = await deps.sweeper.leftovers(clusterName, region, deps.signal);
            for (const arn of tagged) run.out(`  still tagged kubernetes.io/cluster/${clusterName}: ${arn}\n`);
            // What the janitor failed to delete and the sweep cannot see (the AWS Load Balancer Controller's tag only).
            const untagged = notRemoved.filter((l) => !tagged.some((arn) => arn === l.arn || arn.endsWith(`/${l.id}`)))
                .map((l) => l.arn ?? `${l.kind} ${l.id}`);
            for (const id of untagged) run.out(`  left by a controller, not deleted: ${id}\n`);
            const leftovers = [...tagged, ...untagged];
            if (leftovers.length > 0) throw new LeftoversError(leftovers);
            return { value: undefined, detail: `nothing tagged kubernetes.io/cluster/${clusterName} is left` };
        });
        if (janitorFailed) throw janitorFailed;
    });
}

/** `kaws outputs <env>`: the infra stack's outputs, secrets redacted unless asked for. */
export async function printOutputs(env: string, deps: DriverDeps, showSecrets: boolean): Promise<void> {
    const infra = await deps.stacks.infra(env);
    const outputs = await infra.outputs();
    const keys = Object.keys(outputs).sort();
    if (keys.length === 0) {
        deps.stdout(`${infra.name} has no outputs (not deployed yet?)\n`);
        return;
    }
    const width = Math.max(...keys.map((k) => k.length));
    for (const key of keys) {
        const { value, secret } = outputs[key];
        const shown = secret && !showSecrets ? redacted : typeof value === "string" ? value : JSON.stringify(value);
        deps.stdout(`${key.padEnd(width)}  ${shown.includes("\n") ? `|\n${shown.replace(/^/gm, "    ")}` : shown}\n`);
    }
}

/** `kaws kubeconfig <env>`: writes the admin kubeconfig to `file`, readable by its owner only. */
export async function writeKubeconfig(env: string, deps: DriverDeps, file: string): Promise<void> {
    const infra = await deps.stacks.infra(env);
    const kubeconfig = (await infra.outputs()).kubeconfig?.value;
    if (typeof kubeconfig !== "string") throw new Error(`${infra.name} has no kubeconfig output (not deployed yet?)`);
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, kubeconfig, { mode: 0o600, flag: "wx" });
    fs.chmodSync(file, 0o600);
    deps.stdout(`wrote the admin kubeconfig of ${infra.name} to ${file} (mode 0600)\n`);
}
