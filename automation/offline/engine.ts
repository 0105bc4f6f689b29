import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { computedAttributes, invokeResult, placeholderId } from "./placeholders";
import { StackConfig, projectName } from "../stackConfig";
import { ResourceComputer, offlineTlsComputer } from "./tls";
import { parseUrn } from "../urn";
import { runnableModule } from "../../plan/projectRoot";

// The runtime's settings module is not part of the public API; the offline engine needs its monitor
// (to see each registration's parent) and its RPC queue (to know when the program has finished).
// eslint-disable-next-line @typescript-eslint/no-var-requires
const settings = require("@pulumi/pulumi/runtime/settings");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { deserializeProperties } = require("@pulumi/pulumi/runtime/rpc");

export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** URN of the parent resource, absent for top-level resources. */
    readonly parent?: string;
    /** False for component resources. */
    readonly custom: boolean;
    /** Provider reference ("<urn>::<id>") for resources with an explicit provider. */
    readonly provider?: string;
    readonly inputs: Record<string, any>;
    /** The replacementTrigger resource option: the engine replaces the resource when it changes. */
    readonly replacementTrigger?: unknown;
    /** The ignoreChanges resource option: properties whose changes the engine leaves alone. */
    readonly ignoreChanges?: string[];
    /** The protect resource option: the engine refuses to delete (or replace) the resource while it is set. */
    readonly protect?: boolean;
    /** The aliases resource option: earlier identities the engine maps to this resource (unset fields omitted). */
    readonly aliases?: { name?: string; type?: string; parentUrn?: string }[];
    /**
     * URNs the engine waits for before creating it: dependsOn and every resource an input's Output came from.
     * The offline engine always records it; graphs built by hand may leave it out (no dependencies).
     */
    readonly dependencies?: string[];
}

export interface StackOutput {
    readonly value: unknown;
    readonly secret: boolean;
}

export interface Evaluation {
    readonly resources: RecordedResource[];
    readonly outputs: Record<string, StackOutput>;
}

export type { ResourceComputer };

/** The program threw; `resources` is what it had registered by then. */
export class EvaluationError extends Error {
    constructor(readonly cause: unknown, readonly resources: RecordedResource[]) {
        super(cause instanceof Error ? cause.message : String(cause));
        this.name = "EvaluationError";
    }
}

export interface EvaluateOptions {
    /** Repository root holding index.ts and the Pulumi.*.yaml files. */
    readonly root: string;
    readonly stack: string;
    readonly config: StackConfig;
    /** Extra computed outputs, tried before the offline tls/random computer and the AWS placeholders. */
    readonly computers?: readonly ResourceComputer[];
    /** Program module to evaluate; index.ts by default. */
    readonly program?: string;
}

function urnFor(stack: string, parentUrn: string, type: string, name: string): string {
    const qualified = parentUrn ? `${parseUrn(parentUrn).types.at(-1)}$${type}` : type;
    return `urn:pulumi:${stack}::${projectName}::${qualified}::${name}`;
}

/** A registration's dependencies as the engine receives them: its dependsOn list and its inputs' property dependencies. */
function dependenciesOf(req: any): string[] {
    const urns = new Set<string>(req.getDependenciesList());
    req.getPropertydependenciesMap().forEach((deps: any) => {
        for (const urn of deps.getUrnsList()) urns.add(urn);
    });
    return [...urns];
}

/** Resolves each export as the engine does: nested Outputs inside objects and arrays included. */
async function resolveOutputs(exported: Record<string, unknown>): Promise<Record<string, StackOutput>> {
    const outputs: Record<string, StackOutput> = {};
    for (const [key, value] of Object.entries(exported)) {
        const output: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<unknown>);
        const [resolved, secret] = await Promise.all([
            new Promise<unknown>((resolve) => output.apply((v) => { resolve(v); return v; })),
            pulumi.isSecret(output),
        ]);
        outputs[key] = { value: resolved, secret };
    }
    return outputs;
}

/**
 * Runs the real program offline: Pulumi's mock monitor stands in for the engine and AWS, answering
 * with placeholder ids, and every registration is recorded with its parent. Returns the resource graph
 * and the resolved stack outputs. Evaluations run one after another in one process.
 */
export async function evaluateStack(options: EvaluateOptions): Promise<Evaluation> {
    const region = options.config["aws:region"] ?? "placeholder-region-1";
    const resources: RecordedResource[] = [];

    pulumi.runtime.setAllConfig(options.config, []);
    await pulumi.runtime.setMocks({
        call: (args) => invokeResult(args.token, region),
        newResource: async (args) => {
            const custom = args.custom !== false;
            let computed: Record<string, unknown> | undefined;
            for (const compute of [...(options.computers ?? []), offlineTlsComputer]) {
                computed = await compute(args.type, args.name, args.inputs);
                if (computed) break;
            }
            computed ??= computedAttributes(args.type, args.name, args.inputs, region);
            return {
                id: custom ? placeholderId(args.name) : undefined,
                state: { ...args.inputs, ...computed },
            };
        },
    }, projectName, options.stack, false);
    // As the Pulumi CLI does, the program learns where Pulumi.yaml is (setMocks has no argument for it).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("@pulumi/pulumi/runtime/state").getStore().settings.options.rootDirectory = path.resolve(options.root);

    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        const urn = urnFor(options.stack, req.getParent(), req.getType(), req.getName());
        resources.push({
            type: req.getType(),
            name: req.getName(),
            urn,
            parent: req.getParent() || undefined,
            custom: req.getCustom(),
            provider: req.getProvider() || undefined,
            inputs: deserializeProperties(req.getObject()),
            ignoreChanges: req.getIgnorechangesList(),
            ...(req.getProtect() ? { protect: true } : {}),
            replacementTrigger: req.hasReplacementTrigger() ? req.getReplacementTrigger().toJavaScript() : undefined,
            aliases: req.getAliasesList().map((alias: any) => {
                const spec = alias.getSpec();
                return Object.fromEntries(Object.entries({ name: spec?.getName(), type: spec?.getType(), parentUrn: spec?.getParenturn() }).filter(([, v]) => v));
            }),
            dependencies: dependenciesOf(req),
        });
        return register(req, callback);
    };

    // Only the program module is reloaded: it is what registers resources; components keep their identity.
    const programFile = require.resolve(runnableModule(path.resolve(options.root, options.program ?? "index.ts")));
    delete require.cache[programFile];
    // Pulumi records a stack trace for every promise it creates; under ts-node's source maps that costs more
    // than the whole evaluation, and nothing here reads those traces.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        const exported = require(programFile);
        const outputs = await resolveOutputs(exported);
        await settings.waitForRPCs();
        return { resources, outputs };
    } catch (err) {
        throw new EvaluationError(err, resources);
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
    }
}
