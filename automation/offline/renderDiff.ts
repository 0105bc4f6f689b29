import * as fs from "fs";
import * as path from "path";
import { createTwoFilesPatch } from "diff";
import { Plan, PlannedResource } from "./render";
import { renderMarker } from "./renderTarget";
import { weavePasswordSecret } from "../../addons/weave";

const masked = "<masked>";

/**
 * Masks what every offline evaluation generates anew (keys, certificates, random secrets and the digests
 * of them), so two renders differ only where the program's output really changed.
 */
export function maskGenerated(text: string): string {
    return text
        .replace(/-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g, (_, kind) => `-----BEGIN ${kind}-----\n${masked}\n-----END ${kind}-----`)
        .replace(/((?:certificate-authority|client-certificate|client-key)-data): \S+/g, `$1: ${masked}`)
        .replace(/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g, `${masked}.${masked}`)
        .replace(/(token-id: )[a-z0-9]{6}\b/g, `$1${masked}`)
        // The bootstrap token Secret the control-plane nodes apply holds both halves base64-encoded.
        .replace(/^(\s+token-(?:id|secret): )[A-Za-z0-9+/=]+$/gm, `$1${masked}`)
        .replace(/(bootstrap-token-)[a-z0-9]{6}\b/g, `$1${masked}`)
        .replace(/^(\s+secret: )[A-Za-z0-9+/=]{40,}$/gm, `$1${masked}`)
        // The weave password, in the node-critical add-ons the control-plane nodes create.
        .replace(new RegExp(`^(\\s+${weavePasswordSecret}: )[A-Za-z0-9]{16,}$`, "gm"), `$1${masked}`)
        .replace(/(# kaws node files sha256:)[0-9a-f]{64}/g, `$1${masked}`);
}

/** Inputs of these types whose change makes the provider replace the resource, losing what it holds. */
const replacingInputs: Record<string, { readonly holds: string; readonly inputs: readonly string[] }> = {
    "aws:ebs/volume:Volume": { holds: "an etcd member's data", inputs: ["availabilityZone", "encrypted", "kmsKeyId", "snapshotId", "outpostArn"] },
    "aws:ec2/networkInterface:NetworkInterface": { holds: "an etcd member's fixed address", inputs: ["subnetId", "privateIps", "privateIp", "privateIpsCount"] },
    "aws:kms/key:Key": { holds: "the cluster key every volume, node file and snapshot is encrypted with", inputs: ["customerMasterKeySpec", "keyUsage", "multiRegion"] },
    "aws:s3/bucket:Bucket": { holds: "node files and etcd snapshots", inputs: ["bucket", "bucketPrefix"] },
};

export interface RenderDiff {
    readonly files: { readonly path: string; readonly change: "added" | "removed" | "changed"; readonly patch?: string }[];
    readonly resources: { readonly key: string; readonly change: "added" | "removed" | "changed"; readonly inputs?: readonly string[] }[];
    /** Changes that replace a resource holding state, or roll nodes. */
    readonly warnings: readonly string[];
}

function walk(dir: string): string[] {
    const out: string[] = [];
    const visit = (sub: string) => {
        for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
            const relative = path.join(sub, entry.name);
            if (entry.isDirectory()) visit(relative);
            else out.push(relative);
        }
    };
    visit("");
    return out.filter((f) => f !== renderMarker && f !== "plan.json" && f !== "kubeconfig").sort();
}

/** Dotted paths at which two values differ (arrays compared whole). */
function changedPaths(before: unknown, after: unknown, prefix = ""): string[] {
    if (JSON.stringify(before) === JSON.stringify(after)) return [];
    const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
    if (!isObject(before) || !isObject(after)) return [prefix || "(value)"];
    const b = before as Record<string, unknown>;
    const a = after as Record<string, unknown>;
    return [...new Set([...Object.keys(b), ...Object.keys(a)])].sort().flatMap((key) => changedPaths(b[key], a[key], prefix ? `${prefix}.${key}` : key));
}

/** Every string in a value masked (maskGenerated), at any depth. */
function maskDeep(value: unknown): unknown {
    if (typeof value === "string") return maskGenerated(value);
    if (Array.isArray(value)) return value.map(maskDeep);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, maskDeep(v)]));
}

const readPlan = (dir: string): Plan => maskDeep(JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"))) as Plan;
const keyOf = (r: PlannedResource) => `${r.type}::${r.name}`;

/** What changed from the render in `before` to the render in `after`: node files, add-on objects, resources. */
export function diffRenders(before: string, after: string): RenderDiff {
    // Paths are compared masked too: the bootstrap token's Secret is named after its generated id.
    const byMaskedPath = (dir: string) => new Map(walk(dir).map((file) => [maskGenerated(file), file]));
    const oldFiles = byMaskedPath(before);
    const newFiles = byMaskedPath(after);
    const files: RenderDiff["files"][number][] = [];
    for (const file of [...new Set([...oldFiles.keys(), ...newFiles.keys()])].sort()) {
        if (!oldFiles.has(file)) { files.push({ path: file, change: "added" }); continue; }
        if (!newFiles.has(file)) { files.push({ path: file, change: "removed" }); continue; }
        const a = maskGenerated(fs.readFileSync(path.join(before, oldFiles.get(file)!), "utf8"));
        const b = maskGenerated(fs.readFileSync(path.join(after, newFiles.get(file)!), "utf8"));
        if (a !== b) files.push({ path: file, change: "changed", patch: createTwoFilesPatch(`a/${file}`, `b/${file}`, a, b, "", "", { context: 3 }) });
    }

    const oldPlan = new Map(readPlan(before).resources.map((r) => [keyOf(r), r]));
    const newPlan = new Map(readPlan(after).resources.map((r) => [keyOf(r), r]));
    const resources: RenderDiff["resources"][number][] = [];
    const warnings: string[] = [];
    for (const key of [...new Set([...oldPlan.keys(), ...newPlan.keys()])].sort()) {
        const was = oldPlan.get(key);
        const is = newPlan.get(key);
        const stateful = replacingInputs[(was ?? is)!.type];
        if (!was) { resources.push({ key, change: "added" }); continue; }
        if (!is) {
            resources.push({ key, change: "removed" });
            if (stateful) warnings.push(`deletes ${key}, which holds ${stateful.holds}`);
            continue;
        }
        const inputs = changedPaths(was.inputs, is.inputs);
        if (inputs.length === 0) continue;
        resources.push({ key, change: "changed", inputs });
        const replacing = stateful ? inputs.filter((p) => stateful.inputs.includes(p.split(".")[0])) : [];
        if (stateful && replacing.length > 0) warnings.push(`replaces ${key} (${replacing.join(", ")} changed), which holds ${stateful.holds}`);
    }
    for (const [key, r] of newPlan) {
        if (r.type !== "aws:ec2/launchTemplate:LaunchTemplate" || !oldPlan.has(key)) continue;
        const role = String((r.inputs.tags as Record<string, string> | undefined)?.["kaws:role"] ?? "");
        // Its user data carries the digest of the role's files: any changed file is a new template version.
        const filesChanged = files.some((f) => f.path.startsWith(`${role}/`));
        if (filesChanged || changedPaths(oldPlan.get(key)!.inputs, r.inputs).length > 0) {
            warnings.push(role.startsWith("etcd-")
                ? `rolls ${role}: a new launch template version; etcd members move only by the one-at-a-time roll (README "etcd")`
                : `rolls every ${role} node: a new launch template version (instance refresh)`);
        }
    }
    return { files, resources, warnings };
}

/** The diff as a reviewer reads it: what replaces state or rolls nodes first, then resources, then file patches. */
export function formatRenderDiff(d: RenderDiff): string {
    if (d.files.length === 0 && d.resources.length === 0) return "no changes\n";
    const lines: string[] = [];
    if (d.warnings.length > 0) lines.push("Changes that replace state or roll nodes:", ...d.warnings.map((w) => `  ! ${w}`), "");
    if (d.resources.length > 0) {
        lines.push(`Resources (${d.resources.length}):`);
        for (const r of d.resources) lines.push(`  ${r.change === "added" ? "+" : r.change === "removed" ? "-" : "~"} ${r.key}${r.inputs ? `  (${r.inputs.join(", ")})` : ""}`);
        lines.push("");
    }
    if (d.files.length > 0) {
        lines.push(`Files (${d.files.length}):`);
        for (const f of d.files) lines.push(`  ${f.change === "added" ? "+" : f.change === "removed" ? "-" : "~"} ${f.path}`);
        lines.push("");
        for (const f of d.files.filter((x) => x.patch)) lines.push(f.patch!.trimEnd());
    }
    return lines.join("\n") + "\n";
}
