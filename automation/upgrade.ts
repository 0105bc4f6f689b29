import * as fs from "fs";
import * as path from "path";
import { KubeObject, addonFileName } from "../addons";
import { ClusterConfig, compareVersions, parseClusterConfig, parseVersion, skewProblem } from "../plan/config";
import { supportedReleases } from "../plan/versions";
import type { LiveApiScan, RemovedApi } from "./liveApiScan";
import { evaluateStack } from "./offline/engine";
import { addonObjectsOf } from "./offline/render";
import { StackConfig, loadStackConfig } from "./stackConfig";
import { projectRoot } from "../plan/projectRoot";

let removedApiTable: { source: string; removed: RemovedApi[] } | undefined;
/** plan/removedApis.json, read when an upgrade is planned (not at every CLI start). */
const removedApis = (): { source: string; removed: RemovedApi[] } => (removedApiTable ??= JSON.parse(fs.readFileSync(path.join(projectRoot, "plan", "removedApis.json"), "utf8")));

/** The rows of the deprecation guide's table that release `to` no longer serves. */
export const removedApisBy = (to: string): RemovedApi[] => removedApis().removed.filter((r) => compare(`${r.removedIn}.0`, to) <= 0);

/** An object that a cluster at the target version would not serve. */
export interface RemovedApiUse {
    readonly object: string;
    readonly apiVersion: string;
    readonly removedIn: string;
    readonly use: string;
}

/** One step of an upgrade, run only after the one before it passed its gate. */
export interface UpgradeWave {
    readonly name: string;
    /** What changes: the stack configuration applied with `kaws up`. */
    readonly change: string;
    /** How the nodes move. */
    readonly how: string;
    /** What must hold before the next wave starts. */
    readonly gate: string;
    /** The infra stack's configuration once this wave is applied (the add-ons wave: unchanged). */
    readonly stackConfig: StackConfig;
}

export interface UpgradePlan {
    readonly env: string;
    readonly from: string;
    readonly to: string;
    /** The etcd release moves separately, one member at a time, before the control plane. */
    readonly etcd: { readonly from: string; readonly to: string };
    readonly waves: readonly UpgradeWave[];
    /** Add-on objects the target would not serve; any stops the upgrade. */
    readonly removedApis: readonly RemovedApiUse[];
    /** What the running cluster uses that the target removes (any finding stops the upgrade), or why it was not scanned. */
    readonly live: LiveApiScan;
}

/** An upgrade kaws refuses: one line per reason. */
export class UpgradeRefusedError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(problems.join("\n"));
        this.name = "UpgradeRefusedError";
    }
}

const minorOf = (version: string) => parseVersion(version)!.slice(0, 2).join(".");
const compare = (a: string, b: string) => compareVersions(parseVersion(a)!, parseVersion(b)!);

/** Why kaws will not upgrade `config` to `to`, one line each (empty: it will). */
export function upgradeRefusals(config: ClusterConfig, to: string): string[] {
    const from = config.kubernetes.version;
    const accepted = `accepted: ${Object.keys(supportedReleases).filter((r) => compare(r, from) > 0 && parseVersion(r)![1] - parseVersion(from)![1] <= 1).join(" | ") || "none (no newer pinned release)"}`;
    if (!parseVersion(to)) return [`--to "${to}": is not a version like 1.36.4; ${accepted}`];
    const problems: string[] = [];
    if (compare(to, from) === 0) problems.push(`--to ${to}: the cluster already runs ${from}; ${accepted}`);
    if (compare(to, from) < 0) problems.push(`--to ${to}: is a downgrade from ${from}, which Kubernetes does not support; ${accepted}`);
    const [f, t] = [parseVersion(from)!, parseVersion(to)!];
    if (compare(to, from) > 0 && (t[0] !== f[0] || t[1] - f[1] > 1)) {
        problems.push(`--to ${to}: skips a minor version after ${minorOf(from)}; upgrade one minor at a time; ${accepted}`);
    }
    if (!supportedReleases[to]) problems.push(`--to ${to}: has no pinned components in plan/versions.ts; ${accepted}`);
    for (const pool of config.workerPools) {
        const skew = pool.kubernetesVersion && compare(to, from) > 0 ? skewProblem(pool.kubernetesVersion, to) : undefined;
        if (skew) problems.push(`kaws:workerPools "${pool.name}" pinned at ${pool.kubernetesVersion} ${skew.replace(/kaws:kubernetesVersion/, "the target")}; upgrade that pool first`);
    }
    return problems;
}

/** The add-on objects whose API version the target no longer serves. */
export function removedApiUses(objects: readonly KubeObject[], to: string): RemovedApiUse[] {
    return objects.flatMap((obj) => removedApisBy(to)
        .filter((r) => r.apiVersion === obj.apiVersion && r.kinds.includes(obj.kind))
        .map((r) => ({ object: addonFileName(obj).replace(/\.yaml$/, ""), apiVersion: r.apiVersion, removedIn: r.removedIn, use: r.use })));
}

/**
 * The waves: the control plane first, one node at a time, gated on /readyz and every control-plane node
 * Ready at the target; then each pool that follows the control plane, in turn; then the add-ons. Pools
 * pinned to their own kubernetesVersion stay where they are.
 */
export function upgradeWaves(config: ClusterConfig, raw: StackConfig, to: string): UpgradeWave[] {
    const from = config.kubernetes.version;
    const following = config.workerPools.filter((p) => !p.kubernetesVersion);
    const rawPools: Record<string, unknown>[] = JSON.parse(raw["kaws:workerPools"]);
    const withPools = (pinned: ReadonlySet<string>): StackConfig => ({
        ...raw,
        "kaws:kubernetesVersion": to,
        "kaws:workerPools": JSON.stringify(rawPools.map((p) => (pinned.has(String(p.name)) ? { ...p, kubernetesVersion: from } : p))),
    });
    const stillPinned = new Set(following.map((p) => p.name));
    const pinAll = following.map((p) => `workerPools "${p.name}".kubernetesVersion: ${from}`).join(", ");
    const waves: UpgradeWave[] = [{
        name: "control plane",
        change: `kaws:kubernetesVersion: ${to}${pinAll ? `, with ${pinAll} (they stay)` : ""}`,
        how: `the control-plane group (${config.controlPlane.count} node(s)) is replaced one node at a time, a new node before an old one goes`,
        gate: `/readyz ok and every control-plane node Ready at v${to}; no kubelet ever newer than an API server`,
        stackConfig: withPools(stillPinned),
    }];
    following.forEach((pool, i) => {
        stillPinned.delete(pool.name);
        waves.push({
            name: `pool ${pool.name}`,
            change: `remove workerPools "${pool.name}".kubernetesVersion (it follows ${to})`,
            how: `instance refresh of the pool's group, each node cordoned and drained first (the kaws-drain lifecycle hook)`,
            gate: `every node of the pool Ready at v${to} and its desired size reached${i === following.length - 1 ? "" : ", before the next pool"}`,
            stackConfig: withPools(new Set(stillPinned)),
        });
    });
    waves.push({
        name: "add-ons",
        change: `none: the add-ons stack follows the infra outputs (kube-proxy, CoreDNS, cloud-controller-manager, cluster-autoscaler at ${to}'s pins)`,
        how: "the add-ons stack is applied after the infra stack",
        gate: "every Deployment and DaemonSet in kube-system fully available (kaws validate)",
        stackConfig: withPools(new Set()),
    });
    return waves;
}

/**
 * `kaws upgrade <env> --to VERSION --plan`: the refusals, the removed-API scan of the target's add-ons
 * (offline) and of the running cluster (`scanLive`, given the table rows the target removes), and the waves.
 */
export async function planUpgrade(root: string, env: string, to: string, scanLive: (removed: readonly RemovedApi[]) => Promise<LiveApiScan>): Promise<UpgradePlan> {
    const raw = loadStackConfig(root, env);
    const config = parseClusterConfig(raw);
    const problems = upgradeRefusals(config, to);
    if (problems.length > 0) throw new UpgradeRefusedError(problems);
    const evaluation = await evaluateStack({ root, stack: env, config: { ...raw, "kaws:kubernetesVersion": to } });
    return {
        env,
        from: config.kubernetes.version,
        to,
        etcd: { from: supportedReleases[config.kubernetes.version]?.etcd ?? "unknown", to: supportedReleases[to].etcd },
        waves: upgradeWaves(config, raw, to),
        removedApis: removedApiUses(addonObjectsOf(evaluation), to),
        live: await scanLive(removedApisBy(to)),
    };
}

/**
 * Why the upgrade must not start, one line each (empty: it may): add-on objects or live-cluster uses of
 * APIs the target removes; and, when `applying`, a live scan that did not happen (the waves would act on
 * a cluster nobody checked).
 */
export function upgradeBlockers(plan: UpgradePlan, applying: boolean): string[] {
    const blockers: string[] = [];
    if (plan.removedApis.length > 0) blockers.push(`${plan.removedApis.length} add-on object(s) use APIs ${plan.to} no longer serves`);
    if (plan.live.scanned && plan.live.requests.length + plan.live.objects.length > 0) {
        blockers.push(`the cluster uses APIs ${plan.to} no longer serves (${plan.live.requests.length} requested API(s), ${plan.live.objects.length} object(s) written through one); migrate them (listed above), then run this again`);
    }
    if (!plan.live.scanned && applying) {
        blockers.push(`the cluster was not scanned for APIs ${plan.to} removes (${plan.live.reason}); kaws upgrades only a cluster it has scanned: fix that (\`kaws validate ${plan.env}\` checks the API), then run this again`);
    }
    return blockers;
}

function formatLiveScan(live: LiveApiScan, to: string): string[] {
    if (!live.scanned) return [`live cluster: not scanned: ${live.reason}; requests clients make and objects others created are unchecked`];
    const lines = [`live cluster (${live.endpoint}):`];
    if (live.requests.length === 0) {
        lines.push(`  requests: apiserver_requested_deprecated_apis shows none to an API ${to} no longer serves (as the API server that answered counted them since it started)`);
    } else {
        lines.push(`  requests: ${live.requests.length} API(s) ${to} no longer serves were requested (apiserver_requested_deprecated_apis, since the answering API server started); find the clients in the audit log (annotation k8s.io/deprecated) and move them:`);
        for (const r of live.requests) lines.push(`    ${r.apiVersion} ${r.resource} (removed in ${r.removedIn})`);
    }
    const served = live.stillServed.length === 0 ? "the cluster serves none of them" : `still served: ${live.stillServed.join(", ")}`;
    if (live.objects.length === 0) {
        lines.push(`  objects: none written through an API ${to} no longer serves (${served})`);
    } else {
        lines.push(`  objects: ${live.objects.length} written through an API ${to} no longer serves; migrate their managers before upgrading:`);
        for (const o of live.objects) lines.push(`    ${o.kind} ${o.object}: ${o.apiVersion} (removed in ${o.removedIn}) by ${o.manager} (${o.evidence}); use ${o.use}`);
    }
    return lines;
}

export function formatUpgradePlan(plan: UpgradePlan): string {
    const lines = [`Upgrade ${plan.env}: Kubernetes ${plan.from} → ${plan.to} (plan only; nothing changed)`, ""];
    lines.push(plan.etcd.from === plan.etcd.to
        ? `etcd: stays at ${plan.etcd.to} (no etcd upgrade needed)`
        : `etcd: ${plan.etcd.from} → ${plan.etcd.to} FIRST, one member at a time (README "etcd"), before any wave below`);
    lines.push("");
    plan.waves.forEach((w, i) => lines.push(`wave ${i + 1}: ${w.name}`, `  change: ${w.change}`, `  how:    ${w.how}`, `  gate:   ${w.gate}`));
    lines.push("");
    if (plan.removedApis.length === 0) {
        lines.push(`removed APIs: none of the rendered add-on objects uses an API ${plan.to} no longer serves (${removedApis().source})`);
    } else {
        lines.push(`removed APIs: ${plan.removedApis.length} add-on object(s) use an API ${plan.to} no longer serves; migrate them before upgrading:`);
        for (const r of plan.removedApis) lines.push(`  ${r.object}: ${r.apiVersion} (removed in ${r.removedIn}); use ${r.use}`);
    }
    lines.push("", ...formatLiveScan(plan.live, plan.to));
    return lines.join("\n") + "\n";
}
