import * as fs from "fs";
import * as path from "path";
import { Evaluation, RecordedResource, evaluateStack } from "./offline/engine";
import { placeholderId } from "./offline/placeholders";
import { loadStackConfig } from "./stackConfig";
import { unwrapSecret } from "./offline/secrets";
import { projectRoot } from "../plan/projectRoot";

/**
 * Monthly cost of an evaluated stack, read from the resources the program registered (never from a
 * hand-kept list of what the stack "should" contain), priced with plan/prices/<region>.json.
 *
 * Choices (see also the assumptions each report lists):
 * - A group's instances are priced at desiredCapacity, never maxSize: that is what runs.
 * - A mixed-instances group is priced at its FIRST override, which is what the "prioritized" on-demand
 *   allocation launches. On-demand count = min(desired, onDemandBaseCapacity) plus
 *   onDemandPercentageAboveBaseCapacity of the rest, rounded up (the conservative way); the rest is
 *   spot at on-demand × (1 − spotDiscount), spotDiscount from the price file (an assumption).
 * - etcd snapshots are read from the stack itself: the backend quota (ETCD_QUOTA_BACKEND_BYTES in each
 *   member's etcd.env), the timer interval (OnUnitActiveSec of kaws-etcd-snapshot.timer), whether each
 *   member's script uploads only while it leads (then the cluster has one series), and how long an
 *   object under the snapshot prefix lives (the bucket's lifecycle expiration, plus its noncurrent-version
 *   expiration when the bucket is versioned). Each snapshot is priced at the quota: an upper bound,
 *   overridable with `usage.etcdSnapshotGiB`.
 * - A price the stack needs and the price file lacks is never zero: a CostError naming every missing key,
 *   or, when the caller asks for a partial report, the line items it would price are listed as unpriced and
 *   the total is that of the priced items only, said so.
 */

export const hoursPerMonthDefault = 730;

/** The unit prices of one region (plan/prices/<region>.json). */
export interface PriceFile {
    readonly region: string;
    readonly currency: string;
    readonly retrieved: string;
    readonly sources: readonly { id: string; url: string; date: string; covers: string }[];
    readonly hoursPerMonth: number;
    /** On-demand Linux $/hour by instance type. */
    readonly instances: Readonly<Record<string, number>>;
    /** $/GB-month by volume type. */
    readonly ebs: Readonly<Record<string, number>>;
    readonly natGateway?: { readonly hourly: number; readonly perGB: number };
    readonly nlb?: { readonly hourly: number; readonly perLcuHour: number };
    readonly alb?: { readonly hourly: number; readonly perLcuHour: number };
    /** $/hour per public IPv4 address. */
    readonly publicIpv4?: number;
    /** $/month per customer managed key. */
    readonly kmsKey?: number;
    /** $/month per hosted zone. */
    readonly route53Zone?: number;
    /** $/GB ingested. */
    readonly cloudwatchLogsIngest?: number;
    /** $/GB-month stored. */
    readonly cloudwatchLogsStorage?: number;
    /** $/GB-month. */
    readonly s3Standard?: number;
    /** Fraction off the on-demand price a spot instance is assumed to cost less (0.5 = half price). */
    readonly spotDiscount?: number;
    /** $/month per instance with detailed monitoring. */
    readonly detailedMonitoringPerInstance?: number;
    readonly assumptions: UsageAssumptions;
}

/** Usage the stack cannot tell: stated in the price file, overridable per call, listed in every report. */
export interface UsageAssumptions {
    /** GB processed per NAT gateway per month. */
    readonly natGatewayGBPerMonth: number;
    /** Average NLCUs (LCUs) a load balancer uses per hour. */
    readonly nlbLcuPerHour: number;
    /** GB of flow-log records each flow log sends to CloudWatch Logs per month. */
    readonly flowLogGBPerMonth: number;
    /** GB stored in each bucket besides etcd snapshots (node files, manifests). */
    readonly s3AssetsGB: number;
    /** Size of one etcd snapshot in GiB; the member's backend quota when unset (an upper bound). */
    readonly etcdSnapshotGiB?: number;
}

export interface CostLine {
    /** What is billed, e.g. "instances kaws-prod-controlplane (m7i.xlarge, on-demand)". */
    readonly item: string;
    /** "<type>::<name>" of the resource it comes from. */
    readonly resource: string;
    readonly quantity: number;
    /** What one unit is: "instance-month", "GB-month", "address-month", … */
    readonly unit: string;
    /** Monthly price of one unit. */
    readonly unitPrice: number;
    readonly monthly: number;
    /** Set on usage-priced or otherwise assumed lines. */
    readonly assumption?: string;
}

export interface CostReport {
    readonly region: string;
    readonly currency: string;
    readonly hoursPerMonth: number;
    readonly lines: CostLine[];
    /** Of the priced lines only: with `unpriced` lines, a lower bound. */
    readonly total: number;
    /** Partial reports: the line items the price file could not price, and the keys it lacks. */
    readonly unpriced?: { readonly item: string; readonly resource: string }[];
    readonly missingPrices?: string[];
    /** Every assumption behind the numbers, one sentence each. */
    readonly assumptions: string[];
    /** Where the prices came from. */
    readonly sources: string[];
}

/** A cost cannot be computed: one line naming the region, the price file and what it lacks. */
export class CostError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CostError";
    }
}

export const pricesDir = path.join(projectRoot, "plan", "prices");

/** Regions with a price file, sorted. */
export function pricedRegions(): string[] {
    return fs.readdirSync(pricesDir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -".json".length)).sort();
}

/** The price file of `region`; an unknown region is a CostError. */
export function loadPrices(region: string, dir = pricesDir): PriceFile {
    const file = path.join(dir, `${region}.json`);
    if (!/^[a-z0-9-]+$/.test(region) || !fs.existsSync(file)) {
        throw new CostError(`no price file for region "${region}" (plan/prices/${region}.json); priced regions: ${pricedRegions().join(" | ")}`);
    }
    const prices = JSON.parse(fs.readFileSync(file, "utf8")) as PriceFile;
    if (prices.region !== region) throw new CostError(`plan/prices/${region}.json says region "${prices.region}"`);
    const { assumptions: _assumptions, hoursPerMonth: _hours, ...priceFields } = prices;
    const notPositive: string[] = [];
    const walk = (value: unknown, at: string) => {
        if (typeof value === "number" && !(value > 0)) notPositive.push(at);
        else if (value && typeof value === "object" && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) walk(v, at ? `${at}.${k}` : k);
    };
    walk(priceFields, "");
    if (notPositive.length > 0) throw new CostError(`plan/prices/${region}.json: prices must be positive (a missing price is left out, not 0): ${notPositive.join(", ")}`);
    return prices;
}

// ---- reading the evaluation ----

const T = {
    group: "aws:autoscaling/group:Group",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    instance: "aws:ec2/instance:Instance",
    nat: "aws:ec2/natGateway:NatGateway",
    eip: "aws:ec2/eip:Eip",
    lb: "aws:lb/loadBalancer:LoadBalancer",
    volume: "aws:ebs/volume:Volume",
    kms: "aws:kms/key:Key",
    zone: "aws:route53/zone:Zone",
    flowLog: "aws:ec2/flowLog:FlowLog",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    buckets: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
    lifecycle: ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"],
    versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
    object: "aws:s3/bucketObjectv2:BucketObjectv2",
} as const;

/** The resource types priced here (the rest of the graph is free or billed per request). */
export const pricedResourceTypes: readonly string[] = [T.group, T.instance, T.nat, T.eip, T.lb, T.volume, T.kms, T.zone, T.flowLog, ...T.buckets];

const num = (value: unknown): number | undefined => {
    const v = unwrapSecret(value);
    const n = typeof v === "string" ? Number(v) : v;
    return typeof n === "number" && Number.isFinite(n) ? n : undefined;
};

const ref = (r: RecordedResource) => `${r.type}::${r.name}`;

function ofType(evaluation: Evaluation, ...types: readonly string[]): RecordedResource[] {
    return evaluation.resources.filter((r) => r.custom && types.includes(r.type));
}

/** Collects what the price file lacks; the report is refused if anything is. */
class Needs {
    readonly missing = new Set<string>();
    constructor(readonly prices: PriceFile) {}
    price(key: string, value: number | undefined): number {
        if (value === undefined || !Number.isFinite(value)) {
            this.missing.add(key);
            return 0;
        }
        return value;
    }
}

interface GroupCapacity {
    readonly instanceType: string | undefined;
    readonly template: RecordedResource | undefined;
    readonly onDemand: number;
    readonly spot: number;
    readonly mixed: boolean;
}

/** Resolves a launch template reference (placeholder id, name or the template's own id input). */
function templateFor(evaluation: Evaluation, spec: Record<string, unknown> | undefined): RecordedResource | undefined {
    if (!spec) return undefined;
    const id = unwrapSecret(spec.id ?? spec.launchTemplateId);
    const name = unwrapSecret(spec.name ?? spec.launchTemplateName);
    return ofType(evaluation, T.launchTemplate).find((lt) =>
        (id !== undefined && id === placeholderId(lt.name)) || (name !== undefined && (name === lt.inputs.name || name === placeholderId(lt.name))));
}

function groupCapacity(evaluation: Evaluation, group: RecordedResource): GroupCapacity {
    const desired = num(group.inputs.desiredCapacity) ?? num(group.inputs.minSize) ?? 0;
    const mixed = group.inputs.mixedInstancesPolicy;
    if (mixed) {
        const lt = mixed.launchTemplate ?? {};
        const template = templateFor(evaluation, lt.launchTemplateSpecification);
        const first = (lt.overrides ?? []).find((o: any) => o?.instanceType)?.instanceType;
        const dist = mixed.instancesDistribution ?? {};
        const base = Math.min(desired, num(dist.onDemandBaseCapacity) ?? 0);
        const percent = num(dist.onDemandPercentageAboveBaseCapacity) ?? 100;
        const onDemand = base + Math.ceil(((desired - base) * percent) / 100);
        return { instanceType: first ?? template?.inputs.instanceType, template, onDemand, spot: desired - onDemand, mixed: true };
    }
    const template = templateFor(evaluation, group.inputs.launchTemplate);
    return { instanceType: template?.inputs.instanceType, template, onDemand: desired, spot: 0, mixed: false };
}

/** `KEY=value` of a node file, or `Key=value` of a unit file. */
function setting(content: string, key: string): string | undefined {
    return new RegExp(`^${key}=(.*)$`, "m").exec(content)?.[1]?.trim();
}

interface SnapshotSeries { readonly role: string; readonly quotaGiB: number; readonly intervalMinutes: number; readonly leaderOnly: boolean }

interface SnapshotPlan {
    /** One series per member, or a single one (role "leader") when only the leader uploads. */
    readonly series: SnapshotSeries[];
    readonly keptDays: number;
    readonly keptWhy: string;
}

/** etcd/snapshot.sh asks etcd who leads before it saves anything: only the leader's timer uploads. */
const leaderGate = /etcdctl endpoint status --write-out=fields/;

/**
 * The etcd snapshot series as the stack renders them: one per member, or one for the cluster when every
 * member's script uploads only while it leads (priced at the largest quota and shortest interval among
 * them); and how long S3 keeps each snapshot.
 */
function etcdSnapshots(evaluation: Evaluation): SnapshotPlan | undefined {
    const objects = ofType(evaluation, T.object);
    const byKey = new Map(objects.map((o) => [String(unwrapSecret(o.inputs.key)), String(unwrapSecret(o.inputs.content) ?? "")]));
    const members: SnapshotSeries[] = [];
    for (const [key, content] of byKey) {
        const m = /^nodes\/(etcd-\d+)\/etc\/systemd\/system\/kaws-etcd-snapshot\.timer$/.exec(key);
        if (!m) continue;
        const interval = /^OnUnitActiveSec=(\d+)min$/m.exec(content);
        const env = byKey.get(`nodes/${m[1]}/etc/etcd/etcd.env`) ?? "";
        const quota = Number(setting(env, "ETCD_QUOTA_BACKEND_BYTES"));
        const script = byKey.get(`nodes/${m[1]}/usr/local/sbin/kaws-etcd-snapshot`) ?? "";
        if (interval && Number.isFinite(quota)) {
            members.push({ role: m[1], quotaGiB: quota / 1024 ** 3, intervalMinutes: Number(interval[1]), leaderOnly: leaderGate.test(script) });
        }
    }
    if (members.length === 0) return undefined;
    const rules: any[] = ofType(evaluation, ...T.lifecycle).flatMap((l) => l.inputs.rules ?? []).filter((r: any) => r.status === "Enabled");
    const prefixRule = rules.find((r) => r.filter?.prefix && r.filter.prefix.startsWith("backups/etcd") && r.expiration?.days);
    if (!prefixRule) return undefined;
    const versioned = ofType(evaluation, ...T.versioning).some((v) => v.inputs.versioningConfiguration?.status === "Enabled");
    // S3 acts on the earliest expiration among the rules whose prefix covers the snapshots.
    const covering = rules.filter((r) => prefixRule.filter.prefix.startsWith(r.filter?.prefix ?? ""));
    const noncurrent = versioned
        ? covering.map((r) => num(r.noncurrentVersionExpiration?.noncurrentDays)).filter((d): d is number => d !== undefined)
        : [];
    const extra = noncurrent.length ? Math.min(...noncurrent) : 0;
    const days = num(prefixRule.expiration.days)!;
    const series = members.every((m) => m.leaderOnly)
        ? [{ role: "leader", quotaGiB: Math.max(...members.map((m) => m.quotaGiB)), intervalMinutes: Math.min(...members.map((m) => m.intervalMinutes)), leaderOnly: true }]
        : members;
    return {
        series,
        keptDays: days + extra,
        keptWhy: extra
            ? `${days} days current (lifecycle rule ${prefixRule.id}) + ${extra} days as a noncurrent version (the bucket is versioned)`
            : `${days} days (lifecycle rule ${prefixRule.id})`,
    };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Prices every billable resource of `evaluation` with `prices`. `usage` overrides the price file's usage
 * assumptions. Throws a CostError (one line) when the price file lacks a price the stack needs, unless
 * `options.partial`: then the report leaves those line items out, listed in `unpriced`.
 */
export function priceStack(evaluation: Evaluation, prices: PriceFile, usage: Partial<UsageAssumptions> = {}, options: { partial?: boolean } = {}): CostReport {
    const h = prices.hoursPerMonth ?? hoursPerMonthDefault;
    const u: UsageAssumptions = { ...prices.assumptions, ...usage };
    const need = new Needs(prices);
    const lines: CostLine[] = [];
    const assumptions: string[] = [`${h} hours per month; on-demand Linux list prices of ${prices.region} in ${prices.currency}, retrieved ${prices.retrieved}.`];
    const add = (line: Omit<CostLine, "monthly">) => lines.push({ ...line, monthly: line.quantity * line.unitPrice });
    const hourly = (key: string, value: number | undefined) => need.price(key, value) * h;

    // Instances and their root volumes, per Auto Scaling group.
    /** Detailed monitoring of `count` instances: a line, priced like every other (a missing price is said). */
    const detailedMonitoring = (what: string, resource: RecordedResource, count: number) => {
        if (count > 0) {
            add({ item: `detailed monitoring ${what}`, resource: ref(resource), quantity: count, unit: "instance-month",
                unitPrice: need.price("detailedMonitoringPerInstance", prices.detailedMonitoringPerInstance) });
        }
    };
    for (const group of ofType(evaluation, T.group)) {
        const cap = groupCapacity(evaluation, group);
        const type = cap.instanceType;
        if (type === undefined) {
            throw new CostError(`${ref(group)}: no instance type (launch template not found in the evaluation)`);
        }
        const od = hourly(`instances.${type}`, prices.instances[type]);
        const pick = cap.mixed ? " (first override, the one the prioritized on-demand allocation launches)" : "";
        if (cap.onDemand > 0) {
            add({ item: `instances ${group.inputs.name ?? group.name} (${type}, on-demand)`, resource: ref(group), quantity: cap.onDemand, unit: "instance-month", unitPrice: od,
                assumption: cap.mixed ? `priced at ${type}${pick}` : undefined });
        }
        if (cap.spot > 0) {
            const discount = need.price("spotDiscount", prices.spotDiscount);
            add({ item: `instances ${group.inputs.name ?? group.name} (${type}, spot)`, resource: ref(group), quantity: cap.spot, unit: "instance-month", unitPrice: od * (1 - discount),
                assumption: `spot at on-demand × (1 − ${discount}) (spotDiscount of the price file); priced at ${type}${pick}` });
        }
        const instances = cap.onDemand + cap.spot;
        for (const mapping of cap.template?.inputs.blockDeviceMappings ?? []) {
            const size = num(mapping.ebs?.volumeSize);
            if (size === undefined || instances === 0) continue;
            const volumeType = mapping.ebs?.volumeType ?? "gp3";
            add({ item: `root volumes ${group.inputs.name ?? group.name} (${size} GiB ${volumeType} × ${instances})`, resource: ref(cap.template!), quantity: size * instances, unit: "GB-month",
                unitPrice: need.price(`ebs.${volumeType}`, prices.ebs[volumeType]) });
        }
        if (cap.template?.inputs.monitoring?.enabled === true) detailedMonitoring(group.inputs.name ?? group.name, cap.template, instances);
    }
    // Instances outside any group (the NAT instance) and their root volumes.
    for (const instance of ofType(evaluation, T.instance)) {
        const type = unwrapSecret(instance.inputs.instanceType) as string;
        add({ item: `instance ${instance.name} (${type}, on-demand)`, resource: ref(instance), quantity: 1, unit: "instance-month", unitPrice: hourly(`instances.${type}`, prices.instances[type]) });
        const root = instance.inputs.rootBlockDevice;
        const size = num(root?.volumeSize);
        if (size !== undefined) {
            const volumeType = root.volumeType ?? "gp3";
            add({ item: `root volume ${instance.name} (${size} GiB ${volumeType})`, resource: ref(instance), quantity: size, unit: "GB-month", unitPrice: need.price(`ebs.${volumeType}`, prices.ebs[volumeType]) });
        }
        if (instance.inputs.monitoring === true) detailedMonitoring(instance.name, instance, 1);
    }
    const unlimited = [...ofType(evaluation, T.launchTemplate), ...ofType(evaluation, T.instance)].filter((r) => r.inputs.creditSpecification?.cpuCredits === "unlimited");
    if (unlimited.length > 0) {
        assumptions.push(`Burstable instances of ${unlimited.map((r) => r.name).join(", ")} run with unlimited CPU credits: surplus credits ($0.04-0.05 per vCPU-hour above the baseline) are NOT priced.`);
    }

    // Data volumes.
    for (const volume of ofType(evaluation, T.volume)) {
        const volumeType = volume.inputs.type ?? "gp2";
        const size = num(volume.inputs.size) ?? 0;
        add({ item: `volume ${volume.name} (${size} GiB ${volumeType})`, resource: ref(volume), quantity: size, unit: "GB-month", unitPrice: need.price(`ebs.${volumeType}`, prices.ebs[volumeType]) });
    }

    // Public IPv4: every Elastic IP, a public NAT gateway without one, every subnet of an internet-facing load balancer.
    const eips = ofType(evaluation, T.eip);
    const eipIds = new Set(eips.map((e) => placeholderId(e.name)));
    const ipv4 = hourly("publicIpv4", prices.publicIpv4);
    for (const eip of eips) add({ item: `public IPv4 ${eip.name} (Elastic IP)`, resource: ref(eip), quantity: 1, unit: "address-month", unitPrice: ipv4 });

    // NAT gateways.
    for (const nat of ofType(evaluation, T.nat)) {
        add({ item: `NAT gateway ${nat.name}`, resource: ref(nat), quantity: 1, unit: "gateway-month", unitPrice: hourly("natGateway.hourly", prices.natGateway?.hourly) });
        add({ item: `NAT gateway ${nat.name} data processed`, resource: ref(nat), quantity: u.natGatewayGBPerMonth, unit: "GB", unitPrice: need.price("natGateway.perGB", prices.natGateway?.perGB),
            assumption: `${u.natGatewayGBPerMonth} GB processed per NAT gateway per month (natGatewayGBPerMonth)` });
        const isPublic = nat.inputs.connectivityType !== "private";
        if (isPublic && !eipIds.has(unwrapSecret(nat.inputs.allocationId) as string)) {
            add({ item: `public IPv4 ${nat.name} (NAT gateway address)`, resource: ref(nat), quantity: 1, unit: "address-month", unitPrice: ipv4 });
        }
    }

    // Load balancers.
    for (const lb of ofType(evaluation, T.lb)) {
        const kind = lb.inputs.loadBalancerType ?? "application";
        const key = kind === "network" ? "nlb" : kind === "application" ? "alb" : kind;
        const p = (prices as any)[key] as { hourly: number; perLcuHour: number } | undefined;
        add({ item: `load balancer ${lb.name} (${kind})`, resource: ref(lb), quantity: 1, unit: "lb-month", unitPrice: hourly(`${key}.hourly`, p?.hourly) });
        add({ item: `load balancer ${lb.name} capacity units`, resource: ref(lb), quantity: u.nlbLcuPerHour * h, unit: "LCU-hour", unitPrice: need.price(`${key}.perLcuHour`, p?.perLcuHour),
            assumption: `${u.nlbLcuPerHour} LCU per hour on average per load balancer (nlbLcuPerHour)` });
        if (unwrapSecret(lb.inputs.internal) !== true) {
            const subnets = (lb.inputs.subnets ?? lb.inputs.subnetMappings ?? []).length;
            add({ item: `public IPv4 ${lb.name} (one per subnet)`, resource: ref(lb), quantity: subnets, unit: "address-month", unitPrice: ipv4 });
        }
    }

    // KMS keys and hosted zones.
    for (const key of ofType(evaluation, T.kms)) {
        add({ item: `KMS key ${key.name}`, resource: ref(key), quantity: 1, unit: "key-month", unitPrice: need.price("kmsKey", prices.kmsKey),
            assumption: key.inputs.enableKeyRotation ? "automatic rotation adds up to 2 × the key price per month once rotated versions exist (not included)" : undefined });
    }
    for (const zone of ofType(evaluation, T.zone)) {
        add({ item: `Route 53 zone ${zone.inputs.name ?? zone.name}`, resource: ref(zone), quantity: 1, unit: "zone-month", unitPrice: need.price("route53Zone", prices.route53Zone) });
    }

    // Flow logs into CloudWatch Logs: ingestion, and storage over the log group's retention.
    const logGroups = ofType(evaluation, T.logGroup);
    for (const flow of ofType(evaluation, T.flowLog)) {
        if ((flow.inputs.logDestinationType ?? "cloud-watch-logs") !== "cloud-watch-logs") continue;
        add({ item: `flow log ${flow.name} ingestion`, resource: ref(flow), quantity: u.flowLogGBPerMonth, unit: "GB", unitPrice: need.price("cloudwatchLogsIngest", prices.cloudwatchLogsIngest),
            assumption: `${u.flowLogGBPerMonth} GB of flow-log records per month (flowLogGBPerMonth)` });
        const group = logGroups.find((g) => String(unwrapSecret(flow.inputs.logDestination) ?? "").endsWith(`/${g.name}`) || unwrapSecret(flow.inputs.logGroupName) === g.inputs.name);
        const retention = num(group?.inputs.retentionInDays);
        if (group && retention) {
            const stored = (u.flowLogGBPerMonth * retention) / 30;
            add({ item: `flow log ${flow.name} storage (${retention} days kept)`, resource: ref(group), quantity: round2(stored), unit: "GB-month",
                unitPrice: need.price("cloudwatchLogsStorage", prices.cloudwatchLogsStorage),
                assumption: `steady state: ${u.flowLogGBPerMonth} GB/month × ${retention}/30 months kept, stored uncompressed (an upper bound)` });
        }
    }

    // S3: the assets, and the etcd snapshots the stack schedules.
    const buckets = ofType(evaluation, ...T.buckets);
    for (const bucket of buckets) {
        add({ item: `S3 bucket ${bucket.name} (assets)`, resource: ref(bucket), quantity: u.s3AssetsGB, unit: "GB-month", unitPrice: need.price("s3Standard", prices.s3Standard),
            assumption: `${u.s3AssetsGB} GB of node files and other objects per bucket (s3AssetsGB); requests not priced` });
    }
    const snapshots = etcdSnapshots(evaluation);
    if (snapshots && buckets.length > 0) {
        for (const m of snapshots.series) {
            const kept = Math.ceil((snapshots.keptDays * 24 * 60) / m.intervalMinutes);
            const size = u.etcdSnapshotGiB ?? m.quotaGiB;
            add({ item: `etcd snapshots ${m.leaderOnly ? "of the leader" : m.role} (${kept} × ${round2(size)} GiB)`, resource: ref(buckets[0]), quantity: round2(kept * size), unit: "GB-month",
                unitPrice: need.price("s3Standard", prices.s3Standard),
                assumption: `one snapshot every ${m.intervalMinutes} min${m.leaderOnly ? " from whichever member leads (etcd/snapshot.sh uploads only on the leader)" : ""}, each kept ${snapshots.keptWhy}; each ${u.etcdSnapshotGiB === undefined ? `at the backend quota (${round2(m.quotaGiB)} GiB, an upper bound)` : `${size} GiB (etcdSnapshotGiB)`}` });
        }
    }

    const missingPrices = [...need.missing].sort();
    if (missingPrices.length > 0 && !options.partial) {
        throw new CostError(`plan/prices/${prices.region}.json has no price for: ${missingPrices.join(", ")}`);
    }
    // Every price in a price file is positive, so a zero unit price is one the file lacks.
    const unpriced = lines.filter((l) => l.unitPrice === 0).map((l) => ({ item: l.item, resource: l.resource }));
    const priced = lines.filter((l) => l.unitPrice !== 0);
    for (const line of priced) if (line.assumption && !assumptions.includes(`${line.item}: ${line.assumption}.`)) assumptions.push(`${line.item}: ${line.assumption}.`);
    return {
        region: prices.region,
        currency: prices.currency,
        hoursPerMonth: h,
        lines: priced,
        total: priced.reduce((sum, l) => sum + l.monthly, 0),
        ...(missingPrices.length > 0 ? { unpriced, missingPrices } : {}),
        assumptions,
        sources: prices.sources.map((s) => `${s.id}: ${s.url} (${s.date}) — ${s.covers}`),
    };
}

/** Evaluates `env` offline and prices it in `region` (the stack's own aws:region by default). */
export async function priceEnvironment(root: string, env: string, options: { region?: string; usage?: Partial<UsageAssumptions>; partial?: boolean } = {}): Promise<CostReport> {
    const config = loadStackConfig(root, env);
    const region = options.region ?? config["aws:region"];
    if (!region) throw new CostError(`Pulumi.${env}.yaml sets no aws:region`);
    const prices = loadPrices(region);
    const evaluation = await evaluateStack({ root, stack: env, config });
    return priceStack(evaluation, prices, options.usage, { partial: options.partial });
}

const money = (n: number) => n.toFixed(2);
const unitMoney = (n: number) => (n !== 0 && Math.abs(n) < 0.01 ? n.toPrecision(3) : n.toFixed(n < 1 ? 4 : 2));

/** A table (line item, quantity, unit price, monthly) with the total, then the assumptions and sources. */
export function formatCost(report: CostReport): string {
    const rows = report.lines.map((l) => [l.item, `${+l.quantity.toFixed(2)} ${l.unit}`, unitMoney(l.unitPrice), money(l.monthly)]);
    const header = ["line item", "quantity", `unit price (${report.currency}/month)`, `monthly (${report.currency})`];
    const total = [report.unpriced ? "total of the priced items (at least)" : "total", "", "", money(report.total)];
    const widths = header.map((_, i) => Math.max(...[header, ...rows, total].map((r) => r[i].length)));
    const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
    const rule = widths.map((w) => "-".repeat(w)).join("  ");
    return [
        `Monthly cost in ${report.region} (${report.hoursPerMonth} h)`,
        fmt(header), rule, ...rows.map(fmt), rule, fmt(total),
        ...(report.unpriced ? ["", `Not priced: plan/prices/${report.region}.json has no price for ${report.missingPrices!.join(", ")}, so the total leaves out:`,
            ...report.unpriced.map((u) => `- ${u.item}`)] : []),
        "",
        "Assumptions:",
        ...report.assumptions.map((a) => `- ${a}`),
        "",
        "Prices from:",
        ...report.sources.map((s) => `- ${s}`),
        "",
    ].join("\n");
}
