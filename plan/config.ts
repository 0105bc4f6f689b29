import * as pulumi from "@pulumi/pulumi";
import Ajv, { ErrorObject } from "ajv";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { Netmask, ip2long } from "netmask";
import { supportedReleases } from "./versions";
import { instanceArchitecture, isKnownInstanceType, knownRegions, regionDataSource, instanceTypeDataSource } from "./instanceTypes";
import { labelKeyProblem, labelValueProblem, selfLabelProblem } from "./labels";

/** Label every node of a pool registers with, set to the pool's name. */
export const poolLabel = "kaws.io/pool";

export type Environment = "dev" | "staging" | "prod";
export type NatStrategy = "perAz" | "single" | "instance" | "none";
export type CpuCredits = "standard" | "unlimited";
export type ApiAccess = "internal" | "internet-facing";
export type KeyAlgorithm = "ECDSA-P256" | "ECDSA-P384" | "RSA-2048" | "RSA-4096";
export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

export interface Taint {
    readonly key: string;
    readonly value?: string;
    readonly effect: TaintEffect;
}

export interface WorkerPoolConfig {
    readonly name: string;
    readonly instanceTypes: readonly string[];
    readonly minSize: number;
    readonly desiredSize: number;
    readonly maxSize: number;
    /** On-demand instances kept before any spot capacity is used. */
    readonly onDemandBaseCapacity: number;
    /** Share of capacity above the base that is on-demand (100 = no spot). */
    readonly onDemandPercentageAboveBase: number;
    readonly labels: Readonly<Record<string, string>>;
    readonly taints: readonly Taint[];
    readonly rootVolumeSizeGiB: number;
    /** Raise the IMDS hop limit to 2 so pods (not only host-network ones) can reach instance metadata. */
    readonly podsNeedImds: boolean;
    /**
     * Kubernetes release of the pool's kubelets (a supported release, never newer than the control plane's,
     * at most three minors older: see skewProblem); unset, the pool follows `kubernetesVersion`.
     */
    readonly kubernetesVersion?: string;
}

export interface PkiSettings {
    /** Algorithm of every key (plain: it chooses the key resource's arguments). */
    readonly keyAlgorithm: KeyAlgorithm;
    readonly caValidityHours: number;
    readonly leafValidityHours: number;
    /** Hours before a leaf's expiry from which an update re-issues it. */
    readonly earlyRenewalHours: number;
    /** Bumping it re-issues every leaf certificate and key (plain: it is a replacement trigger). */
    readonly leafGeneration: number;
    /** Bumping it re-issues every CA, the service-account key and every leaf (plain: a replacement trigger). */
    readonly caGeneration: number;
}

/** The validated, typed configuration of one cluster (one stack). */
export interface ClusterConfig {
    readonly clusterName: string;
    readonly environment: Environment;
    readonly region: string;
    readonly network: {
        readonly azCount: number;
        readonly vpcCidr: string;
        readonly natGateways: NatStrategy;
        /** Instance type of the NAT instance (natGateways "instance"). */
        readonly natInstanceType: string;
        readonly flowLogs: boolean;
        readonly flowLogRetentionDays: number;
    };
    readonly kubernetes: {
        readonly version: string;
        readonly podCidr: string;
        readonly serviceCidr: string;
        readonly clusterDomain: string;
    };
    readonly etcd: {
        readonly members: number;
        readonly instanceType: string;
        readonly volumeSizeGiB: number;
        readonly rootVolumeSizeGiB: number;
        readonly snapshotIntervalMinutes: number;
        readonly snapshotRetentionDays: number;
    };
    readonly controlPlane: {
        readonly count: number;
        readonly instanceType: string;
        readonly rootVolumeSizeGiB: number;
        readonly apiAccess: ApiAccess;
        readonly allowedCidrs: readonly string[];
        /** The name an internet-facing API is reached by (the user points it at the load balancer); unset, the NLB's own name. */
        readonly apiDnsName?: string;
    };
    readonly workerPools: readonly WorkerPoolConfig[];
    /** Settings every kaws instance shares (nodes, etcd members, the NAT instance). */
    readonly nodes: {
        /** One-minute CloudWatch metrics (billed per instance) instead of the free five-minute ones. */
        readonly detailedMonitoring: boolean;
        /** Credit mode of burstable (T-family) instances; other types ignore it. */
        readonly cpuCredits: CpuCredits;
    };
    readonly pki: PkiSettings;
    /** AMI id for pre-baked images; Amazon Linux 2023 from the public SSM parameter when unset. */
    readonly imageId?: string;
    readonly addons: {
        readonly clusterAutoscaler: boolean;
    };
}

/** Every problem found in a stack's configuration, one line each. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid kaws configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.join("\n")}`);
        this.name = "ConfigError";
    }
}

/** Longest cluster name whose derived AWS names (NLB and target group "<name>-api-tg", 32 chars max) fit. */
export const maxClusterNameLength = 24;
const dnsLabel = "^[a-z]([-a-z0-9]*[a-z0-9])?$";
const cloudWatchRetentionDays = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const privateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((c) => new Netmask(c));

const workerPoolSchema = {
    type: "object",
    additionalProperties: false,
    required: ["name", "instanceTypes", "minSize", "desiredSize", "maxSize"],
    properties: {
        name: { type: "string", pattern: dnsLabel, maxLength: 20 },
        instanceTypes: { type: "array", minItems: 1, uniqueItems: true, items: { type: "string", pattern: "^[a-z][a-z0-9-]*\\.[a-z0-9]+$" } },
        minSize: { type: "integer", minimum: 0 },
        desiredSize: { type: "integer", minimum: 0 },
        maxSize: { type: "integer", minimum: 1, maximum: 1000 },
        onDemandBaseCapacity: { type: "integer", minimum: 0, default: 0 },
        onDemandPercentageAboveBase: { type: "integer", minimum: 0, maximum: 100, default: 100 },
        labels: { type: "object", additionalProperties: { type: "string" }, default: {} },
        taints: {
            type: "array",
            default: [],
            items: {
                type: "object",
                additionalProperties: false,
                required: ["key", "effect"],
                properties: {
                    key: { type: "string", minLength: 1 },
                    value: { type: "string" },
                    effect: { enum: ["NoSchedule", "PreferNoSchedule", "NoExecute"] },
                },
            },
        },
        rootVolumeSizeGiB: { type: "integer", minimum: 20, maximum: 16384, default: 50 },
        podsNeedImds: { type: "boolean", default: false },
        // No default: a pool without it follows the control plane. Supported releases and skew are cross-key rules.
        kubernetesVersion: { type: "string", pattern: "^\\d+\\.\\d+\\.\\d+$" },
    },
};

/** Shape and type rules for every `kaws:` key (before the cross-key rules); defaults live in Pulumi.yaml, not here. */
export const configSchema = {
    type: "object",
    additionalProperties: false,
    required: [
        "clusterName", "environment", "azCount", "vpcCidr", "natGateways", "natInstanceType", "flowLogs", "flowLogRetentionDays",
        "kubernetesVersion", "podCidr", "serviceCidr", "clusterDomain",
        "etcdMembers", "etcdInstanceType", "etcdVolumeSizeGiB", "etcdRootVolumeSizeGiB", "etcdSnapshotIntervalMinutes", "etcdSnapshotRetentionDays",
        "controlPlaneCount", "controlPlaneInstanceType", "controlPlaneRootVolumeSizeGiB", "apiAccess", "apiAllowedCidrs", "workerPools",
        "detailedMonitoring", "burstableCpuCredits",
        "pkiKeyAlgorithm", "caValidityHours", "leafValidityHours", "certEarlyRenewalHours", "leafCertGeneration", "caGeneration",
        "clusterAutoscaler",
    ],
    properties: {
        clusterName: { type: "string" },
        environment: { enum: ["dev", "staging", "prod"] },
        azCount: { type: "integer", minimum: 1, maximum: 6 },
        vpcCidr: { type: "string" },
        natGateways: { enum: ["perAz", "single", "instance", "none"] },
        natInstanceType: { type: "string", pattern: "^[a-z][a-z0-9-]*\\.[a-z0-9]+$" },
        flowLogs: { type: "boolean" },
        flowLogRetentionDays: { enum: cloudWatchRetentionDays },
        kubernetesVersion: { enum: Object.keys(supportedReleases) },
        podCidr: { type: "string" },
        serviceCidr: { type: "string" },
        clusterDomain: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$" },
        etcdMembers: { enum: [1, 3, 5, 7] },
        etcdInstanceType: { type: "string", pattern: "^[a-z][a-z0-9-]*\\.[a-z0-9]+$" },
        etcdVolumeSizeGiB: { type: "integer", minimum: 4, maximum: 1024 },
        etcdRootVolumeSizeGiB: { type: "integer", minimum: 10, maximum: 1024 },
        etcdSnapshotIntervalMinutes: { type: "integer", minimum: 5, maximum: 1440 },
        etcdSnapshotRetentionDays: { type: "integer", minimum: 1, maximum: 365 },
        controlPlaneCount: { type: "integer", minimum: 1, maximum: 9 },
        controlPlaneInstanceType: { type: "string", pattern: "^[a-z][a-z0-9-]*\\.[a-z0-9]+$" },
        controlPlaneRootVolumeSizeGiB: { type: "integer", minimum: 20, maximum: 16384 },
        detailedMonitoring: { type: "boolean" },
        burstableCpuCredits: { enum: ["standard", "unlimited"] },
        apiAccess: { enum: ["internal", "internet-facing"] },
        apiAllowedCidrs: { type: "array", items: { type: "string" } },
        apiDnsName: { type: "string" },
        workerPools: { type: "array", minItems: 1, items: workerPoolSchema },
        pkiKeyAlgorithm: { enum: ["ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-4096"] },
        caValidityHours: { type: "integer", minimum: 24 },
        leafValidityHours: { type: "integer", minimum: 24 },
        certEarlyRenewalHours: { type: "integer", minimum: 0 },
        leafCertGeneration: { type: "integer", minimum: 1 },
        caGeneration: { type: "integer", minimum: 1 },
        imageId: { type: "string", pattern: "^ami-[0-9a-f]{8}([0-9a-f]{9})?$" },
        clusterAutoscaler: { type: "boolean" },
    },
};

/** Keys kept as written, so that a cluster named "123" is not read as a number. */
const stringKeys = new Set(Object.entries(configSchema.properties).filter(([, rule]) => (rule as { type?: string }).type === "string").map(([key]) => key));

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true });
const validateShape = ajv.compile(configSchema);

function show(value: unknown): string {
    return typeof value === "string" ? `"${value}"` : JSON.stringify(value);
}

/** `/workerPools/0/minSize` -> `kaws:workerPools[0].minSize` */
function keyName(instancePath: string, missing?: string): string {
    const parts = instancePath.split("/").filter(Boolean);
    if (missing) parts.push(missing);
    return "kaws:" + parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** What a schema accepts, in words (for the "accepted:" part of a problem). */
function acceptedBy(schema: any): string {
    if (!schema || typeof schema !== "object") return "see the configuration table in README.md";
    if (schema.enum) return schema.enum.join(" | ");
    const range = schema.minimum !== undefined && schema.maximum !== undefined ? ` from ${schema.minimum} to ${schema.maximum}`
        : schema.minimum !== undefined ? ` >= ${schema.minimum}` : schema.maximum !== undefined ? ` <= ${schema.maximum}` : "";
    switch (schema.type) {
        case "integer": return `an integer${range}`;
        case "number": return `a number${range}`;
        case "boolean": return "true | false";
        case "string": return schema.pattern ? `text matching ${schema.pattern}` : "text";
        case "array": return `a list${schema.minItems ? ` of at least ${schema.minItems}` : ""}${schema.items?.type === "object" ? " of mappings" : ""}`;
        case "object": return `a mapping${schema.required ? ` with ${schema.required.join(", ")}` : ""}`;
        default: return "see the configuration table in README.md";
    }
}

/** The known key closest to a misspelt one (case-insensitive, one edit apart or a different case). */
function closestKey(key: string, known: readonly string[]): string | undefined {
    const distance = (a: string, b: string): number => {
        const d = [...Array(b.length + 1).keys()];
        for (let i = 1; i <= a.length; i++) {
            let previous = d[0];
            d[0] = i;
            for (let j = 1; j <= b.length; j++) {
                const current = d[j];
                d[j] = Math.min(d[j] + 1, d[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
                previous = current;
            }
        }
        return d[b.length];
    };
    const best = known.map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) })).sort((x, y) => x.d - y.d)[0];
    return best && best.d <= 2 ? best.k : undefined;
}

function describeShapeError(e: ErrorObject): string {
    switch (e.keyword) {
        case "required":
            return `${keyName(e.instancePath, e.params.missingProperty)}: is required; accepted: ${acceptedBy(e.parentSchema?.properties?.[e.params.missingProperty])}`;
        case "additionalProperties": {
            const suggestion = closestKey(e.params.additionalProperty, Object.keys(e.parentSchema?.properties ?? {}));
            return `${keyName(e.instancePath, e.params.additionalProperty)}: is not a known key; accepted: the keys in README.md's configuration table${suggestion ? ` (did you mean ${keyName(e.instancePath, suggestion)}?)` : ""}`;
        }
        case "enum":
            return `${keyName(e.instancePath)}: ${show(e.data)} is not allowed; accepted: ${e.params.allowedValues.join(" | ")}`;
        case "type":
            return `${keyName(e.instancePath)}: ${show(e.data)} is not ${e.params.type === "integer" ? "an integer" : `a${/^[aeiou]/.test(e.params.type) ? "n" : ""} ${e.params.type}`}; accepted: ${acceptedBy(e.parentSchema)}`;
        case "minimum":
        case "maximum":
            return `${keyName(e.instancePath)}: ${show(e.data)} is out of range; accepted: ${acceptedBy(e.parentSchema)}`;
        case "pattern":
            return `${keyName(e.instancePath)}: ${show(e.data)} is malformed; accepted: values matching ${e.params.pattern}`;
        case "minItems":
            return `${keyName(e.instancePath)}: needs at least ${e.params.limit} item${e.params.limit === 1 ? "" : "s"}; accepted: ${acceptedBy(e.parentSchema)}`;
        default:
            return `${keyName(e.instancePath)}: ${show(e.data)} ${e.message}; accepted: ${acceptedBy(e.parentSchema)}`;
    }
}

/** A lower-case, fully qualified DNS name of at least two labels (RFC 1123 host names). */
function isDnsName(name: string): boolean {
    const label = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
    const labels = name.split(".");
    return name.length <= 253 && labels.length >= 2 && labels.every((l) => label.test(l)) && !/^\d+$/.test(labels[labels.length - 1]);
}

/** Parses "a.b.c.d/n" strictly: it must be a network address written in canonical form. */
export function parseCidr(cidr: string): Netmask | undefined {
    try {
        const net = new Netmask(cidr);
        return `${net.base}/${net.bitmask}` === cidr ? net : undefined;
    } catch {
        return undefined;
    }
}

export function cidrsOverlap(a: Netmask, b: Netmask): boolean {
    return a.contains(b.base) || b.contains(a.base);
}

function isPrivate(net: Netmask): boolean {
    return privateRanges.some((range) => range.contains(net.base) && net.bitmask >= range.bitmask);
}

/** Structured keys arrive from the engine as JSON text; everything else stays as written. */
function decode(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

function checkCidr(problems: string[], key: string, value: string, minPrefix: number, maxPrefix: number): Netmask | undefined {
    const net = parseCidr(value);
    if (!net) {
        problems.push(`kaws:${key}: ${show(value)} is not a CIDR network address; accepted: a.b.c.d/n with no host bits set`);
        return undefined;
    }
    if (!isPrivate(net)) {
        problems.push(`kaws:${key}: ${show(value)} is not private; accepted: inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16`);
    }
    if (net.bitmask < minPrefix || net.bitmask > maxPrefix) {
        problems.push(`kaws:${key}: ${show(value)} has prefix /${net.bitmask}; accepted: /${minPrefix} to /${maxPrefix}`);
    }
    return net;
}

/** "1.36.4" -> [1, 36, 4]; undefined unless it is major.minor.patch. */
export function parseVersion(version: string): [number, number, number] | undefined {
    const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Orders two parsed versions: negative, zero or positive as `a` is older than, equal to or newer than `b`. */
export const compareVersions = (a: readonly number[], b: readonly number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/**
 * Why a kubelet at `poolVersion` may not join a control plane at `controlPlaneVersion`, or undefined if it
 * may. The Kubernetes version skew policy (https://kubernetes.io/releases/version-skew-policy/, "kubelet"):
 * kubelet must not be newer than kube-apiserver, and may be up to three minor versions older (kubelet < 1.25
 * only two). kaws compares full versions, so a newer patch of the same minor is newer too (1.36.4 under
 * 1.36.3). Phrased to follow the pool's value in a problem line.
 */
export function skewProblem(poolVersion: string, controlPlaneVersion: string): string | undefined {
    const pool = parseVersion(poolVersion);
    const cp = parseVersion(controlPlaneVersion);
    if (!pool) return "is not a version like 1.36.4";
    if (!cp) return `cannot be compared with kaws:kubernetesVersion ${show(controlPlaneVersion)}, which is not a version like 1.36.4`;
    const order = compareVersions(pool, cp);
    if (order > 0) return `is newer than kaws:kubernetesVersion ${show(controlPlaneVersion)}`;
    if (pool[0] !== cp[0]) return `is of another major version than kaws:kubernetesVersion ${show(controlPlaneVersion)}`;
    const maxOlder = pool[0] === 1 && pool[1] < 25 ? 2 : 3;
    const older = cp[1] - pool[1];
    if (older > maxOlder) return `is ${older} minor versions older than kaws:kubernetesVersion ${show(controlPlaneVersion)}, more than the ${maxOlder} the Kubernetes version skew policy allows a kubelet`;
    return undefined;
}

/** A pool's kubernetesVersion problem (skew first, then support), or undefined; controlPlaneVersion unset if it is itself invalid. */
function poolVersionProblem(poolVersion: string, controlPlaneVersion: string | undefined): string | undefined {
    const releases = Object.keys(supportedReleases);
    if (controlPlaneVersion === undefined) {
        return releases.includes(poolVersion) ? undefined : `${show(poolVersion)} is not a supported release; accepted: ${releases.join(" | ")}`;
    }
    const fits = releases.filter((r) => skewProblem(r, controlPlaneVersion) === undefined);
    const accepted = `accepted: ${fits.join(" | ")} (supported, not newer than kaws:kubernetesVersion, at most 3 minors older), or unset to follow kaws:kubernetesVersion`;
    const skew = skewProblem(poolVersion, controlPlaneVersion);
    if (skew) return `${show(poolVersion)} ${skew}; ${accepted}`;
    return releases.includes(poolVersion) ? undefined : `${show(poolVersion)} is not a supported release; ${accepted}`;
}

/**
 * Validates raw stack configuration (every key as the engine hands it over: the `kaws:` keys and
 * `aws:region` are read) and returns the typed ClusterConfig, or throws one ConfigError listing every problem.
 */
export function parseClusterConfig(raw: Readonly<Record<string, string>>, siblings: readonly SiblingStack[] = []): ClusterConfig {
    const region = raw["aws:region"];
    const doc: Record<string, unknown> = {};
    const namespaceProblems = Object.keys(raw).filter((key) => !knownNamespaces.includes(key.split(":")[0])).map((key) =>
        `${key}: unknown namespace "${key.split(":")[0]}"; accepted: ${knownNamespaces.map((n) => `${n}:<key>`).join(", ")}`);
    for (const [key, value] of Object.entries(raw)) {
        if (!key.startsWith("kaws:")) continue;
        const name = key.slice("kaws:".length);
        doc[name] = stringKeys.has(name) ? value : decode(value);
    }
    const problems: string[] = [...namespaceProblems];
    if (!region) problems.push("aws:region: is required; set it in Pulumi.<stack>.yaml, e.g. aws:region: eu-west-1");
    else if (!knownRegions.includes(region)) problems.push(`aws:region: ${show(region)} is not an AWS region (pinned list of ${regionDataSource.retrieved}); accepted: one of the ${knownRegions.length} AWS regions, e.g. eu-west-1, us-east-1`);
    const shapeErrors = validateShape(doc) ? [] : validateShape.errors ?? [];
    problems.push(...shapeErrors.map(describeShapeError));
    // Cross-key rules run on every key whose shape is right, so one run reports every problem.
    const misshapen = new Set(shapeErrors.map((e) => e.instancePath.split("/")[1] ?? e.params.missingProperty));
    const c = doc as Record<string, any>;
    const ok = (...keys: string[]) => keys.every((key) => c[key] !== undefined && !misshapen.has(key));
    const prod = ok("environment") && c.environment === "prod";

    if (ok("clusterName") && (!new RegExp(dnsLabel).test(c.clusterName) || c.clusterName.length > maxClusterNameLength)) {
        problems.push(`kaws:clusterName: ${show(c.clusterName)} is not allowed; accepted: a DNS label (a-z, 0-9, "-", starting with a letter) of at most ${maxClusterNameLength} characters`);
    }
    if (prod && ok("azCount") && c.azCount < 3) problems.push(`kaws:azCount: ${c.azCount} is too few for environment "prod"; accepted: 3 to 6`);
    if (prod && ok("etcdMembers") && c.etcdMembers < 3) problems.push(`kaws:etcdMembers: ${c.etcdMembers} is too few for environment "prod"; accepted: 3 | 5 | 7`);
    if (prod && ok("natGateways") && c.natGateways === "instance") problems.push(`kaws:natGateways: "instance" is one instance in one AZ, too fragile for environment "prod"; accepted: perAz | single | none`);
    if (prod && ok("controlPlaneCount") && c.controlPlaneCount < 2) problems.push(`kaws:controlPlaneCount: ${c.controlPlaneCount} is too few for environment "prod"; accepted: 2 to 9`);

    const vpc = ok("vpcCidr") ? checkCidr(problems, "vpcCidr", c.vpcCidr, 16, 20) : undefined;
    const pods = ok("podCidr") ? checkCidr(problems, "podCidr", c.podCidr, 8, 16) : undefined;
    const services = ok("serviceCidr") ? checkCidr(problems, "serviceCidr", c.serviceCidr, 12, 24) : undefined;
    const ranges: [string, Netmask | undefined][] = [["vpcCidr", vpc], ["podCidr", pods], ["serviceCidr", services]];
    for (let i = 0; i < ranges.length; i++) {
        for (let j = i + 1; j < ranges.length; j++) {
            const [ka, a] = ranges[i];
            const [kb, b] = ranges[j];
            if (a && b && cidrsOverlap(a, b)) {
                problems.push(`kaws:${kb}: ${show(c[kb])} overlaps kaws:${ka} ${show(c[ka])}; accepted: a range disjoint from it`);
            }
        }
    }

    (ok("apiAllowedCidrs") ? c.apiAllowedCidrs : []).forEach((cidr: string, i: number) => {
        if (!parseCidr(cidr)) {
            problems.push(`kaws:apiAllowedCidrs[${i}]: ${show(cidr)} is not a CIDR network address; accepted: a.b.c.d/n with no host bits set`);
        } else if (prod && c.apiAccess === "internet-facing" && cidr === "0.0.0.0/0") {
            problems.push(`kaws:apiAllowedCidrs[${i}]: "0.0.0.0/0" opens the API of a prod cluster to the whole internet; accepted: specific CIDRs, or apiAccess "internal"`);
        }
    });
    const allowed = ok("apiAllowedCidrs") ? (c.apiAllowedCidrs as string[]).map(parseCidr) : [];
    if (prod && c.apiAccess === "internet-facing" && allowed.length > 0 && allowed.every(Boolean) && !c.apiAllowedCidrs.includes("0.0.0.0/0") && coversEveryAddress(allowed as Netmask[])) {
        problems.push(`kaws:apiAllowedCidrs: ${show(c.apiAllowedCidrs)} together cover every IPv4 address, opening the API of a prod cluster to the whole internet; accepted: specific CIDRs, or apiAccess "internal"`);
    }
    if (ok("natGateways") && c.natGateways === "none" && !c.imageId) {
        problems.push(`kaws:natGateways: "none" leaves nodes no way to download packages, binaries or images; accepted: perAz | single | instance, or set kaws:imageId to a pre-baked AMI that holds them`);
    }
    if (ok("clusterName")) {
        for (const sibling of siblings.filter((s) => s.clusterName === c.clusterName)) {
            problems.push(`kaws:clusterName: ${show(c.clusterName)} is also the cluster name of stack ${sibling.stack} (${sibling.file}); accepted: a name no other stack of this repository uses`);
        }
    }
    if (ok("apiDnsName") && !isDnsName(c.apiDnsName)) {
        problems.push(`kaws:apiDnsName: ${show(c.apiDnsName)} is not a DNS name; accepted: a lower-case name of at least two labels such as api.example.com (a-z, 0-9, "-", at most 253 characters)`);
    } else if (ok("apiDnsName", "apiAccess") && c.apiAccess === "internal") {
        problems.push(`kaws:apiDnsName: is set but kaws:apiAccess is "internal", whose API is always api.<clusterName>.internal; accepted: unset, or apiAccess "internet-facing"`);
    }
    if (ok("apiAccess", "apiAllowedCidrs") && c.apiAccess === "internet-facing" && c.apiAllowedCidrs.length === 0) {
        problems.push(`kaws:apiAllowedCidrs: is empty but kaws:apiAccess is "internet-facing"; accepted: at least one CIDR allowed to reach the API`);
    }

    const unknownType = (key: string, type: unknown) => {
        if (typeof type === "string" && !isKnownInstanceType(type)) problems.push(`${key}: ${show(type)} is not an EC2 instance type (pinned list of ${instanceTypeDataSource.retrieved}); accepted: a type such as m7i.large, m7g.large, t3.medium`);
    };
    if (ok("etcdInstanceType")) unknownType("kaws:etcdInstanceType", c.etcdInstanceType);
    if (ok("natInstanceType")) unknownType("kaws:natInstanceType", c.natInstanceType);
    if (ok("controlPlaneInstanceType")) unknownType("kaws:controlPlaneInstanceType", c.controlPlaneInstanceType);
    (ok("workerPools") ? c.workerPools : []).forEach((pool: WorkerPoolConfig, i: number) => pool.instanceTypes.forEach((type, t) => unknownType(`kaws:workerPools[${i}].instanceTypes[${t}]`, type)));

    const poolNames = new Set<string>();
    (ok("workerPools") ? c.workerPools : []).forEach((pool: WorkerPoolConfig, i: number) => {
        const key = `kaws:workerPools[${i}]`;
        if (poolNames.has(pool.name)) problems.push(`${key}.name: ${show(pool.name)} is used by another pool; accepted: unique names`);
        poolNames.add(pool.name);
        if (!(pool.minSize <= pool.desiredSize && pool.desiredSize <= pool.maxSize)) {
            problems.push(`${key}: minSize ${pool.minSize}, desiredSize ${pool.desiredSize}, maxSize ${pool.maxSize} are out of order; accepted: minSize <= desiredSize <= maxSize`);
        }
        const arches = new Set(pool.instanceTypes.map(instanceArchitecture));
        if (arches.size > 1) {
            problems.push(`${key}.instanceTypes: ${show(pool.instanceTypes)} mixes arm64 and x86_64; accepted: instance types of one architecture per pool`);
        }
        if (pool.onDemandBaseCapacity > pool.maxSize) {
            problems.push(`${key}.onDemandBaseCapacity: ${pool.onDemandBaseCapacity} exceeds maxSize ${pool.maxSize}; accepted: 0 to maxSize`);
        }
        for (const [label, value] of Object.entries(pool.labels)) {
            const at = `${key}.labels[${JSON.stringify(label)}]`;
            const keyProblem = labelKeyProblem(label) ?? selfLabelProblem(label);
            if (keyProblem) problems.push(`${at}: ${show(label)} ${keyProblem.startsWith("is") ? keyProblem : `is refused: ${keyProblem}`}`);
            else if (label === poolLabel && value !== pool.name) problems.push(`${at}: ${show(value)} is not the pool's name, which kaws sets it to; accepted: ${show(pool.name)} or no such label`);
            const valueProblem = labelValueProblem(value);
            if (valueProblem) problems.push(`${at}: ${show(value)} ${valueProblem}`);
        }
        if (pool.kubernetesVersion !== undefined) {
            const versionProblem = poolVersionProblem(pool.kubernetesVersion, ok("kubernetesVersion") ? c.kubernetesVersion : undefined);
            if (versionProblem) problems.push(`${key}.kubernetesVersion: ${versionProblem}`);
        }
        pool.taints.forEach((taint, t) => {
            const keyProblem = labelKeyProblem(taint.key);
            if (keyProblem) problems.push(`${key}.taints[${t}].key: ${show(taint.key)} ${keyProblem.replace("label key", "taint key")}`);
            const valueProblem = taint.value === undefined ? undefined : labelValueProblem(taint.value);
            if (valueProblem) problems.push(`${key}.taints[${t}].value: ${show(taint.value)} ${valueProblem.replace("label value", "taint value")}`);
        });
    });

    if (ok("leafValidityHours", "caValidityHours") && c.leafValidityHours >= c.caValidityHours) {
        problems.push(`kaws:leafValidityHours: ${c.leafValidityHours} is not shorter than kaws:caValidityHours ${c.caValidityHours}; accepted: less than the CA lifetime`);
    }
    if (ok("certEarlyRenewalHours", "leafValidityHours") && c.certEarlyRenewalHours >= c.leafValidityHours) {
        problems.push(`kaws:certEarlyRenewalHours: ${c.certEarlyRenewalHours} is not shorter than kaws:leafValidityHours ${c.leafValidityHours}; accepted: less than the leaf lifetime`);
    }

    if (problems.length > 0) throw new ConfigError(problems);

    return {
        clusterName: c.clusterName,
        environment: c.environment,
        region: region!,
        network: {
            azCount: c.azCount,
            vpcCidr: c.vpcCidr,
            natGateways: c.natGateways,
            natInstanceType: c.natInstanceType,
            flowLogs: c.flowLogs,
            flowLogRetentionDays: c.flowLogRetentionDays,
        },
        kubernetes: { version: c.kubernetesVersion, podCidr: c.podCidr, serviceCidr: c.serviceCidr, clusterDomain: c.clusterDomain },
        etcd: {
            members: c.etcdMembers,
            instanceType: c.etcdInstanceType,
            volumeSizeGiB: c.etcdVolumeSizeGiB,
            rootVolumeSizeGiB: c.etcdRootVolumeSizeGiB,
            snapshotIntervalMinutes: c.etcdSnapshotIntervalMinutes,
            snapshotRetentionDays: c.etcdSnapshotRetentionDays,
        },
        controlPlane: {
            count: c.controlPlaneCount,
            instanceType: c.controlPlaneInstanceType,
            rootVolumeSizeGiB: c.controlPlaneRootVolumeSizeGiB,
            apiAccess: c.apiAccess,
            allowedCidrs: c.apiAllowedCidrs,
            apiDnsName: c.apiDnsName,
        },
        workerPools: c.workerPools,
        nodes: { detailedMonitoring: c.detailedMonitoring, cpuCredits: c.burstableCpuCredits },
        pki: {
            keyAlgorithm: c.pkiKeyAlgorithm,
            caValidityHours: c.caValidityHours,
            leafValidityHours: c.leafValidityHours,
            earlyRenewalHours: c.certEarlyRenewalHours,
            leafGeneration: c.leafCertGeneration,
            caGeneration: c.caGeneration,
        },
        imageId: c.imageId,
        addons: { clusterAutoscaler: c.clusterAutoscaler },
    };
}

/** The one reader of stack configuration: every `kaws:` key plus `aws:region`, validated. */
export function readClusterConfig(): ClusterConfig {
    const rootDirectory = pulumi.runtime.getRootDirectory();
    const projectDir = fs.existsSync(path.join(rootDirectory, "Pulumi.yaml")) ? rootDirectory : process.cwd();
    return parseClusterConfig(pulumi.runtime.allConfig(), siblingStacks(projectDir, pulumi.getStack()));
}

/** Another stack of the same project, as its committed Pulumi.<stack>.yaml names its cluster. */
export interface SiblingStack {
    readonly stack: string;
    readonly file: string;
    readonly clusterName: string;
}

/** The other stacks' cluster names, from the Pulumi.<stack>.yaml files beside Pulumi.yaml. */
export function siblingStacks(projectDir: string, self: string): SiblingStack[] {
    if (!fs.existsSync(path.join(projectDir, "Pulumi.yaml"))) return [];
    return fs.readdirSync(projectDir).flatMap((file) => {
        const stack = /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1];
        if (!stack || stack === self) return [];
        try {
            const clusterName = YAML.parse(fs.readFileSync(path.join(projectDir, file), "utf8"))?.config?.["kaws:clusterName"];
            return typeof clusterName === "string" ? [{ stack, file, clusterName }] : [];
        } catch {
            return [];
        }
    });
}

/** Namespaces a kaws stack's configuration may use. */
const knownNamespaces = ["kaws", "aws", "pulumi"];

/** Whether CIDR blocks together cover the whole IPv4 space (0.0.0.0/1 + 128.0.0.0/1, say). */
export function coversEveryAddress(blocks: readonly Netmask[]): boolean {
    const ranges = blocks.map((b) => [ip2long(b.base), ip2long(b.base) + b.size - 1]).sort((a, b) => a[0] - b[0]);
    let next = 0;
    for (const [start, end] of ranges) {
        if (start > next) return false;
        next = Math.max(next, end + 1);
    }
    return next > 0xffffffff;
}
