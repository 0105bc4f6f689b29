import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * Runs `systemd-analyze verify` on units (name -> content) and returns the lines about them (empty when
 * clean). Executables the node installs at boot (kubelet, kaws scripts) do not exist on this host: each
 * ExecStart path that is missing here is replaced by a stub, so only the units' own syntax is judged.
 */
export function verifyUnits(units: Record<string, string>): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-units-"));
    try {
        const stub = path.join(dir, "stub");
        fs.writeFileSync(stub, "#!/bin/sh\n", { mode: 0o755 });
        const paths = Object.entries(units).map(([name, content]) => {
            const file = path.join(dir, name);
            fs.writeFileSync(file, content.replace(/^(Exec\w+=)(\/\S+)/gm, (line, key, exe) => (fs.existsSync(exe) ? line : `${key}${stub}`)));
            return file;
        });
        const run = spawnSync("systemd-analyze", ["verify", ...paths], { encoding: "utf8", timeout: 30_000 });
        const ours = `${run.stdout}${run.stderr}`.split("\n").filter((l) => l.includes(dir));
        return run.status === 0 ? ours : [`exit ${run.status}`, ...ours];
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
