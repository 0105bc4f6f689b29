import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { evaluateStack, Evaluation, RecordedResource } from "./engine";
import { loadStackConfig } from "../stackConfig";
import { writeRenderInto } from "./renderTarget";
import { CostError, CostReport, loadPrices, priceStack } from "../cost";
import { manifestName } from "../../nodes/fileDelivery";
import { AddonSettings, KubeObject, addonFileName, renderAddons } from "../../addons";
import { addonSecretFields, parseAddonSettings } from "../../addons/settings";
import { isSecretEnvelope } from "./secrets";
import { ReadyPath, ReadyPathError, formatReadyPath, loadLatencies, modelReadyPath, pulumiTranspilesOnly } from "../readyPath";
import { apiWait } from "../wait";
import { programEnvironment } from "../stacks";
import { unwrapSecret } from "./secrets";

// Secret inputs are recorded in Pulumi's secret envelope; a rendered file holds the value itself.

export const redacted = "[secret]";

export interface PlannedResource {
    readonly type: string;
    readonly name: string;
    readonly parent: string | null;
    /** Its inputs as the program set them: secrets "[secret]", node file contents and user data by reference. */
    readonly inputs: Record<string, unknown>;
}

export interface Plan {
    readonly stack: string;
    readonly resources: PlannedResource[];
    readonly outputs: Record<string, unknown>;
}

/** Inputs with every secret replaced by "[secret]", at any depth. */
export function redactInputs(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(redactInputs);
    if (value === null || typeof value !== "object") return value;
    if (isSecretEnvelope(value)) return redacted;
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, redactInputs(inner)]));
}

/** What a reviewer reads for a resource: node files and user data point at their rendered file instead of repeating it. */
function reviewableInputs(r: RecordedResource): Record<string, unknown> {
    const inputs = redactInputs(r.inputs) as Record<string, unknown>;
    if (r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && /^nodes\/[^/]+\//.test(String(r.inputs.key)) && !String(r.inputs.key).endsWith(`/${manifestName}`)) {
        return { ...inputs, content: `see ${String(r.inputs.key).slice("nodes/".length)}` };
    }
    if (r.type === "aws:ec2/launchTemplate:LaunchTemplate" && r.inputs.tags?.["kaws:role"] && r.inputs.userData !== undefined) {
        return { ...inputs, userData: `see ${r.inputs.tags["kaws:role"]}/user-data` };
    }
    return inputs;
}

/** The reviewable summary of an evaluation: every resource with its parent and inputs, outputs with secrets redacted. */
export function planOf(stack: string, evaluation: Evaluation): Plan {
    const byUrn = new Map(evaluation.resources.map((r) => [r.urn, r]));
    return {
        stack,
        resources: evaluation.resources.map((r) => {
            const parent = r.parent ? byUrn.get(r.parent) : undefined;
            return { type: r.type, name: r.name, parent: parent ? `${parent.type}::${parent.name}` : null, inputs: reviewableInputs(r) };
        }),
        outputs: Object.fromEntries(Object.entries(evaluation.outputs).map(([key, out]) => [key, out.secret ? redacted : out.value])),
    };
}

export interface RenderedFile {
    /** Path relative to the render folder: "<role>/<absolute node path>" or "<role>/user-data". */
    readonly path: string;
    readonly content: string;
    readonly mode: number;
    /** "user:group" the node installs it with (user data: root:root). */
    readonly owner: string;
}

/**
 * What each node role receives, read from the resources the program registered: the objects under
 * nodes/<role>/ in the assets bucket (installed with the modes of their manifest) and the user data of
 * the launch templates tagged with kaws:role.
 */
export function nodeFilesOf(evaluation: Evaluation): RenderedFile[] {
    const objects = evaluation.resources.filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && /^nodes\/[^/]+\//.test(r.inputs.key));
    const installed = new Map<string, { mode: number; owner: string }>();
    for (const manifest of objects.filter((o) => o.inputs.key.endsWith(`/${manifestName}`))) {
        const role = manifest.inputs.key.split("/")[1];
        for (const line of String(manifest.inputs.content).split("\n").filter(Boolean)) {
            const [mode, owner, nodePath] = line.split(" ");
            installed.set(`${role}${nodePath}`, { mode: parseInt(mode, 8), owner });
        }
    }
    const files: RenderedFile[] = objects
        .filter((o) => !o.inputs.key.endsWith(`/${manifestName}`))
        .map((o) => {
            const relative = o.inputs.key.slice("nodes/".length);
            const install = installed.get(relative);
            if (install === undefined) throw new Error(`${o.inputs.key} is missing from its role's ${manifestName}`);
            return { path: relative, content: String(unwrapSecret(o.inputs.content)), ...install };
        });
    for (const template of evaluation.resources.filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate" && r.inputs.tags?.["kaws:role"])) {
        files.push({
            path: `${template.inputs.tags["kaws:role"]}/user-data`,
            content: Buffer.from(template.inputs.userData ?? "", "base64").toString("utf8"),
            mode: 0o644,
            owner: "root:root",
        });
    }
    return files;
}

export interface RenderResult {
    readonly outDir: string;
    readonly resourceCount: number;
    readonly files: string[];
    /** The priced plan's total, or why it could not be priced (DIR/cost.json holds either). */
    readonly cost: { readonly total: number; readonly currency: string; readonly region: string; readonly missingPrices?: string[] } | { readonly error: string };
    /** The modeled time to Ready in a line or two (DIR/ready-path.json holds the path), or why it could not be modeled. */
    readonly readyPath: string;
}

/**
 * Evaluates the real program for `env` offline and writes the render contract (README, "kaws render") to
 * `outDir`, which `checkRenderTarget` accepted: staged beside it and swapped in, so nothing kaws did not
 * write is ever deleted.
 */
export async function renderEnvironment(root: string, env: string, outDir: string): Promise<RenderResult> {
    const config = loadStackConfig(root, env);
    const evaluation = await evaluateStack({ root, stack: env, config });
    // A missing price is said, never priced as zero: the report lists what it could not price.
    const cost: CostReport | { error: string } = (() => {
        try {
            return priceStack(evaluation, loadPrices(config["aws:region"]), {}, { partial: true });
        } catch (error) {
            if (error instanceof CostError) return { error: error.message };
            throw error;
        }
    })();
    // A graph the model cannot read is said, never modeled as zero.
    const readyPath: ReadyPath | { error: string } = (() => {
        try {
            return modelReadyPath(evaluation, loadLatencies(), { apiPollIntervalSeconds: apiWait.intervalMs / 1000, transpileOnly: pulumiTranspilesOnly(root, { ...process.env, ...programEnvironment }) });
        } catch (error) {
            if (error instanceof ReadyPathError) return { error: error.message };
            throw error;
        }
    })();
    const files: string[] = [];
    writeRenderInto(outDir, `kaws render ${env}\n`, (dir) => {
        const write = (relative: string, content: string, mode = 0o644) => {
            const target = path.join(dir, relative);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.writeFileSync(target, content, { mode });
            fs.chmodSync(target, mode);
            files.push(relative);
        };
        for (const file of nodeFilesOf(evaluation)) write(file.path, file.content, file.mode);
        write("plan.json", JSON.stringify(planOf(env, evaluation), null, 2) + "\n");
        for (const file of addonFilesOf(evaluation)) write(file.path, file.content);
        const kubeconfig = evaluation.outputs.kubeconfig?.value;
        if (typeof kubeconfig === "string") write("kubeconfig", kubeconfig, 0o600);
        write("cost.json", JSON.stringify(cost, null, 2) + "\n");
        write("ready-path.json", JSON.stringify(readyPath, null, 2) + "\n");
    });
    return {
        outDir, resourceCount: evaluation.resources.length, files,
        cost: "error" in cost ? cost : { total: cost.total, currency: cost.currency, region: cost.region, ...(cost.missingPrices ? { missingPrices: cost.missingPrices } : {}) },
        readyPath: "error" in readyPath ? `time to Ready: not modeled: ${readyPath.error}\n` : formatReadyPath(readyPath),
    };
}

// ---- Add-ons: DIR/addons/<kind>-<name>.yaml, from the same renderers the ClusterAddons component uses ----

/**
 * The add-on settings the add-ons stack would receive: the evaluation's addonSettings output (the same
 * contract the driver copies), with the secret ones written as "[secret]". Identifiers the cloud assigns
 * are the offline engine's marked placeholders.
 */
export function addonSettingsForRender(outputs: Evaluation["outputs"]): AddonSettings {
    const settings = parseAddonSettings(outputs.addonSettings?.value, "the program's addonSettings output");
    return { ...settings, ...Object.fromEntries(addonSecretFields.map((field) => [field, redacted])) } as AddonSettings;
}

/** Every add-on object the add-ons stack would apply for this evaluation. */
export function addonObjectsOf(evaluation: Evaluation): KubeObject[] {
    return renderAddons(addonSettingsForRender(evaluation.outputs)).flatMap((addon) => addon.objects);
}

/** Every add-on object as its own YAML document, one file each. */
export function addonFilesOf(evaluation: Evaluation): RenderedFile[] {
    return addonObjectsOf(evaluation).map((obj) => ({ path: `addons/${addonFileName(obj)}`, content: YAML.stringify(obj), mode: 0o644, owner: "root:root" }));
}
