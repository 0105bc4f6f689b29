import * as fs from "fs";
import * as path from "path";
import { evaluateStack, Evaluation } from "./offline";
import { loadStackConfig } from "./stackConfig";

export const redacted = "[secret]";

export interface Plan {
    readonly stack: string;
    readonly resources: { type: string; name: string; parent: string | null }[];
    readonly outputs: Record<string, unknown>;
}

/** The reviewable summary of an evaluation: every resource with its parent, outputs with secrets redacted. */
export function planOf(stack: string, evaluation: Evaluation): Plan {
    const byUrn = new Map(evaluation.resources.map((r) => [r.urn, r]));
    return {
        stack,
        resources: evaluation.resources.map((r) => {
            const parent = r.parent ? byUrn.get(r.parent) : undefined;
            return { type: r.type, name: r.name, parent: parent ? `${parent.type}::${parent.name}` : null };
        }),
        outputs: Object.fromEntries(Object.entries(evaluation.outputs).map(([key, out]) => [key, out.secret ? redacted : out.value])),
    };
}

export interface RenderResult {
    readonly outDir: string;
    readonly resourceCount: number;
    readonly files: string[];
}

/** Evaluates the real program for `env` offline and writes the render contract (README, "kaws render") to `outDir`. */
export async function renderEnvironment(root: string, env: string, outDir: string): Promise<RenderResult> {
    const evaluation = await evaluateStack({ root, stack: env, config: loadStackConfig(root, env) });
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.mkdirSync(outDir, { recursive: true });
    const files: string[] = [];
    const write = (relative: string, content: string, mode = 0o644) => {
        const target = path.join(outDir, relative);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, content, { mode });
        fs.chmodSync(target, mode);
        files.push(relative);
    };
    const plan = planOf(env, evaluation);
    write("plan.json", JSON.stringify(plan, null, 2) + "\n");
    return { outDir, resourceCount: plan.resources.length, files };
}
