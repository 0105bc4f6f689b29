import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { Command, CommanderError } from "commander";
import { renderEnvironment } from "./offline/render";
import { EvaluationError } from "./offline/engine";
import { ConfigError, parseClusterConfig } from "../plan/config";
import { RenderTargetError, checkDiffBase, checkRenderTarget } from "./offline/renderTarget";
import { diffRenders, formatRenderDiff } from "./offline/renderDiff";
import { listEnvironments, loadStackConfig, stackNameProblem } from "./stackConfig";
import {
    ClusterJanitor, DriverDeps, LeftoverFinder, LeftoverJanitor, LeftoversError, PreflightCheck, StackFactory, StackLockedError, StageFailedError,
    UpgradeGateError, UpgradeStep, destroy, preview, printOutputs, runPreflight, up, upgrade, writeKubeconfig,
} from "./driver";
import { ApiNotReadyError, CancelledError, apiWait, waitForApiReady } from "./wait";
import {
    ClusterNotReadyError, DurationError, ValidationRequest, ValidationResult, formatValidation, notReadySummary, parseDuration,
    validateCluster, validateUntil, validationRequestFor,
} from "./validate";
import { planCluster } from "../plan/cluster";
import type { JanitorResult, Leftover } from "./janitor";
import { DisruptionError } from "./disruptionGuard";
import { UpgradeRefusedError, formatUpgradePlan, planUpgrade, upgradeBlockers } from "./upgrade";
import { LiveApiScan, RemovedApi, scanEnvironment, scanLiveApis } from "./liveApiScan";
import type { ApiCredentials } from "./validate";
import { projectRoot } from "../plan/projectRoot";

/** Exit codes (README "Exit codes"). */
export const exitCodes = {
    /** Success. */
    ok: 0,
    /** The operation or one of its stages failed (its error is printed). */
    failed: 1,
    /** Bad input: unknown command, environment or flag, an invalid configuration, an --out kaws will not write to; destroy without --yes and no terminal. */
    usage: 2,
    /** A stack is locked by another update (Pulumi ConcurrentUpdateError). */
    locked: 3,
    /** up: the API server did not answer /readyz in time. */
    apiNotReady: 4,
    /** destroy finished, but AWS resources tagged for the cluster remain (listed). */
    leftovers: 5,
    /** validate (and up, which runs it last): the cluster is not ready (the table says why). */
    clusterNotReady: 6,
    /** up: the plan would lose etcd quorum, the assets bucket, the cluster key or all control-plane capacity (listed); nothing was applied. */
    disruptive: 7,
    /** Interrupted (Ctrl-C); the running operation was cancelled cleanly. */
    cancelled: 130,
} as const;

export interface CliIo {
    readonly stdout: (text: string) => void;
    readonly stderr: (text: string) => void;
}

/** What the driver commands need from the outside world; tests replace any of it. */
export interface CliDeps {
    readonly stacks: StackFactory;
    readonly waitForApi: DriverDeps["waitForApi"];
    readonly janitor: ClusterJanitor;
    readonly sweeper: LeftoverFinder;
    /** Checks run first by `up` (automation/aws.ts preflightEnvironment); returns problems, empty when fine. */
    readonly preflight: PreflightCheck;
    readonly signal: AbortSignal;
    readonly stdinIsTTY: boolean;
    readonly prompt: (question: string) => Promise<string>;
    /** Deletes controller leftovers after destroy (automation/janitor.ts); absent (tests): destroy skips it. */
    readonly leftoverJanitor?: LeftoverJanitor;
    /** `kaws janitor`: lists (and with yes deletes) what controllers left tagged for the cluster. */
    readonly leftovers?: (clusterName: string, region: string, yes: boolean, signal: AbortSignal, onEvent: (line: string) => void) => Promise<JanitorResult>;
    /** Validates a cluster: once, or until ready within the wait; absent (tests): up does not validate. */
    readonly validate?: (request: ValidationRequest, waitMs: number, signal: AbortSignal, onProgress: (line: string) => void) => Promise<ValidationResult>;
    /** `kaws upgrade`: what the running cluster uses of `removed` (automation/liveApiScan.ts); absent (tests): not scanned, so only --plan runs. */
    readonly liveApiScan?: (credentials: ApiCredentials, to: string, removed: readonly RemovedApi[], signal: AbortSignal) => Promise<LiveApiScan>;
}

/** How long `up` waits for the cluster to validate after the add-ons stage, and how often it looks. */
export const validateWait = { timeoutMs: 10 * 60_000, intervalMs: 3_000 };

function validateNowOrUntil(request: ValidationRequest, waitMs: number, signal: AbortSignal, onProgress: (line: string) => void): Promise<ValidationResult> {
    if (waitMs <= 0) return validateCluster(request, { signal });
    return validateUntil(request, {
        timeoutMs: waitMs,
        intervalMs: validateWait.intervalMs,
        signal,
        onProgress: (attempt, elapsedMs, result) => onProgress(`not ready yet (attempt ${attempt}, ${Math.round(elapsedMs / 1000)} s): ${notReadySummary(result)}`),
    });
}


class UsageError extends Error {
    constructor(message: string, readonly command: Command) {
        super(message);
    }
}

const repoRoot = projectRoot;

function defaultDeps(root: string, signal: AbortSignal): CliDeps {
    /* eslint-disable @typescript-eslint/no-require-imports */
    return {
        stacks: require("./stacks").pulumiStacks(root),
        waitForApi: (request) => waitForApiReady({ ...request, ...apiWait }),
        janitor: require("./kube").kubernetesJanitor(),
        sweeper: require("./aws").awsSweeper(),
        preflight: (env, s) => require("./aws").preflightEnvironment(root, env, s),
        signal,
        stdinIsTTY: Boolean(process.stdin.isTTY),
        validate: validateNowOrUntil,
        liveApiScan: (credentials, to, removed, s) => scanLiveApis(credentials, to, removed, { signal: s }),
        leftoverJanitor: require("./janitor").awsLeftoverJanitor(),
        leftovers: (clusterName, region, yes, s, onEvent) => require("./janitor").janitor(clusterName, region, { yes, signal: s, onEvent }),
        prompt: (question) => new Promise((resolve) => {
            const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
            rl.question(question, (answer) => { rl.close(); resolve(answer); });
        }),
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
}

export function buildCli(io: CliIo, root = repoRoot, deps?: () => CliDeps, cwd = process.cwd()): Command {
    const program = new Command("kaws")
        .description("Build and run self-managed Kubernetes clusters on AWS, one Pulumi stack per environment.\n"
            + "Each environment has two stacks: the infra program at the repository root (Pulumi.<env>.yaml) and the add-ons program in addons/program.")
        .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
        .exitOverride()
        .showHelpAfterError()
        .addHelpText("after", "\nExit codes: 0 ok, 1 failed, 2 bad input, 3 stack locked, 4 API not ready, 5 leftovers after destroy, 6 cluster not ready, 130 interrupted.\n"
            + "Secrets are never printed (except `kaws outputs <env> --show-secrets`).");

    const environment = (command: Command, env: string): string => {
        const environments = listEnvironments(root);
        if (!environments.includes(env)) {
            const badName = fs.existsSync(path.join(root, `Pulumi.${env}.yaml`)) ? stackNameProblem(env) : undefined;
            throw new UsageError(badName ? `Pulumi.${env}.yaml: ${badName}` : `unknown environment ${JSON.stringify(env)}; accepted: ${environments.join(" | ")}`, command);
        }
        return env;
    };
    const cliDeps = (): CliDeps => (deps ? deps() : defaultDeps(root, new AbortController().signal));
    const planOf = (env: string) => planCluster(parseClusterConfig(loadStackConfig(root, env)));
    const driver = (env?: string): DriverDeps => {
        const d = cliDeps();
        const check = d.validate;
        return {
            stacks: d.stacks, stdout: io.stdout, stderr: io.stderr, signal: d.signal, waitForApi: d.waitForApi, janitor: d.janitor, sweeper: d.sweeper,
            leftoverJanitor: d.leftoverJanitor,
            validate: check && env ? (outputs, signal, onProgress) => check(validationRequestFor(planOf(env), outputs), validateWait.timeoutMs, signal, onProgress) : undefined,
        };
    };
    const envArgument = "environment: a stack with a committed Pulumi.<env>.yaml";

    program.command("render")
        .description("Evaluate the program offline (no AWS credentials, no Pulumi CLI) and write everything nodes receive, the add-on objects, plus plan.json")
        .argument("<env>", envArgument)
        .option("--out <dir>", "output folder (default: out/<env>): a new or empty folder, or one kaws rendered before (it holds .kaws-render); nothing else is ever replaced")
        .option("--diff <dir>", "compare with an earlier render in <dir>: node files, add-on objects and resources, and what replaces state or rolls nodes")
        .action(async (env: string, opts: { out?: string; diff?: string }, command: Command) => {
            environment(command, env);
            const target = checkRenderTarget(opts.out ?? path.join("out", env), cwd, root);
            const base = opts.diff === undefined ? undefined : checkDiffBase(opts.diff, cwd, target);
            const started = Date.now();
            const result = await renderEnvironment(root, env, target);
            io.stdout(`rendered ${env}: ${result.resourceCount} resources, ${result.files.length} files in ${result.outDir} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
            const c = result.cost;
            io.stdout("error" in c ? `cost: not priced: ${c.error}\n`
                : c.missingPrices ? `cost: at least ${c.currency} ${c.total.toFixed(2)} a month in ${c.region}: plan/prices/${c.region}.json has no price for ${c.missingPrices.join(", ")} (cost.json; \`kaws cost ${env}\` for the table)\n`
                : `cost: ${c.currency} ${c.total.toFixed(2)} a month in ${c.region} (cost.json; \`kaws cost ${env}\` for the table)\n`);
            io.stdout(result.readyPath);
            if (base) io.stdout(`\ndiff against ${base}:\n${formatRenderDiff(diffRenders(base, target))}`);
        });

    program.command("cost")
        .description("Price the stack from its evaluated resources (offline): instances per group, NAT, load balancers, addresses, volumes, keys, zones, logs and snapshots, with each assumption")
        .argument("<env>", envArgument)
        .option("--region <region>", "price as if in another region (default: the stack's aws:region)")
        .action(async (env: string, opts: { region?: string }, command: Command) => {
            environment(command, env);
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const cost = require("./cost") as typeof import("./cost");
            io.stdout(cost.formatCost(await cost.priceEnvironment(root, env, { region: opts.region, partial: true })));
        });

    program.command("upgrade")
        .description("Upgrade Kubernetes in waves: refuses a downgrade, a skipped minor or a target without pinned components, scans the target's add-on objects and the running cluster (requests counted by the API server, objects written through a removed version) for removed APIs, then runs the control plane, each pool in turn and the add-ons, each gated (with --plan: prints all that and changes nothing)")
        .argument("<env>", envArgument)
        .requiredOption("--to <version>", "the Kubernetes release to upgrade to (one of plan/versions.ts)")
        .option("--plan", "print the checks and the waves and change nothing")
        .option("--wait <duration>", "how long each wave's gate may wait for the cluster", "45m")
        .action(async (env: string, opts: { to: string; plan?: boolean; wait: string }, command: Command) => {
            environment(command, env);
            const gateWaitMs = parseDuration(opts.wait);
            const d = cliDeps();
            const scan = d.liveApiScan;
            const plan = await planUpgrade(root, env, opts.to, async (removed): Promise<LiveApiScan> => (scan
                ? scanEnvironment(async () => (await d.stacks.infra(env)).outputs(), (credentials) => scan(credentials, opts.to, removed, d.signal))
                : { scanned: false, reason: "no live API scan is available in this build" }));
            io.stdout(formatUpgradePlan(plan));
            const blockers = upgradeBlockers(plan, !opts.plan);
            if (blockers.length > 0) throw new Error(blockers.join("; "));
            if (opts.plan) return;
            if (plan.etcd.from !== plan.etcd.to) throw new UpgradeRefusedError([`etcd moves from ${plan.etcd.from} to ${plan.etcd.to}: upgrade it first, one member at a time (README "etcd"), then run this again`]);
            const check = d.validate;
            if (!check) throw new Error("no cluster validation is available to gate the waves");
            const current = loadStackConfig(root, env);
            const steps: UpgradeStep[] = plan.waves.map((wave, i) => {
                const before = i === 0 ? current : plan.waves[i - 1].stackConfig;
                const settings = Object.fromEntries(Object.entries(wave.stackConfig).filter(([key, value]) => before[key] !== value));
                const gatePlan = planCluster(parseClusterConfig(wave.stackConfig));
                return { name: wave.name, settings, gate: (outputs, signal, onProgress) => check(validationRequestFor(gatePlan, outputs), gateWaitMs, signal, onProgress) };
            });
            await upgrade(env, steps, driver(env));
        });

    program.command("preview")
        .description("Preview the infra stack, then the add-ons stack (fed by the infra stack's current outputs); one summary of changes per stack")
        .argument("<env>", envArgument)
        .action(async (env: string, _opts: unknown, command: Command) => {
            await preview(environment(command, env), driver());
        });

    const preflightOf = async (env: string, signal: AbortSignal) => {
        const check = (deps ? deps() : defaultDeps(root, signal)).preflight;
        await runPreflight(env, check, { stdout: io.stdout, stderr: io.stderr, signal });
    };

    program.command("preflight")
        .description("Check AWS credentials (and the account they reach) and that the region has the zones the stack asks for; changes nothing")
        .argument("<env>", envArgument)
        .action(async (env: string, _opts: unknown, command: Command) => {
            environment(command, env);
            await preflightOf(env, driver().signal);
        });

    program.command("up")
        .description("Preflight (credentials, zones) → the disruption guard (refuses losing etcd quorum, the bucket, the key or all control-plane capacity) → infra stack up → wait for the API's /readyz (checked against the cluster CA) → add-ons stack up")
        .argument("<env>", envArgument)
        .option("--skip-preflight", "do not check AWS credentials and zones first")
        .option("--allow-disruption <cluster-name>", "apply a plan that would lose etcd quorum, the assets bucket, the cluster key or all control-plane capacity; confirm by typing the cluster name")
        .action(async (env: string, opts: { skipPreflight?: boolean; allowDisruption?: string }, command: Command) => {
            environment(command, env);
            const plan = planOf(env);
            if (opts.allowDisruption !== undefined && opts.allowDisruption !== plan.clusterName) {
                throw new UsageError(`--allow-disruption "${opts.allowDisruption}": is not this environment's cluster name; accepted: ${plan.clusterName}`, command);
            }
            const d = driver(env);
            if (!opts.skipPreflight) await preflightOf(env, d.signal);
            const cluster = { clusterName: plan.clusterName, etcdMembers: plan.etcd.members.map((m) => m.name) };
            await up(env, { ...d, guard: { cluster, allowDisruption: opts.allowDisruption !== undefined } });
        });

    program.command("validate")
        .description("Check the running cluster from the infra outputs: API and etcd healthy, every pool's nodes Ready, control-plane nodes Ready and labelled, kube-system workloads available, certificates not about to expire")
        .argument("<env>", envArgument)
        .option("--wait <duration>", "keep checking until ready or the time is spent, e.g. 10m, 90s, 1h")
        .action(async (env: string, opts: { wait?: string }, command: Command) => {
            environment(command, env);
            const waitMs = opts.wait === undefined ? 0 : parseDuration(opts.wait);
            const d = cliDeps();
            const infra = await d.stacks.infra(env);
            const request = validationRequestFor(planOf(env), await infra.outputs());
            const result = await (d.validate ?? validateNowOrUntil)(request, waitMs, d.signal, (line) => io.stdout(`${line}\n`));
            io.stdout(formatValidation(result));
            if (!result.ready) throw new ClusterNotReadyError(result);
        });

    program.command("janitor")
        .description("List what in-cluster controllers left in AWS tagged for this cluster (load balancers, target groups, security groups, ENIs, volumes, snapshots); with --yes delete it, in dependency order. Never another cluster's resources or kaws's own")
        .argument("<env>", envArgument)
        .option("--yes", "delete what is listed (without it, nothing is changed)")
        .action(async (env: string, opts: { yes?: boolean }, command: Command) => {
            environment(command, env);
            const plan = planOf(env);
            const d = cliDeps();
            if (!d.leftovers) throw new Error("the janitor is not available in this build");
            const result = await d.leftovers(plan.clusterName, plan.region, Boolean(opts.yes), d.signal, (line) => io.stdout(`${line}\n`));
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const describeLeftover: (l: Leftover) => string = require("./janitor").describeLeftover;
            const kept = result.kept.map((k) => `kept ${describeLeftover(k.leftover)}: ${k.reason}`);
            for (const line of kept) io.stdout(`${line}\n`);
            if (!opts.yes) {
                io.stdout(result.found.length === 0 ? `nothing left behind for ${plan.clusterName}\n` : `${result.found.length} left behind for ${plan.clusterName}; run with --yes to delete them\n`);
                return;
            }
            io.stdout(`deleted ${result.deleted.length} of ${result.found.length}\n`);
            if (result.failed.length > 0) throw new LeftoversError(result.failed.map((f) => `${describeLeftover(f.leftover)}: ${f.reason}`));
        });

    program.command("destroy")
        .description("Delete LoadBalancer Services and PVCs (waiting for AWS), destroy the add-ons stack, then the infra stack, then list anything still tagged for the cluster. Works with an unreachable cluster.")
        .argument("<env>", envArgument)
        .option("--yes", "do not ask for confirmation (required when stdin is not a terminal)")
        .action(async (env: string, opts: { yes?: boolean }, command: Command) => {
            environment(command, env);
            const d = deps ? deps() : undefined;
            if (!opts.yes) {
                const interactive = d ? d.stdinIsTTY : Boolean(process.stdin.isTTY);
                if (!interactive) throw new UsageError("destroy deletes the whole cluster; pass --yes to confirm when stdin is not a terminal", command);
                const ask = d ? d.prompt : defaultDeps(root, new AbortController().signal).prompt;
                const answer = await ask(`This destroys environment "${env}" (both stacks, every volume and load balancer). Type "${env}" to confirm: `);
                if (answer.trim() !== env) throw new Error("destroy not confirmed; nothing was changed");
            }
            await destroy(env, driver());
        });

    program.command("kubeconfig")
        .description("Write the admin kubeconfig from the infra stack's outputs to a file readable only by you (mode 0600)")
        .argument("<env>", envArgument)
        .option("--out <file>", "where to write it (default: kubeconfig-<env> in the current folder)")
        .action(async (env: string, opts: { out?: string }, command: Command) => {
            environment(command, env);
            await writeKubeconfig(env, driver(), path.resolve(opts.out ?? `kubeconfig-${env}`));
        });

    program.command("outputs")
        .description("Print the infra stack's outputs; secret ones are shown as [secret]")
        .argument("<env>", envArgument)
        .option("--show-secrets", "print secret outputs in clear text")
        .action(async (env: string, opts: { showSecrets?: boolean }, command: Command) => {
            environment(command, env);
            await printOutputs(env, driver(), Boolean(opts.showSecrets));
        });
    return program;
}

/** The configuration problems behind an error, when it is one (evaluating the program with bad config). */
function configProblems(err: unknown): readonly string[] | undefined {
    const cause = err instanceof EvaluationError ? err.cause : err;
    return cause instanceof ConfigError ? cause.problems : undefined;
}

/** The exit code for an error a command ended with. */
export function exitCodeFor(err: unknown): number {
    const cause = err instanceof StageFailedError ? err.cause : err;
    if (cause instanceof UsageError || cause instanceof RenderTargetError || cause instanceof DurationError || configProblems(cause)) return exitCodes.usage;
    if (cause instanceof ClusterNotReadyError || cause instanceof UpgradeGateError) return exitCodes.clusterNotReady;
    if (cause instanceof StackLockedError) return exitCodes.locked;
    if (cause instanceof ApiNotReadyError) return exitCodes.apiNotReady;
    if (cause instanceof LeftoversError) return exitCodes.leftovers;
    if (cause instanceof DisruptionError) return exitCodes.disruptive;
    if (cause instanceof CancelledError) return exitCodes.cancelled;
    return exitCodes.failed;
}

/** Runs the CLI and returns its exit code; errors are reported on one line, never with a stack trace. */
export async function runCli(argv: string[], io: CliIo, root = repoRoot, deps?: () => CliDeps, cwd = process.cwd()): Promise<number> {
    const program = buildCli(io, root, deps, cwd);
    try {
        await program.parseAsync(argv, { from: "user" });
        return exitCodes.ok;
    } catch (err) {
        if (err instanceof CommanderError) {
            return err.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
        }
        if (err instanceof UsageError) {
            io.stderr(`kaws: ${err.message}\n`);
            io.stderr(err.command.helpInformation());
            return exitCodes.usage;
        }
        const problems = configProblems(err) ?? (err instanceof UpgradeRefusedError ? err.problems : undefined);
        if (problems) {
            for (const problem of problems) io.stderr(`kaws: ${problem}\n`);
            return exitCodes.usage;
        }
        const code = exitCodeFor(err);
        // A failed stage has already printed its (redacted) error and the summary table.
        const message = err instanceof StageFailedError ? `stopped: ${err.stage} ${code === exitCodes.cancelled ? "was cancelled" : "failed"}` : err instanceof Error ? err.message : String(err);
        io.stderr(`kaws: ${message}\n`);
        return code;
    }
}

/** The process entry point: Ctrl-C cancels the running operation (a second one exits at once). */
export function main(argv: string[]): void {
    const controller = new AbortController();
    process.on("SIGINT", () => {
        if (controller.signal.aborted) process.exit(exitCodes.cancelled);
        process.stderr.write("\nkaws: cancelling the running operation (Ctrl-C again to exit at once)...\n");
        controller.abort();
    });
    const io = { stdout: (t: string) => { process.stdout.write(t); }, stderr: (t: string) => { process.stderr.write(t); } };
    // Built on first use, so `render` and `cost` never load the Automation API or the AWS SDKs.
    let deps: CliDeps | undefined;
    runCli(argv, io, repoRoot, () => (deps ??= defaultDeps(repoRoot, controller.signal))).then((code) => process.exit(code));
}

if (require.main === module) {
    main(process.argv.slice(2));
}
