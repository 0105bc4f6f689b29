import { spawnSync } from "child_process";

/**
 * True when `tool` runs. When it is missing: under CI=true the test fails; elsewhere the test is
 * skipped with the reason printed.
 */
export function toolAvailable(tool: string, context: Mocha.Context, versionArgs: string[] = ["version"]): boolean {
    const probe = spawnSync(tool, tool === "kubectl" ? ["version", "--client"] : versionArgs, { timeout: 10_000, stdio: "ignore" });
    if (!probe.error) return true;
    if (process.env.CI === "true") throw new Error(`${tool} is required under CI but could not be run: ${probe.error.message}`);
    console.log(`      skipped: ${tool} is not installed (${probe.error.message})`);
    context.skip();
    return false;
}
