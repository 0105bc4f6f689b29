import ec2Json from "./ec2InstanceTypes.json";
import regionsJson from "./regions.json";

export type Architecture = "x86_64" | "arm64";

/** What the pinned list says of one instance type. */
export interface InstanceTypeInfo {
    readonly arch: Architecture;
    readonly vcpus: number;
    /** Memory in MiB (DescribeInstanceTypes' MemoryInfo.SizeInMiB). */
    readonly memoryMiB: number;
}

interface Ec2Data {
    source: string;
    retrieved: string;
    types: Record<string, InstanceTypeInfo>;
    namesOnly: { source: string; retrieved: string; names: string[] };
}
interface RegionData {
    source: string;
    retrieved: string;
    regions: Record<string, { partition: string; description: string }>;
}

// Both files are written by scripts/extract-ec2-data.ts, which names and pins their sources; do not edit them by hand.
const ec2 = ec2Json as unknown as Ec2Data;
const regionData = regionsJson as unknown as RegionData;

// Maps, not the JSON objects, so that "constructor" or "__proto__" is no instance type.
const types: ReadonlyMap<string, InstanceTypeInfo> = new Map(
    Object.entries(ec2.types).map(([name, t]) => [name, Object.freeze({ arch: t.arch, vcpus: t.vcpus, memoryMiB: t.memoryMiB })]),
);
const namesOnly: ReadonlySet<string> = new Set(ec2.namesOnly.names);
const regionPartitions: ReadonlyMap<string, string> = new Map(
    Object.entries(regionData.regions).map(([name, r]) => [name, r.partition]),
);

/** Where the instance type data came from and its date, for messages. */
export const instanceTypeDataSource: {
    readonly source: string;
    readonly retrieved: string;
    readonly namesOnlySource: string;
    readonly namesOnlyRetrieved: string;
} = Object.freeze({ source: ec2.source, retrieved: ec2.retrieved, namesOnlySource: ec2.namesOnly.source, namesOnlyRetrieved: ec2.namesOnly.retrieved });

/** Where the region list came from and its date, for messages. */
export const regionDataSource: { readonly source: string; readonly retrieved: string } =
    Object.freeze({ source: regionData.source, retrieved: regionData.retrieved });

/** Architecture, vCPUs and memory of an instance type in the pinned list, or undefined when the list lacks it. */
export function instanceTypeInfo(name: string): InstanceTypeInfo | undefined {
    return types.get(name);
}

/**
 * True for a type in the pinned list or among the further names of @pulumi/aws's InstanceType enum
 * (newer or older types the list has no vCPUs and memory for: instanceTypeInfo is undefined for those).
 */
export function isKnownInstanceType(name: string): boolean {
    return types.has(name) || namesOnly.has(name);
}

/** Every instance type name known (both sources), sorted. */
export const knownInstanceTypes: readonly string[] = Object.freeze([...new Set([...types.keys(), ...namesOnly])].sort());

/** Every region of every AWS partition in the SDK's partition data (kaws builds ARNs with the account's partition), sorted. */
export const knownRegions: readonly string[] = Object.freeze([...regionPartitions.keys()].sort());

/** The regions of the commercial partition ("aws"), sorted. */
export const commercialRegions: readonly string[] = Object.freeze(knownRegions.filter((r) => regionPartitions.get(r) === "aws"));

/** The partition ("aws", "aws-cn", "aws-us-gov", …) of a known region, or undefined. */
export function regionPartition(region: string): string | undefined {
    return regionPartitions.get(region);
}

/**
 * The architecture of an instance type: the pinned list's when it has the type; otherwise the naming rule —
 * Graviton families carry a "g" right after the generation digit (m7g, c6gn, t4g, im4gn); a1 is the first one.
 */
export function instanceArchitecture(instanceType: string): Architecture {
    const known = types.get(instanceType);
    if (known) return known.arch;
    const family = instanceType.split(".")[0];
    return family === "a1" || /^[a-z]+\d+g/.test(family) ? "arm64" : "x86_64";
}

/**
 * Burstable types (the T families: t2, t3, t3a, t4g) run on CPU credits, and only they accept a credit
 * specification (EC2 User Guide, "Burstable performance instances").
 */
export function isBurstable(name: string): boolean {
    return /^t\d[a-z]*\./.test(name);
}
