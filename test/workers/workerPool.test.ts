import { expect } from "chai";
import { parse } from "yaml";
import { Evaluation, RecordedResource } from "../../automation/offline/engine";
import { maskGenerated } from "../../automation/offline/renderDiff";
import { loadStackConfig } from "../../automation/stackConfig";
import { nodeFilesOf } from "../../automation/offline/render";
import { evaluate, ofType, roleFiles, root } from "../harness";

const program = "test/fixtures/workerPoolProgram.ts";

function poolsOf(env: string): any[] {
    return JSON.parse(loadStackConfig(root, env)["kaws:workerPools"]);
}

const asgs = (ev: Evaluation) => ofType(ev, "aws:autoscaling/group:Group");
const tagsOf = (asg: RecordedResource): Record<string, string> => Object.fromEntries(asg.inputs.tags.map((t: { key: string; value: string }) => [t.key, t.value]));

/** A node file's content as stored for a role. */
function nodeFile(ev: Evaluation, role: string, file: string): string {
    const installed = roleFiles(ev, role).get(file);
    if (!installed) throw new Error(`${role}: no ${file}`);
    return installed.content;
}

describe("WorkerPool", function () {
    this.timeout(60_000);
    const stacks: Record<string, Evaluation> = {};
    before(async () => {
        stacks.dev = await evaluate("dev", {}, program);
        stacks.prod = await evaluate("prod", {}, program);
        const huge = poolsOf("dev").map((pool) => ({ ...pool, maxSize: 300 }));
        stacks.devHuge = await evaluate("dev", { workerPools: huge }, program);
        const imds = poolsOf("prod").map((pool, i) => ({ ...pool, podsNeedImds: i === 0 }));
        stacks.prodImds = await evaluate("prod", { workerPools: imds }, program);
    });

    for (const env of ["dev", "prod"]) {
        it(`${env}: every configured pool becomes an ASG with its mixed-instances settings`, () => {
            const pools = poolsOf(env);
            const clusterName = loadStackConfig(root, env)["kaws:clusterName"];
            expect(asgs(stacks[env]).map((a) => a.inputs.name).sort()).to.deep.equal(pools.map((p) => `${clusterName}-worker-${p.name}`).sort());
            for (const pool of pools) {
                const asg = asgs(stacks[env]).find((a) => a.inputs.name === `${clusterName}-worker-${pool.name}`)!;
                expect([asg.inputs.minSize, asg.inputs.desiredCapacity, asg.inputs.maxSize]).to.deep.equal([pool.minSize, pool.desiredSize, pool.maxSize]);
                const policy = asg.inputs.mixedInstancesPolicy;
                expect(policy.launchTemplate.overrides.map((o: { instanceType: string }) => o.instanceType)).to.deep.equal(pool.instanceTypes);
                expect(policy.instancesDistribution).to.deep.include({
                    onDemandBaseCapacity: pool.onDemandBaseCapacity ?? 0,
                    onDemandPercentageAboveBaseCapacity: pool.onDemandPercentageAboveBase ?? 100,
                    spotAllocationStrategy: "price-capacity-optimized",
                });
                expect(asg.inputs.capacityRebalance).to.equal(true);
                expect(asg.inputs.instanceRefresh.strategy).to.equal("Rolling");
                expect(asg.inputs.instanceRefresh.preferences.skipMatching).to.equal(true);
                expect(asg.inputs.instanceRefresh.preferences.checkpointPercentages, "the refresh pauses before the whole pool has rolled").to.deep.equal([20, 50, 100]);
                expect(asg.inputs.launchTemplate, "the mixed instances policy names the template").to.equal(undefined);
                expect(asg.ignoreChanges, "the autoscaler owns desired capacity after creation").to.deep.equal(["desiredCapacity"]);
            }
        });

        it(`${env}: ASGs carry the cluster-autoscaler discovery tags and node templates of their labels and taints`, () => {
            const clusterName = loadStackConfig(root, env)["kaws:clusterName"];
            for (const pool of poolsOf(env)) {
                const tags = tagsOf(asgs(stacks[env]).find((a) => a.inputs.name === `${clusterName}-worker-${pool.name}`)!);
                expect(tags["k8s.io/cluster-autoscaler/enabled"]).to.equal("true");
                expect(tags[`k8s.io/cluster-autoscaler/${clusterName}`]).to.equal("owned");
                expect(tags["k8s.io/cluster-autoscaler/node-template/label/kaws.io/pool"]).to.equal(pool.name);
                for (const [key, value] of Object.entries(pool.labels ?? {})) expect(tags[`k8s.io/cluster-autoscaler/node-template/label/${key}`]).to.equal(value);
                for (const taint of pool.taints ?? []) {
                    expect(tags[`k8s.io/cluster-autoscaler/node-template/taint/${taint.key}`]).to.equal(`${taint.value ?? ""}:${taint.effect}`);
                }
            }
        });

        it(`${env}: kubelets register with the pool's labels and taints and bootstrap with the token through the control-plane nodes' own name, not the load balancer`, () => {
            for (const pool of poolsOf(env)) {
                const role = `worker-${pool.name}`;
                const kubelet = parse(nodeFile(stacks[env], role, "/var/lib/kubelet/config.yaml"));
                expect(kubelet.registerWithTaints).to.deep.equal((pool.taints ?? []).map((t: any) => ({ key: t.key, ...(t.value === undefined ? {} : { value: t.value }), effect: t.effect })));
                const unit = nodeFile(stacks[env], role, "/etc/systemd/system/kubelet.service");
                expect(unit).to.include(`kaws.io/pool=${pool.name}`);
                const bootstrap = parse(nodeFile(stacks[env], role, "/etc/kubernetes/bootstrap-kubelet.conf"));
                expect(bootstrap.clusters[0].cluster.server).to.match(/^https:\/\/control-plane\.kaws-[a-z]+\.internal:6443$/);
                expect(bootstrap.users[0].user.token).to.equal("abcdef.0123456789abcdef");
            }
        });

        it(`${env}: workers receive no private key and no certificate of their own (TLS bootstrapping)`, () => {
            const objects = ofType(stacks[env], "aws:s3/bucketObjectv2:BucketObjectv2");
            expect(objects.length).to.be.greaterThan(0);
            for (const object of objects) expect(JSON.stringify(object.inputs.content), object.inputs.key).to.not.match(/PRIVATE KEY/);
            expect(ofType(stacks[env], "tls:index/locallySignedCert:LocallySignedCert")).to.deep.equal([]);
        });
    }

    it("the resource count and types do not change when a pool's maxSize goes 3 -> 300", () => {
        expect(poolsOf("dev")[0].maxSize).to.equal(3);
        expect(asgs(stacks.devHuge)[0].inputs.maxSize).to.equal(300);
        const shape = (ev: Evaluation) => ev.resources.map((r) => `${r.type} ${r.name}`).sort();
        expect(shape(stacks.devHuge)).to.deep.equal(shape(stacks.dev));
    });

    it("the IMDS hop limit is 2 only for pools whose pods need instance metadata", () => {
        const hopLimits = (ev: Evaluation) => Object.fromEntries(ofType(ev, "aws:ec2/launchTemplate:LaunchTemplate").map((lt) => [lt.inputs.tags["kaws:role"], lt.inputs.metadataOptions.httpPutResponseHopLimit]));
        const [first, second] = poolsOf("prod").map((p) => `worker-${p.name}`);
        expect(hopLimits(stacks.prod)).to.deep.equal({ [first]: 1, [second]: 1 });
        expect(hopLimits(stacks.prodImds)).to.deep.equal({ [first]: 2, [second]: 1 });
    });

    it("each pool's role reads only its own files and may only pull images", () => {
        for (const policy of ofType(stacks.prod, "aws:iam/rolePolicy:RolePolicy")) {
            const statements: { Sid: string; Action: string[]; Resource: string | string[] }[] = JSON.parse(policy.inputs.policy).Statement;
            const read = statements.find((s) => s.Sid === "ReadOwnFiles")!;
            const role = policy.name.match(/worker-[a-z0-9-]+?(?=-policy$)/)![0];
            expect(read.Resource, policy.name).to.deep.equal([`arn:aws:s3:::kaws-test-assets/nodes/${role}/*`]);
            const actions = statements.flatMap((s) => s.Action);
            expect(actions.filter((a) => !/^(s3:(GetObject|ListBucket)|kms:Decrypt|ecr:)/.test(a)), policy.name).to.deep.equal([]);
        }
    });
});

describe("a worker pool lagging the control plane (kubernetesVersion 1.35.9 under 1.36.4)", function () {
    this.timeout(120_000);
    let baseline: Evaluation;
    let lagging: Evaluation;
    before(async () => {
        const pools = poolsOf("prod").map((pool) => (pool.name === "system" ? { ...pool, kubernetesVersion: "1.35.9" } : pool));
        baseline = await evaluate("prod");
        lagging = await evaluate("prod", { workerPools: pools });
    });

    it("the pool's nodes install kubelet, kubectl and cri-tools 1.35.9 and use the 1.35 pause image", () => {
        const userData = nodeFile(lagging, "worker-system", "/user-data");
        expect(userData).to.include("kaws node boot (worker-system): Kubernetes 1.35.9,");
        expect(userData).to.match(/^\s*KAWS_KUBERNETES_VERSION=1\.35\.9$/m);
        expect(userData).to.match(/^\s*KAWS_CRI_TOOLS_VERSION=1\.35\.0$/m);
        expect(userData, "the boot installs the packages of that version").to.include('"kubelet-$KAWS_KUBERNETES_VERSION" "kubectl-$KAWS_KUBERNETES_VERSION" "cri-tools-$KAWS_CRI_TOOLS_VERSION"');
        expect(nodeFile(lagging, "worker-system", "/etc/containerd/config.toml")).to.include("sandbox = 'registry.k8s.io/pause:3.10.1'");
    });

    it("the control plane and the pool without a version stay at 1.36.4 with the 1.36 pause image", () => {
        for (const role of ["controlplane", "worker-general"]) {
            const userData = nodeFile(lagging, role, "/user-data");
            expect(userData, role).to.match(/^\s*KAWS_KUBERNETES_VERSION=1\.36\.4$/m);
            expect(userData, role).to.match(/^\s*KAWS_CRI_TOOLS_VERSION=1\.36\.0$/m);
            expect(nodeFile(lagging, role, "/etc/containerd/config.toml"), role).to.include("sandbox = 'registry.k8s.io/pause:3.10.2'");
        }
        expect(nodeFile(lagging, "controlplane", "/etc/kubernetes/manifests/kube-apiserver.yaml")).to.include("registry.k8s.io/kube-apiserver:v1.36.4");
    });

    it("nothing else changes: every other file of every role is the same as without the pool's version", () => {
        const files = (ev: Evaluation) => new Map(nodeFilesOf(ev).map((f) => [f.path, maskGenerated(f.content)]));
        const before = files(baseline);
        const after = files(lagging);
        expect([...after.keys()].sort()).to.deep.equal([...before.keys()].sort());
        const changed = [...after.keys()].filter((p) => after.get(p) !== before.get(p)).sort();
        expect(changed).to.deep.equal(["worker-system/etc/containerd/config.toml", "worker-system/user-data"]);
        // Within the user data, only the version lines.
        const diff = (a: string, b: string) => a.split("\n").filter((line, i) => line !== b.split("\n")[i]).map((l) => l.trim());
        expect(diff(after.get("worker-system/user-data")!, before.get("worker-system/user-data")!)).to.deep.equal([
            "# kaws node boot (worker-system): Kubernetes 1.35.9, AL2023 2023.12.20261028.0.",
            "KAWS_KUBERNETES_VERSION=1.35.9",
            "KAWS_CRI_TOOLS_VERSION=1.35.0",
        ]);
    });
});
