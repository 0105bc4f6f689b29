import { writeFileSync } from "fs";
import { shellQuote } from "../nodes/shellScript";

/** The `KAWS_X=value` lines of a rendered script's header. */
export function headerLines(script: string): string[] {
    return script.split("\n").filter((line) => /^KAWS_[A-Z0-9_]+=/.test(line));
}

/**
 * The rendered script with some header values replaced (the body untouched): tests point a script's
 * paths at a temporary directory and run it as it is, without root.
 */
export function withHeaderValues(script: string, values: Readonly<Record<string, string>>): string {
    let result = script;
    for (const [name, value] of Object.entries(values)) {
        const line = new RegExp(`^${name}=.*$`, "m");
        if (!line.test(result)) throw new Error(`the script's header does not set ${name}`);
        result = result.replace(line, () => `${name}=${shellQuote(value)}`);
    }
    return result;
}

/**
 * Writes controlPlane/kube-admin.sh, rendered and pointed at a test CA and API server, as an executable in
 * `dir`, and returns its path: the value a control-plane script's KAWS_KUBE_ADMIN takes in a test run.
 */
export function installKubeAdmin(dir: string, values: { caCert: string; caKey: string; apiServer: string }): string {
    // Loaded here, not at the top: most users of this module test other scripts.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { renderKubeAdminScript } = require("../controlPlane/kubeAdmin") as typeof import("../controlPlane/kubeAdmin");
    const file = `${dir}/kaws-kube-admin`;
    writeFileSync(file, withHeaderValues(renderKubeAdminScript(), { KAWS_CA_CERT: values.caCert, KAWS_CA_KEY: values.caKey, KAWS_API_SERVER: values.apiServer }), { mode: 0o755 });
    return file;
}
