import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CancelledError } from "./wait";

/**
 * The one translator of AWS SDK v3 errors into one-line messages, and the one place AWS clients are
 * configured (retries, timeouts, endpoint, no SDK warning noise). Every AWS call kaws makes goes through
 * `awsCall`.
 */

/** What a translated error is about; tests and callers branch on it, people read the message. */
export type AwsErrorKind = "credentials" | "network" | "throttling" | "access" | "protocol" | "timeout" | "aws";

/** An AWS call failed; `message` is one line that says what went wrong and what to do. No secrets in it. */
export class AwsCallError extends Error {
    constructor(readonly kind: AwsErrorKind, message: string, readonly code?: string) {
        super(message);
        this.name = "AwsCallError";
    }
}

/** The services kaws calls: signing/endpoint prefix, IAM action prefix and display name. */
export const awsServices = {
    sts: { host: "sts", iam: "sts", envId: "STS", title: "STS" },
    ec2: { host: "ec2", iam: "ec2", envId: "EC2", title: "EC2" },
    servicequotas: { host: "servicequotas", iam: "servicequotas", envId: "SERVICE_QUOTAS", title: "Service Quotas" },
    tagging: { host: "tagging", iam: "tag", envId: "RESOURCE_GROUPS_TAGGING_API", title: "Resource Groups Tagging" },
    elb: { host: "elasticloadbalancing", iam: "elasticloadbalancing", envId: "ELASTIC_LOAD_BALANCING", title: "Elastic Load Balancing" },
    elbv2: { host: "elasticloadbalancing", iam: "elasticloadbalancing", envId: "ELASTIC_LOAD_BALANCING_V2", title: "Elastic Load Balancing v2" },
} as const;
export type AwsService = keyof typeof awsServices;

export interface AwsOptions {
    /** Endpoint override for every service (tests point it at moto_server on loopback); else AWS_ENDPOINT_URL. */
    readonly endpoint?: string;
    /** Bound on each API call, retries included (default 30 s). */
    readonly timeoutMs?: number;
    /** Attempts per call, the first one included (default 5), with the SDK's adaptive retry mode. */
    readonly maxAttempts?: number;
}

export interface AwsCallContext {
    readonly service: AwsService;
    /** The API operation, e.g. "DescribeAvailabilityZones". */
    readonly action: string;
    readonly region: string;
    readonly options: AwsOptions;
    /** Aborts the call (Ctrl-C); reported as cancelled, not as an AWS problem. */
    readonly signal?: AbortSignal;
    readonly env?: NodeJS.ProcessEnv;
}

const defaultTimeoutMs = 30_000;
const defaultMaxAttempts = 5;

/**
 * The SDK prints a NodeVersionSupportWarning (process.emitWarning, once per process) when a client is
 * created on a Node.js release it will stop supporting (@aws-sdk/core dist-cjs/submodules/client/index.js,
 * emitWarningIfUnsupportedVersion). Its documented switch is AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true,
 * read while the client is built; we set it only around our own client construction, so nothing else is hidden
 * and child processes (the Pulumi CLI) see the environment unchanged.
 */
export function quietly<T>(build: () => T): T {
    const key = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";
    const before = process.env[key];
    process.env[key] = "true";
    try {
        return build();
    } finally {
        if (before === undefined) delete process.env[key];
        else process.env[key] = before;
    }
}

/** Client configuration shared by every kaws AWS client: adaptive retries, bounded connections, endpoint. */
export function clientConfig(region: string, options: AwsOptions) {
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    return {
        region,
        endpoint: options.endpoint,
        maxAttempts: options.maxAttempts ?? defaultMaxAttempts,
        retryMode: "adaptive",
        requestHandler: { requestTimeout: Math.min(timeoutMs, 20_000), connectionTimeout: Math.min(timeoutMs, 5_000) },
        // The SDK logs nothing unless given a logger; keep it that way (no terminal noise).
        logger: undefined,
    };
}

/** The endpoint a call goes to, for messages: the override, AWS_ENDPOINT_URL[_<SERVICE>], or the public one. */
export function endpointOf(ctx: Pick<AwsCallContext, "service" | "region" | "options" | "env">): { url: string; from?: string } {
    const env = ctx.env ?? process.env;
    if (ctx.options.endpoint) return { url: ctx.options.endpoint };
    const specific = `AWS_ENDPOINT_URL_${awsServices[ctx.service].envId}`;
    if (env[specific]) return { url: env[specific]!, from: specific };
    if (env.AWS_ENDPOINT_URL) return { url: env.AWS_ENDPOINT_URL, from: "AWS_ENDPOINT_URL" };
    const suffix = ctx.region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    return { url: `https://${awsServices[ctx.service].host}.${ctx.region}.${suffix}` };
}

function sharedFile(env: NodeJS.ProcessEnv, variable: string, name: string): string {
    return env[variable] || path.join(env.HOME || os.homedir(), ".aws", name);
}

/** Sections of an AWS shared config or credentials file: name -> its keys. */
function iniSections(file: string): Map<string, Set<string>> {
    const sections = new Map<string, Set<string>>();
    let text: string;
    try { text = fs.readFileSync(file, "utf8"); } catch { return sections; }
    let current: Set<string> | undefined;
    for (const raw of text.split(/\r?\n/)) {
        const line = raw.replace(/[#;].*$/, "").trim();
        const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
        if (header) {
            current = sections.get(header[1]) ?? new Set();
            sections.set(header[1], current);
        } else if (current && line.includes("=")) {
            current.add(line.split("=")[0].trim().toLowerCase());
        }
    }
    return sections;
}

/** Which credential sources the SDK's default chain tried, in words (no values), and what to run. */
export function describeCredentialSources(env: NodeJS.ProcessEnv = process.env): { tried: string; fix: string; profile: string } {
    const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || "default";
    const named = Boolean(env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE);
    const configFile = sharedFile(env, "AWS_CONFIG_FILE", "config");
    const credentialsFile = sharedFile(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
    const keys = new Set([...(iniSections(configFile).get(profile) ?? []), ...(iniSections(credentialsFile).get(profile) ?? [])]);
    const known = iniSections(configFile).has(profile) || iniSections(credentialsFile).has(profile);
    const parts: string[] = [];
    parts.push(env.AWS_ACCESS_KEY_ID ? "environment variables (AWS_ACCESS_KEY_ID is set)" : "environment variables (AWS_ACCESS_KEY_ID is not set)");
    const profileWords = `profile "${profile}"${named ? ` (${env.AWS_PROFILE ? "AWS_PROFILE" : "AWS_DEFAULT_PROFILE"})` : ""}`;
    if (!known) parts.push(`${profileWords}: not found in ${configFile} or ${credentialsFile}`);
    else if (keys.has("sso_session") || keys.has("sso_start_url")) parts.push(`${profileWords}: SSO`);
    else if (keys.has("credential_process")) parts.push(`${profileWords}: credential_process`);
    else if (keys.has("role_arn")) parts.push(`${profileWords}: assumed role`);
    else parts.push(`${profileWords}: static keys`);
    if (env.AWS_WEB_IDENTITY_TOKEN_FILE) parts.push("web identity (AWS_WEB_IDENTITY_TOKEN_FILE)");
    if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) parts.push("container credentials");
    parts.push(env.AWS_EC2_METADATA_DISABLED === "true" ? "instance metadata (disabled by AWS_EC2_METADATA_DISABLED)" : "instance metadata");
    const profileFlag = profile === "default" ? "" : ` --profile ${profile}`;
    let fix: string;
    if (known && (keys.has("sso_session") || keys.has("sso_start_url"))) fix = `run \`aws sso login${profileFlag}\``;
    else if (known && keys.has("credential_process")) fix = `check the credential_process of profile "${profile}" (run it by hand)`;
    else fix = `run \`aws configure${profileFlag}\` (or \`aws configure sso${profileFlag}\`, then \`aws sso login${profileFlag}\`)`;
    return { tried: parts.join(", "), fix, profile };
}

function seconds(ms: number): string {
    return `${(ms / 1000).toFixed(1)} s`;
}

/** Known secret values (the credentials in the environment) and anything shaped like an access key. */
function scrub(text: string, env: NodeJS.ProcessEnv): string {
    let result = text;
    for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
        const value = env[key];
        if (value && value.length >= 4) result = result.split(value).join("[secret]");
    }
    return result.replace(/\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g, "[secret]");
}

/** One line: newlines collapsed, the SDK's "Deserialization error: ..." hint dropped, bounded length. */
function oneLine(text: string, max = 300): string {
    const first = text.split(/\n\s*Deserialization error:/)[0];
    const line = first.replace(/\s+/g, " ").trim();
    return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

const credentialErrorNames = new Set(["CredentialsProviderError", "TokenProviderError"]);
const rejectedCredentialCodes = new Set([
    "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "AuthFailure", "ExpiredToken",
    "ExpiredTokenException", "InvalidAccessKeyId", "InvalidToken", "RequestExpired", "IncompleteSignature",
]);
const accessDeniedCodes = new Set(["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "Forbidden"]);
const throttlingCodes = new Set([
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "RequestThrottled", "SlowDown", "EC2ThrottledException",
    "PriorRequestNotComplete", "ProvisionedThroughputExceededException",
]);
const networkCodes = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ECONNABORTED", "ERR_INVALID_URL", "UND_ERR_CONNECT_TIMEOUT"]);

interface SdkErrorShape {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number; attempts?: number; totalRetryDelay?: number };
    cause?: unknown;
}

/** Translates any error an AWS SDK v3 call threw into one AwsCallError with a one-line message. */
export function translateAwsError(err: unknown, ctx: AwsCallContext, elapsedMs: number): AwsCallError {
    if (err instanceof AwsCallError) return err;
    const env = ctx.env ?? process.env;
    const e = (typeof err === "object" && err !== null ? err : { message: String(err) }) as SdkErrorShape;
    const name = e.name ?? "Error";
    const code = e.code ?? (typeof e.cause === "object" && e.cause !== null ? (e.cause as SdkErrorShape).code : undefined);
    const message = oneLine(String(e.message ?? ""));
    const service = awsServices[ctx.service];
    const call = `${service.title} ${ctx.action}`;
    const iamAction = `${service.iam}:${ctx.action}`;
    const endpoint = endpointOf(ctx);
    const where = `${endpoint.url}${endpoint.from ? ` (from ${endpoint.from})` : ""}`;
    const attempts = e.$metadata?.attempts ?? 1;
    const build = (kind: AwsErrorKind, text: string) => new AwsCallError(kind, scrub(oneLine(text, 560), env), code ?? name);

    if (credentialErrorNames.has(name) || /could not load credentials|credential_process|sso session|token is expired|SSO.*expired/i.test(message)) {
        const sources = describeCredentialSources(env);
        const sso = /sso|token/i.test(`${name} ${message}`) && !/could not load credentials from any providers/i.test(message);
        const what = sso ? `the SSO session of profile "${sources.profile}" has expired or is invalid` : "no AWS credentials could be loaded";
        const fix = sso ? `run \`aws sso login${sources.profile === "default" ? "" : ` --profile ${sources.profile}`}\`` : sources.fix;
        return build("credentials", `${what} for ${call} (tried ${sources.tried}); ${fix}`);
    }
    if (rejectedCredentialCodes.has(name)) {
        const sources = describeCredentialSources(env);
        return build("credentials", `AWS rejected the credentials (${name}: ${message}) at ${where}; tried ${sources.tried}; ${sources.fix}`);
    }
    if (accessDeniedCodes.has(name) || e.$metadata?.httpStatusCode === 403 && !throttlingCodes.has(name)) {
        const principal = /(?:User|Principal|Role): (arn:[^\s,]+)/.exec(message)?.[1];
        const action = /perform: ([a-z0-9-]+:[A-Za-z0-9]+)/.exec(message)?.[1] ?? iamAction;
        const needs = /^(Describe|Get|List)/.test(ctx.action)
            ? "kaws reads with ec2:Describe*, elasticloadbalancing:Describe*, servicequotas:GetServiceQuota, sts:GetCallerIdentity, tag:GetResources"
            : "the janitor deletes only what controllers left tagged for this cluster (README \"The kaws CLI\")";
        return build("access", `access denied (${name}): ${principal ?? "the caller"} may not call ${action} in ${ctx.region}; grant it ${action} (${needs})`);
    }
    if (throttlingCodes.has(name) || e.$metadata?.httpStatusCode === 429) {
        const backoff = e.$metadata?.totalRetryDelay !== undefined ? `, ${seconds(e.$metadata.totalRetryDelay)} of backoff` : "";
        return build("throttling", `AWS kept throttling ${call} at ${where} (${name}); gave up after ${attempts} attempt(s)${backoff} in ${seconds(elapsedMs)}; wait a minute and run it again, or lower the account's API traffic`);
    }
    if (name === "TimeoutError" || name === "AbortError" || code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
        return build("timeout", `${endpoint.url} did not answer ${call} within ${seconds(elapsedMs)}${endpoint.from ? ` (endpoint from ${endpoint.from})` : ""}; check the network (proxy, VPN, firewall) or the endpoint`);
    }
    if ((code && networkCodes.has(code)) || /Invalid URL/i.test(message)) {
        const why = code === "ENOTFOUND" || code === "EAI_AGAIN" ? "its host name does not resolve"
            : code === "ECONNREFUSED" ? "nothing is listening there"
            : code === "ERR_INVALID_URL" || /Invalid URL/i.test(message) ? "it is not a valid URL"
            : `the connection failed (${code})`;
        const fix = endpoint.from ? `fix or unset ${endpoint.from}` : "check the network (proxy, VPN, firewall) and aws:region";
        return build("network", `cannot reach ${endpoint.url} for ${call}: ${why}${endpoint.from ? ` (endpoint from ${endpoint.from})` : ""}; gave up after ${attempts} attempt(s) in ${seconds(elapsedMs)}; ${fix}`);
    }
    if (/XML parse error|not valid JSON|Unexpected token|Expected .* but|Deserialization/i.test(`${message} ${String(e.message ?? "")}`) || name === "SyntaxError") {
        return build("protocol", `the endpoint did not answer as AWS does: ${where} (${call}: HTTP ${e.$metadata?.httpStatusCode ?? "?"}, not a valid AWS response); check ${endpoint.from ?? "the endpoint"} and any proxy in between`);
    }
    const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : "";
    return build("aws", `${call} failed${status}: ${name}${message && message !== name ? `: ${message}` : ""}`);
}

/**
 * Runs one AWS SDK call with a time bound (retries included) and translates whatever it throws. A call the
 * caller's signal cancels (Ctrl-C) ends in CancelledError.
 */
export async function awsCall<T>(ctx: AwsCallContext, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const timeoutMs = ctx.options.timeoutMs ?? defaultTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const abortSignal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
    const started = Date.now();
    try {
        return await send(abortSignal);
    } catch (err) {
        if (ctx.signal?.aborted) throw new CancelledError(`${awsServices[ctx.service].title} ${ctx.action}`);
        throw translateAwsError(err, ctx, Date.now() - started);
    }
}
