/**
 * What a user waits for: `kaws render <env>` as a whole process (start-up, evaluation, writing) of the
 * compiled CLI that npm install builds (bin/js), for dev, prod and a large synthetic cluster (6 AZs, 7 etcd
 * members, 20 pools), several runs each, with the bare `require("@pulumi/aws")` as the reference and prod
 * from the TypeScript sources (bin/kaws's ts-node fallback) for comparison, in the same run. Run with
 * `npm run bench` (it builds first); exits non-zero when a target is missed. Peak RSS comes from GNU time
 * (`/usr/bin/time`).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";

const root = path.resolve(__dirname, "..");
const runs = 5;
/** Whole-process targets for the committed stacks (issue: render prod <= 3 s wall, <= 400 MB peak). */
const targets = { medianSeconds: 3, peakRssMiB: 400 };
const gnuTime = "/usr/bin/time";

interface Sample { seconds: number; rssMiB?: number; stdout: string; stderr: string }

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Sample {
    const timed = fs.existsSync(gnuTime);
    const options = { cwd, encoding: "utf8" as const, env: { ...process.env, ...env } };
    const started = process.hrtime.bigint();
    const result = timed ? spawnSync(gnuTime, ["-f", "KAWS_RSS_KB=%M", command, ...args], options) : spawnSync(command, args, options);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
    const rss = /KAWS_RSS_KB=(\d+)/.exec(result.stderr)?.[1];
    return { seconds, rssMiB: rss ? Number(rss) / 1024 : undefined, stdout: result.stdout, stderr: result.stderr };
}

/** `kaws render` as a user runs it; refuses to time bin/kaws's ts-node fallback as if it were the compiled CLI. */
function render(env: string, out: string, fromSource = false): Sample {
    const sample = run(path.join(root, "bin", "kaws"), ["render", env, "--out", out], root, fromSource ? { KAWS_FROM_SOURCE: "1" } : {});
    const fallback = /^kaws: .*running from the TypeScript sources.*$/m.exec(sample.stderr);
    if (!fromSource && fallback) throw new Error(`not timing the compiled CLI: ${fallback[0]}`);
    return sample;
}

/**
 * A large cluster as one more stack of this repository (the CLI renders its own checkout's stacks),
 * written for the run and removed after it, also on Ctrl-C.
 */
const largeStack = "kaws-bench-large";
function writeLargeStack(): string {
    const file = path.join(root, `Pulumi.${largeStack}.yaml`);
    const prod = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.prod.yaml"), "utf8"));
    const pools = [...Array(20).keys()].map((i) => ({
        name: `pool-${i}`, instanceTypes: ["m7i.large", "m6i.large"], minSize: 1, desiredSize: 2, maxSize: 50,
        onDemandBaseCapacity: 1, onDemandPercentageAboveBase: 25, labels: { "kaws.io/tier": `t${i % 4}` },
    }));
    const config = { ...prod.config, "kaws:clusterName": "kaws-bench-large", "kaws:azCount": 6, "kaws:etcdMembers": 7, "kaws:workerPools": pools };
    fs.writeFileSync(file, YAML.stringify({ config }));
    process.on("SIGINT", () => { fs.rmSync(file, { force: true }); process.exit(130); });
    return file;
}

function stats(samples: Sample[]) {
    const seconds = samples.map((s) => s.seconds).sort((a, b) => a - b);
    const rss = samples.map((s) => s.rssMiB).filter((r): r is number => r !== undefined);
    return {
        min: seconds[0], median: seconds[Math.floor(seconds.length / 2)], max: seconds[seconds.length - 1],
        peakRssMiB: rss.length > 0 ? Math.max(...rss) : undefined,
    };
}

const fmt = (s: ReturnType<typeof stats>) =>
    `median ${s.median.toFixed(2)} s (min ${s.min.toFixed(2)}, max ${s.max.toFixed(2)}), peak RSS ${s.peakRssMiB === undefined ? "n/a (no GNU time)" : `${s.peakRssMiB.toFixed(0)} MiB`}`;

function main(): void {
    let failed = false;
    const reference = stats([...Array(runs)].map(() => run(process.execPath, ["-e", "require('@pulumi/aws')"], root)));
    console.log(`reference: node -e "require('@pulumi/aws')": ${fmt(reference)} over ${runs} runs`);
    const large = writeLargeStack();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-bench-out-"));
    try {
        for (const [env, checked] of [["dev", true], ["prod", true], [largeStack, false]] as const) {
            const samples = [...Array(runs)].map((_, i) => render(env, path.join(out, `${env}-${i}`)));
            const resources = /(\d+) resources/.exec(samples[0].stdout)?.[1] ?? "?";
            const s = stats(samples);
            const met = s.median <= targets.medianSeconds && (s.peakRssMiB === undefined || s.peakRssMiB <= targets.peakRssMiB);
            if (checked) failed ||= !met;
            const verdict = checked ? ` — targets <= ${targets.medianSeconds} s, <= ${targets.peakRssMiB} MiB: ${met ? "met" : "MISSED"}` : " (reported, no target)";
            console.log(`kaws render ${env}: ${resources} resources, ${fmt(s)} over ${runs} runs${verdict}`);
        }
        const fromSource = stats([...Array(runs)].map((_, i) => render("prod", path.join(out, `source-${i}`), true)));
        console.log(`kaws render prod from the TypeScript sources (KAWS_FROM_SOURCE=1, ts-node transpile-only): ${fmt(fromSource)} over ${runs} runs (reported, no target)`);
    } finally {
        fs.rmSync(out, { recursive: true, force: true });
        fs.rmSync(large, { force: true });
    }
    process.exit(failed ? 1 : 0);
}

main();
