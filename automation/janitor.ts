import {
    DeleteNetworkInterfaceCommand, DeleteSecurityGroupCommand, DeleteSnapshotCommand, DeleteVolumeCommand, DescribeNetworkInterfacesCommand,
    DescribeSecurityGroupsCommand, DescribeSnapshotsCommand, DescribeSubnetsCommand, DescribeVolumesCommand, EC2Client, Filter, Tag,
} from "@aws-sdk/client-ec2";
import {
    DeleteLoadBalancerCommand as DeleteClassicLoadBalancerCommand, DescribeLoadBalancersCommand as DescribeClassicLoadBalancersCommand,
    DescribeTagsCommand as DescribeClassicTagsCommand, ElasticLoadBalancingClient,
} from "@aws-sdk/client-elastic-load-balancing";
import {
    DeleteLoadBalancerCommand, DeleteTargetGroupCommand, DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeTagsCommand,
    DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { AwsCallError, AwsOptions, AwsService, awsCall, clientConfig, quietly } from "./awsErrors";
import type { LeftoverJanitor } from "./driver";
import { CancelledError } from "./wait";

/**
 * `kaws janitor`: what in-cluster controllers (cloud-controller-manager, AWS Load Balancer Controller, EBS CSI
 * driver) leave in AWS for THIS cluster after their Kubernetes objects are gone, found by tag and, with `yes`,
 * deleted in dependency order.
 *
 * Which resources are this cluster's controller leftovers (the rule):
 *   - tagged `kubernetes.io/cluster/<name>=owned` (CCM load balancers and their `k8s-elb-…` security groups,
 *     EBS CSI volumes and snapshots: kaws runs the driver with --k8s-tag-cluster-id, so they carry it too, next to
 *     `ebs.csi.aws.com/cluster=true` and `kubernetes.io/created-for/pv/name`), or `elbv2.k8s.aws/cluster=<name>`
 *     (AWS Load Balancer Controller);
 *   - and NOT managed by kaws. kaws' own resources carry the provider's default tags (`kaws:cluster=<name>`,
 *     `managed-by=kaws`, and the cluster tag too): anything with `managed-by=kaws`, or with `kaws:cluster` plus a
 *     `kaws:role`, is the stack's and never touched here (the stack destroys it). Controllers never set
 *     `managed-by=kaws`.
 * `kubernetes.io/cluster/<name>=shared` (or any value but `owned`) means someone else owns the resource: it is
 * reported (`kept`), never deleted; so are tagged subnets. Another cluster's tags (another <name>) never match.
 *
 * Deletion order (each step waited for, every wait bounded, the AbortSignal honoured): load balancers, Classic and
 * v2 (their listeners go with them) → wait until they are gone → target groups → network interfaces (available ones;
 * an in-use one is waited for until it is detached) → security groups (a DependencyViolation, e.g. an ENI AWS has not
 * released yet, is retried with backoff, bounded) → volumes (available ones; an in-use volume is reported, not
 * deleted) → snapshots. Every AWS call goes through the translator (automation/awsErrors.ts).
 */

/** The tag every resource Kubernetes' controllers (and kaws) create for a cluster carries. */
export const clusterTag = (clusterName: string): string => `kubernetes.io/cluster/${clusterName}`;
/** The AWS Load Balancer Controller's cluster tag (value: the cluster name). */
export const elbv2ControllerTag = "elbv2.k8s.aws/cluster";
export const ebsCsiTag = "ebs.csi.aws.com/cluster";
export const pvNameTag = "kubernetes.io/created-for/pv/name";

export type LeftoverKind = "load balancer" | "listener" | "target group" | "network interface" | "security group" | "volume" | "snapshot" | "subnet";

/** One AWS resource tagged for the cluster by a controller. */
export interface Leftover {
    readonly kind: LeftoverKind;
    /** Which API it belongs to: Classic ELB, ELB v2, or EC2. */
    readonly service: "elb" | "elbv2" | "ec2";
    /** Load balancer / target group name (Classic: the only id), else the EC2 id; a listener: the last part of its ARN. */
    readonly id: string;
    /** ELB v2 resources (load balancers, listeners, target groups). */
    readonly arn?: string;
    /** EC2 group name, PV name, load balancer type..., for people. */
    readonly detail?: string;
    /** Volume state, ENI status. */
    readonly state?: string;
    /** What the resource is attached to (ENI, volume), when in use. */
    readonly attachedTo?: string;
    /** A listener's load balancer ARN. */
    readonly loadBalancerArn?: string;
    readonly ownership: "owned" | "shared";
    readonly tags: Readonly<Record<string, string>>;
}

export interface JanitorResult {
    /** This cluster's controller leftovers that `yes` deletes (or tries to), in deletion order. */
    readonly found: Leftover[];
    readonly deleted: Leftover[];
    readonly failed: { leftover: Leftover; reason: string }[];
    /** Tagged for this cluster but not deleted: shared ones, subnets, in-use volumes; each with why. */
    readonly kept: { leftover: Leftover; reason: string }[];
}

export interface JanitorOptions extends AwsOptions {
    /** Delete what was found; without it the janitor only lists (dry run). */
    readonly yes?: boolean;
    readonly signal?: AbortSignal;
    /** One line per thing found, waited for, deleted or failed, e.g. "deleted load balancer k8s-default-web-abc (elbv2)". */
    readonly onEvent?: (line: string) => void;
    /** Bound on each wait (load balancers gone, an ENI detached, a volume or snapshot gone); default 5 min. */
    readonly waitTimeoutMs?: number;
    /** Interval of those waits; default 5 s. */
    readonly pollMs?: number;
    /** Security group DependencyViolation retries: first delay (default 5 s, doubling, at most 30 s) and attempts (default 10). */
    readonly dependencyRetryDelayMs?: number;
    readonly dependencyRetryAttempts?: number;
}

const kindOrder: LeftoverKind[] = ["load balancer", "listener", "target group", "network interface", "security group", "volume", "snapshot", "subnet"];

/** "load balancer k8s-default-web-abc (elbv2)", "security group sg-0123 (k8s-elb-a1b2)", "volume vol-0123 (pv pvc-...)". */
export function describeLeftover(l: Leftover): string {
    if (l.service !== "ec2") return `${l.kind} ${l.id} (${l.service}${l.kind === "listener" && l.detail ? `, ${l.detail}` : ""})`;
    return `${l.kind} ${l.id}${l.detail ? ` (${l.detail})` : ""}`;
}

function tagMap(tags: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> {
    const map: Record<string, string> = {};
    for (const t of tags ?? []) if (t.Key !== undefined) map[t.Key] = t.Value ?? "";
    return map;
}

/** kaws' own resources: the provider's default tags (managed-by=kaws), or kaws:cluster with a kaws:role. */
export function isKawsManaged(tags: Readonly<Record<string, string>>): boolean {
    return tags["managed-by"] === "kaws" || (tags["kaws:cluster"] !== undefined && tags["kaws:role"] !== undefined);
}

/** owned: this cluster's controller made it; shared: tagged for this cluster, owned by someone else; undefined: not ours. */
export function ownershipOf(tags: Readonly<Record<string, string>>, clusterName: string): "owned" | "shared" | undefined {
    if (isKawsManaged(tags)) return undefined;
    const value = tags[clusterTag(clusterName)];
    if (value !== undefined) return value === "owned" ? "owned" : "shared";
    if (tags[elbv2ControllerTag] === clusterName) return "owned";
    return undefined;
}

const isNotFound = (err: unknown): boolean => err instanceof AwsCallError && /NotFound/i.test(err.code ?? "");
const isDependency = (err: unknown): boolean => err instanceof AwsCallError && /DependencyViolation|ResourceInUse/i.test(err.code ?? "");

function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(new CancelledError(what));
        const timer = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
        const onAbort = () => { clearTimeout(timer); reject(new CancelledError(what)); };
        signal?.addEventListener("abort", onAbort, { once: true });
    });
}

function chunks<T>(items: T[], size: number): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
}

type Sendable = { send(command: unknown, options: { abortSignal: AbortSignal }): Promise<unknown> };

/** The three clients of one janitor run, every call through awsCall (bounded, translated). */
class Clients {
    readonly ec2: EC2Client;
    readonly elb: ElasticLoadBalancingClient;
    readonly elbv2: ElasticLoadBalancingV2Client;

    constructor(readonly region: string, readonly options: JanitorOptions) {
        const config = clientConfig(region, options);
        this.ec2 = quietly(() => new EC2Client(config));
        this.elb = quietly(() => new ElasticLoadBalancingClient(config));
        this.elbv2 = quietly(() => new ElasticLoadBalancingV2Client(config));
    }

    call<T>(service: AwsService & ("ec2" | "elb" | "elbv2"), action: string, command: { input: object }): Promise<T> {
        const client = this[service] as unknown as Sendable;
        return awsCall({ service, action, region: this.region, options: this.options, signal: this.options.signal },
            (abortSignal) => client.send(command, { abortSignal }) as Promise<T>);
    }

    destroy(): void {
        this.ec2.destroy();
        this.elb.destroy();
        this.elbv2.destroy();
    }
}

type Page<K extends string, T> = { [key in K]?: T[] } & { NextToken?: string; NextMarker?: string };

async function paged<T>(fetchPage: (token?: string) => Promise<{ items?: T[]; next?: string }>): Promise<T[]> {
    const all: T[] = [];
    let token: string | undefined;
    do {
        const page = await fetchPage(token);
        all.push(...(page.items ?? []));
        token = page.next || undefined;
    } while (token);
    return all;
}

/** Everything tagged for the cluster that the janitor looks at, classified (kaws' own and other clusters' dropped). */
async function discover(aws: Clients, clusterName: string): Promise<Leftover[]> {
    const found: Leftover[] = [];
    const add = (l: Omit<Leftover, "ownership">) => {
        const ownership = ownershipOf(l.tags, clusterName);
        if (ownership) found.push({ ...l, ownership });
    };

    // Classic ELBs: DescribeLoadBalancers, then DescribeTags (at most 20 names a call).
    const classic = await paged(async (Marker) => {
        const page = await aws.call<Page<"LoadBalancerDescriptions", { LoadBalancerName?: string; Scheme?: string }>>("elb", "DescribeLoadBalancers", new DescribeClassicLoadBalancersCommand({ Marker }));
        return { items: page.LoadBalancerDescriptions, next: page.NextMarker };
    });
    for (const names of chunks(classic.map((lb) => lb.LoadBalancerName!).filter(Boolean), 20)) {
        const tags = await aws.call<{ TagDescriptions?: { LoadBalancerName?: string; Tags?: Tag[] }[] }>("elb", "DescribeTags", new DescribeClassicTagsCommand({ LoadBalancerNames: names }));
        for (const d of tags.TagDescriptions ?? []) {
            if (d.LoadBalancerName) add({ kind: "load balancer", service: "elb", id: d.LoadBalancerName, detail: "classic", tags: tagMap(d.Tags) });
        }
    }

    // ELB v2: load balancers (their listeners) and target groups, then DescribeTags (at most 20 ARNs a call).
    const v2 = await paged(async (Marker) => {
        const page = await aws.call<Page<"LoadBalancers", { LoadBalancerArn?: string; LoadBalancerName?: string; Type?: string }>>("elbv2", "DescribeLoadBalancers", new DescribeLoadBalancersCommand({ Marker }));
        return { items: page.LoadBalancers, next: page.NextMarker };
    });
    const groups = await paged(async (Marker) => {
        const page = await aws.call<Page<"TargetGroups", { TargetGroupArn?: string; TargetGroupName?: string; Protocol?: string; Port?: number }>>("elbv2", "DescribeTargetGroups", new DescribeTargetGroupsCommand({ Marker }));
        return { items: page.TargetGroups, next: page.NextMarker };
    });
    const v2Tags = new Map<string, Record<string, string>>();
    for (const arns of chunks([...v2.map((lb) => lb.LoadBalancerArn!), ...groups.map((g) => g.TargetGroupArn!)].filter(Boolean), 20)) {
        const tags = await aws.call<{ TagDescriptions?: { ResourceArn?: string; Tags?: Tag[] }[] }>("elbv2", "DescribeTags", new DescribeTagsCommand({ ResourceArns: arns }));
        for (const d of tags.TagDescriptions ?? []) if (d.ResourceArn) v2Tags.set(d.ResourceArn, tagMap(d.Tags));
    }
    for (const lb of v2) {
        const tags = v2Tags.get(lb.LoadBalancerArn!) ?? {};
        const before = found.length;
        add({ kind: "load balancer", service: "elbv2", id: lb.LoadBalancerName!, arn: lb.LoadBalancerArn, detail: lb.Type, tags });
        if (found.length === before) continue;
        const listeners = await paged(async (Marker) => {
            const page = await aws.call<Page<"Listeners", { ListenerArn?: string; Port?: number; Protocol?: string }>>("elbv2", "DescribeListeners", new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn, Marker }));
            return { items: page.Listeners, next: page.NextMarker };
        });
        for (const listener of listeners) {
            // Listeners carry no tags of their own here: they belong to (and are deleted with) their load balancer.
            found.push({
                kind: "listener", service: "elbv2", id: listener.ListenerArn!.split("/").pop()!, arn: listener.ListenerArn, loadBalancerArn: lb.LoadBalancerArn,
                detail: `${listener.Protocol ?? "?"}:${listener.Port ?? "?"} of ${lb.LoadBalancerName}`, tags, ownership: found[before].ownership,
            });
        }
    }
    for (const g of groups) {
        add({ kind: "target group", service: "elbv2", id: g.TargetGroupName!, arn: g.TargetGroupArn, detail: `${g.Protocol ?? "?"}:${g.Port ?? "?"}`, tags: v2Tags.get(g.TargetGroupArn!) ?? {} });
    }

    // EC2: only resources that carry the cluster tag (filtered by AWS, checked again here); security groups also
    // the AWS Load Balancer Controller's tag (its managed groups). One call per key, merged by id: AWS ORs the
    // values of one filter, but moto 5.2 matches only the first value for some resources, and it costs one call.
    const byKey = async <T>(list: (filters: Filter[]) => Promise<T[]>, id: (item: T) => string | undefined, keys = [clusterTag(clusterName)]): Promise<T[]> => {
        const merged = new Map<string, T>();
        for (const key of keys) {
            for (const item of await list([{ Name: "tag-key", Values: [key] }])) merged.set(id(item) ?? "", item);
        }
        return [...merged.values()];
    };
    const enis = await byKey((filters) => paged(async (NextToken) => {
        const page = await aws.call<Page<"NetworkInterfaces", { NetworkInterfaceId?: string; Status?: string; Description?: string; TagSet?: Tag[]; Attachment?: { InstanceId?: string; AttachmentId?: string } }>>("ec2", "DescribeNetworkInterfaces", new DescribeNetworkInterfacesCommand({ Filters: filters, NextToken }));
        return { items: page.NetworkInterfaces, next: page.NextToken };
    }), (x) => x.NetworkInterfaceId);
    for (const eni of enis) {
        add({ kind: "network interface", service: "ec2", id: eni.NetworkInterfaceId!, state: eni.Status, detail: eni.Description || undefined, attachedTo: eni.Attachment?.InstanceId ?? eni.Attachment?.AttachmentId, tags: tagMap(eni.TagSet) });
    }
    const sgs = await byKey((filters) => paged(async (NextToken) => {
        const page = await aws.call<Page<"SecurityGroups", { GroupId?: string; GroupName?: string; Tags?: Tag[] }>>("ec2", "DescribeSecurityGroups", new DescribeSecurityGroupsCommand({ Filters: filters, NextToken }));
        return { items: page.SecurityGroups, next: page.NextToken };
    }), (x) => x.GroupId, [clusterTag(clusterName), elbv2ControllerTag]);
    for (const sg of sgs) {
        if (sg.GroupName === "default") continue; // a VPC's default group cannot be deleted; it goes with its VPC
        add({ kind: "security group", service: "ec2", id: sg.GroupId!, detail: sg.GroupName, tags: tagMap(sg.Tags) });
    }
    const volumes = await byKey((filters) => paged(async (NextToken) => {
        const page = await aws.call<Page<"Volumes", { VolumeId?: string; State?: string; Tags?: Tag[]; Attachments?: { InstanceId?: string }[] }>>("ec2", "DescribeVolumes", new DescribeVolumesCommand({ Filters: filters, NextToken }));
        return { items: page.Volumes, next: page.NextToken };
    }), (x) => x.VolumeId);
    for (const v of volumes) {
        const tags = tagMap(v.Tags);
        add({ kind: "volume", service: "ec2", id: v.VolumeId!, state: v.State, detail: tags[pvNameTag] ? `pv ${tags[pvNameTag]}` : undefined, attachedTo: v.Attachments?.[0]?.InstanceId, tags });
    }
    const snapshots = await byKey((filters) => paged(async (NextToken) => {
        const page = await aws.call<Page<"Snapshots", { SnapshotId?: string; State?: string; VolumeId?: string; Tags?: Tag[] }>>("ec2", "DescribeSnapshots", new DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters: filters, NextToken }));
        return { items: page.Snapshots, next: page.NextToken };
    }), (x) => x.SnapshotId);
    for (const s of snapshots) {
        add({ kind: "snapshot", service: "ec2", id: s.SnapshotId!, state: s.State, detail: s.VolumeId ? `of ${s.VolumeId}` : undefined, tags: tagMap(s.Tags) });
    }
    const subnets = await byKey((filters) => paged(async (NextToken) => {
        const page = await aws.call<Page<"Subnets", { SubnetId?: string; CidrBlock?: string; Tags?: Tag[] }>>("ec2", "DescribeSubnets", new DescribeSubnetsCommand({ Filters: filters, NextToken }));
        return { items: page.Subnets, next: page.NextToken };
    }), (x) => x.SubnetId);
    for (const s of subnets) add({ kind: "subnet", service: "ec2", id: s.SubnetId!, detail: s.CidrBlock, tags: tagMap(s.Tags) });

    return found.sort((a, b) => kindOrder.indexOf(a.kind) - kindOrder.indexOf(b.kind) || (a.service === b.service ? 0 : a.service === "elb" ? -1 : 1) || a.id.localeCompare(b.id));
}

/** Why a tagged leftover is reported but not deleted; undefined when it is to be deleted. */
function keptBecause(l: Leftover, clusterName: string): string | undefined {
    if (l.ownership === "shared") return `shared: ${clusterTag(clusterName)}=${l.tags[clusterTag(clusterName)]}, someone else owns it; not deleted`;
    if (l.kind === "subnet") return "a subnet is no controller leftover; not deleted";
    if (l.kind === "volume" && l.state !== "available") return `volume is ${l.state ?? "in an unknown state"}${l.attachedTo ? ` (attached to ${l.attachedTo})` : ""}; only available volumes are deleted`;
    return undefined;
}

/**
 * Finds this cluster's controller leftovers in `region` and, with `yes`, deletes them in dependency order.
 * Throws AwsCallError when it cannot list (credentials, access, network) and CancelledError when `signal` aborts;
 * a resource that cannot be deleted is recorded in `failed` and the run goes on.
 */
export async function janitor(clusterName: string, region: string, options: JanitorOptions = {}): Promise<JanitorResult> {
    const say = options.onEvent ?? (() => undefined);
    const signal = options.signal;
    const waitTimeoutMs = options.waitTimeoutMs ?? 5 * 60_000;
    const pollMs = options.pollMs ?? 5_000;
    const aws = new Clients(region, options);
    const deleted: Leftover[] = [];
    const failed: { leftover: Leftover; reason: string }[] = [];
    const kept: { leftover: Leftover; reason: string }[] = [];
    const fail = (leftover: Leftover, reason: string) => { failed.push({ leftover, reason }); say(`FAILED to delete ${describeLeftover(leftover)}: ${reason}`); };
    const done = (leftover: Leftover, note = "") => { deleted.push(leftover); say(`deleted ${describeLeftover(leftover)}${note}`); };

    /** Polls until `ready` says true (or a reason string for the progress line); bounded by waitTimeoutMs. */
    const waitFor = async (what: string, ready: () => Promise<true | string>): Promise<string | undefined> => {
        const deadline = Date.now() + waitTimeoutMs;
        let said = false;
        for (;;) {
            if (signal?.aborted) throw new CancelledError(`waiting for ${what}`);
            const state = await ready();
            if (state === true) return undefined;
            if (Date.now() + pollMs > deadline) return `still ${state} after ${(waitTimeoutMs / 1000).toFixed(1)} s`;
            if (!said) { say(`waiting for ${what} (${state})`); said = true; }
            await sleep(pollMs, signal, `waiting for ${what}`);
        }
    };
    /** Runs one delete; a NotFound answer means it is already gone. False (recorded in failed) when it failed. */
    const tryDelete = async (leftover: Leftover, run: () => Promise<unknown>): Promise<boolean> => {
        try {
            await run();
            return true;
        } catch (err) {
            if (isNotFound(err)) return true;
            if (err instanceof AwsCallError) { fail(leftover, err.message); return false; }
            throw err;
        }
    };
    const exists = async (call: () => Promise<unknown[] | undefined>): Promise<boolean> => {
        try {
            return ((await call()) ?? []).length > 0;
        } catch (err) {
            if (isNotFound(err)) return false;
            throw err;
        }
    };

    try {
        const all = await discover(aws, clusterName);
        const found: Leftover[] = [];
        for (const l of all) {
            const why = keptBecause(l, clusterName);
            if (why) { kept.push({ leftover: l, reason: why }); say(`kept ${describeLeftover(l)}: ${why}`); } else found.push(l);
        }
        if (!options.yes) {
            for (const l of found) say(`would delete ${describeLeftover(l)}`);
            return { found, deleted, failed, kept };
        }
        const of = (kind: LeftoverKind) => found.filter((l) => l.kind === kind);

        // 1. Load balancers, Classic and v2; listeners go with them. Then wait until they are gone.
        const deleting: Leftover[] = [];
        for (const lb of of("load balancer")) {
            if (signal?.aborted) throw new CancelledError("janitor");
            const ok = lb.service === "elb"
                ? await tryDelete(lb, () => aws.call("elb", "DeleteLoadBalancer", new DeleteClassicLoadBalancerCommand({ LoadBalancerName: lb.id })))
                : await tryDelete(lb, () => aws.call("elbv2", "DeleteLoadBalancer", new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.arn })));
            if (ok) deleting.push(lb);
        }
        for (const lb of deleting) {
            const gone = () => lb.service === "elb"
                ? exists(async () => (await aws.call<{ LoadBalancerDescriptions?: unknown[] }>("elb", "DescribeLoadBalancers", new DescribeClassicLoadBalancersCommand({ LoadBalancerNames: [lb.id] }))).LoadBalancerDescriptions)
                : exists(async () => (await aws.call<{ LoadBalancers?: unknown[] }>("elbv2", "DescribeLoadBalancers", new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.arn!] }))).LoadBalancers);
            const late = await waitFor(describeLeftover(lb), async () => ((await gone()) ? "being deleted" : true));
            if (late) { fail(lb, late); continue; }
            done(lb);
            for (const listener of of("listener").filter((l) => l.loadBalancerArn === lb.arn)) done(listener, " with its load balancer");
        }
        for (const listener of of("listener").filter((l) => !deleted.includes(l))) fail(listener, "its load balancer was not deleted");

        // 2. Target groups (a listener still using one answers ResourceInUse: its load balancer was not deleted).
        for (const tg of of("target group")) {
            if (signal?.aborted) throw new CancelledError("janitor");
            if (await tryDelete(tg, () => aws.call("elbv2", "DeleteTargetGroup", new DeleteTargetGroupCommand({ TargetGroupArn: tg.arn })))) done(tg);
        }

        // 3. Network interfaces: available ones now; an in-use one once it is detached (bounded wait).
        for (const eni of of("network interface")) {
            if (eni.state !== "available") {
                say(`${describeLeftover(eni)} is ${eni.state ?? "in use"}${eni.attachedTo ? ` (attached to ${eni.attachedTo})` : ""}`);
                const late = await waitFor(`${describeLeftover(eni)} to be detached`, async () => {
                    let status: string | undefined;
                    const present = await exists(async () => {
                        const out = await aws.call<{ NetworkInterfaces?: { Status?: string }[] }>("ec2", "DescribeNetworkInterfaces", new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni.id] }));
                        status = out.NetworkInterfaces?.[0]?.Status;
                        return out.NetworkInterfaces;
                    });
                    return !present || status === "available" ? true : status ?? "in use";
                });
                if (late) { fail(eni, `not detached: ${late}`); continue; }
            }
            if (await tryDelete(eni, () => aws.call("ec2", "DeleteNetworkInterface", new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.id })))) done(eni);
        }

        // 4. Security groups: DependencyViolation (something still uses the group) retried with backoff, bounded.
        const firstDelay = options.dependencyRetryDelayMs ?? 5_000;
        const attempts = Math.max(1, options.dependencyRetryAttempts ?? 10);
        for (const sg of of("security group")) {
            let delay = firstDelay;
            for (let attempt = 1; ; attempt++) {
                if (signal?.aborted) throw new CancelledError("janitor");
                try {
                    await aws.call("ec2", "DeleteSecurityGroup", new DeleteSecurityGroupCommand({ GroupId: sg.id }));
                    done(sg);
                    break;
                } catch (err) {
                    if (isNotFound(err)) { done(sg); break; }
                    if (!(err instanceof AwsCallError)) throw err;
                    if (!isDependency(err) || attempt >= attempts) {
                        fail(sg, isDependency(err) ? `still in use after ${attempts} attempts: ${err.message}` : err.message);
                        break;
                    }
                    say(`${describeLeftover(sg)} is still in use (${err.code}); retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${attempts})`);
                    await sleep(delay, signal, `deleting ${describeLeftover(sg)}`);
                    delay = Math.min(delay * 2, Math.max(firstDelay, 30_000));
                }
            }
        }

        // 5. Volumes (available only: in-use ones were kept above), each waited for until gone.
        // 6. Snapshots, each waited for until gone.
        for (const kind of ["volume", "snapshot"] as const) {
            for (const item of of(kind)) {
                if (signal?.aborted) throw new CancelledError("janitor");
                const ok = kind === "volume"
                    ? await tryDelete(item, () => aws.call("ec2", "DeleteVolume", new DeleteVolumeCommand({ VolumeId: item.id })))
                    : await tryDelete(item, () => aws.call("ec2", "DeleteSnapshot", new DeleteSnapshotCommand({ SnapshotId: item.id })));
                if (!ok) continue;
                const late = await waitFor(describeLeftover(item), async () => {
                    let state: string | undefined;
                    const present = await exists(async () => {
                        if (kind === "volume") {
                            const out = await aws.call<{ Volumes?: { State?: string }[] }>("ec2", "DescribeVolumes", new DescribeVolumesCommand({ VolumeIds: [item.id] }));
                            state = out.Volumes?.[0]?.State;
                            return out.Volumes;
                        }
                        const out = await aws.call<{ Snapshots?: { State?: string }[] }>("ec2", "DescribeSnapshots", new DescribeSnapshotsCommand({ SnapshotIds: [item.id] }));
                        state = out.Snapshots?.[0]?.State;
                        return out.Snapshots;
                    });
                    return !present || state === "deleted" ? true : state ?? "being deleted";
                });
                if (late) fail(item, late);
                else done(item);
            }
        }
        return { found, deleted, failed, kept };
    } finally {
        aws.destroy();
    }
}

/** The janitor `kaws destroy` runs after the infra stack is gone (destroy was confirmed: yes). */
export function awsLeftoverJanitor(options: Omit<JanitorOptions, "yes" | "signal" | "onEvent"> = {}): LeftoverJanitor {
    return { removeLeftovers: (clusterName, region, signal, onEvent) => janitor(clusterName, region, { ...options, yes: true, signal, onEvent }) };
}
