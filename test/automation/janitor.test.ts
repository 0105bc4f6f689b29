import { expect } from "chai";
import * as http from "http";
import {
    AttachNetworkInterfaceCommand, AttachVolumeCommand, CreateNetworkInterfaceCommand, CreateSecurityGroupCommand, CreateSnapshotCommand,
    CreateSubnetCommand, CreateVolumeCommand, CreateVpcCommand, DescribeImagesCommand, DescribeNetworkInterfacesCommand, DescribeSecurityGroupsCommand,
    DescribeSnapshotsCommand, DescribeSubnetsCommand, DescribeVolumesCommand, DetachNetworkInterfaceCommand, EC2Client, RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateLoadBalancerCommand as CreateClassicLoadBalancerCommand, DescribeLoadBalancersCommand as DescribeClassicLoadBalancersCommand, ElasticLoadBalancingClient } from "@aws-sdk/client-elastic-load-balancing";
import {
    CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { AwsCallError, quietly } from "../../automation/awsErrors";
import { DriverDeps, LeftoversError, StackHandle, StageFailedError, destroy } from "../../automation/driver";
import { JanitorOptions, LeftoverKind, awsLeftoverJanitor, describeLeftover, janitor } from "../../automation/janitor";
import { CancelledError } from "../../automation/wait";
import { Moto, MotoStub, fakeKeys, startMoto, xml } from "../moto";

// One moto_server (moto 5.2) on loopback for the whole file, reset between tests through /moto-api/reset, fake
// credentials, no shared config files; the approach of aws.test.ts. moto serves everything the janitor calls:
// Classic ELB DescribeLoadBalancers/DescribeTags/DeleteLoadBalancer, ELB v2 DescribeLoadBalancers/DescribeTargetGroups/
// DescribeListeners/DescribeTags/DeleteLoadBalancer/DeleteTargetGroup (and it refuses to delete a target group a
// listener still uses: ResourceInUse, which checks the order), EC2 tag-key filters, ENI attach/detach, VolumeInUse.
// In front of it sits a tiny HTTP stub, also on loopback, that forwards every request to moto except:
//   - DeleteSecurityGroup of a group the test marks busy: answered 400 DependencyViolation (the next N times, or
//     always). moto 5.2's DeleteSecurityGroup never answers DependencyViolation (it does not track what uses a group,
//     an attached ENI included), so AWS's behaviour while an ELB's ENIs are being released is served by the stub;
//   - one action the test denies (403 AccessDenied), to see the translator's line.
// It also records the Action of every request, so a test can check the order of the deletes AWS received.

const region = "eu-west-1";
const cluster = "kaws-test";
const other = "kaws-other";

class Stub extends MotoStub {
    /** Security group id -> how many more DeleteSecurityGroup calls answer DependencyViolation (Infinity: always). */
    busy = new Map<string, number>();
    deny?: string;
    actions: string[] = [];

    reset(): void {
        this.busy.clear();
        this.deny = undefined;
        this.actions = [];
    }

    protected answer(_req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): boolean {
        const form = new URLSearchParams(body.toString("utf8"));
        const action = form.get("Action") ?? "";
        this.actions.push(action);
        if (this.deny && action === this.deny) {
            return xml(res, 403, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/kaws-tester is not authorized to perform: elasticloadbalancing:${action}</Message></Error><RequestId>stub</RequestId></ErrorResponse>`);
        }
        const group = form.get("GroupId") ?? "";
        const left = this.busy.get(group) ?? 0;
        if (action === "DeleteSecurityGroup" && left > 0) {
            this.busy.set(group, left - 1);
            return xml(res, 400, `<Response><Errors><Error><Code>DependencyViolation</Code><Message>resource ${group} has a dependent object</Message></Error></Errors><RequestID>stub</RequestID></Response>`);
        }
        return false;
    }
}

const tags = (entries: Record<string, string>): { Key: string; Value: string }[] => Object.entries(entries).map(([Key, Value]) => ({ Key, Value }));
const owned = (name: string, extra: Record<string, string> = {}) => ({ [`kubernetes.io/cluster/${name}`]: "owned", ...extra });
const kawsTags = { "kubernetes.io/cluster/kaws-test": "owned", "kaws:cluster": cluster, "kaws:environment": "dev", "managed-by": "kaws" };

/** What a cluster's controllers leave: the same shapes for any cluster name. Returns their ids/names. */
interface Made { [what: string]: string }

describe("janitor (controller leftovers, against moto_server)", function () {
    this.timeout(20000);
    let moto: Moto | undefined;
    let motoUrl: string;
    let stub: Stub;
    let ec2: EC2Client;
    let elb: ElasticLoadBalancingClient;
    let elbv2: ElasticLoadBalancingV2Client;
    let vpcId: string;
    let subnetIds: string[];

    before(async function () {
        moto = await startMoto(this);
        motoUrl = moto.url;
        stub = new Stub(motoUrl);
        await stub.start();
        const config = { region, endpoint: motoUrl };
        ec2 = quietly(() => new EC2Client(config));
        elb = quietly(() => new ElasticLoadBalancingClient(config));
        elbv2 = quietly(() => new ElasticLoadBalancingV2Client(config));
    });

    beforeEach(async () => {
        stub?.reset();
        await moto!.reset();
        // kaws' own VPC and subnets (the provider's default tags), plus a subnet someone shares with this cluster.
        const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16", TagSpecifications: [{ ResourceType: "vpc", Tags: tags(kawsTags) }] }));
        vpcId = vpc.Vpc!.VpcId!;
        subnetIds = [];
        for (const [i, zone] of ["a", "b"].entries()) {
            const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.0.${i}.0/24`, AvailabilityZone: `${region}${zone}`, TagSpecifications: [{ ResourceType: "subnet", Tags: tags({ ...kawsTags, "kaws:role": "public" }) }] }));
            subnetIds.push(subnet.Subnet!.SubnetId!);
        }
    });

    after(() => {
        ec2?.destroy();
        elb?.destroy();
        elbv2?.destroy();
        stub?.stop();
        moto?.stop();
    });

    const options = (extra: JanitorOptions = {}): JanitorOptions => ({ endpoint: stub.url, timeoutMs: 5000, maxAttempts: 1, pollMs: 20, waitTimeoutMs: 2000, dependencyRetryDelayMs: 10, ...extra });

    /** A Service of type LoadBalancer (CCM NLB + target group + listener, a Classic ELB with its k8s-elb SG), an ENI, a PV's volume and snapshot. */
    async function leftoversOf(name: string, suffix: string): Promise<Made> {
        const svc = { "kubernetes.io/service-name": "default/web" };
        const nlb = await elbv2.send(new CreateLoadBalancerCommand({ Name: `k8s-default-web-${suffix}`, Type: "network", Scheme: "internet-facing", Subnets: subnetIds, Tags: tags(owned(name, svc)) }));
        const nlbArn = nlb.LoadBalancers![0].LoadBalancerArn!;
        const tg = await elbv2.send(new CreateTargetGroupCommand({ Name: `k8s-default-web-tg-${suffix}`, Protocol: "TCP", Port: 30080, VpcId: vpcId, TargetType: "instance", Tags: tags(owned(name, svc)) }));
        const tgArn = tg.TargetGroups![0].TargetGroupArn!;
        await elbv2.send(new CreateListenerCommand({ LoadBalancerArn: nlbArn, Protocol: "TCP", Port: 80, DefaultActions: [{ Type: "forward", TargetGroupArn: tgArn }] }));
        // The AWS Load Balancer Controller's tag only (no kubernetes.io/cluster tag).
        await elbv2.send(new CreateTargetGroupCommand({ Name: `k8s-default-api-${suffix}`, Protocol: "HTTP", Port: 8080, VpcId: vpcId, TargetType: "ip", Tags: tags({ "elbv2.k8s.aws/cluster": name, "service.k8s.aws/stack": "default/api" }) }));
        const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: `k8s-elb-a${suffix}`, Description: "Security group for Kubernetes ELB", VpcId: vpcId, TagSpecifications: [{ ResourceType: "security-group", Tags: tags(owned(name)) }] }));
        await elb.send(new CreateClassicLoadBalancerCommand({
            LoadBalancerName: `a${suffix}classic`, Listeners: [{ Protocol: "TCP", LoadBalancerPort: 80, InstanceProtocol: "TCP", InstancePort: 30081 }],
            Subnets: subnetIds, SecurityGroups: [sg.GroupId!], Tags: tags(owned(name, svc)),
        }));
        const eni = await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetIds[0], Description: "left by a controller", TagSpecifications: [{ ResourceType: "network-interface", Tags: tags(owned(name)) }] }));
        const csi = owned(name, { "ebs.csi.aws.com/cluster": "true", "kubernetes.io/created-for/pv/name": `pvc-${suffix}`, "kubernetes.io/created-for/pvc/name": "data" });
        const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 1, VolumeType: "gp3", TagSpecifications: [{ ResourceType: "volume", Tags: tags(csi) }] }));
        const snapshot = await ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId!, TagSpecifications: [{ ResourceType: "snapshot", Tags: tags(csi) }] }));
        return { nlb: nlbArn, tg: tgArn, sg: sg.GroupId!, classic: `a${suffix}classic`, eni: eni.NetworkInterface!.NetworkInterfaceId!, volume: volume.VolumeId!, snapshot: snapshot.SnapshotId! };
    }

    /** kaws' own resources, tagged for this cluster too (the default tags), and the shared ones. */
    async function notOurs(): Promise<Made> {
        const apiLb = await elbv2.send(new CreateLoadBalancerCommand({ Name: "kaws-test-api", Type: "network", Scheme: "internal", Subnets: subnetIds, Tags: tags({ ...kawsTags, "kaws:role": "api" }) }));
        const nodes = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "kaws-test-nodes", Description: "nodes", VpcId: vpcId, TagSpecifications: [{ ResourceType: "security-group", Tags: tags({ ...kawsTags, "kaws:role": "nodes" }) }] }));
        const etcd = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 1, TagSpecifications: [{ ResourceType: "volume", Tags: tags({ ...kawsTags, "kaws:role": "etcd" }) }] }));
        const sharedSg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "shared-ingress", Description: "shared", VpcId: vpcId, TagSpecifications: [{ ResourceType: "security-group", Tags: tags({ "kubernetes.io/cluster/kaws-test": "shared" }) }] }));
        const sharedSubnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.9.0/24", AvailabilityZone: `${region}a`, TagSpecifications: [{ ResourceType: "subnet", Tags: tags({ "kubernetes.io/cluster/kaws-test": "shared", "kubernetes.io/role/elb": "1" }) }] }));
        return { apiLb: apiLb.LoadBalancers![0].LoadBalancerArn!, nodes: nodes.GroupId!, etcd: etcd.VolumeId!, sharedSg: sharedSg.GroupId!, sharedSubnet: sharedSubnet.Subnet!.SubnetId! };
    }

    /** One of moto's AMIs (by id: listing all of them takes moto most of a second). */
    async function anImage(): Promise<string> {
        const known = "ami-03cf127a";
        const images = (await ec2.send(new DescribeImagesCommand({ ImageIds: [known] })).catch(() => undefined))?.Images ?? [];
        return images.length > 0 ? known : (await ec2.send(new DescribeImagesCommand({}))).Images![0].ImageId!;
    }

    /** Which of these still exist in moto (one listing for all the sets given). */
    async function existing(...made: Made[]): Promise<string[][]> {
        const lbs = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
        const tgs = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
        const classic = (await elb.send(new DescribeClassicLoadBalancersCommand({}))).LoadBalancerDescriptions ?? [];
        const sgs = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
        const enis = (await ec2.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces ?? [];
        const volumes = (await ec2.send(new DescribeVolumesCommand({}))).Volumes ?? [];
        // Filtered: moto lists ~1,200 snapshots of its AMIs as "self" (slow), none of them tagged so.
        const snapshots = (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters: [{ Name: "tag-key", Values: ["ebs.csi.aws.com/cluster"] }] }))).Snapshots ?? [];
        const subnets = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? [];
        const ids = new Set<string>([
            ...lbs.map((x) => x.LoadBalancerArn!), ...tgs.map((x) => x.TargetGroupArn!), ...classic.map((x) => x.LoadBalancerName!), ...sgs.map((x) => x.GroupId!),
            ...enis.map((x) => x.NetworkInterfaceId!), ...volumes.map((x) => x.VolumeId!), ...snapshots.map((x) => x.SnapshotId!), ...subnets.map((x) => x.SubnetId!),
        ]);
        return made.map((m) => Object.entries(m).filter(([, id]) => ids.has(id)).map(([what]) => what));
    }

    it("dry run: lists exactly this cluster's controller leftovers (shared ones reported), deletes nothing", async () => {
        const mine = await leftoversOf(cluster, "abc");
        const theirs = await leftoversOf(other, "xyz");
        const kept = await notOurs();
        const events: string[] = [];
        const result = await janitor(cluster, region, options({ onEvent: (line) => events.push(line) }));
        expect(result.found.map(describeLeftover)).to.deep.equal([
            "load balancer aabcclassic (elb)",
            "load balancer k8s-default-web-abc (elbv2)",
            `listener ${result.found[2].id} (elbv2, TCP:80 of k8s-default-web-abc)`,
            "target group k8s-default-api-abc (elbv2)",
            "target group k8s-default-web-tg-abc (elbv2)",
            `network interface ${mine.eni} (left by a controller)`,
            `security group ${mine.sg} (k8s-elb-aabc)`,
            `volume ${mine.volume} (pv pvc-abc)`,
            `snapshot ${mine.snapshot} (of ${mine.volume})`,
        ]);
        expect(result.found.every((l) => l.ownership === "owned")).to.equal(true);
        expect(result.kept.map((k) => k.leftover.id).sort()).to.deep.equal([kept.sharedSg, kept.sharedSubnet].sort());
        expect(result.kept.every((k) => /^shared: kubernetes.io\/cluster\/kaws-test=shared/.test(k.reason))).to.equal(true);
        expect(result.deleted).to.deep.equal([]);
        expect(result.failed).to.deep.equal([]);
        expect(events.filter((e) => e.startsWith("would delete"))).to.have.length(result.found.length);
        expect(events.some((e) => /^deleted /.test(e))).to.equal(false);
        expect(stub.actions.filter((a) => /^Delete/.test(a))).to.deep.equal([]);
        expect(await existing(mine, theirs, kept)).to.deep.equal([Object.keys(mine), Object.keys(theirs), Object.keys(kept)]);
    });

    it("yes: deletes them in dependency order, waiting for each; other clusters', shared and kaws' own resources stay", async () => {
        const mine = await leftoversOf(cluster, "abc");
        const theirs = await leftoversOf(other, "xyz");
        const kept = await notOurs();
        const events: string[] = [];
        const result = await janitor(cluster, region, options({ yes: true, onEvent: (line) => events.push(line) }));
        expect(result.failed).to.deep.equal([]);
        expect(result.deleted.map(describeLeftover)).to.have.members(result.found.map(describeLeftover));
        const deletions = events.filter((e) => e.startsWith("deleted "));
        expect(deletions).to.include("deleted load balancer k8s-default-web-abc (elbv2)");
        expect(deletions).to.include("deleted load balancer aabcclassic (elb)");
        const order: LeftoverKind[] = ["load balancer", "listener", "target group", "network interface", "security group", "volume", "snapshot"];
        const kinds = deletions.map((e) => order.findIndex((k) => e.replace(/^deleted /, "").startsWith(`${k} `)));
        expect(kinds.every((k) => k >= 0)).to.equal(true);
        expect(kinds, deletions.join("\n")).to.deep.equal([...kinds].sort((a, b) => a - b));
        expect(new Set(kinds).size).to.equal(order.length);
        // AWS received the deletes in that order too: every load balancer before any target group, and so on.
        const deletes = stub.actions.filter((a) => /^Delete/.test(a));
        expect(deletes).to.deep.equal(["DeleteLoadBalancer", "DeleteLoadBalancer", "DeleteTargetGroup", "DeleteTargetGroup", "DeleteNetworkInterface", "DeleteSecurityGroup", "DeleteVolume", "DeleteSnapshot"]);
        expect(await existing(mine, theirs, kept)).to.deep.equal([[], Object.keys(theirs), Object.keys(kept)]);
        // A second run finds nothing left to delete.
        const again = await janitor(cluster, region, options({ yes: true }));
        expect(again.found).to.deep.equal([]);
    });

    it("a security group still in use (DependencyViolation, served by the stub) is retried with backoff, bounded", async () => {
        const mine = await leftoversOf(cluster, "abc");
        stub.busy.set(mine.sg, 2);
        const events: string[] = [];
        const result = await janitor(cluster, region, options({ yes: true, onEvent: (line) => events.push(line) }));
        expect(result.failed).to.deep.equal([]);
        expect(events.filter((e) => e.includes("is still in use (DependencyViolation); retrying"))).to.have.length(2);
        expect(events).to.include(`deleted security group ${mine.sg} (k8s-elb-aabc)`);
        expect(stub.actions.filter((a) => a === "DeleteSecurityGroup")).to.have.length(3);

        const more = await leftoversOf(cluster, "def");
        stub.actions = [];
        stub.busy.set(more.sg, Infinity);
        const stuck = await janitor(cluster, region, options({ yes: true, dependencyRetryAttempts: 4 }));
        expect(stuck.failed.map((f) => f.leftover.id)).to.deep.equal([more.sg]);
        expect(stuck.failed[0].reason).to.match(/^still in use after 4 attempts: EC2 DeleteSecurityGroup failed \(HTTP 400\): DependencyViolation/);
        expect(stub.actions.filter((a) => a === "DeleteSecurityGroup")).to.have.length(4);
        // The run went on: volumes and snapshots after the stuck group were still deleted.
        expect((await existing(more))[0]).to.deep.equal(["sg"]);
    });

    it("an in-use volume is reported, not deleted; an in-use ENI is waited for until it is detached", async () => {
        const mine = await leftoversOf(cluster, "abc");
        const image = await anImage();
        const instance = (await ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, SubnetId: subnetIds[0] }))).Instances![0].InstanceId!;
        await ec2.send(new AttachVolumeCommand({ VolumeId: mine.volume, InstanceId: instance, Device: "/dev/xvdf" }));
        const attachment = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: mine.eni, InstanceId: instance, DeviceIndex: 1 }));
        const events: string[] = [];
        let detached = false;
        const result = await janitor(cluster, region, options({
            yes: true, onEvent: (line) => {
                events.push(line);
                if (line.startsWith(`waiting for network interface ${mine.eni}`) && !detached) {
                    detached = true;
                    setTimeout(() => void ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachment.AttachmentId! })), 100);
                }
            },
        }));
        expect(result.kept.map((k) => k.leftover.id)).to.deep.equal([mine.volume]);
        expect(result.kept[0].reason).to.equal(`volume is in-use (attached to ${instance}); only available volumes are deleted`);
        expect(result.found.map((l) => l.id)).not.to.include(mine.volume);
        expect(events).to.include(`network interface ${mine.eni} (left by a controller) is in-use (attached to ${instance})`);
        expect(events).to.include(`deleted network interface ${mine.eni} (left by a controller)`);
        expect(result.failed).to.deep.equal([]);
        expect(stub.actions).not.to.include("DeleteVolume");
        expect((await existing(mine))[0]).to.deep.equal(["volume"]);
    });

    it("an ENI that stays attached fails after the bounded wait; the rest goes on", async () => {
        const mine = await leftoversOf(cluster, "abc");
        const image = await anImage();
        const instance = (await ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, SubnetId: subnetIds[0] }))).Instances![0].InstanceId!;
        await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: mine.eni, InstanceId: instance, DeviceIndex: 1 }));
        const started = Date.now();
        const result = await janitor(cluster, region, options({ yes: true, waitTimeoutMs: 300 }));
        expect(Date.now() - started).to.be.lessThan(3000);
        expect(result.failed.map((f) => [f.leftover.id, f.reason])).to.deep.equal([[mine.eni, "not detached: still in-use after 0.3 s"]]);
        expect((await existing(mine))[0]).to.deep.equal(["eni"]);
    });

    it("honours the AbortSignal (cancelled while retrying a security group)", async () => {
        const mine = await leftoversOf(cluster, "abc");
        stub.busy.set(mine.sg, Infinity);
        const controller = new AbortController();
        const run = janitor(cluster, region, options({
            yes: true, signal: controller.signal, dependencyRetryDelayMs: 60_000,
            onEvent: (line) => { if (line.includes("retrying")) controller.abort(); },
        }));
        const err = await run.then(() => undefined, (e: unknown) => e);
        expect(err).to.be.instanceOf(CancelledError);
        expect((await existing(mine))[0]).to.have.members(["sg", "volume", "snapshot"]);
    });

    it("errors go through the translator: one line naming the call and the action", async () => {
        await leftoversOf(cluster, "abc");
        stub.deny = "DescribeTags";
        const err = await janitor(cluster, region, options()).then(() => undefined, (e: unknown) => e);
        expect(err).to.be.instanceOf(AwsCallError);
        expect((err as AwsCallError).kind).to.equal("access");
        expect((err as AwsCallError).message).to.match(/^access denied \(AccessDenied\): arn:aws:iam::123456789012:user\/kaws-tester may not call elasticloadbalancing:DescribeTags in eu-west-1/);
        expect((err as AwsCallError).message).not.to.match(/\n/);
        for (const secret of Object.values(fakeKeys)) expect((err as Error).message).not.to.contain(secret);
    });

    it("a denied delete is recorded as failed, naming the delete action, and the run goes on", async () => {
        await leftoversOf(cluster, "abc");
        stub.deny = "DeleteLoadBalancer";
        const result = await janitor(cluster, region, options({ yes: true }));
        const denied = result.failed.filter((f) => f.reason.startsWith("access denied"));
        expect(denied.length).to.be.greaterThan(0);
        for (const { reason } of denied) {
            expect(reason).to.match(/may not call elasticloadbalancing:DeleteLoadBalancer/).and.match(/the janitor deletes only what controllers left/);
            expect(reason).not.to.match(/reads with/);
        }
        expect(result.deleted.length, "the other leftovers are still deleted").to.be.greaterThan(0);
    });

    it("destroy runs it after the infra stack, reports what it removed, then the sweep (exit 5 when something is left)", async () => {
        const mine = await leftoversOf(cluster, "abc");
        stub.busy.set(mine.sg, Infinity);
        const log: string[] = [];
        const stack = (name: string): StackHandle => ({
            name,
            preview: async () => ({}),
            up: async () => ({ changes: {}, outputs: {} }),
            destroy: async () => { log.push(`${name}.destroy`); return { delete: 3 }; },
            outputs: async () => ({ clusterName: { value: cluster, secret: false }, region: { value: region, secret: false } }),
            setConfig: async () => undefined,
            unprotect: async () => [],
        });
        let stdout = "";
        const leftoverJanitor = awsLeftoverJanitor({ endpoint: stub.url, timeoutMs: 5000, maxAttempts: 1, pollMs: 20, dependencyRetryDelayMs: 10, dependencyRetryAttempts: 2 });
        const deps: DriverDeps = {
            stacks: { infra: async () => stack("kaws/dev"), addons: async () => stack("kaws-addons/dev") },
            stdout: (t) => { stdout += t; }, stderr: (t) => { stdout += t; },
            signal: new AbortController().signal,
            waitForApi: async () => ({ attempts: 1, elapsedMs: 0 }),
            janitor: { removeCloudResources: async () => { log.push("kube janitor"); return { services: 0, claims: 0 }; } },
            leftoverJanitor: { removeLeftovers: (...args) => { log.push("leftover janitor"); return leftoverJanitor.removeLeftovers(...args); } },
            sweeper: { leftovers: async () => { log.push("sweep"); return []; } },
        };
        const err = await destroy("dev", deps).then(() => undefined, (e: unknown) => e);
        expect(log).to.deep.equal(["kaws-addons/dev.destroy", "kaws/dev.destroy", "leftover janitor", "sweep"]);
        expect(stdout).to.contain("  deleted load balancer k8s-default-web-abc (elbv2)\n");
        expect(stdout).to.match(/-- remove controller leftovers: 8 of 9 deleted, 1 failed/);
        expect(stdout).to.contain(`  left by a controller, not deleted: security group ${mine.sg}\n`);
        expect(err).to.be.instanceOf(StageFailedError);
        expect((err as StageFailedError).cause).to.be.instanceOf(LeftoversError);
        expect((await existing(mine))[0]).to.deep.equal(["sg"]);
    });
});
