import * as path from "path";
import { evaluateStack, Evaluation, RecordedResource } from "../automation/offline/engine";
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
    return evaluateStack({ root, stack: env, config, program });
}

export function ofType(evaluation: Evaluation, type: string): RecordedResource[] {
    return evaluation.resources.filter((r) => r.type === type);
}

export function named(evaluation: Evaluation, name: string): RecordedResource {
    const found = evaluation.resources.find((r) => r.name === name);
    if (!found) throw new Error(`no resource named ${name}; have ${evaluation.resources.map((r) => r.name).join(", ")}`);
    return found;
}

/** The placeholder id the offline engine gives a resource, as other resources' inputs refer to it. */
export function idOf(resource: RecordedResource): string {
    return placeholderId(resource.name);
}
