import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { Evaluation, RecordedResource } from "./offline/engine";
import { computedAttributes } from "./offline/placeholders";
import { kubeletPaths } from "../nodes/kubelet";
import { controlPlanePaths } from "../controlPlane/render";
import { apiRecordPaths } from "../controlPlane/apiRecord";
import { podNetworkDaemonSet } from "../plan/cluster";
import { projectRoot } from "../plan/projectRoot";
import { unwrapSecret } from "./offline/secrets";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { loadTypeScriptCompilerOptions } = require("@pulumi/pulumi/tsutils");

/** One figure of plan/latencies.json: seconds, with what it covers and where it comes from. */
export interface Latency {
    readonly min: number;
    readonly typical: number;
    readonly tail: number;
    readonly note: string;
    readonly sources: readonly string[];
}

export interface Latencies {
    readonly compiled: string;
    /** What a resource type without a figure is assumed to take (each such type is reported). */
    readonly default: Latency;
    /** By Pulumi type token; "local" covers tls:* and random:*, "<type>+mapPublicIpOnLaunch" a public subnet. */
    readonly resources: Readonly<Record<string, Latency>>;
    /** Node boot phases and the driver's own steps. */
    readonly phases: Readonly<Record<string, Latency>>;
}

export type Scenario = "min" | "typical" | "tail";

/** What `kaws up` does around the Pulumi graph (automation/driver.ts up). */
export interface DriverFacts {
    /** Seconds between /readyz polls (automation/wait.ts apiWait). */
    readonly apiPollIntervalSeconds: number;
    /** Pulumi runs the programs transpile-only (no type check). */
    readonly transpileOnly: boolean;
}

export interface PathStep {
    /** URN of the resource, or "runtime:<what>" for a step that is not a Pulumi resource. */
    readonly resource: string;
    readonly type: string;
    readonly name: string;
    readonly startSeconds: number;
    readonly durationSeconds: number;
    readonly why: string;
}

export interface ReadyPath {
    /** Modeled seconds from `kaws up` to every Kubernetes node Ready, with the typical figures. */
    readonly totalSeconds: number;
    readonly minSeconds: number;
    readonly tailSeconds: number;
    /** The critical path with the typical figures, from `up` to the last node Ready. */
    readonly path: PathStep[];
    /** The longest steps of the path (10 s or more), longest first. */
    readonly longPoles: PathStep[];
    /** Resource types that had no figure and took the default (never silently zero). */
    readonly defaultedTypes: string[];
    /** Runtime waits the scripts must survive: a node reaching for something before it exists. */
    readonly hazards: string[];
    readonly latenciesCompiled: string;
}

export class ReadyPathError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ReadyPathError";
    }
}

export const latenciesFile = path.join(projectRoot, "plan", "latencies.json");

export function loadLatencies(file = latenciesFile): Latencies {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Latencies;
}

/**
 * Does Pulumi run this project's program transpile-only? As its Node.js language host decides
 * (sdk/nodejs/cmd/run/run.ts): PULUMI_NODEJS_TRANSPILE_ONLY in the program's environment, else noCheck in
 * the tsconfig Pulumi.yaml's runtime options name (tsconfig.json when none), read with the SDK's own reader.
 */
export function pulumiTranspilesOnly(root: string, env: Readonly<Record<string, string | undefined>>): boolean {
    if (env.PULUMI_NODEJS_TRANSPILE_ONLY) return env.PULUMI_NODEJS_TRANSPILE_ONLY === "true";
    const projectFile = path.join(root, "Pulumi.yaml");
    const project = fs.existsSync(projectFile) ? YAML.parse(fs.readFileSync(projectFile, "utf8")) : undefined;
    const tsconfig: string = project?.runtime?.options?.tsconfig ?? "tsconfig.json";
    return loadTypeScriptCompilerOptions(path.join(root, tsconfig)).noCheck === true;
}

// ---- The graph: steps with a duration that start when their dependencies have finished ----

interface Step {
    readonly id: string;
    readonly type: string;
    readonly name: string;
    readonly duration: number;
    readonly deps: readonly string[];
    readonly why: string;
    /** Starts when this many of `deps` have finished (an etcd quorum), instead of all of them. */
    readonly quorum?: number;
}

class Graph {
    readonly steps = new Map<string, Step>();
    readonly defaulted = new Set<string>();
    readonly hazards: string[] = [];
    /** Downloads that wait for a route: checked against the schedule for hazards. */
    readonly routeWaits: { role: string; what: string; after: string; route: string; hosts: string[] }[] = [];

    constructor(readonly latencies: Latencies, readonly scenario: Scenario) {}

    figure(kind: "resources" | "phases", key: string): { seconds: number; note: string; defaulted: boolean } {
        const entry = this.latencies[kind][key];
        if (entry) return { seconds: entry[this.scenario], note: entry.note, defaulted: false };
        if (kind === "phases") throw new ReadyPathError(`plan/latencies.json has no phase "${key}"; accepted: ${Object.keys(this.latencies.phases).join(", ")}`);
        this.defaulted.add(key);
        return { seconds: this.latencies.default[this.scenario], note: `no figure for ${key}: default`, defaulted: true };
    }

    phase(key: string): number {
        return this.figure("phases", key).seconds;
    }

    add(step: Step): string {
        if (this.steps.has(step.id)) throw new ReadyPathError(`step ${step.id} is added twice`);
        this.steps.set(step.id, step);
        return step.id;
    }

    /** A step several groups share (a subnet's routes): added once. */
    shared(step: Step): string {
        return this.steps.has(step.id) ? step.id : this.add(step);
    }

    /** Start and finish of every step; a dependency cycle or an unknown dependency is an error. */
    schedule(): Map<string, { start: number; finish: number; via?: string }> {
        const times = new Map<string, { start: number; finish: number; via?: string }>();
        const visiting = new Set<string>();
        const visit = (id: string): number => {
            const known = times.get(id);
            if (known) return known.finish;
            const step = this.steps.get(id);
            if (!step) throw new ReadyPathError(`unknown step ${id}`);
            if (visiting.has(id)) throw new ReadyPathError(`dependency cycle through ${id}`);
            visiting.add(id);
            const finished = step.deps.map((dep) => ({ dep, finish: visit(dep) })).sort((a, b) => a.finish - b.finish);
            const gate = step.quorum !== undefined ? finished[Math.min(step.quorum, finished.length) - 1] : finished[finished.length - 1];
            const start = gate?.finish ?? 0;
            times.set(id, { start, finish: start + step.duration, via: gate?.dep });
            visiting.delete(id);
            return start + step.duration;
        };
        for (const id of this.steps.keys()) visit(id);
        return times;
    }
}

// ---- Reading the evaluated program ----

const asg = "aws:autoscaling/group:Group";
const launchTemplate = "aws:ec2/launchTemplate:LaunchTemplate";
const urnOfProvider = (ref: string) => ref.slice(0, ref.lastIndexOf("::"));

class Program {
    readonly byUrn: Map<string, RecordedResource>;
    readonly children = new Map<string, RecordedResource[]>();

    constructor(readonly evaluation: Evaluation) {
        this.byUrn = new Map(evaluation.resources.map((r) => [r.urn, r]));
        for (const r of evaluation.resources) {
            if (r.parent) this.children.set(r.parent, [...(this.children.get(r.parent) ?? []), r]);
        }
    }

    ofType(type: string): RecordedResource[] {
        return this.evaluation.resources.filter((r) => r.type === type);
    }

    ancestors(r: RecordedResource): RecordedResource[] {
        const out: RecordedResource[] = [];
        for (let p = r.parent && this.byUrn.get(r.parent); p; p = p.parent ? this.byUrn.get(p.parent) : undefined) out.push(p);
        return out;
    }

    /** Direct dependencies of a resource, of one type. */
    depsOfType(r: RecordedResource, type: string): RecordedResource[] {
        return (r.dependencies ?? []).map((urn) => this.byUrn.get(urn)).filter((d): d is RecordedResource => d?.type === type);
    }

    /** Resources that depend directly on `r`, of one type. */
    dependentsOfType(r: RecordedResource, type: string): RecordedResource[] {
        return this.ofType(type).filter((d) => (d.dependencies ?? []).includes(r.urn));
    }

    /** A node file's content: the bucket object nodes/<role><path>. */
    nodeFile(role: string, nodePath: string): string | undefined {
        const object = this.ofType("aws:s3/bucketObjectv2:BucketObjectv2").find((o) => o.inputs.key === `nodes/${role}${nodePath}`);
        return object === undefined ? undefined : String(unwrapSecret(object.inputs.content));
    }

    region(): string {
        return this.ofType("pulumi:providers:aws")[0]?.inputs.region ?? "placeholder-region-1";
    }
}

/** The id of a resource's step: components finish when all their descendants have. */
const stepOf = (urn: string) => urn;
const componentDone = (urn: string) => `done:${urn}`;

/** Every recorded resource as a step: custom ones take their type's figure, components nothing. */
function addResources(graph: Graph, program: Program): void {
    for (const r of program.evaluation.resources) {
        const ancestors = program.ancestors(r);
        const ancestorUrns = new Set(ancestors.map((a) => a.urn));
        // A resource waits for what it and its ancestors depend on (Pulumi passes a component's dependsOn to its children).
        const deps = new Set<string>();
        for (const owner of [r, ...ancestors]) {
            for (const urn of owner.dependencies ?? []) {
                const dep = program.byUrn.get(urn);
                if (!dep || ancestorUrns.has(urn) || urn === r.urn) continue;
                deps.add(dep.custom ? stepOf(urn) : componentDone(urn));
            }
        }
        if (r.provider) deps.add(stepOf(urnOfProvider(r.provider)));
        deps.add("runtime:infra-program");
        if (!r.custom) {
            graph.add({ id: stepOf(r.urn), type: r.type, name: r.name, duration: 0, deps: [...deps], why: "component resource: takes no time, passes its dependencies on" });
            const descendants: string[] = [];
            const walk = (u: string) => {
                for (const child of program.children.get(u) ?? []) {
                    descendants.push(stepOf(child.urn));
                    walk(child.urn);
                }
            };
            walk(r.urn);
            graph.add({ id: componentDone(r.urn), type: r.type, name: r.name, duration: 0, deps: [stepOf(r.urn), ...descendants], why: "component done: all its children created" });
            continue;
        }
        const key = /^(tls|random):/.test(r.type) ? "local"
            : r.type === "aws:ec2/subnet:Subnet" && r.inputs.mapPublicIpOnLaunch === true ? `${r.type}+mapPublicIpOnLaunch` : r.type;
        const figure = graph.figure("resources", key);
        graph.add({ id: stepOf(r.urn), type: r.type, name: r.name, duration: figure.seconds, deps: [...deps], why: figure.note || "created" });
    }
}

/** Is a URL's host reached over the internet (not an AWS endpoint, the instance metadata or a local address)? */
function internetHosts(script: string): string[] {
    const hosts = [...script.matchAll(/https:\/\/([A-Za-z0-9.-]+)/g)].map((m) => m[1])
        .filter((host) => !/(^|\.)amazonaws\.com$|^169\.254\.|^127\.|^localhost$/.test(host) && host.includes("."));
    return [...new Set(hosts)];
}

interface NodeGroupFacts {
    readonly group: RecordedResource;
    readonly role: string;
    readonly userData: string;
    readonly waitsForCapacity: boolean;
}

function nodeGroups(program: Program): NodeGroupFacts[] {
    return program.ofType(asg).map((group) => {
        const template = program.depsOfType(group, launchTemplate)[0];
        const role = template?.inputs.tags?.["kaws:role"] ?? template?.inputs.tagSpecifications?.[0]?.tags?.["kaws:role"] ?? group.name;
        const userData = template?.inputs.userData ? Buffer.from(String(template.inputs.userData), "base64").toString("utf8") : "";
        return { group, role, userData, waitsForCapacity: group.inputs.waitForCapacityTimeout !== "0" };
    });
}

/**
 * When the group's instances reach the internet, and S3: the routes of the route tables of the subnets it
 * launches in. Internet: a 0.0.0.0/0 route (inline in the table or its own Route) through a NAT gateway or
 * instance. S3: a gateway endpoint on the table, or else the internet route.
 */
function subnetReach(graph: Graph, program: Program, group: RecordedResource): { internet: string | undefined; s3: string | undefined } {
    const subnets = program.depsOfType(group, "aws:ec2/subnet:Subnet");
    const internet: string[] = [];
    const s3: string[] = [];
    let noInternet = false;
    let noS3 = false;
    for (const subnet of subnets) {
        const association = program.dependentsOfType(subnet, "aws:ec2/routeTableAssociation:RouteTableAssociation")[0];
        const table = association && program.depsOfType(association, "aws:ec2/routeTable:RouteTable")[0];
        if (!association || !table) { noInternet = noS3 = true; continue; }
        const egress = (route: any) => (route?.cidrBlock ?? route?.destinationCidrBlock) === "0.0.0.0/0" && (route.natGatewayId || route.networkInterfaceId || route.gatewayId);
        const inline = (table.inputs.routes ?? []).some(egress);
        const routes = program.dependentsOfType(table, "aws:ec2/route:Route").filter((r) => egress(r.inputs));
        const egressSteps = inline ? [stepOf(table.urn)] : routes.flatMap((r) => [stepOf(r.urn), ...natInstanceForwarding(graph, program, r)]);
        if (egressSteps.length === 0) noInternet = true;
        const internetReady = graph.shared({
            id: `runtime:internet:${subnet.name}`, type: "runtime", name: `internet from ${subnet.name}`, duration: 0,
            deps: [stepOf(association.urn), ...egressSteps],
            why: inline ? `the private route table ${table.name} carries the 0.0.0.0/0 route itself` : `route ${routes.map((r) => r.name).join(", ")} to the internet`,
        });
        if (egressSteps.length > 0) internet.push(internetReady);
        const endpoints = program.ofType("aws:ec2/vpcEndpoint:VpcEndpoint").filter((e) => /\.s3$/.test(String(e.inputs.serviceName)))
            .filter((e) => (e.dependencies ?? []).includes(table.urn) || program.ofType("aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation")
                .some((a) => (a.dependencies ?? []).includes(table.urn) && (a.dependencies ?? []).includes(e.urn)));
        if (endpoints.length > 0) {
            const viaEndpoint = [stepOf(association.urn), ...endpoints.map((e) => stepOf(e.urn)),
                ...program.ofType("aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation").filter((a) => (a.dependencies ?? []).includes(table.urn)).map((a) => stepOf(a.urn))];
            s3.push(graph.shared({
                id: `runtime:s3:${subnet.name}`, type: "runtime", name: `S3 from ${subnet.name}`, duration: 0, deps: viaEndpoint,
                why: `S3 through the gateway endpoint ${endpoints.map((e) => e.name).join(", ")} on ${table.name}`,
            }));
        } else if (egressSteps.length > 0) {
            s3.push(internetReady);
        } else {
            noS3 = true;
        }
    }
    const all = (ids: string[], what: string) => ids.length === 0 ? undefined
        : graph.add({ id: `runtime:${what}:${group.name}`, type: "runtime", name: `${what} from every subnet of ${group.name}`, duration: 0, deps: ids, why: `an instance may land in any of the group's subnets` });
    return { internet: noInternet ? undefined : all(internet, "internet"), s3: noS3 ? undefined : all(s3, "s3") };
}

/**
 * A route through a NAT instance's network interface forwards only once the instance behind it has booted
 * and run its user data (network/natInstance.ts: an aws.ec2.Instance on that ENI); a NAT gateway is ready
 * when its resource is.
 */
function natInstanceForwarding(graph: Graph, program: Program, route: RecordedResource): string[] {
    const eni = program.depsOfType(route, "aws:ec2/networkInterface:NetworkInterface")[0];
    if (!eni) return [];
    return program.dependentsOfType(eni, "aws:ec2/instance:Instance").map((instance) => {
        const id = `runtime:nat-forwarding:${instance.name}`;
        if (graph.steps.has(id)) return id;
        const booted = graph.add({ id: `runtime:booted:${instance.name}`, type: "runtime", name: `${instance.name}: OS boot to user data`, duration: graph.phase("osBoot"), deps: [stepOf(instance.urn)], why: "kernel and cloud-init until runcmd" });
        return graph.add({ id, type: "runtime", name: `${instance.name}: forwarding`, duration: graph.phase("natInstanceSetup"), deps: [booted], why: "the NAT instance's user data turns on forwarding and masquerade" });
    });
}

/** Where a kubeconfig-style server URL leads: local, or through a load balancer (and maybe a DNS record first). */
function apiRoute(program: Program, server: string): { local: true } | { local: false; loadBalancers: RecordedResource[]; records: RecordedResource[]; assumed?: true } {
    const host = new URL(server).hostname;
    if (/^(127\.|localhost$|\[?::1\]?$)/.test(host)) return { local: true };
    const region = program.region();
    const balancers = program.ofType("aws:lb/loadBalancer:LoadBalancer");
    const direct = balancers.filter((lb) => computedAttributes(lb.type, lb.name, lb.inputs, region).dnsName === host);
    if (direct.length > 0) return { local: false, loadBalancers: direct, records: [] };
    // A record kaws owns (a private-zone alias to the NLB): the name resolves once the record is in sync.
    const records = program.ofType("aws:route53/record:Record").filter((r) => {
        const name = String(r.inputs.name ?? "").replace(/\.$/, "");
        return name === host || host.startsWith(`${name}.`);
    });
    const behind = records.flatMap((r) => program.depsOfType(r, "aws:lb/loadBalancer:LoadBalancer"));
    if (records.length > 0 && behind.length > 0) return { local: false, loadBalancers: behind, records };
    // A name the user supplies (an internet-facing API): assumed to lead to the stack's only load balancer, and said so.
    if (balancers.length === 1) return { local: false, loadBalancers: balancers, records, assumed: true };
    throw new ReadyPathError(`the API server ${server} is neither local nor a load balancer or record of this stack; cannot tell what it waits for`);
}

/**
 * Models `kaws up <env>` to every Kubernetes node Ready: the evaluated Pulumi graph weighted by
 * plan/latencies.json, plus the runtime edges that are not Pulumi dependencies (each rule below says
 * which code it reads), plus the driver's stages. Pure: everything comes from the evaluation, the
 * latencies and the driver facts.
 */
export function modelReadyPath(evaluation: Evaluation, latencies: Latencies, driver: DriverFacts): ReadyPath {
    const run = (scenario: Scenario) => buildAndSchedule(evaluation, latencies, driver, scenario);
    const typical = run("typical");
    const [min, tail] = [run("min"), run("tail")];
    const longPoles = typical.path.filter((s) => s.durationSeconds >= 10).sort((a, b) => b.durationSeconds - a.durationSeconds).slice(0, 6);
    return {
        totalSeconds: typical.total,
        minSeconds: min.total,
        tailSeconds: tail.total,
        path: typical.path,
        longPoles,
        defaultedTypes: [...typical.defaulted].sort(),
        hazards: typical.hazards,
        latenciesCompiled: latencies.compiled,
    };
}

function buildAndSchedule(evaluation: Evaluation, latencies: Latencies, driver: DriverFacts, scenario: Scenario): { total: number; path: PathStep[]; defaulted: Set<string>; hazards: string[] } {
    const graph = new Graph(latencies, scenario);
    const program = new Program(evaluation);
    const programStart = driver.transpileOnly ? "programStart.transpile" : "programStart.typeCheck";
    const startWhy = driver.transpileOnly ? "Pulumi starts the program transpile-only" : "Pulumi type-checks the program before running it (ts-node default)";

    // Driver (automation/driver.ts up): preflight, then the disruption guard's preview runs the program once,
    // then `infra up` runs it again and creates the graph.
    graph.add({ id: "runtime:preflight", type: "runtime", name: "preflight", duration: graph.phase("preflight"), deps: [], why: "kaws up: AWS credentials, zones and quotas" });
    graph.add({ id: "runtime:guard-preview", type: "runtime", name: "disruption guard preview", duration: graph.phase(programStart), deps: ["runtime:preflight"], why: `the guard previews the infra stack first: ${startWhy}` });
    graph.add({ id: "runtime:infra-program", type: "runtime", name: "infra up: program start", duration: graph.phase(programStart), deps: ["runtime:guard-preview"], why: startWhy });
    addResources(graph, program);
    const infraDone = graph.add({
        id: "runtime:infra-done", type: "runtime", name: "infra up done", duration: 0,
        deps: evaluation.resources.filter((r) => r.custom).map((r) => stepOf(r.urn)), why: "Pulumi finishes when every resource is created",
    });

    const groups = nodeGroups(program);
    // Node files and user data tell each group's kind: a kubelet bootstrap kubeconfig is a Kubernetes node,
    // an etcd member is a group whose role is etcd-<i> (etcd/etcdCluster.ts), anything else is not waited for.
    const kubeletServer = (role: string) => {
        const file = program.nodeFile(role, kubeletPaths.bootstrapKubeconfig);
        return file === undefined ? undefined : String(/server:\s*(\S+)/.exec(file)?.[1]);
    };
    const kubernetes = groups.filter((g) => kubeletServer(g.role) !== undefined);
    const etcd = groups.filter((g) => /^etcd-\d+$/.test(g.role));
    if (kubernetes.length === 0) throw new ReadyPathError("no Kubernetes node group found (no launch template role with a kubelet bootstrap kubeconfig among the node files)");

    /** RunInstances → running → user data starts, for one group; returns the step at which its script starts. */
    const boot = (g: NodeGroupFacts): { running: string; booted: string } => {
        const profiles = program.depsOfType(g.group, launchTemplate).flatMap((lt) => program.depsOfType(lt, "aws:iam/instanceProfile:InstanceProfile"));
        // EC2 accepts a new instance profile only after IAM propagation (Terraform retries RunInstances meanwhile).
        const profileUsable = graph.add({
            id: `runtime:profile:${g.group.name}`, type: "runtime", name: `instance profile usable by ${g.role}`, duration: graph.phase("instanceProfilePropagation"),
            deps: profiles.map((p) => stepOf(p.urn)), why: "IAM instance profile propagation to EC2",
        });
        // The group launches its instances once it exists (waitForCapacityTimeout "0": Pulumi does not wait for them).
        const launchAfter = g.waitsForCapacity ? `runtime:asg-api:${g.group.name}` : stepOf(g.group.urn);
        if (g.waitsForCapacity) {
            // With a capacity wait the ASG resource lasts until its instances are InService: its own step
            // becomes "API call + launch", so infra up waits for them.
            const own = graph.steps.get(stepOf(g.group.urn))!;
            graph.steps.delete(own.id);
            graph.add({ ...own, id: launchAfter, name: `${own.name} (API)` });
            graph.add({ ...own, duration: 0, deps: [`runtime:running:${g.group.name}`], why: "waitForCapacityTimeout is not \"0\": the resource waits for its instances InService" });
        }
        const launched = graph.add({
            id: `runtime:launch:${g.group.name}`, type: "runtime", name: `${g.role}: RunInstances`, duration: graph.phase("runInstances"),
            deps: [launchAfter, profileUsable], why: "the Auto Scaling group launches its instances",
        });
        const running = graph.add({ id: `runtime:running:${g.group.name}`, type: "runtime", name: `${g.role}: pending → running`, duration: graph.phase("pendingToRunning"), deps: [launched], why: "EC2 pending → running" });
        const booted = graph.add({ id: `runtime:booted:${g.group.name}`, type: "runtime", name: `${g.role}: OS boot to user data`, duration: graph.phase("osBoot"), deps: [running], why: "kernel and cloud-init until runcmd" });
        return { running, booted };
    };

    /** A download step: waits for the route it needs; a wait is a hazard the script's retries must cover. */
    const needsRoute = (g: NodeGroupFacts, after: string, route: string | undefined, what: string, hosts: string[]): string[] => {
        if (hosts.length === 0) return [after];
        if (route === undefined) throw new ReadyPathError(`${g.role} downloads from ${hosts.join(", ")} but its subnets have no internet route; it would never be Ready`);
        graph.routeWaits.push({ role: g.role, what, after, route, hosts });
        // Started before the route existed, the download succeeds on the attempt after it appears.
        const retried = graph.shared({
            id: `runtime:route-retry:${route}`, type: "runtime", name: "download retried once the route exists", duration: graph.phase("routeRetryLag"),
            deps: [route], why: "the attempt in flight when the route appears fails at its connect timeout; the next one succeeds",
        });
        return [after, retried];
    };

    // etcd members (etcd/boot.sh): attach ENI and volume, fetch files from S3, download etcd from the
    // internet (the URL in the boot script), start; the cluster forms once a quorum of members is up.
    const etcdUp = etcd.map((g) => {
        const { booted } = boot(g);
        const reach = subnetReach(graph, program, g.group);
        const attached = graph.add({ id: `runtime:attach:${g.group.name}`, type: "runtime", name: `${g.role}: attach ENI and data volume`, duration: graph.phase("volumeAttach"), deps: [booted], why: "etcd/boot.sh attaches the member's fixed ENI and volume" });
        const files = graph.add({ id: `runtime:files:${g.group.name}`, type: "runtime", name: `${g.role}: fetch files from S3`, duration: graph.phase("fetchFiles"), deps: [attached, ...(reach.s3 ? [reach.s3] : [])], why: "kaws-fetch-files: aws s3 cp of the member's files" });
        const hosts = internetHosts(g.userData);
        const downloaded = graph.add({
            id: `runtime:download:${g.group.name}`, type: "runtime", name: `${g.role}: download from ${hosts.join(", ") || "nowhere"}`, duration: hosts.length ? graph.phase("binaryDownload") : 0,
            deps: needsRoute(g, files, reach.internet, "downloads", hosts), why: hosts.length ? `its boot script fetches https://${hosts.join(", https://")} through the NAT route` : "nothing to download",
        });
        return graph.add({ id: `runtime:etcd-started:${g.group.name}`, type: "runtime", name: `${g.role}: etcd started`, duration: 0, deps: [downloaded], why: "systemctl start etcd" });
    });
    const quorum = etcdUp.length === 0 ? undefined : graph.add({
        id: "runtime:etcd-quorum", type: "runtime", name: `etcd quorum (${Math.floor(etcdUp.length / 2) + 1} of ${etcdUp.length})`, duration: graph.phase("etcdStart"),
        deps: etcdUp, quorum: Math.floor(etcdUp.length / 2) + 1, why: "etcd elects a leader once a majority of members is up",
    });

    // Kubernetes nodes (nodes/boot.sh): dnf installs packages (repositories in the boot script: pkgs.k8s.io
    // is on the internet, so the NAT route must exist), then kaws-fetch-files from S3, then containerd and kubelet.
    const nodes = kubernetes.map((g) => {
        const { running, booted } = boot(g);
        const reach = subnetReach(graph, program, g.group);
        const hosts = internetHosts(g.userData);
        const packages = graph.add({
            id: `runtime:packages:${g.group.name}`, type: "runtime", name: `${g.role}: install packages`, duration: graph.phase("packageInstall"),
            deps: needsRoute(g, booted, reach.internet, "installs packages from", hosts), why: `dnf install at boot from ${hosts.join(", ") || "the AL2023 repositories"}`,
        });
        const files = graph.add({ id: `runtime:files:${g.group.name}`, type: "runtime", name: `${g.role}: fetch files from S3`, duration: graph.phase("fetchFiles"), deps: [packages, ...(reach.s3 ? [reach.s3] : [])], why: "kaws-fetch-files: aws s3 cp of the role's files" });
        const kubelet = graph.add({ id: `runtime:kubelet:${g.group.name}`, type: "runtime", name: `${g.role}: containerd and kubelet start`, duration: graph.phase("kubeletStart"), deps: [files], why: "systemctl enable --now containerd kubelet" });
        return { g, running, kubelet, reach, server: kubeletServer(g.role)! };
    });

    // Control-plane nodes: a group whose node files hold the kube-apiserver static pod. Its images come from
    // the internet; it is ready once etcd has a quorum (its --etcd-servers; a name there waits for its record).
    const apiServers = nodes.filter((n) => program.nodeFile(n.g.role, controlPlanePaths.apiServerManifest) !== undefined).map((n) => {
        const manifest = program.nodeFile(n.g.role, controlPlanePaths.apiServerManifest)!;
        const etcdHosts = (/--etcd-servers=(\S+)/.exec(manifest)?.[1] ?? "").split(",").filter(Boolean).map((u) => new URL(u).hostname);
        const etcdRecords = program.ofType("aws:route53/record:Record").filter((r) => etcdHosts.includes(String(r.inputs.name).replace(/\.$/, "")));
        const images = graph.add({ id: `runtime:images:${n.g.group.name}`, type: "runtime", name: `${n.g.role}: pull control-plane images`, duration: graph.phase("controlPlaneImages"), deps: [n.kubelet, ...(n.reach.internet ? [n.reach.internet] : [])], why: "kubelet pulls kube-apiserver, controller-manager, scheduler from registry.k8s.io through the NAT" });
        const ready = graph.add({
            id: `runtime:apiserver:${n.g.group.name}`, type: "runtime", name: `${n.g.role}: kube-apiserver ready`, duration: graph.phase("apiServerReady"),
            deps: [images, ...(quorum ? [quorum] : []), ...etcdRecords.map((r) => stepOf(r.urn))], why: "static kube-apiserver answers /readyz once etcd has a quorum",
        });
        return { node: n, ready };
    });
    if (apiServers.length === 0) throw new ReadyPathError("no control-plane group found (no node files with the kube-apiserver manifest)");

    // Through the NLB: the control-plane ASG registers its instances with the target group (targetGroupArns);
    // the first health check comes some time after registration, then healthyThreshold × interval of /readyz.
    const throughBalancer = new Map<string, string>();
    const apiThrough = (server: string): string => {
        const route = apiRoute(program, server);
        if (route.local) throw new ReadyPathError("a local API server has no load-balancer path");
        const key = [...route.loadBalancers, ...route.records].map((r) => r.urn).join(",");
        if (route.assumed) graph.hazards.push(`the API name ${new URL(server).hostname} is no record or load balancer of this stack: assumed to lead to ${route.loadBalancers[0].name}`);
        const known = throughBalancer.get(key);
        if (known) return known;
        const targets = route.loadBalancers.flatMap((lb) => program.ofType("aws:lb/listener:Listener").filter((l) => (l.dependencies ?? []).includes(lb.urn)))
            .flatMap((listener) => program.depsOfType(listener, "aws:lb/targetGroup:TargetGroup").map((tg) => ({ listener, tg })));
        const healthy = targets.flatMap(({ listener, tg }) => apiServers.filter((a) => (a.node.g.group.dependencies ?? []).includes(tg.urn)).map((a) => {
            const check = tg.inputs.healthCheck ?? {};
            const registered = graph.shared({
                id: `runtime:registered:${tg.name}:${a.node.g.group.name}`, type: "runtime", name: `${a.node.g.role} registered with ${tg.name}`, duration: graph.phase("nlbTargetRegistration"),
                deps: [a.node.running, stepOf(tg.urn), stepOf(listener.urn), ...route.loadBalancers.map((lb) => stepOf(lb.urn))], why: "NLB target registration until its health checks start",
            });
            const threshold = Number(check.healthyThreshold ?? 3) * Number(check.interval ?? 30);
            return graph.shared({
                id: `runtime:healthy:${tg.name}:${a.node.g.group.name}`, type: "runtime", name: `${a.node.g.role} healthy in ${tg.name}`, duration: threshold,
                deps: [registered, a.ready], why: `health check ${check.path ?? "TCP"} passes healthyThreshold ${check.healthyThreshold ?? 3} × interval ${check.interval ?? 30} s`,
            });
        }));
        if (healthy.length === 0) throw new ReadyPathError(`no control-plane group is a target of the load balancer behind ${server}`);
        const firstHealthy = graph.shared({
            id: `runtime:first-healthy:${route.loadBalancers.map((lb) => lb.urn).join(",")}`, type: "runtime", name: "first healthy API target", duration: 0, deps: healthy,
            quorum: 1, why: "the first healthy target serves the API through the load balancer",
        });
        const id = graph.add({
            id: `runtime:api-through:${key}`, type: "runtime", name: `API reachable at ${new URL(server).hostname}`, duration: 0,
            deps: [firstHealthy, ...route.records.map((r) => stepOf(r.urn))],
            why: `${route.assumed ? `assumed: ${new URL(server).hostname} leads to ${route.loadBalancers[0].name}, the stack's only load balancer; ` : ""}`
                + (route.records.length > 0 ? `a target is healthy and ${route.records.map((r) => r.name).join(", ")} is in sync` : "a target is healthy"),
        });
        throughBalancer.set(key, id);
        return id;
    };

    // The driver's wait stage polls /readyz at apiEndpoint every apiPollIntervalSeconds, after infra up.
    const apiEndpoint = String(evaluation.outputs.apiEndpoint?.value ?? "");
    if (!apiEndpoint) throw new ReadyPathError("the evaluation has no apiEndpoint output; the driver waits for /readyz there");
    const apiForDriver = apiRoute(program, apiEndpoint).local ? apiServers[0].ready : apiThrough(apiEndpoint);
    const pollLag = { min: 0, typical: driver.apiPollIntervalSeconds / 2, tail: driver.apiPollIntervalSeconds }[scenario];
    const apiWaited = graph.add({
        id: "runtime:wait-readyz", type: "runtime", name: "wait for /readyz", duration: pollLag, deps: [infraDone, apiForDriver],
        why: `kaws polls /readyz every ${driver.apiPollIntervalSeconds} s after infra up: on average half an interval after it answers`,
    });
    // Add-ons stage (addons/program): program start, kubernetes provider, then two waves (objects, then workloads).
    const addonsProgram = graph.add({ id: "runtime:addons-program", type: "runtime", name: "add-ons up: program start", duration: graph.phase(programStart) + graph.figure("resources", "pulumi:providers:kubernetes").seconds, deps: [apiWaited], why: `${startWhy}; kubernetes provider configure` });
    const addonObjects = graph.add({ id: "runtime:addons-objects", type: "runtime", name: "add-ons: accounts, RBAC, Secrets", duration: graph.phase("kubernetesObjects"), deps: [addonsProgram], why: "addons/clusterAddons.ts creates prerequisites first" });
    const addonsCni = graph.add({ id: "runtime:addons-cni", type: "runtime", name: "add-ons: CNI DaemonSet created", duration: graph.phase("kubernetesObjects"), deps: [addonObjects], why: "weave (addons/weave.ts) arrives with the add-ons stage; nodes stay NotReady until it runs on them" });

    // The bootstrap-token Secret: created by a control-plane node if its files carry it, else by the add-ons stage
    // (addons/bootstrap.ts). Kubelets using the token cannot register before it exists.
    const tokenOnControlPlane = apiServers.find((a) => program.evaluation.resources.some((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2"
        && String(r.inputs.key).startsWith(`nodes/${a.node.g.role}/`) && /bootstrap\.kubernetes\.io\/token/.test(String(unwrapSecret(r.inputs.content)))));
    const token = tokenOnControlPlane
        ? graph.add({ id: "runtime:token", type: "runtime", name: "bootstrap-token Secret", duration: graph.phase("kubernetesObjects"), deps: [tokenOnControlPlane.ready], why: `${tokenOnControlPlane.node.g.role} creates it once its API server is ready` })
        : graph.add({ id: "runtime:token", type: "runtime", name: "bootstrap-token Secret", duration: 0, deps: [addonObjects], why: "created only by the add-ons stage (addons/bootstrap.ts), after `up` has waited for /readyz" });

    // The pod network: created by a control-plane node if its files carry the CNI DaemonSet (node-bootstrap.sh
    // creates the node-critical add-ons after the token), else it arrives with the add-ons stage.
    const carriesCni = (role: string) => YAML.parseAllDocuments(program.nodeFile(role, controlPlanePaths.nodeCriticalAddons) ?? "")
        .some((doc) => { const o = doc.toJS(); return o?.kind === "DaemonSet" && o?.metadata?.name === podNetworkDaemonSet.name && o?.metadata?.namespace === podNetworkDaemonSet.namespace; });
    const cniOnControlPlane = apiServers.find((a) => carriesCni(a.node.g.role));
    const cni = cniOnControlPlane
        ? graph.add({ id: "runtime:cni", type: "runtime", name: "CNI DaemonSet created", duration: graph.phase("kubernetesObjects"), deps: [token], why: `${cniOnControlPlane.node.g.role} creates the node-critical add-ons (kube-proxy, weave) after the token` })
        : addonsCni;

    // The nodes' own API name (controlPlane/api-record.sh): a control-plane node writes its record set once its
    // kubelet runs; a resolver that answered the stack's placeholder before keeps it for the placeholder's TTL.
    // Connections then go straight to the first API server that is ready.
    const nodesApiName = apiServers.map((a) => ({ a, name: /^KAWS_RECORD_NAME=(\S+)$/m.exec(program.nodeFile(a.node.g.role, apiRecordPaths.script) ?? "")?.[1] })).find((w) => w.name);
    const nodesApi = nodesApiName && (() => {
        const written = graph.add({
            id: "runtime:nodes-api-record", type: "runtime", name: `${nodesApiName.name} written`, duration: graph.figure("resources", "aws:route53/record:Record").seconds,
            deps: apiServers.map((a) => a.node.kubelet), quorum: 1, why: "kaws-api-record on the first control-plane node to run: UPSERT of the group's in-service addresses, until INSYNC",
        });
        // Until then the name answers with the stack's placeholder (weight 0), which resolvers keep for its TTL;
        // with no record at all they would keep "no such name" for the zone's negative TTL.
        const placeholder = program.ofType("aws:route53/record:Record").find((r) => r.inputs.name === nodesApiName.name && r.inputs.records?.length && r.inputs.setIdentifier);
        const cacheSeconds = placeholder ? Number(placeholder.inputs.ttl) : route53NegativeTtlSeconds;
        if (!placeholder) graph.hazards.push(`${nodesApiName.name} has no record before a control-plane node writes it: a resolver asked first caches "no such name" for ${route53NegativeTtlSeconds} s`);
        const cached = graph.add({
            id: "runtime:placeholder-cached", type: "runtime", name: placeholder ? "resolvers drop the placeholder" : "resolvers drop \"no such name\"",
            duration: { min: 0, typical: cacheSeconds / 2, tail: cacheSeconds }[scenario], deps: [written],
            why: placeholder ? `a resolver that answered the placeholder before keeps it for its TTL (${cacheSeconds} s)` : `the zone's negative TTL (${cacheSeconds} s)`,
        });
        const firstReady = graph.add({ id: "runtime:first-apiserver", type: "runtime", name: "first API server ready", duration: 0, deps: apiServers.map((a) => a.ready), quorum: 1, why: "any control-plane node's API server answers" });
        return graph.add({ id: "runtime:nodes-api", type: "runtime", name: `API reachable at ${nodesApiName.name}`, duration: 0, deps: [cached, firstReady], why: "the record leads to the control-plane nodes, one of which serves" });
    })();

    const restartSeconds = (role: string) => Number(/RestartSec=(\d+)/.exec(program.nodeFile(role, kubeletPaths.unit) ?? "")?.[1] ?? 10);
    const ready = nodes.map((n) => {
        const direct = nodesApi !== undefined && new URL(n.server).hostname === nodesApiName!.name;
        const route = direct ? undefined : apiRoute(program, n.server);
        const api = direct ? nodesApi : route!.local ? apiServers.find((a) => a.node === n)?.ready : apiThrough(n.server);
        if (api === undefined) throw new ReadyPathError(`${n.g.role}'s kubelet talks to a local API server, but it runs none`);
        // kubelet exits while the API or the token is missing; systemd restarts it after RestartSec.
        const retry = { min: 0, typical: restartSeconds(n.g.role) / 2, tail: restartSeconds(n.g.role) }[scenario];
        const registered = graph.add({
            id: `runtime:node-registered:${n.g.group.name}`, type: "runtime", name: `${n.g.role}: node registered`, duration: graph.phase("nodeRegistration") + retry,
            deps: [n.kubelet, api, token], why: `TLS bootstrap with the token through ${route?.local ? "its local API server" : new URL(n.server).hostname}, kubelet restarted every ${restartSeconds(n.g.role)} s until it can`,
        });
        return graph.add({ id: `runtime:node-ready:${n.g.group.name}`, type: "runtime", name: `${n.g.role}: node Ready`, duration: graph.phase("cniPodReady"), deps: [registered, cni], why: "the CNI pod starts on the node and kubelet reports Ready" });
    });
    const sink = graph.add({ id: "runtime:all-ready", type: "runtime", name: "every node Ready", duration: 0, deps: ready, why: "the last node group Ready" });

    const times = graph.schedule();
    // Hazards: a download that reached for a route before it existed (the script's retries must cover the gap).
    for (const h of graph.routeWaits) {
        const gap = times.get(h.route)!.finish - times.get(h.after)!.finish;
        if (gap > 0) graph.hazards.push(`${h.role} ${h.what} ${h.hosts.join(", ")} ${Math.round(gap)} s before its subnet's internet route exists: its boot script must retry that long`);
    }
    const path: PathStep[] = [];
    for (let id: string | undefined = sink; id; id = times.get(id)!.via) {
        const step = graph.steps.get(id)!;
        const time = times.get(id)!;
        if (step.duration > 0 || id === sink) {
            path.unshift({ resource: step.id.startsWith("done:") ? step.id.slice(5) : step.id, type: step.type, name: step.name, startSeconds: round(time.start), durationSeconds: round(step.duration), why: step.why });
        }
    }
    return { total: round(times.get(sink)!.finish), path, defaulted: graph.defaulted, hazards: [...new Set(graph.hazards)] };
}

/** Route 53's SOA for a new hosted zone: TTL 900, minimum 86400; resolvers cache a negative answer for the smaller (RFC 2308). */
const route53NegativeTtlSeconds = 900;

const round = (seconds: number) => Math.round(seconds * 10) / 10;

/** A line or three for the terminal: the total and the long poles, then hazards and defaulted types if any. */
export function formatReadyPath(model: ReadyPath): string {
    const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
    const poles = model.longPoles.slice(0, 4).map((p) => `${p.name} ${Math.round(p.durationSeconds)} s`).join(", ");
    const lines = [`time to Ready: ${minutes(model.totalSeconds)} modeled (${Math.round(model.totalSeconds)} s; tail ${minutes(model.tailSeconds)}); long poles: ${poles}`];
    if (model.hazards.length > 0) lines.push(`time to Ready: ${model.hazards.length} runtime hazard(s) in ready-path.json, e.g. ${model.hazards[0]}`);
    if (model.defaultedTypes.length > 0) lines.push(`time to Ready: no latency figure for ${model.defaultedTypes.join(", ")} (default used)`);
    return lines.join("\n") + "\n";
}
