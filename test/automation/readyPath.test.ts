import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Evaluation, RecordedResource } from "../../automation/offline/engine";
import { Latencies, Latency, ReadyPath, ReadyPathError, loadLatencies, modelReadyPath, pulumiTranspilesOnly } from "../../automation/readyPath";
import { renderEnvironment } from "../../automation/offline/render";
import { kubeletPaths } from "../../nodes/kubelet";
import { controlPlanePaths } from "../../controlPlane/render";
import { evaluate, root } from "../harness";

const urn = (type: string, name: string) => `urn:pulumi:t::kaws::${type}::${name}`;
const fixed = (seconds: number): Latency => ({ min: seconds, typical: seconds, tail: seconds, note: "", sources: ["test"] });

const clusterTypes = ["pulumi:providers:aws", "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway", "aws:ec2/routeTable:RouteTable", "aws:ec2/route:Route",
    "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener",
    "aws:iam/instanceProfile:InstanceProfile", "aws:ec2/launchTemplate:LaunchTemplate", "aws:autoscaling/group:Group", "aws:s3/bucketObjectv2:BucketObjectv2"];

/** Latencies where every resource of cluster() and every phase takes 1 s unless given, so a test's own resources decide the path. */
function latencies(resources: Record<string, number>, phases: Record<string, number> = {}): Latencies {
    const phaseNames = ["programStart.typeCheck", "programStart.transpile", "preflight", "instanceProfilePropagation", "runInstances", "pendingToRunning", "osBoot",
        "packageInstall", "binaryDownload", "volumeAttach", "natInstanceSetup", "fetchFiles", "kubeletStart", "etcdStart", "controlPlaneImages", "apiServerReady",
        "nlbTargetRegistration", "nodeRegistration", "cniPodReady", "kubernetesObjects", "routeRetryLag"];
    return {
        compiled: "test",
        default: fixed(3),
        resources: Object.fromEntries(Object.entries({ ...Object.fromEntries(clusterTypes.map((t) => [t, 1])), "pulumi:providers:kubernetes": 0, ...resources }).map(([k, v]) => [k, fixed(v)])),
        phases: Object.fromEntries(phaseNames.map((p) => [p, fixed(phases[p] ?? 1)])),
    };
}

interface Spec { type: string; name: string; deps?: string[]; parent?: string; custom?: boolean; inputs?: Record<string, any> }

/**
 * A minimal cluster: a VPC, one private subnet routed through a NAT gateway, a load balancer with a
 * listener and target group, a control-plane group (local kubelet, apiserver manifest) and a worker group
 * whose kubelet reaches the API at the load balancer, plus whatever `extra` a test adds.
 */
function cluster(extra: Spec[] = [], workerDeps: string[] = [], workerServer?: string): Evaluation {
    const lbHost = "api-placeholder.elb.t-1.amazonaws.com";
    const kubeconfig = (server: string) => `apiVersion: v1\nkind: Config\nclusters:\n  - name: t\n    cluster:\n      server: ${server}\n`;
    const userData = Buffer.from("#cloud-config\nrepo=https://pkgs.k8s.io/core/\n").toString("base64");
    const specs: Spec[] = [
        { type: "pulumi:providers:aws", name: "aws", inputs: { region: "t-1" } },
        { type: "aws:ec2/vpc:Vpc", name: "vpc" },
        { type: "aws:ec2/subnet:Subnet", name: "private", deps: ["vpc"] },
        { type: "aws:ec2/natGateway:NatGateway", name: "nat", deps: ["vpc"] },
        { type: "aws:ec2/routeTable:RouteTable", name: "table", deps: ["vpc"] },
        { type: "aws:ec2/route:Route", name: "default", deps: ["table", "nat"], inputs: { destinationCidrBlock: "0.0.0.0/0", natGatewayId: "placeholder-nat" } },
        { type: "aws:ec2/routeTableAssociation:RouteTableAssociation", name: "assoc", deps: ["private", "table"] },
        { type: "aws:ec2/vpcEndpoint:VpcEndpoint", name: "s3", deps: ["vpc", "table"], inputs: { serviceName: "com.amazonaws.t-1.s3" } },
        { type: "aws:lb/loadBalancer:LoadBalancer", name: "lb", deps: ["private"], inputs: { name: "api" } },
        { type: "aws:lb/targetGroup:TargetGroup", name: "tg", deps: ["vpc"], inputs: { healthCheck: { path: "/readyz", interval: 10, healthyThreshold: 2 } } },
        { type: "aws:lb/listener:Listener", name: "listener", deps: ["lb", "tg"] },
        { type: "aws:iam/instanceProfile:InstanceProfile", name: "profile" },
        { type: "aws:ec2/launchTemplate:LaunchTemplate", name: "cp-lt", deps: ["profile"], inputs: { tags: { "kaws:role": "controlplane" }, userData } },
        { type: "aws:autoscaling/group:Group", name: "cp", deps: ["cp-lt", "private", "tg"], inputs: { waitForCapacityTimeout: "0" } },
        { type: "aws:ec2/launchTemplate:LaunchTemplate", name: "w-lt", deps: ["profile"], inputs: { tags: { "kaws:role": "worker-a" }, userData } },
        { type: "aws:autoscaling/group:Group", name: "w", deps: ["w-lt", "private", ...workerDeps], inputs: { waitForCapacityTimeout: "0" } },
        { type: "aws:s3/bucketObjectv2:BucketObjectv2", name: "cp-boot", inputs: { key: `nodes/controlplane${kubeletPaths.bootstrapKubeconfig}`, content: kubeconfig("https://127.0.0.1:6443") } },
        { type: "aws:s3/bucketObjectv2:BucketObjectv2", name: "cp-api", inputs: { key: `nodes/controlplane${controlPlanePaths.apiServerManifest}`, content: "- --etcd-servers=https://10.0.0.10:2379\n" } },
        { type: "aws:s3/bucketObjectv2:BucketObjectv2", name: "w-boot", inputs: { key: `nodes/worker-a${kubeletPaths.bootstrapKubeconfig}`, content: kubeconfig(workerServer ?? `https://${lbHost}:6443`) } },
        ...extra,
    ];
    const names = new Map(specs.map((s) => [s.name, urn(s.type, s.name)]));
    const resources: RecordedResource[] = specs.map((s) => ({
        type: s.type, name: s.name, urn: names.get(s.name)!, custom: s.custom ?? true, inputs: s.inputs ?? {},
        parent: s.parent ? names.get(s.parent) : undefined,
        provider: s.type.startsWith("aws:") ? `${names.get("aws")}::id` : undefined,
        dependencies: (s.deps ?? []).map((d) => names.get(d)!),
    }));
    return { resources, outputs: { apiEndpoint: { value: `https://${lbHost}:6443`, secret: false } } };
}

const driver = { apiPollIntervalSeconds: 2, transpileOnly: true };
const names = (model: ReadyPath) => model.path.map((s) => s.name);

describe("time to Ready model (automation/readyPath.ts)", () => {
    it("parallel branches take the longest: the load balancer, not the shorter NAT gateway, sets the path", () => {
        const model = modelReadyPath(cluster(), latencies({ "aws:lb/loadBalancer:LoadBalancer": 150, "aws:ec2/natGateway:NatGateway": 100 }), driver);
        expect(names(model)).to.include("lb").and.not.include("nat");
        const lb = model.path.find((s) => s.name === "lb")!;
        // Everything after the load balancer is the runtime tail: registration, health, the driver, the node.
        const after = model.path.filter((s) => s.startSeconds >= lb.startSeconds + lb.durationSeconds);
        expect(after.map((s) => s.name)).to.include.members(["controlplane registered with tg", "controlplane healthy in tg", "wait for /readyz", "worker-a: node Ready"]);
        // The health check is the target group's own: healthyThreshold 2 × interval 10 s.
        expect(model.path.find((s) => s.name === "controlplane healthy in tg")!.durationSeconds).to.equal(20);
        expect(model.path.at(-1)!.name).to.equal("every node Ready");
    });

    it("a long pole dominates: a NAT gateway slower than the load balancer moves the path onto the route nodes install packages through", () => {
        const model = modelReadyPath(cluster(), latencies({ "aws:lb/loadBalancer:LoadBalancer": 150, "aws:ec2/natGateway:NatGateway": 600 }), driver);
        expect(names(model)).to.include("nat").and.not.include("lb");
        expect(model.longPoles[0].name).to.equal("nat");
        expect(model.totalSeconds).to.be.greaterThan(600);
        expect(model.path.some((s) => /install packages/.test(s.name))).to.equal(true);
    });

    it("components add no time and pass their dependencies on to their children", () => {
        const key: Spec = { type: "aws:kms/key:Key", name: "key" };
        const lat = latencies({ "aws:lb/loadBalancer:LoadBalancer": 10, "aws:ec2/natGateway:NatGateway": 10, "aws:kms/key:Key": 900, "aws:s3/bucketObjectv2:BucketObjectv2": 0 });
        // The worker group waits for an object whose parent component depends on the key: so it waits for the key.
        const inherited = modelReadyPath(cluster([key, { type: "kaws:test:Holder", name: "holder", custom: false, deps: ["key"] }, { type: "aws:s3/bucketObjectv2:BucketObjectv2", name: "held", parent: "holder" }], ["held"]), lat, driver);
        const direct = modelReadyPath(cluster([key, { type: "aws:s3/bucketObjectv2:BucketObjectv2", name: "held", deps: ["key"] }], ["held"]), lat, driver);
        const unrelated = modelReadyPath(cluster([key, { type: "kaws:test:Holder", name: "holder", custom: false }, { type: "aws:s3/bucketObjectv2:BucketObjectv2", name: "held", parent: "holder" }], ["held"]), lat, driver);
        expect(inherited.totalSeconds).to.equal(direct.totalSeconds);
        expect(inherited.path.find((s) => s.type === "kaws:test:Holder")).to.equal(undefined);
        const keyStep = inherited.path.find((s) => s.name === "key")!;
        const launch = inherited.path.find((s) => s.name === "worker-a: RunInstances")!;
        expect(launch.startSeconds).to.be.at.least(keyStep.startSeconds + 900);
        // Without the component's dependency the worker launches long before the key exists.
        expect(unrelated.path.find((s) => s.name === "worker-a: RunInstances")).to.equal(undefined);
        expect(unrelated.totalSeconds).to.be.lessThan(inherited.totalSeconds);
    });

    it("a kubelet that reaches the API by a private record waits for the record and for the load balancer it aliases", () => {
        const record: Spec = { type: "aws:route53/record:Record", name: "api-dns", deps: ["lb"], inputs: { name: "api.t.internal", type: "A" } };
        const lat = latencies({ "aws:lb/loadBalancer:LoadBalancer": 150, "aws:route53/record:Record": 900 });
        const model = modelReadyPath(cluster([record], [], "https://api.t.internal:6443"), lat, driver);
        expect(names(model)).to.include.members(["lb", "api-dns"]);
        expect(model.path.at(-2)!.name).to.equal("worker-a: node Ready");
        expect(modelReadyPath(cluster([], [], "https://elsewhere.example:6443"), lat, driver).hazards.join("\n")).to.match(/elsewhere\.example is no record or load balancer of this stack: assumed to lead to lb/);
        const twoBalancers = cluster([{ type: "aws:lb/loadBalancer:LoadBalancer", name: "other", inputs: { name: "other" } }], [], "https://elsewhere.example:6443");
        expect(() => modelReadyPath(twoBalancers, lat, driver)).to.throw(ReadyPathError, /elsewhere\.example.*cannot tell/);
    });

    it("a resource type without a figure takes the stated default and is reported, never zero", () => {
        const model = modelReadyPath(cluster([{ type: "aws:made/up:Thing", name: "thing", deps: ["vpc"] }], ["thing"]), latencies({ "aws:made/up:Thing": 0 }), driver);
        expect(model.defaultedTypes).to.not.include("aws:made/up:Thing");
        const lat = latencies({});
        const defaulted = modelReadyPath(cluster([{ type: "aws:made/up:Thing", name: "thing" }], ["thing"]), { ...lat, default: fixed(1000) }, driver);
        expect(defaulted.defaultedTypes).to.include("aws:made/up:Thing");
        const step = defaulted.path.find((s) => s.name === "thing")!;
        expect(step.durationSeconds).to.equal(1000);
        expect(step.why).to.match(/no figure for aws:made\/up:Thing: default/);
        const missingPhase: Latencies = { ...lat, phases: { ...lat.phases, osBoot: undefined as unknown as Latency } };
        expect(() => modelReadyPath(cluster(), missingPhase, driver)).to.throw(ReadyPathError, /no phase "osBoot"/);
    });

    it("the /readyz poll interval and type checking the program are on the path", () => {
        const lat = latencies({ "aws:lb/loadBalancer:LoadBalancer": 150 }, { "programStart.typeCheck": 10, "programStart.transpile": 2 });
        const fast = modelReadyPath(cluster(), lat, { apiPollIntervalSeconds: 2, transpileOnly: true });
        const slow = modelReadyPath(cluster(), lat, { apiPollIntervalSeconds: 10, transpileOnly: false });
        // Three program starts (guard preview, infra, add-ons) at 8 s more each, and 4 s more of average poll lag.
        expect(slow.totalSeconds - fast.totalSeconds).to.be.closeTo(3 * 8 + 4, 1e-9);
        expect(fast.path.find((s) => s.name === "wait for /readyz")!.durationSeconds).to.equal(1);
    });

    it("reads transpile-only as Pulumi's nodejs runtime does: PULUMI_NODEJS_TRANSPILE_ONLY, else tsconfig noCheck", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-ts-"));
        try {
            fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { noCheck: true } }));
            expect(pulumiTranspilesOnly(dir, {})).to.equal(true);
            expect(pulumiTranspilesOnly(dir, { PULUMI_NODEJS_TRANSPILE_ONLY: "false" })).to.equal(false);
            fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: {} }));
            expect(pulumiTranspilesOnly(dir, {})).to.equal(false);
            expect(pulumiTranspilesOnly(dir, { PULUMI_NODEJS_TRANSPILE_ONLY: "true" })).to.equal(true);
            // Pulumi.yaml's runtime options can name another tsconfig (this repository's: tsconfig.build.json).
            fs.writeFileSync(path.join(dir, "tsconfig.build.json"), JSON.stringify({ compilerOptions: { noCheck: true } }));
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: p\nruntime:\n  name: nodejs\n  options:\n    tsconfig: tsconfig.build.json\n");
            expect(pulumiTranspilesOnly(dir, {})).to.equal(true);
            expect(pulumiTranspilesOnly(root, {}), "this repository, for a plain pulumi up").to.equal(true);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    describe("the real prod stack", () => {
        let model: ReadyPath;
        let evaluation: Evaluation;
        before(async () => {
            evaluation = await evaluate("prod");
            model = modelReadyPath(evaluation, loadLatencies(), driver);
        });

        it("records each registration's dependencies as URNs of registered resources", () => {
            const urns = new Set(evaluation.resources.map((r) => r.urn));
            const withDeps = evaluation.resources.filter((r) => (r.dependencies ?? []).length > 0);
            expect(withDeps.length).to.be.greaterThan(evaluation.resources.length / 2);
            for (const r of withDeps) for (const dep of r.dependencies!) expect(urns.has(dep), `${r.name} -> ${dep}`).to.equal(true);
            const vpc = evaluation.resources.find((r) => r.type === "aws:ec2/vpc:Vpc")!;
            const subnets = evaluation.resources.filter((r) => r.type === "aws:ec2/subnet:Subnet");
            for (const subnet of subnets) expect(subnet.dependencies).to.include(vpc.urn);
        });

        it("ends at every node Ready, with kubelets reaching the control-plane nodes' own name and the pod network from a control-plane node, never waiting for the load balancer", () => {
            expect(model.path.at(-1)!.name).to.equal("every node Ready");
            expect(model.path.at(-2)!.name).to.match(/: node Ready$/);
            expect(model.path.filter((s) => s.type === "aws:lb/loadBalancer:LoadBalancer" || /registered with|healthy in|wait for \/readyz|add-ons/.test(s.name))).to.deep.equal([]);
            // The goal, met by design (a model of published figures, not a timing): every node Ready within 4.5 minutes.
            expect(model.totalSeconds).to.be.at.most(270);
            expect(model.defaultedTypes).to.deep.equal([]);
            expect(model.tailSeconds).to.be.greaterThan(model.totalSeconds);
            expect(model.minSeconds).to.be.lessThan(model.totalSeconds);
            // Steps follow one another: each starts no earlier than the previous one finished.
            for (let i = 1; i < model.path.length; i++) {
                expect(model.path[i].startSeconds).to.be.at.least(model.path[i - 1].startSeconds + model.path[i - 1].durationSeconds - 0.11);
            }
        });

        it("controls: kubelets by the load balancer's name, or the pod network left to the add-ons stage, put the NLB back on the path", () => {
            const file = (role: string, nodePath: string) => evaluation.resources.find((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && r.inputs.key === `nodes/${role}${nodePath}`)!;
            const without = (...keys: string[]) => ({ ...evaluation, resources: evaluation.resources.filter((r) => !(r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && keys.includes(r.inputs.key))) });
            const noRecordWriter = modelReadyPath(without(file("controlplane", "/usr/local/sbin/kaws-api-record").inputs.key), loadLatencies(), driver);
            expect(noRecordWriter.path.some((s) => s.type === "aws:lb/loadBalancer:LoadBalancer")).to.equal(true);
            expect(noRecordWriter.totalSeconds).to.be.greaterThan(model.totalSeconds);
            const noSeededCni = modelReadyPath(without(file("controlplane", "/etc/kubernetes/node-critical-addons.yaml").inputs.key), loadLatencies(), driver);
            expect(noSeededCni.path.some((s) => s.name === "add-ons: CNI DaemonSet created")).to.equal(true);
            expect(noSeededCni.path.some((s) => s.type === "aws:lb/loadBalancer:LoadBalancer")).to.equal(true);
        });

        it("nodes that install packages from the internet wait for their subnet's NAT route", () => {
            const natRoutes = evaluation.resources.filter((r) => r.type === "aws:ec2/route:Route" && r.inputs.natGatewayId)
                .concat(evaluation.resources.filter((r) => r.type === "aws:ec2/routeTable:RouteTable" && (r.inputs.routes ?? []).some((route: any) => route.natGatewayId)));
            expect(natRoutes.length).to.equal(3);
            // A NAT gateway slower than everything else moves the path onto it and the package install after it.
            const latencies = loadLatencies();
            const slowNat: Latencies = { ...latencies, resources: { ...latencies.resources, "aws:ec2/natGateway:NatGateway": fixed(1200) } };
            const slow = modelReadyPath(evaluation, slowNat, driver);
            expect(slow.longPoles[0].type).to.equal("aws:ec2/natGateway:NatGateway");
            const nat = slow.path.findIndex((s) => s.type === "aws:ec2/natGateway:NatGateway");
            expect(slow.path.slice(nat).some((s) => /install packages|download from/.test(s.name))).to.equal(true);
        });
    });

    it("kaws render writes ready-path.json: totalSeconds and the path, resource by resource", async () => {
        const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "kaws-render-ready-"));
        try {
            const result = await renderEnvironment(root, "dev", outDir);
            expect(result.files).to.include("ready-path.json");
            const written = JSON.parse(fs.readFileSync(path.join(outDir, "ready-path.json"), "utf8"));
            expect(written.totalSeconds).to.be.a("number").and.greaterThan(60);
            expect(written.path.at(-1).name).to.equal("every node Ready");
            for (const step of written.path) expect(step).to.have.keys("resource", "type", "name", "startSeconds", "durationSeconds", "why");
            expect(result.readyPath).to.match(/^time to Ready: \d+\.\d min modeled/);
            expect(fs.existsSync(path.join(outDir, ".kaws-render"))).to.equal(true);
        } finally {
            fs.rmSync(outDir, { recursive: true, force: true });
        }
    });
});
