/**
 * extract-ec2-data.ts — writes plan/ec2InstanceTypes.json and plan/regions.json, the pinned, dated data
 * that plan/instanceTypes.ts checks instance type names and regions against offline.
 *
 * Run:  TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register scripts/extract-ec2-data.ts [path/to/ec2_instance_types.go]
 *
 * What it reads
 * -------------
 * 1. Instance types with architecture, vCPUs and memory: the Kubernetes cluster-autoscaler's generated static list
 *      repository  kubernetes/autoscaler (GitHub)
 *      path        cluster-autoscaler/cloudprovider/aws/ec2_instance_types.go
 *      commit      e964265b7440c0faa751f28f77b18166584d001d (2026-01-22, "Add g7e EC2 instance type for AWS"; still the
 *                  newest change to that file in the snapshot read, whose HEAD is 55c37cd5eb550756c5ccc5a89e9068d77797e575)
 *      git blob    66a906ba4d6c267745cb0dc0ccc1d1e0f19842f1 (checked below: another version of the file is refused)
 *    The file is generated (cluster-autoscaler/cloudprovider/aws/ec2_instance_types/gen.go → aws_util.go
 *    GenerateEC2InstanceTypes) from the EC2 DescribeInstanceTypes API: VCpuInfo.DefaultVCpus, MemoryInfo.SizeInMiB and
 *    ProcessorInfo.SupportedArchitectures. Its own date is `StaticListLastUpdateTime`, copied into "retrieved".
 *    It is Go source, so it is not committed here: only the data derived from it. To get it, e.g. from a bare mirror
 *    (the `fetch` tool puts one under /work/.mirror/kubernetes+autoscaler/repo):
 *      mkdir -p /tmp/kaws-ec2-source && git --git-dir=/work/.mirror/kubernetes+autoscaler/repo show \
 *        e964265b7440c0faa751f28f77b18166584d001d:cluster-autoscaler/cloudprovider/aws/ec2_instance_types.go \
 *        > /tmp/kaws-ec2-source/ec2_instance_types.go
 *    (or download that path at that commit from GitHub). Pass another path as the first argument.
 * 2. More instance type names, without specs: the `InstanceType` enum of the installed @pulumi/aws
 *    (node_modules/@pulumi/aws/types/enums/ec2, version read from its package.json; 7.48.0 published 2026-09-22).
 *    It is newer than the autoscaler list and names types that list lacks (e.g. m9g, c8id); those go to "namesOnly"
 *    so that a name can be known even where its vCPUs and memory are not.
 * 3. Regions: the partition data the installed AWS SDK v3 resolves endpoints with,
 *    node_modules/@aws-sdk/core/dist-es/submodules/client/util-endpoints/lib/aws/partitions.js
 *    (`partitionsInfo`, version read from @aws-sdk/core's package.json; 3.981.0 published 2026-11-10).
 *    Each partition's pseudo-regions (aws-global, aws-cn-global, …) are left out: they do not match its regionRegex.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

const root = path.resolve(__dirname, "..");
const autoscaler = {
    repo: "kubernetes/autoscaler",
    path: "cluster-autoscaler/cloudprovider/aws/ec2_instance_types.go",
    commit: "e964265b7440c0faa751f28f77b18166584d001d",
    blob: "66a906ba4d6c267745cb0dc0ccc1d1e0f19842f1",
};
const defaultInput = "/tmp/kaws-ec2-source/ec2_instance_types.go";
/** Registry publish dates of the package versions read (`npm view NAME time`); another version is dated by the day the script runs. */
const publishDates: Record<string, string> = { "@aws-sdk/core@3.981.0": "2026-11-10", "@pulumi/aws@7.48.0": "2026-09-22" };
const dated = (name: string, version: string) => publishDates[`${name}@${version}`] ?? new Date().toISOString().slice(0, 10);

type Architecture = "x86_64" | "arm64";
interface TypeInfo { arch: Architecture; vcpus: number; memoryMiB: number }

function gitBlobId(content: Buffer): string {
    return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
}

function packageVersion(name: string): string {
    return JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [root] }), "utf8")).version;
}

/** Parses the Go map literal `"m7i.large": { InstanceType: "m7i.large", VCPU: 2, MemoryMb: 8192, GPU: 0, Architecture: "amd64" }`. */
function parseAutoscalerList(text: string): { date: string; types: Map<string, TypeInfo> } {
    const date = /StaticListLastUpdateTime\s*=\s*"(\d{4}-\d{2}-\d{2})"/.exec(text)?.[1];
    if (!date) throw new Error("no StaticListLastUpdateTime in the autoscaler list");
    const entry = /"([^"]+)":\s*\{\s*InstanceType:\s*"([^"]+)",\s*VCPU:\s*(\d+),\s*MemoryMb:\s*(\d+),\s*GPU:\s*(\d+),\s*Architecture:\s*"([^"]+)",\s*\}/g;
    const types = new Map<string, TypeInfo>();
    for (const m of text.matchAll(entry)) {
        const [, key, name, vcpu, mem, , arch] = m;
        if (key !== name) throw new Error(`entry ${key} names ${name}`);
        if (!name.includes(".")) continue; // older versions of the list also carried bare family rows ("c5") with memory 0
        const archs: Record<string, Architecture> = { amd64: "x86_64", arm64: "arm64" };
        if (!archs[arch]) throw new Error(`${name}: unknown architecture ${arch}`);
        if (+vcpu <= 0 || +mem <= 0) throw new Error(`${name}: vCPUs ${vcpu}, memory ${mem}`);
        types.set(name, { arch: archs[arch], vcpus: +vcpu, memoryMiB: +mem });
    }
    const declared = (text.match(/^\t"[^"]+": \{$/gm) ?? []).length;
    if (declared !== types.size) throw new Error(`parsed ${types.size} of ${declared} entries`);
    return { date, types };
}

function sortedKeys<T>(m: Map<string, T>): string[] {
    return [...m.keys()].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

function main(): void {
    const input = process.argv[2] ?? defaultInput;
    const raw = fs.readFileSync(input);
    const blob = gitBlobId(raw);
    if (blob !== autoscaler.blob) {
        throw new Error(`${input} is git blob ${blob}, not ${autoscaler.blob} (${autoscaler.repo}@${autoscaler.commit}:${autoscaler.path})`);
    }
    const { date, types } = parseAutoscalerList(raw.toString("utf8"));

    const pulumiAwsVersion = packageVersion("@pulumi/aws");
    const enumModule = require(require.resolve("@pulumi/aws/types/enums/ec2", { paths: [root] }));
    const enumNames = new Set<string>(Object.values(enumModule.InstanceType as Record<string, string>));
    const namesOnly = [...enumNames].filter((n) => !types.has(n)).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));

    const lines = sortedKeys(types).map((n) => {
        const t = types.get(n)!;
        return `    ${JSON.stringify(n)}: { "arch": ${JSON.stringify(t.arch)}, "vcpus": ${t.vcpus}, "memoryMiB": ${t.memoryMiB} }`;
    });
    const ec2Json = [
        "{",
        `  "source": ${JSON.stringify(`${autoscaler.repo} ${autoscaler.path} at commit ${autoscaler.commit} (git blob ${autoscaler.blob}), generated by cluster-autoscaler from the EC2 DescribeInstanceTypes API; written by scripts/extract-ec2-data.ts`)},`,
        `  "retrieved": ${JSON.stringify(date)},`,
        `  "types": {`,
        lines.join(",\n"),
        "  },",
        `  "namesOnly": {`,
        `    "source": ${JSON.stringify(`InstanceType enum of @pulumi/aws ${pulumiAwsVersion} (node_modules/@pulumi/aws/types/enums/ec2): names it has that the list above lacks, with no vCPUs, memory or architecture`)},`,
        `    "retrieved": ${JSON.stringify(dated("@pulumi/aws", pulumiAwsVersion))},`,
        `    "names": [`,
        namesOnly.map((n) => `      ${JSON.stringify(n)}`).join(",\n"),
        "    ]",
        "  }",
        "}",
        "",
    ].join("\n");
    JSON.parse(ec2Json); // well-formed
    const ec2Out = path.join(root, "plan/ec2InstanceTypes.json");
    fs.writeFileSync(ec2Out, ec2Json);

    const sdkCoreVersion = packageVersion("@aws-sdk/core");
    const partitionsFile = path.join(path.dirname(require.resolve("@aws-sdk/core/package.json", { paths: [root] })),
        "dist-es/submodules/client/util-endpoints/lib/aws/partitions.js");
    const partitionsText = fs.readFileSync(partitionsFile, "utf8").trim();
    const literal = /^export const partitionsInfo = ([\s\S]*);$/.exec(partitionsText)?.[1];
    if (!literal) throw new Error(`${partitionsFile}: not the expected \`export const partitionsInfo = {...};\``);
    const partitionsInfo = JSON.parse(literal) as {
        version: string;
        partitions: { id: string; regionRegex: string; regions: Record<string, { description?: string }> }[];
    };
    const regions: Record<string, { partition: string; description: string }> = {};
    const partitions: Record<string, { regionRegex: string }> = {};
    for (const p of partitionsInfo.partitions) {
        partitions[p.id] = { regionRegex: p.regionRegex };
        const re = new RegExp(p.regionRegex);
        for (const [name, info] of Object.entries(p.regions)) {
            if (!re.test(name)) continue; // aws-global and the like
            if (regions[name]) throw new Error(`${name} is in two partitions`);
            regions[name] = { partition: p.id, description: info.description ?? "" };
        }
    }
    const regionNames = Object.keys(regions).sort();
    const regionsJson = {
        source: `partitionsInfo (partitions format ${partitionsInfo.version}) of @aws-sdk/core ${sdkCoreVersion}, node_modules/@aws-sdk/core/dist-es/submodules/client/util-endpoints/lib/aws/partitions.js; written by scripts/extract-ec2-data.ts`,
        retrieved: dated("@aws-sdk/core", sdkCoreVersion),
        partitions,
        regions: Object.fromEntries(regionNames.map((n) => [n, regions[n]])),
    };
    const regionsOut = path.join(root, "plan/regions.json");
    fs.writeFileSync(regionsOut, JSON.stringify(regionsJson, null, 2) + "\n");

    const byPartition = new Map<string, number>();
    for (const n of regionNames) byPartition.set(regions[n].partition, (byPartition.get(regions[n].partition) ?? 0) + 1);
    console.log(`${path.relative(root, ec2Out)}: ${types.size} types (list of ${date}), ${namesOnly.length} names only from @pulumi/aws ${pulumiAwsVersion}, ${ec2Json.length} bytes`);
    console.log(`${path.relative(root, regionsOut)}: ${regionNames.length} regions (${[...byPartition].map(([p, c]) => `${p} ${c}`).join(", ")}) from @aws-sdk/core ${sdkCoreVersion}`);
}

main();
