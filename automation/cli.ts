import * as path from "path";
import { Command, CommanderError } from "commander";
import { renderEnvironment } from "./render";

/** Exit codes: 0 success, 1 the operation failed, 2 bad usage (unknown command, environment or flag). */
export const exitCodes = { ok: 0, failed: 1, usage: 2 } as const;

export interface CliIo {
    readonly stdout: (text: string) => void;
    readonly stderr: (text: string) => void;
}

const repoRoot = path.resolve(__dirname, "..");

export function buildCli(io: CliIo, root = repoRoot): Command {
    const program = new Command("kaws")
        .description("Build and run self-managed Kubernetes clusters on AWS, one Pulumi stack per environment.")
        .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
        .exitOverride()
        .showHelpAfterError();

    program.command("render")
        .description("Evaluate the program offline (no AWS credentials, no Pulumi CLI) and write everything nodes receive, plus plan.json")
        .argument("<env>", "environment: a stack with a committed Pulumi.<env>.yaml")
        .option("--out <dir>", "output folder (default: out/<env>)")
        .action(async (env: string, opts: { out?: string }) => {
            const started = Date.now();
            const result = await renderEnvironment(root, env, path.resolve(opts.out ?? path.join("out", env)));
            io.stdout(`rendered ${env}: ${result.resourceCount} resources, ${result.files.length} files in ${result.outDir} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
        });
    return program;
}

/** Runs the CLI and returns its exit code; errors are reported on one line, never with a stack trace. */
export async function runCli(argv: string[], io: CliIo, root = repoRoot): Promise<number> {
    const program = buildCli(io, root);
    try {
        await program.parseAsync(argv, { from: "user" });
        return exitCodes.ok;
    } catch (err) {
        if (err instanceof CommanderError) {
            return err.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
        }
        const message = err instanceof Error ? err.message : String(err);
        io.stderr(`kaws: ${message}\n`);
        return /^unknown environment/.test(message) ? exitCodes.usage : exitCodes.failed;
    }
}

if (require.main === module) {
    runCli(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) })
        .then((code) => process.exit(code));
}
