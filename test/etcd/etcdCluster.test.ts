import { expect } from "chai";
import * as fs from "fs";
import { Netmask } from "netmask";
import { parse as parseCsv } from "csv-parse/sync";
import { Evaluation, RecordedResource } from "../../automation/offline/engine";
import { evaluate, fixturePath, idOf, named, ofType, roleFiles } from "../harness";

const ENI = "aws:ec2/networkInterface:NetworkInterface";
const VOLUME = "aws:ebs/volume:Volume";
const ASG = "aws:autoscaling/group:Group";
const TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const SUBNET = "aws:ec2/subnet:Subnet";

const cis = parseCsv(fs.readFileSync(fixturePath("cis-k8s-checks.csv"), "utf8"), { columns: true }) as Record<string, string>[];
const cisExpected = (id: string) => cis.find((r) => r.id === id)!.expected;

function members(ev: Evaluation): string[] {
    return ofType(ev, ENI).map((eni) => eni.inputs.tags?.["kaws:etcd-member"] as string | undefined).filter((m): m is string => m !== undefined).sort();
}

function ofMember(ev: Evaluation, type: string, member: string): RecordedResource {
    const found = ofType(ev, type).filter((r) => (type === ASG || type === TEMPLATE
        ? r.inputs.tags?.["kaws:role"] === member || r.inputs.name?.endsWith(`-${member}`)
        : r.inputs.tags?.["kaws:etcd-member"] === member));
    expect(found, `${type} of ${member}`).to.have.length(1);
    return found[0];
}

function subnetById(ev: Evaluation, id: string): RecordedResource {
    const subnet = ofType(ev, SUBNET).find((s) => idOf(s) === id);
    expect(subnet, `subnet ${id}`).to.exist;
    return subnet!;
}

function manifest(ev: Evaluation, role: string): Map<string, { mode: string; owner: string }> {
    return new Map([...roleFiles(ev, role)].filter(([file]) => file !== "/user-data").map(([file, { mode, owner }]) => [file, { mode, owner }]));
}

function policyOf(ev: Evaluation, name: string): { Sid?: string; Action: string[]; Resource: string | string[]; Condition?: any }[] {
    return JSON.parse(named(ev, name).inputs.policy).Statement;
}

describe("EtcdCluster", () => {
    let dev: Evaluation;
    let prod: Evaluation;
    let prodChanged: Evaluation;

    before(async function () {
        this.timeout(60_000);
        dev = await evaluate("dev");
        prod = await evaluate("prod");
        prodChanged = await evaluate("prod", { etcdInstanceType: "m7g.large", etcdSnapshotIntervalMinutes: 15 });
    });

    it("has one member in dev and three in prod, one per AZ round-robin", () => {
        expect(members(dev)).to.deep.equal(["etcd-0"]);
        expect(members(prod)).to.deep.equal(["etcd-0", "etcd-1", "etcd-2"]);
        const zones = members(prod).map((m) => ofMember(prod, VOLUME, m).inputs.availabilityZone);
        expect(new Set(zones).size).to.equal(3);
    });

    it("keeps each member's ENI, data volume and ASG in one AZ and one private subnet", () => {
        for (const ev of [dev, prod]) {
            for (const member of members(ev)) {
                const eni = ofMember(ev, ENI, member);
                const volume = ofMember(ev, VOLUME, member);
                const group = ofMember(ev, ASG, member);
                expect(group.inputs.vpcZoneIdentifiers, member).to.deep.equal([eni.inputs.subnetId]);
                const subnet = subnetById(ev, eni.inputs.subnetId);
                expect(subnet.name, member).to.match(/-private-/);
                expect(volume.inputs.availabilityZone, member).to.equal(subnet.inputs.availabilityZone);
            }
        }
    });

    it("gives each member a fixed IP inside its private subnet, stable when other settings change", () => {
        for (const ev of [dev, prod]) {
            const ips = members(ev).map((m) => ofMember(ev, ENI, m).inputs.privateIps);
            for (const [i, member] of members(ev).entries()) {
                const eni = ofMember(ev, ENI, member);
                expect(ips[i]).to.have.length(1);
                expect(new Netmask(subnetById(ev, eni.inputs.subnetId).inputs.cidrBlock).contains(ips[i][0]), `${member} ${ips[i][0]}`).to.equal(true);
            }
            expect(new Set(ips.map((ip) => ip[0])).size).to.equal(ips.length);
        }
        for (const member of members(prod)) {
            expect(ofMember(prodChanged, ENI, member).inputs.privateIps).to.deep.equal(ofMember(prod, ENI, member).inputs.privateIps);
            expect(ofMember(prodChanged, VOLUME, member).name).to.equal(ofMember(prod, VOLUME, member).name);
        }
        expect(prod.outputs.etcdEndpoints.value).to.deep.equal(members(prod).map((m) => `https://${ofMember(prod, ENI, m).inputs.privateIps[0]}:2379`));
    });

    it("encrypts data volumes (gp3) and root volumes with the cluster key; launch templates require IMDSv2", () => {
        const key = named(prod, "kaws-prod-key");
        const keyArn = `arn:aws:kms:eu-west-1:000000000000:placeholder/${key.name}`;
        for (const member of members(prod)) {
            const volume = ofMember(prod, VOLUME, member);
            expect(volume.inputs).to.include({ encrypted: true, type: "gp3", kmsKeyId: keyArn, size: 20 });
            const template = ofMember(prod, TEMPLATE, member);
            expect(template.inputs.metadataOptions).to.include({ httpTokens: "required", httpPutResponseHopLimit: 1 });
            const root = template.inputs.blockDeviceMappings[0].ebs;
            expect(root).to.include({ encrypted: "true", kmsKeyId: keyArn });
            expect(template.inputs.tags["kaws:role"]).to.equal(member);
            const userData = Buffer.from(template.inputs.userData, "base64").toString("utf8");
            expect(userData).to.match(/^#cloud-config\n/);
            expect(userData).to.not.match(/PRIVATE KEY/);
            expect(userData).to.match(new RegExp(`^ +KAWS_MEMBER=${member}$`, "m"));
        }
    });

    it("puts the ENI and the instances in the etcd security group only", () => {
        const etcdGroup = idOf(ofType(prod, "aws:ec2/securityGroup:SecurityGroup").find((g) => g.name === "kaws-prod-etcd")!);
        for (const member of members(prod)) {
            expect(ofMember(prod, ENI, member).inputs.securityGroups).to.deep.equal([etcdGroup]);
            expect(ofMember(prod, TEMPLATE, member).inputs.vpcSecurityGroupIds).to.deep.equal([etcdGroup]);
        }
    });

    it("runs each member as an ASG of one, EC2 health checks, never rolled by the engine (no refresh, template version drift ignored)", () => {
        for (const member of members(prod)) {
            const group = ofMember(prod, ASG, member);
            expect(group.inputs).to.include({ minSize: 1, maxSize: 1, desiredCapacity: 1, healthCheckType: "EC2" });
            expect(group.inputs.instanceRefresh).to.equal(undefined);
            expect(group.ignoreChanges).to.deep.equal(["launchTemplate.version"]);
            expect(group.inputs.launchTemplate.id).to.equal(idOf(ofMember(prod, TEMPLATE, member)));
            const tags = Object.fromEntries(group.inputs.tags.map((t: { key: string; value: string }) => [t.key, t.value]));
            expect(tags, "cluster tags on the group itself (provider default tags do not reach ASGs)").to.include({ "kubernetes.io/cluster/kaws-prod": "owned", "kaws:cluster": "kaws-prod", "kaws:role": member });
        }
        const groups = prod.outputs.etcdMemberGroups.value as { member: string; autoScalingGroupName: string; launchTemplateId: string }[];
        expect(groups.map((g) => g.member)).to.deep.equal(members(prod));
        expect(groups.map((g) => g.autoScalingGroupName)).to.deep.equal(members(prod).map((m) => `kaws-prod-${m}`));
    });

    it("scopes the etcd role: attach only member ENIs/volumes to etcd instances of this cluster, S3 only under its prefixes", () => {
        const statements = policyOf(prod, "kaws-prod-etcd-policy");
        for (const s of statements) {
            for (const action of s.Action) expect(action, s.Sid).to.not.match(/\*/);
            // The one exception: EC2 Describe* calls support no resource-level permissions.
            if (s.Resource === "*") expect(s.Action.every((a) => a.startsWith("ec2:Describe")), s.Sid).to.equal(true);
        }
        const attach = statements.filter((s) => s.Action.some((a) => a.startsWith("ec2:Attach")));
        expect(attach).to.have.length.greaterThan(0);
        for (const s of attach) {
            expect(s.Condition.StringEquals["aws:ResourceTag/kaws:cluster"], s.Sid).to.equal("kaws-prod");
            expect(Object.values(s.Condition.StringLike), s.Sid).to.deep.equal(["etcd-*"]);
        }
        const resources = attach.flatMap((s) => [s.Resource].flat());
        expect(resources.map((r) => r.split(":")[5].split("/")[0]).sort()).to.deep.equal(["instance", "network-interface", "volume"]);
        const s3 = statements.filter((s) => s.Action.some((a) => a.startsWith("s3:Get") || a.startsWith("s3:Put")));
        const bucket = "arn:aws:s3:eu-west-1:000000000000:placeholder/kaws-prod-assets";
        expect(s3.find((s) => s.Action.includes("s3:GetObject"))!.Resource).to.deep.equal([`${bucket}/nodes/etcd-*`, `${bucket}/backups/etcd/*`]);
        expect(s3.find((s) => s.Action.includes("s3:PutObject"))!.Resource).to.deep.equal([`${bucket}/backups/etcd/*`]);
        expect(ofMember(prod, ENI, "etcd-1").inputs.tags["kaws:etcd-member"]).to.equal("etcd-1");
    });

    it("names members in the private zone of the VPC", () => {
        const zone = ofType(prod, "aws:route53/zone:Zone").find((z) => z.inputs.name === "kaws-prod.internal");
        expect(zone).to.exist;
        expect(zone!.inputs.vpcs).to.deep.equal([{ vpcId: idOf(ofType(prod, "aws:ec2/vpc:Vpc")[0]) }]);
        const records = ofType(prod, "aws:route53/record:Record").filter((r) => r.inputs.zoneId === idOf(zone!) && r.inputs.name.startsWith("etcd-"));
        expect(records.map((r) => [r.inputs.name, r.inputs.type, r.inputs.records])).to.deep.equal(
            members(prod).map((m) => [`${m}.kaws-prod.internal`, "A", ofMember(prod, ENI, m).inputs.privateIps]));
    });

    it("delivers each member's files with CIS modes: config and unit 0600 root:root (1.1.7, 1.1.8), keys for etcd only", () => {
        const mode = cisExpected("1.1.7");
        const owner = cisExpected("1.1.8");
        for (const member of members(prod)) {
            const files = manifest(prod, member);
            for (const file of ["/etc/etcd/etcd.env", "/etc/systemd/system/etcd.service"]) {
                expect(files.get(file), `${member} ${file}`).to.deep.equal({ mode, owner });
            }
            for (const key of ["/etc/etcd/pki/server.key", "/etc/etcd/pki/peer.key"]) {
                expect(files.get(key), `${member} ${key}`).to.deep.equal({ mode: "0600", owner: "etcd:etcd" });
            }
            for (const file of ["/etc/etcd/pki/ca.crt", "/etc/systemd/system/kaws-etcd-snapshot.timer", "/usr/local/sbin/kaws-etcd-snapshot", "/usr/local/sbin/kaws-etcd-restore"]) {
                expect(files.has(file), `${member} ${file}`).to.equal(true);
            }
        }
    });

    it("snapshots every configured interval into the prefix the bucket's lifecycle rule expires", () => {
        const file = (ev: Evaluation, nodePath: string) => roleFiles(ev, "etcd-0").get(nodePath)!.content;
        expect(file(prod, "/etc/systemd/system/kaws-etcd-snapshot.timer")).to.match(/^OnUnitActiveSec=30min$/m);
        expect(file(prodChanged, "/etc/systemd/system/kaws-etcd-snapshot.timer")).to.match(/^OnUnitActiveSec=15min$/m);
        // The script uploads to "s3://$KAWS_BUCKET/$KAWS_PREFIX$KAWS_MEMBER/$stamp.db"; its header sets the prefix and member.
        const snapshot = file(prod, "/usr/local/sbin/kaws-etcd-snapshot");
        expect(snapshot).to.contain('"s3://$KAWS_BUCKET/$KAWS_PREFIX$KAWS_MEMBER/$stamp.db"');
        const header = /^KAWS_PREFIX=(\S+)$/m.exec(snapshot);
        expect(header).to.not.equal(null);
        expect(snapshot).to.match(/^KAWS_MEMBER=etcd-0$/m);
        const destination = [header![0], `${header![1]}etcd-0/`];
        const rules = ofType(prod, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[0].inputs.rules as { filter: { prefix: string }; expiration?: { days?: number } }[];
        const retention = rules.find((r) => r.filter.prefix !== "" && destination![1].startsWith(r.filter.prefix));
        expect(retention, `a lifecycle rule covering ${destination![1]}`).to.exist;
        expect(retention!.expiration!.days).to.equal(7);
    });
});
