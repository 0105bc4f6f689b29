import { DescribeAvailabilityZonesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { LeftoverFinder } from "./driver";

export interface AwsOptions {
    /** Endpoint override (tests point it at moto_server on loopback). */
    readonly endpoint?: string;
    /** Bound on each API call, retries included. */
    readonly timeoutMs?: number;
}

function clientConfig(region: string, options: AwsOptions) {
    return {
        region,
        endpoint: options.endpoint,
        maxAttempts: 2,
        requestHandler: { requestTimeout: options.timeoutMs ?? 20_000, connectionTimeout: 5_000 },
    };
}

function bounded(signal: AbortSignal | undefined, timeoutMs: number | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(timeoutMs ?? 30_000);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** The cluster tag every resource Kubernetes (CCM, EBS CSI) and kaws create carries. */
export function clusterTagKey(clusterName: string): string {
    return `kubernetes.io/cluster/${clusterName}`;
}

/** ARNs of every resource in the region still tagged kubernetes.io/cluster/<name>, all pages. */
export async function taggedLeftovers(clusterName: string, region: string, signal?: AbortSignal, options: AwsOptions = {}): Promise<string[]> {
    const client = new ResourceGroupsTaggingAPIClient(clientConfig(region, options));
    const arns: string[] = [];
    let token: string | undefined;
    try {
        do {
            const page = await client.send(new GetResourcesCommand({ TagFilters: [{ Key: clusterTagKey(clusterName) }], PaginationToken: token }), { abortSignal: bounded(signal, options.timeoutMs) });
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

export interface PreflightResult {
    readonly account: string;
    readonly problems: string[];
}

/**
 * Checks before `up` that cost nothing: credentials work (and which account they reach), and the region
 * has the availability zones the stack asks for.
 */
export async function preflight(region: string, azCount: number, signal?: AbortSignal, options: AwsOptions = {}): Promise<PreflightResult> {
    const sts = new STSClient(clientConfig(region, options));
    const ec2 = new EC2Client(clientConfig(region, options));
    try {
        const identity = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: bounded(signal, options.timeoutMs) });
        const zones = await ec2.send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: "state", Values: ["available"] }, { Name: "zone-type", Values: ["availability-zone"] }] }), { abortSignal: bounded(signal, options.timeoutMs) });
        const available = (zones.AvailabilityZones ?? []).length;
        const problems = available < azCount ? [`aws:region ${region} has ${available} available zone(s); kaws:azCount asks for ${azCount}`] : [];
        return { account: identity.Account ?? "unknown", problems };
    } finally {
        sts.destroy();
        ec2.destroy();
    }
}
