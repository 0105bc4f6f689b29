import * as fs from "fs";
import * as path from "path";

/**
 * Checks rendered component configs and command lines against lists extracted from the Kubernetes source
 * at the pinned tags (test/fixtures/upstream/, written by scripts/extract-upstream.ts, each with its
 * sources). Not a schema written by hand: a field or flag is valid only if upstream registers it.
 */
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "upstream", `${name}.json`), "utf8"));

export const upstream = {
    kubeletConfig: fixture("kubelet-config-v1beta1"),
    credentialProviderConfig: fixture("credential-provider-config-v1"),
    flags: {
        kubelet: fixture("kubelet-flags"),
        "kube-apiserver": fixture("kube-apiserver-flags"),
        "kube-controller-manager": fixture("kube-controller-manager-flags"),
        "kube-scheduler": fixture("kube-scheduler-flags"),
    } as Record<string, any>,
};

/** core/v1 Taint's fields, from the pinned kubernetes-models (generated from the Kubernetes 1.36.0 OpenAPI document). */
function taintFields(): string[] {
    const modelsRoot = path.dirname(require.resolve("kubernetes-models/package.json", { paths: [path.resolve(__dirname, "..")] }));
    const declaration = fs.readFileSync(path.join(modelsRoot, "v1", "Taint.d.ts"), "utf8");
    return [...new Set([...declaration.matchAll(/^\s+"(\w+)"\??:/gm)].map((m) => m[1]))];
}

/** Dotted paths of every key in a config ("a.b", "list[].c"). */
export function fieldPaths(value: unknown, prefix = ""): string[] {
    if (Array.isArray(value)) return value.flatMap((v) => fieldPaths(v, `${prefix}[]`));
    if (value === null || typeof value !== "object") return [];
    return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
        const at = prefix ? `${prefix}.${key}` : key;
        // Map-valued fields (evictionHard, kubeReserved, …) hold arbitrary keys: only the field itself is checked.
        return [at, ...(isMapField(at) ? [] : fieldPaths(v, at))];
    });
}
const mapFields = new Set(["evictionHard", "evictionSoft", "evictionSoftGracePeriod", "evictionMinimumReclaim", "kubeReserved", "systemReserved", "featureGates", "qosReserved"]);
const isMapField = (at: string) => mapFields.has(at);

const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Problems with a rendered config against the upstream field list, one line each. */
export function configProblems(which: "kubelet" | "credentialProvider", config: Record<string, unknown>): string[] {
    const list = which === "kubelet" ? upstream.kubeletConfig : upstream.credentialProviderConfig;
    const known = new Set<string>(list.fields);
    const taint = taintFields();
    const flagOnly = new Set<string>(upstream.flags.kubelet.flagOnly);
    const problems: string[] = [];
    for (const at of fieldPaths(config).filter((p) => p !== "apiVersion" && p !== "kind")) {
        const taintField = /^registerWithTaints\[\]\.(\w+)$/.exec(at);
        if (taintField ? taint.includes(taintField[1]) : known.has(at)) continue;
        const flag = kebab(at);
        problems.push(which === "kubelet" && flagOnly.has(flag)
            ? `${at}: not a ${list.root} field; --${flag} is a kubelet command-line flag (KubeletFlags), so the kubelet ignores it in the config file`
            : `${at}: not a ${list.root} field at ${list.kubernetes}`);
    }
    return problems;
}

/** `--name=value` / `--name` arguments of a command line. */
export function flagsOf(args: readonly string[]): string[] {
    return args.filter((a) => a.startsWith("--")).map((a) => a.slice(2).split("=")[0]);
}

/** Problems with a binary's flags: unknown (or removed) and deprecated ones, except those `allowed` names with its reason. */
export function flagProblems(binary: string, flags: readonly string[], allowedDeprecated: Readonly<Record<string, string>> = {}): string[] {
    const list = upstream.flags[binary];
    const known = new Set<string>(list.flags);
    const deprecated = new Set<string>(list.deprecated ?? []);
    return flags.flatMap((flag) => {
        if (!known.has(flag)) return [`${binary} --${flag}: not a flag of ${binary} at ${list.kubernetes}`];
        if (deprecated.has(flag) && !allowedDeprecated[flag]) return [`${binary} --${flag}: deprecated at ${list.kubernetes}`];
        return [];
    });
}
