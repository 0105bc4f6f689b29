import * as https from "https";
import * as YAML from "yaml";
import type { KubeObject } from "../addons/objects";
import { ClusterPlan, nodeLabels } from "../plan/cluster";
import { renderAddons } from "../addons";
import { parseAddonSettings } from "../addons/settings";
import { CancelledError, sleep } from "./wait";

/**
 * `kaws validate`: is the cluster really up? Asks the API server (TLS verified against the cluster CA
 * only, admin client certificate) about its own health, etcd, the nodes of every pool and the control
 * plane, and the kube-system workloads kaws installs; adds the soonest certificate expiry. Plain Node
 * https, bounded per request, cancellable.
 */

/** Where the API is and how to authenticate: the infra stack's admin kubeconfig. */
export interface ApiCredentials {
    /** https URL of the API server. */
    readonly endpoint: string;
    /** PEM of the cluster CA: the only CA the server's certificate is checked against. */
    readonly caPem: string;
    readonly clientCertPem?: string;
    readonly clientKeyPem?: string;
}

/** A Deployment or DaemonSet in kube-system that kaws installs. */
export interface ExpectedWorkload {
    readonly kind: "Deployment" | "DaemonSet";
    readonly name: string;
}

export interface ExpectedPool {
    readonly pool: string;
    /** The pool's ASG desired capacity. */
    readonly desired: number;
    /** The Kubernetes release its kubelets must report (the pool's own, or the cluster's). */
    readonly kubernetesVersion: string;
}

export interface ValidationRequest extends ApiCredentials {
    readonly pools: readonly ExpectedPool[];
    readonly controlPlaneCount: number;
    /** The Kubernetes release the control-plane kubelets must report. */
    readonly controlPlaneVersion: string;
    readonly workloads: readonly ExpectedWorkload[];
    /** The infra stack's certificateExpiry output: certificate name -> RFC3339 end of validity. */
    readonly certificateExpiry?: Readonly<Record<string, string>>;
}

export interface ValidateOptions {
    readonly signal?: AbortSignal;
    /** Bound of every single request, connection included (default 10 s). */
    readonly requestTimeoutMs?: number;
    /** Clock for the certificate check (default: now). */
    readonly now?: () => Date;
}

export type ValidationStatus = "ok" | "not ready";

export interface ValidationRow {
    readonly check: string;
    readonly status: ValidationStatus;
    readonly detail: string;
}

export interface ValidationResult {
    readonly ready: boolean;
    readonly rows: readonly ValidationRow[];
}

export const systemNamespace = "kube-system";

/** A certificate ending within this many days is a problem. */
export const certificateWarningDays = 30;

const defaultRequestTimeoutMs = 10_000;
const dayMs = 86_400_000;

// ---------------------------------------------------------------- inputs

/**
 * The API endpoint, cluster CA and admin client certificate of a kubeconfig (the infra stack's
 * `kubeconfig` output): the current context's cluster and user, else the first ones.
 */
export function credentialsFromKubeconfig(text: string): ApiCredentials {
    let doc: any;
    try {
        doc = YAML.parse(text);
    } catch (err) {
        throw new Error(`kubeconfig: does not parse as YAML (${(err as Error).message.split("\n")[0]})`);
    }
    const named = (list: unknown, name: unknown): any => {
        if (!Array.isArray(list)) return undefined;
        return (name !== undefined ? list.find((entry) => entry?.name === name) : undefined) ?? list[0];
    };
    const context = named(doc?.contexts, doc?.["current-context"])?.context ?? {};
    const cluster = named(doc?.clusters, context.cluster)?.cluster;
    const user = named(doc?.users, context.user)?.user ?? {};
    if (typeof cluster?.server !== "string" || !cluster.server) throw new Error("kubeconfig: has no cluster server; accepted: the infra stack's kubeconfig output");
    const caData = cluster["certificate-authority-data"];
    if (typeof caData !== "string" || !caData) throw new Error("kubeconfig: has no certificate-authority-data; accepted: the infra stack's kubeconfig output (the cluster CA embedded)");
    const decode = (value: unknown) => (typeof value === "string" && value ? Buffer.from(value, "base64").toString("utf8") : undefined);
    return {
        endpoint: cluster.server,
        caPem: decode(caData)!,
        clientCertPem: decode(user["client-certificate-data"]),
        clientKeyPem: decode(user["client-key-data"]),
    };
}

/**
 * The kube-system Deployments and DaemonSets among the rendered add-on objects (`renderAddons(settings)`,
 * as add-ons or already flattened), in render order, without duplicates.
 */
export function expectedWorkloads(rendered: readonly (KubeObject | { readonly objects: readonly KubeObject[] })[]): ExpectedWorkload[] {
    const objects = rendered.flatMap((entry) => ("objects" in entry && Array.isArray(entry.objects) ? entry.objects : [entry as KubeObject]));
    const seen = new Set<string>();
    const workloads: ExpectedWorkload[] = [];
    for (const o of objects) {
        if ((o.kind !== "Deployment" && o.kind !== "DaemonSet") || o.metadata.namespace !== systemNamespace) continue;
        const key = `${o.kind}/${o.metadata.name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        workloads.push({ kind: o.kind, name: o.metadata.name });
    }
    return workloads;
}

export class DurationError extends Error {
    constructor(argument: string, value: string) {
        super(`${argument} ${JSON.stringify(value)}: is not a duration; accepted: a whole number with a unit (ms, s, m, h), such as 90s, 10m, 1h or 1h30m`);
        this.name = "DurationError";
    }
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90s", "10m", "1h", "1h30m", "500ms" -> milliseconds; anything else (or zero) is a DurationError naming `argument`. */
export function parseDuration(text: string, argument = "--wait"): number {
    const value = String(text ?? "").trim();
    if (!/^(\d+(ms|s|m|h))+$/.test(value)) throw new DurationError(argument, String(text));
    let total = 0;
    for (const [, amount, unit] of value.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(amount) * durationUnits[unit];
    if (!Number.isSafeInteger(total) || total <= 0) throw new DurationError(argument, String(text));
    return total;
}

// ---------------------------------------------------------------- transport

export interface Answer {
    readonly status: number;
    readonly body: string;
}

/** A failure to talk to the API at all (refused, TLS, timeout): one "API reachable" row. */
class Unreachable extends Error {}

const untrustedCertificateCodes = new Set([
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT",
    "UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_SIGNATURE_FAILURE", "CERT_UNTRUSTED",
]);

/** One line saying why the API could not be asked, for a person. */
export function describeConnectionError(err: NodeJS.ErrnoException, url: URL, timeoutMs: number): string {
    const where = url.host;
    const code = err.code ?? "";
    if (untrustedCertificateCodes.has(code)) return `TLS: the server's certificate at ${where} is not from the cluster CA (${code})`;
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `TLS: the server's certificate does not name ${url.hostname} (${code})`;
    if (code === "CERT_HAS_EXPIRED") return `TLS: the server's certificate at ${where} has expired (${code})`;
    if (code === "CERT_NOT_YET_VALID") return `TLS: the server's certificate at ${where} is not valid yet (${code})`;
    if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA/i.test(code)) return `TLS: the server at ${where} refused the client certificate (${code})`;
    if (code === "ECONNREFUSED") return `connection refused at ${where} (nothing listening)`;
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `${url.hostname} does not resolve (${code})`;
    if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return `${where} is unreachable (${code})`;
    if (code === "ECONNRESET") return `the connection to ${where} was reset (${code})`;
    if (code === "ETIMEDOUT" || code === "KAWS_TIMEOUT") return `no answer from ${where} within ${formatSeconds(timeoutMs)}`;
    const message = String(err.message ?? err).split("\n")[0];
    return code && !message.includes(code) ? `${code}: ${message}` : message;
}

function formatSeconds(ms: number): string {
    return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

export interface ApiGetOptions {
    readonly signal?: AbortSignal;
    /** What is cancelled, for the CancelledError ("validating the cluster"). */
    readonly activity: string;
    /** The error a request that could not be made at all becomes (refused, TLS, timeout, a key that does not parse). */
    readonly unreachable: (message: string) => Error;
}

/** GET <endpoint><path> with the cluster CA and client certificate, bounded as a whole by timeoutMs. */
export function apiGet(credentials: ApiCredentials, path: string, timeoutMs: number, options: ApiGetOptions): Promise<Answer> {
    const { signal } = options;
    const url = new URL(path, credentials.endpoint);
    return new Promise((resolve, reject) => {
        let settled = false;
        const finish = (fn: () => void) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            fn();
        };
        const unreachable = (err: NodeJS.ErrnoException) => finish(() => reject(signal?.aborted ? new CancelledError(options.activity) : options.unreachable(describeConnectionError(err, url, timeoutMs))));
        let request: ReturnType<typeof https.request>;
        const onAbort = () => {
            request?.destroy();
            finish(() => reject(new CancelledError(options.activity)));
        };
        const timer = setTimeout(() => {
            const err: NodeJS.ErrnoException = Object.assign(new Error("timeout"), { code: "KAWS_TIMEOUT" });
            request?.destroy(err);
            unreachable(err);
        }, timeoutMs);
        try {
            request = https.request(url, {
                method: "GET", ca: credentials.caPem, cert: credentials.clientCertPem, key: credentials.clientKeyPem,
                rejectUnauthorized: true, agent: false, headers: { Accept: "application/json, text/plain" },
            }, (response) => {
                let body = "";
                response.setEncoding("utf8");
                response.on("data", (chunk) => { body += chunk; });
                response.on("end", () => finish(() => resolve({ status: response.statusCode ?? 0, body })));
                response.on("error", unreachable);
            });
        } catch (err) {
            // A CA or client key that does not parse fails here, before any connection.
            return unreachable(err as NodeJS.ErrnoException);
        }
        request.on("error", unreachable);
        if (signal?.aborted) return onAbort();
        signal?.addEventListener("abort", onAbort, { once: true });
        request.end();
    });
}

function get(credentials: ApiCredentials, path: string, timeoutMs: number, signal?: AbortSignal): Promise<Answer> {
    return apiGet(credentials, path, timeoutMs, { signal, activity: "validating the cluster", unreachable: (message) => new Unreachable(message) });
}

function httpProblem(path: string, answer: Answer): string {
    let message = answer.body.trim().split("\n").pop() ?? "";
    try {
        const status = JSON.parse(answer.body);
        if (typeof status?.message === "string") message = status.message;
    } catch { /* not a Status object */ }
    if (answer.status === 401) message = `the admin client certificate was not accepted${message ? ` (${message})` : ""}`;
    return `GET ${path}: HTTP ${answer.status}${message ? ` ${truncate(message, 160)}` : ""}`;
}

function truncate(text: string, max: number): string {
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function listItems(path: string, answer: Answer): { items?: any[]; problem?: string } {
    if (answer.status !== 200) return { problem: httpProblem(path, answer) };
    try {
        const list = JSON.parse(answer.body);
        if (!Array.isArray(list?.items)) return { problem: `GET ${path}: the answer is not a list` };
        return { items: list.items };
    } catch {
        return { problem: `GET ${path}: the answer is not JSON` };
    }
}

// ---------------------------------------------------------------- checks

const ok = (check: string, detail: string): ValidationRow => ({ check, status: "ok", detail });
const notReady = (check: string, detail: string): ValidationRow => ({ check, status: "not ready", detail });

/** "[-]etcd failed: reason withheld" -> "etcd"; the failing checks of a verbose /readyz. */
function failingChecks(body: string): string[] {
    return body.split("\n").map((line) => line.trim()).filter((line) => line.startsWith("[-]"))
        .map((line) => line.slice(3).replace(/\s+failed:.*$/, "").replace(/\s+failed$/, "").trim());
}

function apiHealthRow(answer: Answer): ValidationRow {
    const check = "API healthy";
    const lines = answer.body.split("\n").map((l) => l.trim());
    const passed = lines.filter((l) => l.startsWith("[+]")).length;
    const failing = failingChecks(answer.body);
    if (answer.status === 200 && failing.length === 0) return ok(check, `/readyz: ${passed} checks passed`);
    if (failing.length > 0) return notReady(check, `/readyz: HTTP ${answer.status}; failing: ${failing.join(", ")}`);
    return notReady(check, httpProblem("/readyz?verbose", answer));
}

function etcdRow(verbose: Answer, etcd: Answer): ValidationRow {
    const check = "etcd healthy";
    const etcdLines = verbose.body.split("\n").map((l) => l.trim()).filter((l) => /^\[[+-]\]etcd/.test(l));
    const failing = etcdLines.filter((l) => l.startsWith("[-]")).map((l) => l.slice(3));
    if (etcd.status === 200 && failing.length === 0) return ok(check, `/readyz/etcd ok (${etcdLines.length > 0 ? etcdLines.map((l) => l.slice(3).replace(/\s+ok$/, "")).join(", ") + " ok" : "as the API server sees it"})`);
    if (etcd.status === 404 && etcdLines.length > 0 && failing.length === 0) return ok(check, `/readyz: ${etcdLines.map((l) => l.slice(3)).join(", ")}`);
    const reasons = failing.length > 0 ? failing : [`/readyz/etcd HTTP ${etcd.status} ${truncate(etcd.body.trim().split("\n").pop() ?? "", 120)}`.trim()];
    return notReady(check, `as the API server sees it: ${reasons.join("; ")}`);
}

interface NodeItem {
    readonly metadata?: { readonly name?: string; readonly labels?: Record<string, string> };
    readonly status?: {
        readonly conditions?: readonly { readonly type?: string; readonly status?: string; readonly reason?: string }[];
        readonly nodeInfo?: { readonly kubeletVersion?: string };
    };
}

/** Ready, and (when a version is expected) its kubelet reports that release: a node still at the old one is not done. */
function readiness(node: NodeItem, version?: string): { ready: boolean; why: string } {
    const condition = node.status?.conditions?.find((c) => c.type === "Ready");
    if (!condition) return { ready: false, why: "no Ready condition" };
    const kubelet = node.status?.nodeInfo?.kubeletVersion;
    if (condition.status === "True" && version && kubelet !== `v${version}`) return { ready: false, why: `kubelet ${kubelet ?? "unknown"}, expected v${version}` };
    if (condition.status === "True") return { ready: true, why: "Ready" };
    return { ready: false, why: condition.status === "Unknown" ? "Unknown" : condition.reason || "NotReady" };
}

const nodeName = (node: NodeItem) => node.metadata?.name ?? "(unnamed)";

function listNames(names: string[], max = 5): string {
    return names.length > max ? `${names.slice(0, max).join(", ")} and ${names.length - max} more` : names.join(", ");
}

function nodeRows(request: ValidationRequest, nodes: NodeItem[]): ValidationRow[] {
    const rows: ValidationRow[] = [];
    const labels = (node: NodeItem) => node.metadata?.labels ?? {};
    const describe = (list: NodeItem[], version: string) => listNames(list.map((n) => `${nodeName(n)} (${readiness(n, version).why})`));

    // Control plane: nodes that carry the node-role label, or registered as control plane (kaws.io/role).
    const roleLabel = nodeLabels.controlPlaneRole;
    const registered = nodeLabels.controlPlaneNode;
    const controlPlane = nodes.filter((n) => roleLabel in labels(n) || labels(n)[registered.key] === registered.value);
    const unlabelled = controlPlane.filter((n) => !(roleLabel in labels(n)));
    const cpVersion = request.controlPlaneVersion;
    const readyLabelled = controlPlane.filter((n) => roleLabel in labels(n) && readiness(n, cpVersion).ready);
    const cpNotReady = controlPlane.filter((n) => !readiness(n, cpVersion).ready);
    const cpCheck = "control plane nodes";
    const cpCounts = `${readyLabelled.length}/${request.controlPlaneCount} Ready`;
    const cpProblems = [
        ...(cpNotReady.length ? [`not ready: ${describe(cpNotReady, cpVersion)}`] : []),
        ...(unlabelled.length ? [`without the ${roleLabel} label: ${listNames(unlabelled.map(nodeName))}`] : []),
    ];
    if (controlPlane.length === 0 && request.controlPlaneCount > 0) rows.push(notReady(cpCheck, `missing: no node carries ${roleLabel} (expected ${request.controlPlaneCount})`));
    else if (readyLabelled.length >= request.controlPlaneCount && unlabelled.length === 0) rows.push(ok(cpCheck, `${cpCounts}${cpNotReady.length ? `; ${cpProblems.join("; ")}` : ""}`));
    else rows.push(notReady(cpCheck, [`${cpCounts} (expected ${request.controlPlaneCount})`, ...cpProblems].join("; ")));

    for (const { pool, desired, kubernetesVersion } of request.pools) {
        const check = `pool ${pool}`;
        const members = nodes.filter((n) => labels(n)[nodeLabels.pool] === pool);
        const ready = members.filter((n) => readiness(n, kubernetesVersion).ready);
        const others = members.filter((n) => !readiness(n, kubernetesVersion).ready);
        if (members.length === 0 && desired > 0) {
            rows.push(notReady(check, `missing: no node carries ${nodeLabels.pool}=${pool} (ASG desired ${desired})`));
            continue;
        }
        const counts = `${ready.length}/${desired} Ready (ASG desired ${desired}${members.length !== ready.length ? `, ${members.length} registered` : ""})`;
        const detail = others.length ? `${counts}; not ready: ${describe(others, kubernetesVersion)}` : counts;
        rows.push(ready.length >= desired ? ok(check, detail) : notReady(check, detail));
    }
    return rows;
}

function workloadRow(kind: ExpectedWorkload["kind"], name: string, item: any): ValidationRow {
    const check = `${kind} ${name}`;
    if (!item) return notReady(check, `missing from ${systemNamespace}`);
    const generation = Number(item.metadata?.generation ?? 0);
    const observed = Number(item.status?.observedGeneration ?? 0);
    const stale = observed < generation ? [`generation ${generation} not observed yet (observed ${observed})`] : [];
    if (kind === "Deployment") {
        const wanted = Number(item.spec?.replicas ?? 1);
        const available = Number(item.status?.availableReplicas ?? 0);
        const counts = `${available}/${wanted} available`;
        return available === wanted && stale.length === 0 ? ok(check, counts) : notReady(check, [counts, ...stale].join("; "));
    }
    const desired = Number(item.status?.desiredNumberScheduled ?? 0);
    const available = Number(item.status?.numberAvailable ?? 0);
    const updated = Number(item.status?.updatedNumberScheduled ?? 0);
    const counts = `${available}/${desired} available, ${updated}/${desired} updated`;
    return available === desired && updated === desired && stale.length === 0 ? ok(check, counts) : notReady(check, [counts, ...stale].join("; "));
}

function workloadRows(request: ValidationRequest, deployments: { items?: any[]; problem?: string }, daemonSets: { items?: any[]; problem?: string }): ValidationRow[] {
    const rows: ValidationRow[] = [];
    const lists = { Deployment: deployments, DaemonSet: daemonSets } as const;
    for (const kind of ["Deployment", "DaemonSet"] as const) {
        const list = lists[kind];
        const expected = request.workloads.filter((w) => w.kind === kind);
        if (list.problem) {
            if (expected.length > 0) rows.push(notReady(`${systemNamespace} ${kind}s`, list.problem));
            continue;
        }
        const byName = new Map((list.items ?? []).map((item) => [item?.metadata?.name, item]));
        for (const w of expected) rows.push(workloadRow(kind, w.name, byName.get(w.name)));
    }
    return rows;
}

/** The soonest-ending certificate of the certificateExpiry output; within 30 days (or past) is a problem. */
export function certificateRow(expiry: Readonly<Record<string, string>> | undefined, now: Date): ValidationRow {
    const check = "certificates";
    const entries = Object.entries(expiry ?? {});
    if (entries.length === 0) return notReady(check, "the infra stack has no certificateExpiry output to check");
    const unreadable = entries.filter(([, at]) => typeof at !== "string" || Number.isNaN(Date.parse(at)));
    if (unreadable.length > 0) return notReady(check, `certificateExpiry ${unreadable.map(([name, at]) => `${name}: ${JSON.stringify(at)}`).join(", ")} is not an RFC3339 time`);
    const dated = entries.map(([name, at]) => ({ name, at: new Date(at) })).sort((a, b) => a.at.getTime() - b.at.getTime() || a.name.localeCompare(b.name));
    const soonest = dated[0];
    const remainingMs = soonest.at.getTime() - now.getTime();
    const days = Math.floor(remainingMs / dayMs);
    const when = soonest.at.toISOString().replace(/\.000Z$/, "Z");
    if (remainingMs <= 0) return notReady(check, `${soonest.name} expired ${when} (${Math.floor(-remainingMs / dayMs)} days ago)`);
    const soon = dated.filter((d) => d.at.getTime() - now.getTime() < certificateWarningDays * dayMs);
    const detail = `soonest: ${soonest.name} expires ${when} (${days} days left, ${dated.length} certificates)`;
    if (soon.length === 0) return ok(check, detail);
    const others = soon.slice(1).map((d) => d.name);
    return notReady(check, `${detail}; within ${certificateWarningDays} days${others.length ? `, also: ${listNames(others)}` : ""}`);
}

/**
 * Runs every check once. Never throws for an unhealthy or unreachable cluster (an unreachable one is a
 * single "API reachable" row with the reason); throws CancelledError when `signal` aborts, and an Error
 * for an endpoint that is not https.
 */
export async function validateCluster(request: ValidationRequest, options: ValidateOptions = {}): Promise<ValidationResult> {
    const endpoint = new URL(request.endpoint);
    if (endpoint.protocol !== "https:") throw new Error(`apiEndpoint must be an https URL, got ${request.endpoint}`);
    if (options.signal?.aborted) throw new CancelledError("validating the cluster");
    const timeoutMs = Math.max(1, options.requestTimeoutMs ?? defaultRequestTimeoutMs);
    const ask = (path: string) => get(request, path, timeoutMs, options.signal);
    const paths = {
        verbose: "/readyz?verbose",
        etcd: "/readyz/etcd",
        nodes: "/api/v1/nodes",
        deployments: `/apis/apps/v1/namespaces/${systemNamespace}/deployments`,
        daemonSets: `/apis/apps/v1/namespaces/${systemNamespace}/daemonsets`,
    };
    const settled = await Promise.allSettled([ask(paths.verbose), ask(paths.etcd), ask(paths.nodes), ask(paths.deployments), ask(paths.daemonSets)]);
    const failures = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected").map((s) => s.reason);
    const cancelled = failures.find((e) => e instanceof CancelledError);
    if (cancelled || options.signal?.aborted) throw cancelled ?? new CancelledError("validating the cluster");
    const unreachable = failures.find((e) => e instanceof Unreachable);
    if (unreachable) return { ready: false, rows: [notReady("API reachable", unreachable.message)] };
    if (failures.length > 0) throw failures[0];
    const [verbose, etcd, nodes, deployments, daemonSets] = settled.map((s) => (s as PromiseFulfilledResult<Answer>).value);

    const rows: ValidationRow[] = [ok("API reachable", `${endpoint.host}, certificate verified against the cluster CA`)];
    rows.push(apiHealthRow(verbose));
    rows.push(etcdRow(verbose, etcd));
    const nodeList = listItems(paths.nodes, nodes);
    if (nodeList.items) rows.push(...nodeRows(request, nodeList.items));
    else rows.push(notReady("nodes", nodeList.problem!));
    rows.push(...workloadRows(request, listItems(paths.deployments, deployments), listItems(paths.daemonSets, daemonSets)));
    rows.push(certificateRow(request.certificateExpiry, (options.now ?? (() => new Date()))()));
    return { ready: rows.every((r) => r.status === "ok"), rows };
}

// ---------------------------------------------------------------- output and waiting

/** The rows as an aligned table, not-ready rows first (otherwise in check order), then a one-line verdict. */
export function formatValidation(result: ValidationResult): string {
    const ordered = [...result.rows.filter((r) => r.status !== "ok"), ...result.rows.filter((r) => r.status === "ok")];
    const table = [["CHECK", "STATUS", "DETAIL"], ...ordered.map((r) => [r.check, r.status, r.detail])];
    const widths = [0, 1].map((col) => Math.max(...table.map((row) => row[col].length)));
    const lines = table.map((row) => `${row[0].padEnd(widths[0])}  ${row[1].padEnd(widths[1])}  ${row[2]}`.trimEnd());
    const bad = ordered.filter((r) => r.status !== "ok").length;
    lines.push(result.ready ? `cluster ready: all ${ordered.length} checks ok` : `cluster not ready: ${bad} of ${ordered.length} checks not ready`);
    return lines.join("\n") + "\n";
}

/** One line naming what is not ready, for progress output: "pool general: 1/3 Ready …; DaemonSet weave-net: …". */
export function notReadySummary(result: ValidationResult): string {
    const bad = result.rows.filter((r) => r.status !== "ok");
    return bad.length === 0 ? "ready" : bad.map((r) => `${r.check}: ${r.detail}`).join("; ");
}

export interface ValidateUntilOptions {
    readonly timeoutMs: number;
    readonly intervalMs: number;
    readonly signal?: AbortSignal;
    /** Called after every round that was not ready. */
    readonly onProgress?: (attempt: number, elapsedMs: number, result: ValidationResult) => void;
    /** Bound of every single request (default 10 s, never past the remaining time). */
    readonly requestTimeoutMs?: number;
    readonly now?: () => Date;
}

/**
 * Repeats validateCluster until it is ready or `timeoutMs` is spent, and returns the last result (it does
 * not throw for a cluster that never became ready: look at `ready`). CancelledError when `signal` aborts.
 */
export async function validateUntil(request: ValidationRequest, options: ValidateUntilOptions): Promise<ValidationResult & { attempts: number; elapsedMs: number }> {
    const started = Date.now();
    let attempt = 0;
    while (true) {
        if (options.signal?.aborted) throw new CancelledError("validating the cluster");
        attempt++;
        const remaining = options.timeoutMs - (Date.now() - started);
        const requestTimeoutMs = Math.max(250, Math.min(options.requestTimeoutMs ?? defaultRequestTimeoutMs, remaining));
        const result = await validateCluster(request, { signal: options.signal, requestTimeoutMs, now: options.now });
        const elapsedMs = Date.now() - started;
        if (result.ready) return { ...result, attempts: attempt, elapsedMs };
        options.onProgress?.(attempt, elapsedMs, result);
        if (elapsedMs + options.intervalMs > options.timeoutMs) return { ...result, attempts: attempt, elapsedMs };
        await sleep(options.intervalMs, options.signal);
    }
}

/** The cluster did not validate (its table is printed); exit code 6. */
export class ClusterNotReadyError extends Error {
    constructor(readonly result: ValidationResult) {
        super(`the cluster is not ready: ${notReadySummary(result)}`);
        this.name = "ClusterNotReadyError";
    }
}

/**
 * What `kaws validate` checks an environment against: the API and credentials from the infra stack's admin
 * kubeconfig, the pools and control-plane size from the plan (the pools' configured desired size is the
 * floor: the autoscaler may have raised an ASG above it), the kube-system workloads the add-ons install,
 * and the certificates' expiry.
 */
export function validationRequestFor(plan: ClusterPlan, outputs: Readonly<Record<string, { value: unknown }>>): ValidationRequest {
    const kubeconfig = outputs.kubeconfig?.value;
    if (typeof kubeconfig !== "string") throw new Error("the infra stack has no kubeconfig output (not deployed yet?)");
    const settings = parseAddonSettings(outputs.addonSettings?.value, "the infra stack's addonSettings output");
    return {
        ...credentialsFromKubeconfig(kubeconfig),
        pools: plan.workerPools.map((pool) => ({ pool: pool.config.name, desired: pool.config.desiredSize, kubernetesVersion: pool.kubernetesVersion })),
        controlPlaneCount: plan.config.controlPlane.count,
        controlPlaneVersion: plan.config.kubernetes.version,
        workloads: expectedWorkloads(renderAddons({ ...settings, weavePassword: "unused" })),
        certificateExpiry: outputs.certificateExpiry?.value as Record<string, string> | undefined,
    };
}
