/**
 * Offline evaluation speed and memory: evaluates dev and prod repeatedly in one process and checks the
 * targets below. Run with `npm run bench`; exits non-zero when a target is missed.
 */
import * as path from "path";
import { evaluateStack } from "../automation/offline/engine";
import { loadStackConfig } from "../automation/stackConfig";

const root = path.resolve(__dirname, "..");
const runs = 5;
const targets = { medianSeconds: 2, peakRssMiB: 768 };

async function main(): Promise<void> {
    let failed = false;
    let peakRss = 0;
    for (const env of ["dev", "prod"]) {
        const config = loadStackConfig(root, env);
        const seconds: number[] = [];
        let resources = 0;
        for (let i = 0; i < runs; i++) {
            const started = process.hrtime.bigint();
            const evaluation = await evaluateStack({ root, stack: env, config });
            seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
            resources = evaluation.resources.length;
            peakRss = Math.max(peakRss, process.memoryUsage().rss);
        }
        seconds.sort((a, b) => a - b);
        const median = seconds[Math.floor(runs / 2)];
        const ok = median <= targets.medianSeconds;
        failed ||= !ok;
        console.log(`${env}: ${resources} resources, evaluation median ${median.toFixed(2)} s (min ${seconds[0].toFixed(2)}, max ${seconds[runs - 1].toFixed(2)}) over ${runs} runs — target <= ${targets.medianSeconds} s: ${ok ? "met" : "MISSED"}`);
    }
    const peakMiB = peakRss / 2 ** 20;
    const memoryOk = peakMiB <= targets.peakRssMiB;
    failed ||= !memoryOk;
    console.log(`peak RSS ${peakMiB.toFixed(0)} MiB — target <= ${targets.peakRssMiB} MiB: ${memoryOk ? "met" : "MISSED"}`);
    process.exit(failed ? 1 : 0);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
