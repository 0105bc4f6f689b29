import * as https from "https";

export interface ApiReadyOptions {
    /** https URL of the API server (the load balancer). */
    readonly endpoint: string;
    /** PEM of the cluster CA: the only CA the API server's certificate is checked against. */
    readonly caPem: string;
    /** Client certificate and key (admin), for API servers that refuse anonymous /readyz. */
    readonly clientCertPem?: string;
    readonly clientKeyPem?: string;
    readonly timeoutMs: number;
    readonly intervalMs: number;
    readonly signal?: AbortSignal;
    /** Called after every failed attempt with the attempt number, elapsed time and why it failed. */
    readonly onProgress?: (attempt: number, elapsedMs: number, reason: string) => void;
}

/** How long `up` waits for the API after the infra stage, and how often it asks (issue 15: every 2–3 s, not 10). */
export const apiWait = { timeoutMs: 20 * 60_000, intervalMs: 2_000 };

export class ApiNotReadyError extends Error {
    constructor(endpoint: string, timeoutMs: number, lastReason: string) {
        super(`the API at ${endpoint} did not answer /readyz within ${Math.round(timeoutMs / 1000)} s (last: ${lastReason})`);
        this.name = "ApiNotReadyError";
    }
}

export class CancelledError extends Error {
    constructor(what: string) {
        super(`${what} cancelled`);
        this.name = "CancelledError";
    }
}

function probe(options: ApiReadyOptions, url: URL, timeoutMs: number): Promise<string | undefined> {
    return new Promise((resolve) => {
        const request = https.get(url, {
            ca: options.caPem,
            cert: options.clientCertPem,
            key: options.clientKeyPem,
            rejectUnauthorized: true,
            timeout: timeoutMs,
            signal: options.signal,
        }, (response) => {
            let body = "";
            response.setEncoding("utf8");
            response.on("data", (chunk) => { body += chunk; });
            response.on("end", () => resolve(response.statusCode === 200 ? undefined : `HTTP ${response.statusCode} ${body.trim().split("\n").pop() ?? ""}`.trim()));
        });
        request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        request.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ? `${err.code}: ${err.message}` : err.message));
    });
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
    });
}

/**
 * Polls GET <endpoint>/readyz until it answers 200, verifying the server certificate against the
 * cluster CA only (never the system roots, never unverified). Bounded by `timeoutMs`; cancellable.
 */
export async function waitForApiReady(options: ApiReadyOptions): Promise<{ attempts: number; elapsedMs: number }> {
    const url = new URL("/readyz", options.endpoint);
    if (url.protocol !== "https:") throw new Error(`apiEndpoint must be an https URL, got ${options.endpoint}`);
    const started = Date.now();
    let attempt = 0;
    let reason = "no attempt";
    while (true) {
        if (options.signal?.aborted) throw new CancelledError("waiting for the API");
        attempt++;
        const remaining = options.timeoutMs - (Date.now() - started);
        const failure = await probe(options, url, Math.max(1000, Math.min(10_000, remaining)));
        if (options.signal?.aborted) throw new CancelledError("waiting for the API");
        if (failure === undefined) return { attempts: attempt, elapsedMs: Date.now() - started };
        reason = failure;
        const elapsed = Date.now() - started;
        options.onProgress?.(attempt, elapsed, reason);
        if (elapsed + options.intervalMs > options.timeoutMs) throw new ApiNotReadyError(options.endpoint, options.timeoutMs, reason);
        await sleep(options.intervalMs, options.signal);
    }
}
