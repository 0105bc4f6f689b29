import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import {
    DescribeAccountAttributesCommand, DescribeAddressesCommand, DescribeAvailabilityZonesCommand, DescribeInstanceTypeOfferingsCommand,
    DescribeInstanceTypesCommand, DescribeVpcsCommand, EC2Client, Vpc, _InstanceType,
} from "@aws-sdk/client-ec2";
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ServiceQuotasClient } from "@aws-sdk/client-service-quotas";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ClusterConfig, ConfigError, parseClusterConfig } from "../plan/config";
import { knownRegions, regionDataSource } from "../plan/instanceTypes";
import { AwsCallContext, AwsCallError, AwsOptions, AwsService, awsCall, clientConfig, quietly } from "./awsErrors";
import { LeftoverFinder, PreflightReport } from "./driver";
import { loadStackConfig } from "./stackConfig";
import { CancelledError } from "./wait";

export { AwsOptions } from "./awsErrors";

/** The cluster tag every resource Kubernetes (CCM, EBS CSI) and kaws create carries. */
export function clusterTagKey(clusterName: string): string {
    return `kubernetes.io/cluster/${clusterName}`;
}

/** The tag kaws' default tags put on every resource of a cluster, the VPC included. */
export const kawsClusterTag = "kaws:cluster";

/** ARNs of every resource in the region still tagged kubernetes.io/cluster/<name>, all pages. */
export async function taggedLeftovers(clusterName: string, region: string, signal?: AbortSignal, options: AwsOptions = {}): Promise<string[]> {
    const client = quietly(() => new ResourceGroupsTaggingAPIClient(clientConfig(region, options)));
    const ctx: AwsCallContext = { service: "tagging", action: "GetResources", region, options, signal };
    const arns: string[] = [];
    let token: string | undefined;
    try {
        do {
            const page = await awsCall(ctx, (abortSignal) => client.send(new GetResourcesCommand({ TagFilters: [{ Key: clusterTagKey(clusterName) }], PaginationToken: token }), { abortSignal }));
            arns.push(...(page.ResourceTagMappingList ?? []).map((r) => r.ResourceARN!).filter(Boolean));
            token = page.PaginationToken || undefined;
        } while (token);
    } finally {
        client.destroy();
    }
    return arns.sort();
}

export function awsSweeper(options: AwsOptions = {}): LeftoverFinder {
    return { leftovers: (clusterName, region, signal) => taggedLeftovers(clusterName, region, signal, options) };
}

// ---------------------------------------------------------------------------------------------------------
// Preflight

/** What preflight found: problems (one line each: what is wrong and what to do), notes, and the facts. */
export interface PreflightResult extends PreflightReport {
    /** The AWS account the credentials reach ("unknown" when they reach none). */
    readonly account: string;
    readonly arn?: string;
    readonly region?: string;
    /** The availability zones the stack will use (the program's choice: available, no opt-in, sorted). */
    readonly zones: string[];
    readonly problems: string[];
    readonly notes: string[];
    readonly pulumiVersion?: string;
    readonly pulumiUser?: string;
}

export interface PreflightOptions extends AwsOptions {
    /** The Pulumi CLI to run (default `pulumi` on PATH). */
    readonly pulumiCommand?: string;
    /** Bound on each Pulumi CLI run (default 20 s). */
    readonly pulumiTimeoutMs?: number;
    /** The @pulumi/pulumi SDK version the CLI must be at least (default: the installed package's). */
    readonly sdkVersion?: string;
    /** The environment consulted (AWS_REGION, AWS_PROFILE, ...); default process.env. */
    readonly env?: NodeJS.ProcessEnv;
    /** VPCs that belong to this very stack (its vpcId output, when known): not another cluster. */
    readonly ownVpcIds?: readonly string[];
}

/** The installed @pulumi/pulumi SDK's version. */
export function pulumiSdkVersion(): string {
    return JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")).version;
}

function parseVersion(text: string): number[] | undefined {
    const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
    return m ? m.slice(1, 4).map(Number) : undefined;
}

function older(a: number[], b: number[]): boolean {
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
    return false;
}

function firstLineOf(text: string): string {
    const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
    const line = lines.find((l) => /error/i.test(l)) ?? lines[0] ?? "";
    return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** (b) and (c): the Pulumi CLI is there, at least the SDK's version, and logged in to a backend. */
export function checkPulumiCli(options: PreflightOptions = {}): { problems: string[]; version?: string; user?: string } {
    const command = options.pulumiCommand ?? "pulumi";
    const timeout = options.pulumiTimeoutMs ?? 20_000;
    const sdk = options.sdkVersion ?? pulumiSdkVersion();
    const install = `install Pulumi CLI ${sdk} or newer (https://www.pulumi.com/docs/iac/download-install/)`;
    const run = (args: string[]) => spawnSync(command, args, {
        encoding: "utf8", timeout, stdio: ["ignore", "pipe", "pipe"],
        env: { ...(options.env ?? process.env), PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    const version = run(["version"]);
    const code = (version.error as NodeJS.ErrnoException | undefined)?.code;
    if (code === "ENOENT") return { problems: [`the Pulumi CLI is not installed (no \`${command}\` on PATH); ${install}`] };
    if (code === "ETIMEDOUT") return { problems: [`\`${command} version\` did not finish within ${timeout / 1000} s; check the Pulumi CLI installation`] };
    if (version.error) return { problems: [`the Pulumi CLI \`${command}\` is there but cannot be run (${code ?? version.error.message}); fix its permissions or PATH, or ${install}`] };
    if (version.status !== 0) return { problems: [`\`${command} version\` exited with ${version.status ?? version.signal}: ${firstLineOf(version.stderr)}; reinstall the Pulumi CLI (${sdk} or newer)`] };
    const cli = parseVersion(version.stdout);
    const problems: string[] = [];
    if (!cli) problems.push(`\`${command} version\` printed no version ("${firstLineOf(version.stdout)}"); ${install}`);
    else if (older(cli, parseVersion(sdk)!)) problems.push(`the Pulumi CLI is ${cli.join(".")}, older than the SDK (@pulumi/pulumi ${sdk}); ${install}`);
    const whoami = run(["whoami"]);
    const user = whoami.status === 0 ? whoami.stdout.trim() : undefined;
    if (user === undefined) {
        const why = (whoami.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT" ? `did not finish within ${timeout / 1000} s` : firstLineOf(whoami.stderr || whoami.stdout) || `exit ${whoami.status}`;
        problems.push(`no Pulumi backend is logged in (\`${command} whoami\`: ${why}); run \`pulumi login\` (Pulumi Cloud) or \`pulumi login s3://<bucket>\` (self-managed state)`);
    }
    return { problems, version: cli?.join("."), user };
}

/**
 * This stack's own VPC, when the stack exists and is deployed: its `vpcId` output, read with the CLI (read-only;
 * opening the stack through the Automation API would create it). Empty when there is none or it cannot be read.
 */
export function stackVpcIds(root: string, env: string, options: PreflightOptions = {}): string[] {
    const out = spawnSync(options.pulumiCommand ?? "pulumi", ["stack", "output", "vpcId", "--stack", env, "--cwd", root], {
        encoding: "utf8", timeout: options.pulumiTimeoutMs ?? 20_000, stdio: ["ignore", "pipe", "pipe"],
        env: { ...(options.env ?? process.env), PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    const id = out.status === 0 ? out.stdout.trim() : "";
    return /^vpc-[0-9a-f]+$/.test(id) ? [id] : [];
}

/** (d): aws:region from the stack file, known, and whether AWS_REGION disagrees (the stack file wins). */
export function checkRegion(root: string, env: string, environment: NodeJS.ProcessEnv = process.env): { region?: string; problems: string[]; notes: string[] } {
    const file = `Pulumi.${env}.yaml`;
    let region: unknown;
    try {
        region = (YAML.parse(fs.readFileSync(path.join(root, file), "utf8")) ?? {})?.config?.["aws:region"];
    } catch (err) {
        return { problems: [`${file} cannot be read: ${(err as Error).message.split("\n")[0]}`], notes: [] };
    }
    if (typeof region !== "string" || region === "") return { problems: [`aws:region is not set in ${file}; add e.g. \`aws:region: eu-west-1\` under config`], notes: [] };
    const near = knownRegions.filter((r) => r.split("-")[0] === region.split("-")[0]);
    const problems = knownRegions.includes(region) ? []
        : [`aws:region: "${region}" in ${file} is not an AWS region (pinned list of ${regionDataSource.retrieved}); use one of ${(near.length > 0 ? near : knownRegions.slice(0, 6)).join(", ")}${near.length > 0 ? "" : ", ..."}`];
    const ambient = environment.AWS_REGION || environment.AWS_DEFAULT_REGION;
    const notes = ambient && ambient !== region
        ? [`${environment.AWS_REGION ? "AWS_REGION" : "AWS_DEFAULT_REGION"} is ${ambient}, but ${file} says ${region}: the stack file wins, kaws uses ${region}`] : [];
    return { region, problems, notes };
}

/** (a): the stack's configuration, with exactly the problem list `render` (and the program) report. */
export function checkConfig(root: string, env: string): { config?: ClusterConfig; problems: string[] } {
    try {
        return { config: parseClusterConfig(loadStackConfig(root, env)), problems: [] };
    } catch (err) {
        if (err instanceof ConfigError) return { problems: [...err.problems] };
        return { problems: [(err as Error).message.split("\n")[0]] };
    }
}

/** Instance types of the stack, each with the config keys that use it. */
export function instanceTypesOf(config: ClusterConfig): Map<string, string[]> {
    const uses = new Map<string, string[]>();
    const add = (type: string, key: string) => uses.set(type, [...(uses.get(type) ?? []), key]);
    add(config.etcd.instanceType, "kaws:etcdInstanceType");
    add(config.controlPlane.instanceType, "kaws:controlPlaneInstanceType");
    config.workerPools.forEach((pool) => pool.instanceTypes.forEach((type) => add(type, `kaws:workerPools[${pool.name}]`)));
    return uses;
}

/** Elastic IPs the stack allocates: one per NAT gateway. */
export function elasticIpsNeeded(config: ClusterConfig): number {
    const nat = config.network.natGateways;
    return nat === "perAz" ? config.network.azCount : nat === "single" ? 1 : 0;
}

/** Families counted by the "Running On-Demand/All Standard (A, C, D, H, I, M, R, T, Z) instances" quotas. */
export function isStandardFamily(instanceType: string): boolean {
    return /^(a|c|d|h|i|im|is|m|r|t|z)\d/.test(instanceType);
}

/**
 * vCPUs the stack can grow to, per purchase option: every ASG at maxSize with its largest type (etcd
 * members: one each; control plane: count + 1 during a refresh; pools: maxSize split by their on-demand
 * base and percentage). Standard families only (the quotas below count only those).
 */
export function vcpusNeeded(config: ClusterConfig, vcpus: ReadonlyMap<string, number>): { onDemand: number; spot: number } {
    const largest = (types: readonly string[]) => Math.max(0, ...types.filter(isStandardFamily).map((t) => vcpus.get(t) ?? 0));
    let onDemand = config.etcd.members * largest([config.etcd.instanceType]) + (config.controlPlane.count + 1) * largest([config.controlPlane.instanceType]);
    let spot = 0;
    for (const pool of config.workerPools) {
        const base = Math.min(pool.onDemandBaseCapacity, pool.maxSize);
        const onDemandCount = base + Math.ceil(((pool.maxSize - base) * pool.onDemandPercentageAboveBase) / 100);
        onDemand += onDemandCount * largest(pool.instanceTypes);
        spot += (pool.maxSize - onDemandCount) * largest(pool.instanceTypes);
    }
    return { onDemand, spot };
}

export const quotaCodes = {
    onDemandStandardVcpus: { service: "ec2", code: "L-1216C47A", name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" },
    spotStandardVcpus: { service: "ec2", code: "L-34B43A08", name: "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests" },
    vpcsPerRegion: { service: "vpc", code: "L-F678F1CE", name: "VPCs per Region" },
    elasticIps: { service: "ec2", code: "L-0263D0A3", name: "EC2-VPC Elastic IPs" },
} as const;
type Quota = (typeof quotaCodes)[keyof typeof quotaCodes];

/** The AWS clients of one preflight run, every call through awsCall. */
class Aws {
    private readonly clients: { sts?: STSClient; ec2?: EC2Client; servicequotas?: ServiceQuotasClient } = {};

    constructor(readonly region: string, readonly options: PreflightOptions, readonly signal?: AbortSignal) {}

    private client<K extends keyof Aws["clients"]>(service: K): NonNullable<Aws["clients"][K]> {
        const config = clientConfig(this.region, this.options);
        const make = (): unknown => (service === "sts" ? new STSClient(config) : service === "ec2" ? new EC2Client(config) : new ServiceQuotasClient(config));
        this.clients[service] ??= quietly(make) as never;
        return this.clients[service]!;
    }

    call<T>(service: AwsService & keyof Aws["clients"], action: string, command: { input: object }): Promise<T> {
        const client = this.client(service) as { send(c: unknown, o: { abortSignal: AbortSignal }): Promise<T> };
        return awsCall({ service, action, region: this.region, options: this.options, signal: this.signal, env: this.options.env }, (abortSignal) => client.send(command, { abortSignal }));
    }

    async paged<T, P extends { NextToken?: string }>(action: string, make: (token?: string) => { input: object }, items: (page: P) => T[] | undefined): Promise<T[]> {
        const all: T[] = [];
        let token: string | undefined;
        do {
            const page = await this.call<P>("ec2", action, make(token));
            all.push(...(items(page) ?? []));
            token = page.NextToken || undefined;
        } while (token);
        return all;
    }

    /** A quota's applied value, else its AWS default; undefined when Service Quotas has neither. */
    async quota(quota: Quota): Promise<number | undefined> {
        const input = { ServiceCode: quota.service, QuotaCode: quota.code };
        try {
            return (await this.call<{ Quota?: { Value?: number } }>("servicequotas", "GetServiceQuota", new GetServiceQuotaCommand(input))).Quota?.Value;
        } catch (err) {
            if (!(err instanceof AwsCallError) || err.code !== "NoSuchResourceException") throw err;
        }
        try {
            return (await this.call<{ Quota?: { Value?: number } }>("servicequotas", "GetAWSDefaultServiceQuota", new GetAWSDefaultServiceQuotaCommand(input))).Quota?.Value;
        } catch (err) {
            if (err instanceof AwsCallError && err.code === "NoSuchResourceException") return undefined;
            throw err;
        }
    }

    destroy(): void {
        Object.values(this.clients).forEach((c) => c?.destroy());
    }
}

/** Runs one check; an AWS failure becomes its one-line problem (cancellation propagates). */
async function guarded(check: () => Promise<string[]>): Promise<string[]> {
    try {
        return await check();
    } catch (err) {
        if (err instanceof AwsCallError) return [err.message];
        throw err;
    }
}

/** (f) The zones the program will use, the way network/network.ts picks them. */
async function zonesOf(aws: Aws): Promise<string[]> {
    const out = await aws.call<{ AvailabilityZones?: { ZoneName?: string; OptInStatus?: string }[] }>("ec2", "DescribeAvailabilityZones",
        new DescribeAvailabilityZonesCommand({ Filters: [{ Name: "state", Values: ["available"] }, { Name: "zone-type", Values: ["availability-zone"] }] }));
    return (out.AvailabilityZones ?? [])
        .filter((z) => z.OptInStatus === undefined || z.OptInStatus === "opt-in-not-required")
        .map((z) => z.ZoneName!).filter(Boolean).sort();
}

/** (g) Every instance type offered in every zone used; returns the problems and the vCPUs of the offered types. */
async function checkInstanceTypes(aws: Aws, config: ClusterConfig, zones: string[]): Promise<{ problems: string[]; vcpus: Map<string, number> }> {
    const uses = instanceTypesOf(config);
    const types = [...uses.keys()];
    const offerings = await aws.paged("DescribeInstanceTypeOfferings",
        (NextToken) => new DescribeInstanceTypeOfferingsCommand({ LocationType: "availability-zone", Filters: [{ Name: "location", Values: zones }, { Name: "instance-type", Values: types }], NextToken }),
        (page: { InstanceTypeOfferings?: { InstanceType?: string; Location?: string }[]; NextToken?: string }) => page.InstanceTypeOfferings);
    const problems: string[] = [];
    const offered: string[] = [];
    for (const type of types) {
        const missing = zones.filter((zone) => !offerings.some((o) => o.InstanceType === type && o.Location === zone));
        if (missing.length === 0) { offered.push(type); continue; }
        problems.push(`instance type ${type} (${uses.get(type)!.join(", ")}) is not offered in ${missing.join(", ")} of ${aws.region}; pick a type offered in every zone used (${zones.join(", ")}): aws ec2 describe-instance-type-offerings --location-type availability-zone --region ${aws.region} --filters Name=instance-type,Values=${type}`);
        if (missing.length < zones.length) offered.push(type);
    }
    const vcpus = new Map<string, number>();
    for (let i = 0; i < offered.length; i += 100) {
        const described = await aws.paged("DescribeInstanceTypes",
            (NextToken) => new DescribeInstanceTypesCommand({ InstanceTypes: offered.slice(i, i + 100) as _InstanceType[], NextToken }),
            (page: { InstanceTypes?: { InstanceType?: string; VCpuInfo?: { DefaultVCpus?: number } }[]; NextToken?: string }) => page.InstanceTypes);
        for (const t of described) if (t.InstanceType && t.VCpuInfo?.DefaultVCpus) vcpus.set(t.InstanceType, t.VCpuInfo.DefaultVCpus);
    }
    return { problems, vcpus };
}

/** (h) vCPU quotas (On-Demand and Spot standard) against what the stack can grow to. */
async function checkVcpuQuotas(aws: Aws, config: ClusterConfig, vcpus: Map<string, number>, notes: string[]): Promise<string[]> {
    const need = vcpusNeeded(config, vcpus);
    const problems: string[] = [];
    for (const [quota, needed, what] of [[quotaCodes.onDemandStandardVcpus, need.onDemand, "On-Demand"], [quotaCodes.spotStandardVcpus, need.spot, "Spot"]] as const) {
        if (needed === 0) continue;
        const value = await aws.quota(quota);
        if (value === undefined) { notes.push(`Service Quotas has no ${quota.code} (${quota.name}) in ${aws.region}; ${what} vCPUs not checked`); continue; }
        if (needed > value) {
            problems.push(`${what} vCPU quota too low in ${aws.region}: the stack can grow to ${needed} ${what} standard vCPUs (every ASG at maxSize with its largest type), the quota ${quota.code} (${quota.name}) is ${value}; request an increase: aws service-quotas request-service-quota-increase --service-code ec2 --quota-code ${quota.code} --desired-value ${needed} --region ${aws.region}, or lower maxSize`);
        }
    }
    return problems;
}

/** (h) Elastic IPs: one per NAT gateway, against the account's limit less those allocated. */
async function checkElasticIps(aws: Aws, config: ClusterConfig): Promise<string[]> {
    const needed = elasticIpsNeeded(config);
    if (needed === 0) return [];
    const [attributes, addresses] = await Promise.all([
        aws.call<{ AccountAttributes?: { AttributeName?: string; AttributeValues?: { AttributeValue?: string }[] }[] }>("ec2", "DescribeAccountAttributes", new DescribeAccountAttributesCommand({})),
        aws.call<{ Addresses?: unknown[] }>("ec2", "DescribeAddresses", new DescribeAddressesCommand({})),
    ]);
    const max = Number(attributes.AccountAttributes?.find((a) => a.AttributeName === "vpc-max-elastic-ips")?.AttributeValues?.[0]?.AttributeValue);
    if (!Number.isFinite(max)) return [];
    const used = (addresses.Addresses ?? []).length;
    if (used + needed <= max) return [];
    return [`Elastic IP quota too low in ${aws.region}: the stack needs ${needed} (one per NAT gateway, kaws:natGateways ${config.network.natGateways}), ${used} of the account's ${max} are allocated; release unused ones (aws ec2 describe-addresses --region ${aws.region}) or request an increase of ${quotaCodes.elasticIps.code} (${quotaCodes.elasticIps.name}) in Service Quotas`];
}

/** (h) VPC quota and (i) no other cluster of that name: one DescribeVpcs serves both. */
async function checkVpcs(aws: Aws, config: ClusterConfig, options: PreflightOptions): Promise<string[]> {
    const [vpcs, quota] = await Promise.all([
        aws.paged("DescribeVpcs", (NextToken) => new DescribeVpcsCommand({ NextToken }), (page: { Vpcs?: Vpc[]; NextToken?: string }) => page.Vpcs),
        aws.quota(quotaCodes.vpcsPerRegion),
    ]);
    const problems: string[] = [];
    const own = new Set(options.ownVpcIds ?? []);
    const others = vpcs.filter((v) => !own.has(v.VpcId ?? "") && (v.Tags ?? []).some((t) => t.Key === kawsClusterTag && t.Value === config.clusterName));
    if (others.length > 0) {
        problems.push(`a VPC tagged ${kawsClusterTag}=${config.clusterName} already exists in ${aws.region} (${others.map((v) => v.VpcId).join(", ")}): another cluster (or an earlier deployment of this stack) uses the name; check with \`aws ec2 describe-vpcs --region ${aws.region} --filters Name=tag:${kawsClusterTag},Values=${config.clusterName}\` and \`pulumi stack ls\`, then destroy it or pick another kaws:clusterName`);
    }
    const mine = vpcs.filter((v) => own.has(v.VpcId ?? "")).length;
    if (quota !== undefined && mine === 0 && vpcs.length + 1 > quota) {
        problems.push(`VPC quota reached in ${aws.region}: ${vpcs.length} of ${quota} VPCs (${quotaCodes.vpcsPerRegion.code}, ${quotaCodes.vpcsPerRegion.name}) exist and the stack needs one more; delete an unused VPC or request an increase: aws service-quotas request-service-quota-increase --service-code vpc --quota-code ${quotaCodes.vpcsPerRegion.code} --desired-value ${vpcs.length + 1} --region ${aws.region}`);
    }
    return problems;
}

/** (e)-(i): the AWS side, for a region and (when valid) the stack's configuration. */
async function checkAws(region: string, config: ClusterConfig | undefined, azCount: number | undefined, signal: AbortSignal | undefined, options: PreflightOptions) {
    const aws = new Aws(region, options, signal);
    const problems: string[] = [];
    const notes: string[] = [];
    let account = "unknown";
    let arn: string | undefined;
    let zones: string[] = [];
    try {
        try {
            const identity = await aws.call<{ Account?: string; Arn?: string }>("sts", "GetCallerIdentity", new GetCallerIdentityCommand({}));
            if (!identity.Account) throw new AwsCallError("protocol", `the endpoint did not answer as AWS does: ${options.endpoint ?? options.env?.AWS_ENDPOINT_URL ?? process.env.AWS_ENDPOINT_URL ?? `https://sts.${region}.amazonaws.com`} (STS GetCallerIdentity returned no account); check the endpoint and any proxy in between`);
            account = identity.Account;
            arn = identity.Arn;
        } catch (err) {
            if (err instanceof AwsCallError) return { account, arn, zones, problems: [err.message], notes };
            throw err;
        }
        const wanted = config?.network.azCount ?? azCount;
        if (wanted === undefined) return { account, arn, zones, problems, notes };
        problems.push(...await guarded(async () => {
            const available = await zonesOf(aws);
            zones = available.slice(0, wanted);
            return available.length >= wanted ? [] : [`aws:region ${region} has ${available.length} available zone(s) (${available.join(", ") || "none"}); kaws:azCount asks for ${wanted}; lower kaws:azCount or pick another region`];
        }));
        if (!config || zones.length === 0) return { account, arn, zones, problems, notes };
        const results = await Promise.all([
            guarded(async () => {
                const types = await checkInstanceTypes(aws, config, zones);
                return [...types.problems, ...await guarded(() => checkVcpuQuotas(aws, config, types.vcpus, notes))];
            }),
            guarded(() => checkElasticIps(aws, config)),
            guarded(() => checkVpcs(aws, config, options)),
        ]);
        problems.push(...results.flat());
        return { account, arn, zones, problems, notes };
    } finally {
        aws.destroy();
    }
}

/**
 * `kaws preflight <env>`, run first by `up`; changes nothing. Checks (a) the configuration (the problem list
 * of `render`), (b) the Pulumi CLI (present, at least the SDK's version) and (c) a logged-in backend, (d) the
 * stack file's region, (e) credentials (the account they reach), (f) enough zones, (g) every instance type
 * offered in every zone used, (h) Elastic IP, vCPU and VPC quotas, (i) no other cluster of that name.
 */
export async function preflightEnvironment(root: string, env: string, signal?: AbortSignal, options: PreflightOptions = {}): Promise<PreflightResult> {
    const { config, problems } = checkConfig(root, env);
    const cli = checkPulumiCli(options);
    const region = checkRegion(root, env, options.env ?? process.env);
    // The configuration's own aws:region problem (missing, unknown) already says it: no second line for it.
    const regionSaid = problems.some((p) => p.startsWith("aws:region"));
    problems.push(...cli.problems, ...(regionSaid ? [] : region.problems));
    const notes = [...region.notes];
    const ownVpcIds = options.ownVpcIds ?? (cli.user !== undefined ? stackVpcIds(root, env, options) : []);
    let aws = { account: "unknown", arn: undefined as string | undefined, zones: [] as string[] };
    if (region.region && region.problems.length === 0) {
        if (signal?.aborted) throw new CancelledError("preflight");
        const found = await checkAws(region.region, config, undefined, signal, { ...options, ownVpcIds });
        problems.push(...found.problems);
        notes.push(...found.notes);
        aws = found;
    }
    return {
        account: aws.account, arn: aws.arn, region: region.region, zones: aws.zones,
        problems: [...new Set(problems)], notes, pulumiVersion: cli.version, pulumiUser: cli.user,
    };
}

/**
 * The AWS part alone, for a region and zone count: credentials and zones (what `kaws preflight` checked
 * before preflightEnvironment; kept for callers that know no environment).
 */
export async function preflight(region: string, azCount: number, signal?: AbortSignal, options: AwsOptions = {}): Promise<PreflightResult> {
    const found = await checkAws(region, undefined, azCount, signal, options);
    return { ...found, region, problems: [...new Set(found.problems)] };
}
