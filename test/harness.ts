import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { evaluateStack, Evaluation, RecordedResource } from "../automation/offline/engine";
import { nodeFilesOf } from "../automation/offline/render";
import { loadStackConfig } from "../automation/stackConfig";
import { placeholderId } from "../automation/offline/placeholders";

export const root = path.resolve(__dirname, "..");

/** A file under test/fixtures (copied or extracted reference data). */
export function fixturePath(...parts: string[]): string {
    return path.join(root, "test", "fixtures", ...parts);
}

/**
 * Evaluates the real program for a committed environment (Pulumi.yaml defaults + Pulumi.<env>.yaml),
 * with `overrides` applied on top as `pulumi config set` would (keys without a namespace are kaws:).
 * A value of `undefined` removes the key. `program` (relative to the root) replaces index.ts.
 */
export function evaluate(env: string, overrides: Record<string, unknown> = {}, program?: string): Promise<Evaluation> {
    const config = loadStackConfig(root, env);
    for (const [key, value] of Object.entries(overrides)) {
        const qualified = key.includes(":") ? key : `kaws:${key}`;
        if (value === undefined) delete config[qualified];
        else config[qualified] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const key = JSON.stringify({ env, config, program });
    let evaluation = evaluations.get(key);
    if (!evaluation) {
        evaluation = evaluateStack({ root, stack: env, config, program });
        evaluations.set(key, evaluation);
        evaluation.catch(() => evaluations.delete(key));
    }
    // Each caller gets its own copy: tests mutate what they are given (broken copies, overrides). An
    // evaluation holding unresolved outputs cannot be copied; that configuration is evaluated each time.
    return evaluation.then((ev) => {
        try {
            return structuredClone(ev);
        } catch {
            evaluations.delete(key);
            return evaluateStack({ root, stack: env, config, program });
        }
    });
}

/**
 * One evaluation per configuration and test process (mocha reuses its worker processes across files):
 * the same program and configuration register the same resources; only generated keys would differ.
 */
const evaluations = new Map<string, Promise<Evaluation>>();

export function ofType(evaluation: Evaluation, type: string): RecordedResource[] {
    return evaluation.resources.filter((r) => r.type === type);
}

export function named(evaluation: Evaluation, name: string): RecordedResource {
    const found = evaluation.resources.find((r) => r.name === name);
    if (!found) throw new Error(`no resource named ${name}; have ${evaluation.resources.map((r) => r.name).join(", ")}`);
    return found;
}

export interface InstalledFile {
    /** Octal mode as the manifest writes it, e.g. "0600". */
    readonly mode: string;
    readonly owner: string;
    readonly content: string;
}

/** The files a node role receives (automation/offline/render.ts nodeFilesOf), by path on the node; user data too. */
export function roleFiles(evaluation: Evaluation, role: string): Map<string, InstalledFile> {
    const files = nodeFilesOf(evaluation).filter((f) => f.path.startsWith(`${role}/`));
    if (files.length === 0) throw new Error(`no files for role ${role}`);
    return new Map(files.map((f) => [f.path.slice(role.length), { mode: f.mode.toString(8).padStart(4, "0"), owner: f.owner, content: f.content }]));
}

/** The kubelet bootstrap token (id and secret) the stack delivers, read from the control plane's bootstrap kubeconfig. */
export function bootstrapTokenOf(evaluation: Evaluation): { id: string; secret: string } {
    const kubeconfig = YAML.parse(roleFiles(evaluation, "controlplane").get("/etc/kubernetes/bootstrap-kubelet.conf")!.content);
    const [id, secret] = String(kubeconfig.users[0].user.token).split(".");
    return { id, secret };
}

/** The placeholder id the offline engine gives a resource, as other resources' inputs refer to it. */
export function idOf(resource: RecordedResource): string {
    return placeholderId(resource.name);
}

/** A throwaway project folder: the real program (linked), copies of Pulumi.yaml and the stack files (to edit), and an empty work/. */
export function throwawayProject(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-bad-"));
    for (const entry of fs.readdirSync(root)) {
        if (entry.startsWith(".") || /^Pulumi\..+\.yaml$/.test(entry) || entry === "test") continue;
        if (entry === "Pulumi.yaml") fs.copyFileSync(path.join(root, entry), path.join(dir, entry));
        else fs.symlinkSync(path.join(root, entry), path.join(dir, entry));
    }
    for (const env of ["dev", "prod"]) fs.copyFileSync(path.join(root, `Pulumi.${env}.yaml`), path.join(dir, `Pulumi.${env}.yaml`));
    fs.mkdirSync(path.join(dir, "work"));
    return dir;
}


/** Every file below dir with its content (a symbolic link as "-> target", not followed), to prove nothing changed. */
export function snapshotFiles(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (sub: string) => {
        for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
            const relative = path.join(sub, entry.name);
            if (entry.isDirectory()) walk(relative);
            else if (entry.isSymbolicLink()) out[relative] = `-> ${fs.readlinkSync(path.join(dir, relative))}`;
            else if (entry.isFile()) out[relative] = fs.readFileSync(path.join(dir, relative), "utf8");
        }
    };
    walk("");
    return out;
}

/** Edits the `config:` of a throwaway project's Pulumi.<env>.yaml in place. */
export function editStackFile(dir: string, env: string, edit: (config: Record<string, any>) => void): void {
    const file = path.join(dir, `Pulumi.${env}.yaml`);
    const doc = YAML.parse(fs.readFileSync(file, "utf8"));
    edit(doc.config);
    fs.writeFileSync(file, YAML.stringify(doc));
}
