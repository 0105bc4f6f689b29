import { parseUrn } from "./urn";

/**
 * The quorum guard: what `kaws up` refuses to apply without --allow-disruption. A policy pack sees the
 * planned inputs, not the engine's replacements, so this reads the steps of a preview instead.
 */

/** One step of a preview, as the engine announces it (a resource pre-event). */
export interface PlannedStep {
    /** The engine's operation: same, create, update, delete, replace, create-replacement, delete-replaced, ... */
    readonly op: string;
    readonly urn: string;
    /** The resource type token, e.g. aws:ebs/volume:Volume. */
    readonly type: string;
}

/** The stateful resources of one cluster, as the plan names them. */
export interface StatefulResources {
    readonly clusterName: string;
    /** The etcd member names (etcd-<i>), in order. */
    readonly etcdMembers: readonly string[];
}

/** The operations that remove the resource a stack holds now (a replacement removes the old one). */
const removing = new Set(["delete", "replace", "create-replacement", "delete-replaced", "discard", "discard-replaced"]);

const memberTypes = new Set(["aws:ebs/volume:Volume", "aws:ec2/networkInterface:NetworkInterface", "aws:autoscaling/group:Group"]);

/** URNs of what a plan removes (deletes, or replaces: the old resource goes). */
export function removedBy(steps: readonly PlannedStep[]): string[] {
    return [...new Set(steps.filter((s) => removing.has(s.op)).map((s) => s.urn))];
}

/**
 * Every plan that may not run unattended, one line each: it removes more etcd members' volumes, ENIs
 * or groups than quorum tolerates ((members − 1) / 2, rounded down), the assets bucket, the cluster
 * key, or the control-plane group (all its capacity at once).
 */
export function disruptionsOf(steps: readonly PlannedStep[], cluster: StatefulResources): string[] {
    const removed = steps.filter((s) => removing.has(s.op));
    const problems: string[] = [];
    const touchedMembers = new Map<string, Set<string>>();
    for (const step of removed) {
        const { types, name } = parseUrn(step.urn);
        if (memberTypes.has(step.type) && types.includes("kaws:etcd:EtcdCluster")) {
            const member = cluster.etcdMembers.find((m) => name === `${cluster.clusterName}-${m}` || name.startsWith(`${cluster.clusterName}-${m}-`));
            if (member) touchedMembers.set(member, (touchedMembers.get(member) ?? new Set()).add(name));
        } else if (step.type === "aws:s3/bucket:Bucket") {
            problems.push(`${step.op} ${name}: the assets bucket holds node files and every etcd snapshot`);
        } else if (step.type === "aws:kms/key:Key") {
            problems.push(`${step.op} ${name}: the cluster key encrypts every volume, node file and snapshot`);
        } else if (step.type === "aws:autoscaling/group:Group" && types.includes("kaws:controlplane:ControlPlane")) {
            problems.push(`${step.op} ${name}: removes all control-plane capacity at once; change the launch template instead, which rolls nodes one at a time`);
        }
    }
    const tolerated = Math.floor((cluster.etcdMembers.length - 1) / 2);
    if (touchedMembers.size > tolerated) {
        const which = [...touchedMembers].map(([m, names]) => `${m} (${[...names].sort().join(", ")})`).join("; ");
        problems.unshift(`removes or replaces ${touchedMembers.size} of ${cluster.etcdMembers.length} etcd members at once (quorum tolerates ${tolerated}): ${which}; apply it one member at a time, or for a single member restore from a snapshot (README "etcd")`);
    }
    return problems;
}

/** `kaws up` refused a plan: it would lose quorum or state. */
export class DisruptionError extends Error {
    constructor(readonly problems: readonly string[], clusterName: string) {
        super(`the plan would disrupt the cluster (${problems.length} problem(s) listed above); nothing was applied; to apply it anyway: --allow-disruption ${clusterName}`);
        this.name = "DisruptionError";
    }
}
