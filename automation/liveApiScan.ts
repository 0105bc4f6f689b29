import { compareVersions, parseVersion } from "../plan/config";
import type { StackOutputs } from "./driver";
import { Answer, ApiCredentials, apiGet, credentialsFromKubeconfig } from "./validate";
import { CancelledError } from "./wait";

/**
 * The live half of the removed-API scan of `kaws upgrade`, in the two ways the Kubernetes deprecation
 * guide ("Locate use of deprecated APIs") documents: the API server's apiserver_requested_deprecated_apis
 * gauge (requests clients really made), and the objects of every removed group/version the cluster still
 * serves whose managedFields or last-applied-configuration show they were written through it.
 */

/** A row of plan/removedApis.json that the target release no longer serves. */
export interface RemovedApi {
    readonly removedIn: string;
    readonly apiVersion: string;
    readonly kinds: readonly string[];
    readonly use: string;
}

/** Requests the API server counted to a version the target removes (apiserver_requested_deprecated_apis = 1). */
export interface DeprecatedApiRequest {
    readonly apiVersion: string;
    readonly resource: string;
    readonly removedIn: string;
}

/** An object in the cluster that a manager wrote through a version the target removes. */
export interface RemovedApiObject {
    readonly kind: string;
    /** namespace/name, or the name alone for a cluster-scoped object. */
    readonly object: string;
    readonly apiVersion: string;
    readonly manager: string;
    /** What shows it: a managedFields entry, kubectl's last-applied-configuration, or no other version serving the kind. */
    readonly evidence: "managedFields" | "last-applied-configuration" | "no other served version";
    readonly removedIn: string;
    readonly use: string;
}

export type LiveApiScan =
    | { readonly scanned: false; readonly reason: string }
    | {
        readonly scanned: true;
        /** host:port of the API server that answered. */
        readonly endpoint: string;
        readonly requests: readonly DeprecatedApiRequest[];
        readonly objects: readonly RemovedApiObject[];
        /** Removed group/versions the cluster still serves (their objects were listed). */
        readonly stillServed: readonly string[];
    };

// ---------------------------------------------------------------- Prometheus text format

export interface MetricSample {
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly value: number;
}

/**
 * Samples of the Prometheus text exposition format (version 0.0.4): `name{label="value",...} value [timestamp]`,
 * label values with the \\ \" and \n escapes, # comments; a line that does not parse is an Error naming it.
 */
export function parsePrometheusText(text: string): MetricSample[] {
    const samples: MetricSample[] = [];
    text.split("\n").forEach((raw, index) => {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) return;
        const fail = (why: string): never => { throw new Error(`metrics line ${index + 1}: ${why}: ${line.length > 120 ? `${line.slice(0, 119)}…` : line}`); };
        const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? fail("no metric name");
        let at = name.length;
        const labels: Record<string, string> = {};
        if (line[at] === "{") {
            at++;
            while (true) {
                while (line[at] === " ") at++;
                if (line[at] === "}") { at++; break; }
                const label = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(at))?.[0] ?? fail("no label name");
                at += label.length;
                while (line[at] === " ") at++;
                if (line[at] !== "=") fail(`no = after label ${label}`);
                at++;
                while (line[at] === " ") at++;
                if (line[at] !== "\"") fail(`label ${label} has no quoted value`);
                at++;
                let value = "";
                while (line[at] !== "\"") {
                    if (at >= line.length) fail(`label ${label} has an unterminated value`);
                    if (line[at] === "\\") {
                        const escaped = line[at + 1];
                        if (escaped === "n") value += "\n";
                        else if (escaped === "\\" || escaped === "\"") value += escaped;
                        else fail(`label ${label} has an unknown escape \\${escaped ?? ""}`);
                        at += 2;
                    } else {
                        value += line[at++];
                    }
                }
                at++;
                labels[label] = value;
                while (line[at] === " ") at++;
                if (line[at] === ",") at++;
                else if (line[at] !== "}") fail(`no , or } after label ${label}`);
            }
        }
        const [valueText, timestamp, ...rest] = line.slice(at).trim().split(/\s+/);
        if (rest.length > 0 || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) fail("extra text after the value");
        const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : valueText === "NaN" ? NaN : Number(valueText);
        if (valueText === undefined || valueText === "" || (Number.isNaN(value) && valueText !== "NaN")) fail("no numeric value");
        samples.push({ name, labels, value });
    });
    return samples;
}

const removedBy = (release: string, to: string): boolean => {
    const removed = parseVersion(`${release}.0`);
    return removed !== undefined && compareVersions(removed, parseVersion(to)!) <= 0;
};

/** The apiserver_requested_deprecated_apis series (value 1: requested since the server started) whose removed_release is at or before `to`. */
export function deprecatedRequests(samples: readonly MetricSample[], to: string): DeprecatedApiRequest[] {
    return samples
        .filter((s) => s.name === "apiserver_requested_deprecated_apis" && s.value === 1 && removedBy(s.labels.removed_release ?? "", to))
        .map((s) => ({
            apiVersion: s.labels.group ? `${s.labels.group}/${s.labels.version}` : String(s.labels.version),
            resource: s.labels.subresource ? `${s.labels.resource}/${s.labels.subresource}` : String(s.labels.resource),
            removedIn: s.labels.removed_release,
        }));
}

// ---------------------------------------------------------------- objects

interface ManagedFieldsEntry { readonly manager?: string; readonly apiVersion?: string }

interface ListedObject {
    readonly metadata?: {
        readonly name?: string;
        readonly namespace?: string;
        readonly managedFields?: readonly ManagedFieldsEntry[];
        readonly annotations?: Readonly<Record<string, string>>;
    };
}

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration";

/** How `item` shows it was written through `removed.apiVersion`, one finding per manager (none: it was not). */
export function writtenThrough(item: ListedObject, kind: string, removed: RemovedApi, onlyServedThere: boolean): RemovedApiObject[] {
    const meta = item.metadata ?? {};
    const object = meta.namespace ? `${meta.namespace}/${meta.name}` : String(meta.name);
    const finding = (manager: string, evidence: RemovedApiObject["evidence"]): RemovedApiObject => ({ kind, object, apiVersion: removed.apiVersion, manager, evidence, removedIn: removed.removedIn, use: removed.use });
    const managers = [...new Set((meta.managedFields ?? []).filter((f) => f.apiVersion === removed.apiVersion).map((f) => f.manager || "(unnamed manager)"))];
    const findings = managers.map((m) => finding(m, "managedFields"));
    let applied: { apiVersion?: unknown } | undefined;
    try {
        applied = meta.annotations?.[lastApplied] ? JSON.parse(meta.annotations[lastApplied]) : undefined;
    } catch { /* an annotation that is not JSON says nothing about the version */ }
    if (applied?.apiVersion === removed.apiVersion) findings.push(finding("kubectl apply", "last-applied-configuration"));
    if (findings.length === 0 && onlyServedThere) findings.push(finding((meta.managedFields ?? [])[0]?.manager || "(unknown manager)", "no other served version"));
    return findings;
}

// ---------------------------------------------------------------- transport

/** A failure to talk to the API at all, or an answer the scan cannot use: the scan is incomplete. */
class ScanFailed extends Error {}

function get(credentials: ApiCredentials, path: string, timeoutMs: number, signal?: AbortSignal): Promise<Answer> {
    return apiGet(credentials, path, timeoutMs, { signal, activity: "scanning the cluster", unreachable: (message) => new ScanFailed(message) });
}

export interface LiveScanOptions {
    readonly signal?: AbortSignal;
    /** Bound of every single request, connection included (default 10 s). */
    readonly requestTimeoutMs?: number;
    /** Objects asked for per list page (default 500). */
    readonly pageSize?: number;
}

const apiVersionPattern = /^[a-z0-9.-]+\/v\d+[a-z0-9]*$/;

/**
 * Asks the API server what the cluster uses that the target removes: first /metrics (so the scan's own
 * requests are not counted in it), then, for each removed group/version still served, its objects, listed
 * through the replacement version when that serves the kind. Never throws for an unreachable or refusing
 * API (that is a scan that did not happen, with the reason); CancelledError when `signal` aborts.
 */
export async function scanLiveApis(credentials: ApiCredentials, to: string, removed: readonly RemovedApi[], options: LiveScanOptions = {}): Promise<LiveApiScan> {
    const timeoutMs = Math.max(1, options.requestTimeoutMs ?? 10_000);
    const pageSize = options.pageSize ?? 500;
    const ask = async (path: string, okWhen404 = false): Promise<string | undefined> => {
        const answer = await get(credentials, path, timeoutMs, options.signal);
        if (answer.status === 404 && okWhen404) return undefined;
        if (answer.status !== 200) {
            let message = answer.body.trim().split("\n").pop() ?? "";
            try { message = JSON.parse(answer.body).message ?? message; } catch { /* not a Status object */ }
            throw new ScanFailed(`GET ${path}: HTTP ${answer.status}${message ? ` ${message.slice(0, 160)}` : ""}`);
        }
        return answer.body;
    };
    const json = async (path: string, okWhen404 = false): Promise<any> => {
        const body = await ask(path, okWhen404);
        if (body === undefined) return undefined;
        try { return JSON.parse(body); } catch { throw new ScanFailed(`GET ${path}: the answer is not JSON`); }
    };
    try {
        const metrics = await ask("/metrics");
        let samples: MetricSample[];
        try { samples = parsePrometheusText(metrics!); } catch (err) { throw new ScanFailed(`GET /metrics: ${(err as Error).message}`); }
        const requests = deprecatedRequests(samples, to);

        const discovery = new Map<string, Promise<{ name: string; kind: string; verbs?: string[] }[] | undefined>>();
        const resourcesOf = (apiVersion: string) => {
            if (!discovery.has(apiVersion)) discovery.set(apiVersion, json(`/apis/${apiVersion}`, true).then((list) => list?.resources));
            return discovery.get(apiVersion)!;
        };
        const listable = (resources: { name: string; kind: string; verbs?: string[] }[] | undefined, kind: string) =>
            resources?.find((r) => r.kind === kind && !r.name.includes("/") && (r.verbs ?? []).includes("list"));
        const objects: RemovedApiObject[] = [];
        const stillServed: string[] = [];
        for (const entry of removed) {
            const served = await resourcesOf(entry.apiVersion);
            if (!served) continue;
            if (!stillServed.includes(entry.apiVersion)) stillServed.push(entry.apiVersion);
            for (const kind of entry.kinds) {
                const there = listable(served, kind);
                if (!there) continue;
                const replacement = apiVersionPattern.test(entry.use) ? listable(await resourcesOf(entry.use), kind) : undefined;
                const base = replacement ? `/apis/${entry.use}/${replacement.name}` : `/apis/${entry.apiVersion}/${there.name}`;
                let page = "";
                do {
                    const list = await json(`${base}?limit=${pageSize}${page ? `&continue=${encodeURIComponent(page)}` : ""}`);
                    if (!Array.isArray(list?.items)) throw new ScanFailed(`GET ${base}: the answer is not a list`);
                    for (const item of list.items as ListedObject[]) objects.push(...writtenThrough(item, kind, entry, !replacement));
                    page = list.metadata?.continue ?? "";
                } while (page);
            }
        }
        return { scanned: true, endpoint: new URL(credentials.endpoint).host, requests, objects, stillServed };
    } catch (err) {
        if (err instanceof ScanFailed) return { scanned: false, reason: err.message };
        throw err;
    }
}

/**
 * The scan of an environment's cluster from its infra stack's outputs (read by `outputs`), or why it was
 * not scanned: outputs unreadable, no kubeconfig (not deployed yet), or the API unreachable.
 */
export async function scanEnvironment(outputs: () => Promise<StackOutputs>, scan: (credentials: ApiCredentials) => Promise<LiveApiScan>): Promise<LiveApiScan> {
    let kubeconfig: unknown;
    try {
        kubeconfig = (await outputs()).kubeconfig?.value;
    } catch (err) {
        if (err instanceof CancelledError) throw err;
        return { scanned: false, reason: `the infra stack's outputs could not be read (${String((err as Error).message ?? err).split("\n")[0]})` };
    }
    if (typeof kubeconfig !== "string") return { scanned: false, reason: "the infra stack has no kubeconfig output (not deployed yet?)" };
    let credentials: ApiCredentials;
    try {
        credentials = credentialsFromKubeconfig(kubeconfig);
    } catch (err) {
        return { scanned: false, reason: (err as Error).message };
    }
    return scan(credentials);
}
