import * as path from "path";
import * as auto from "@pulumi/pulumi/automation";
import { ChangeCounts, StackFactory, StackHandle, StackLockedError, StackOutputs } from "./driver";

function counts(map: auto.OpMap | undefined): ChangeCounts {
    return Object.fromEntries(Object.entries(map ?? {}).map(([op, n]) => [op, Number(n)]));
}

async function locked<T>(name: string, operation: () => Promise<T>): Promise<T> {
    try {
        return await operation();
    } catch (err) {
        if (err instanceof auto.ConcurrentUpdateError) throw new StackLockedError(name);
        throw err;
    }
}

/** Wraps an Automation API stack in the driver's StackHandle; previews and updates run `policyPacks`. */
export function handleFor(stack: auto.Stack, project: string, policyPacks: string[] = []): StackHandle {
    const name = `${project}/${stack.name}`;
    const workspace = stack.workspace as auto.LocalWorkspace;
    return {
        name,
        preview: (o) => locked(name, async () => {
            const onStep = o.onStep;
            const onEvent = onStep && ((event: auto.EngineEvent) => {
                const step = event.resourcePreEvent?.metadata;
                if (step) onStep({ op: step.op, urn: step.urn, type: step.type });
            });
            return counts((await stack.preview({ onOutput: o.onOutput, onEvent, signal: o.signal, color: "auto", policyPacks })).changeSummary);
        }),
        up: (o) => locked(name, async () => {
            const result = await stack.up({ onOutput: o.onOutput, signal: o.signal, color: "auto", policyPacks });
            return { changes: counts(result.summary.resourceChanges), outputs: result.outputs as StackOutputs };
        }),
        destroy: (o) => locked(name, async () => {
            // The kubernetes provider reads this when it is configured, including from the state during destroy.
            if (o.dropUnreachable) workspace.envVars = { ...workspace.envVars, PULUMI_K8S_DELETE_UNREACHABLE: "true" };
            return counts((await stack.destroy({ onOutput: o.onOutput, signal: o.signal, color: "auto" })).summary.resourceChanges);
        }),
        outputs: async () => (await stack.outputs()) as StackOutputs,
        setConfig: (values) => stack.setAllConfig(values),
        unprotect: (urns) => locked(name, async () => {
            const { deployment, cleared } = withoutProtection(await stack.exportStack(), urns);
            if (cleared.length > 0) await stack.importStack(deployment);
            return cleared;
        }),
    };
}

/**
 * A stack's exported state with `protect` cleared on the given resources (every one when omitted), as
 * `pulumi state unprotect` does; the URNs it cleared. Nothing else in the state changes.
 */
export function withoutProtection(state: auto.Deployment, urns?: readonly string[]): { deployment: auto.Deployment; cleared: string[] } {
    const wanted = urns && new Set(urns);
    const cleared: string[] = [];
    const resources = (state.deployment?.resources ?? []).map((resource: { urn: string; protect?: boolean }) => {
        if (!resource.protect || (wanted && !wanted.has(resource.urn))) return resource;
        cleared.push(resource.urn);
        return { ...resource, protect: false };
    });
    return { deployment: { ...state, deployment: { ...state.deployment, resources } }, cleared };
}

/** The kaws policy pack (policy/), run by every preview and update of both stacks. */
export const policyPackDir = (root: string) => path.join(root, "policy");

/**
 * What the Pulumi CLI's Node.js language host runs both programs with: ts-node transpile-only, so no
 * update type-checks the program first (`npm run typecheck` and CI do). The host reads this variable
 * (sdk/nodejs/cmd/run/run.ts; https://github.com/pulumi/pulumi/pull/8981); without it, it type-checks
 * unless the project's tsconfig sets noCheck (https://github.com/pulumi/pulumi/pull/18067).
 */
export const programEnvironment: Readonly<Record<string, string>> = { PULUMI_NODEJS_TRANSPILE_ONLY: "true" };

/** How a stack is selected, or created: the Automation API's, or a stand-in in tests. */
export type SelectStack = (args: auto.LocalProgramArgs, options: auto.LocalWorkspaceOptions) => Promise<auto.Stack>;

/**
 * The real stacks: the infra program at the repository root (so Pulumi.<env>.yaml applies) and the
 * add-ons program in addons/program, both selected (or created) as stack <env>.
 */
export function pulumiStacks(root: string, select: SelectStack = (args, options) => auto.LocalWorkspace.createOrSelectStack(args, options)): StackFactory {
    const open = async (workDir: string, project: string, env: string) => {
        try {
            return handleFor(await select({ stackName: env, workDir }, { envVars: { ...programEnvironment } }), project, [policyPackDir(root)]);
        } catch (err) {
            if (/ENOENT[\s\S]*pulumi|pulumi[\s\S]*ENOENT/.test(String(err instanceof Error ? err.message : err))) {
                throw new Error("the Pulumi CLI is not on PATH; install it (the Automation API drives it), or use `kaws render`, which needs no CLI");
            }
            throw err;
        }
    };
    return {
        infra: (env) => open(root, "kaws", env),
        addons: (env) => open(path.join(root, "addons", "program"), "kaws-addons", env),
    };
}
