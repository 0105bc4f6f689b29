import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ClusterPlan, EtcdMember, bucketPrefixes, holdsState } from "../plan/cluster";
import { ClusterContext, KeyPair } from "../nodes/context";
import { NodeFile } from "../nodes/nodeFiles";
import { buildNodeGroup } from "../nodes/nodeGroup";
import { NodeRole, PolicyStatement } from "../nodes/nodeRole";
import { renderFetchFilesScript } from "../nodes/fileDelivery";
import {
    etcdMemberTag, etcdPaths, etcdQuotaBytes, renderEtcdBootScript, renderEtcdEnvironment, renderEtcdRestoreScript,
    renderEtcdSnapshotScript, renderEtcdSnapshotService, renderEtcdSnapshotTimer, renderEtcdUnit, renderEtcdUserData,
} from "./render";

/** The certificates etcd members hold (the Pki component has this shape): the etcd CA and each member's pair. */
export interface EtcdPki {
    readonly etcdCa: { readonly certPem: pulumi.Input<string> };
    readonly etcdMembers: readonly { readonly server: KeyPair; readonly peer: KeyPair }[];
}

export interface EtcdClusterArgs {
    readonly plan: ClusterPlan;
    readonly context: ClusterContext;
    readonly securityGroupId: pulumi.Input<string>;
    readonly pki: EtcdPki;
}

/** What member `index` receives under /etc/etcd/pki; keys are readable only by the etcd user. */
export function etcdMemberPkiFiles(pki: EtcdPki, index: number): NodeFile[] {
    const member = pki.etcdMembers[index];
    if (!member) throw new Error(`etcdMemberPkiFiles: index ${index} is out of range; accepted: 0..${pki.etcdMembers.length - 1}`);
    const key = (path: string, content: pulumi.Input<string>): NodeFile => ({ path, mode: "0600", owner: "etcd:etcd", content: pulumi.secret(content) });
    return [
        { path: etcdPaths.caCert, mode: "0644", content: pki.etcdCa.certPem },
        { path: etcdPaths.serverCert, mode: "0644", content: member.server.certPem },
        key(etcdPaths.serverKey, member.server.keyPem),
        { path: etcdPaths.peerCert, mode: "0644", content: member.peer.certPem },
        key(etcdPaths.peerKey, member.peer.keyPem),
    ];
}

/** What `kaws` needs to roll a member: its ASG and the launch template version it should run. */
export interface EtcdMemberGroup {
    readonly member: string;
    readonly ip: string;
    readonly autoScalingGroupName: string;
    readonly launchTemplateId: string;
    /** The version a rolled member runs; the ASG keeps the one it had until `kaws` rolls it. */
    readonly latestLaunchTemplateVersion: number;
}

/**
 * The separate etcd cluster. Each member has a stable identity that outlives its instance: a fixed ENI
 * (fixed IP, in certificates and --initial-cluster) and a persistent encrypted data volume, both in one
 * AZ, re-attached at boot by whatever instance its ASG of one runs. Member ASGs never roll by themselves:
 * they ignore launch-template drift, and `kaws` replaces members one at a time, waiting for health.
 */
export class EtcdCluster extends pulumi.ComponentResource {
    readonly role: NodeRole;
    /** https://<fixed ip>:2379 of every member, for kube-apiserver --etcd-servers. */
    readonly endpoints: pulumi.Output<string[]>;
    /** Per member, in index order: the ASG to roll and the launch template version to roll it to. */
    readonly memberGroups: pulumi.Output<EtcdMemberGroup[]>;

    constructor(name: string, args: EtcdClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:etcd:EtcdCluster", name, {}, opts);
        const { plan, context: ctx } = args;
        const etcd = plan.config.etcd;
        const statements = pulumi.all([ctx.account.id, ctx.account.partition, ctx.keyArn])
            .apply(([account, partition, kmsKeyArn]) => etcdNodeStatements(plan.clusterName, plan.region, `arn:${partition}:ec2:${plan.region}:${account}`, kmsKeyArn));
        this.role = new NodeRole(`${name}-etcd`, {
            kind: "etcd",
            plan,
            context: ctx,
            readPrefixes: [`${bucketPrefixes.nodes("etcd-")}`, bucketPrefixes.etcdBackups],
            writePrefixes: [bucketPrefixes.etcdBackups],
            statements,
        }, { parent: this });

        const groups = plan.etcd.members.map((member) => {
            const subnet = ctx.privateSubnets[member.azIndex];
            const memberTags = { Name: `${plan.clusterName}-${member.name}`, [etcdMemberTag]: member.name };
            const eni = new aws.ec2.NetworkInterface(`${name}-${member.name}-eni`, {
                subnetId: subnet.id,
                privateIps: [member.ip],
                securityGroups: [args.securityGroupId],
                description: `etcd ${member.name} of ${plan.clusterName}: fixed address`,
                tags: memberTags,
            }, { parent: this, ...holdsState });
            const volume = new aws.ebs.Volume(`${name}-${member.name}-data`, {
                availabilityZone: subnet.availabilityZone,
                size: etcd.volumeSizeGiB,
                type: "gp3",
                encrypted: true,
                kmsKeyId: ctx.keyArn,
                tags: { ...memberTags, Name: `${plan.clusterName}-${member.name}-data` },
            }, { parent: this, ...holdsState });
            new aws.route53.Record(`${name}-${member.name}-dns`, {
                zoneId: ctx.privateZoneId,
                name: member.dnsName,
                type: "A",
                ttl: 60,
                records: [member.ip],
            }, { parent: this });

            // One instance, in the member's own subnet (its ENI and volume live in that AZ). EC2 health only:
            // etcd's own health is the cluster's business, and replacing members on an application failure
            // (a lost quorum, a full disk) could take down every member at once without fixing anything.
            const group = buildNodeGroup(this, `${name}-${member.name}`, plan, ctx, {
                role: member.name,
                iamRole: this.role,
                files: memberFiles(plan, ctx, args.pki, member),
                userData: (bucket) => renderEtcdUserData(
                    renderEtcdBootScript({
                        clusterName: plan.clusterName,
                        member,
                        subnetCidr: subnet.cidr,
                        peerIps: plan.etcd.members.filter((p) => p.name !== member.name).map((p) => p.ip),
                        etcdVersion: plan.etcd.version,
                        etcdSha256: plan.etcd.sha256,
                    }),
                    renderFetchFilesScript(bucket, member.name, plan.region),
                ),
                instances: { types: [etcd.instanceType], securityGroupIds: [args.securityGroupId], rootVolumeSizeGiB: etcd.rootVolumeSizeGiB, imdsHopLimit: 1 },
                scaling: {
                    args: {
                        minSize: 1,
                        maxSize: 1,
                        desiredCapacity: 1,
                        vpcZoneIdentifiers: [subnet.id],
                        healthCheckType: "EC2",
                        healthCheckGracePeriod: 300,
                    },
                    dependsOn: [eni, volume],
                    ignoreChanges: ["launchTemplate.version"],
                },
            }, { launchTemplate: `${name}-${member.name}-lt` });
            const template = group.launchTemplate;
            return pulumi.all([group.autoScalingGroup.name, template.id, template.latestVersion]).apply(([autoScalingGroupName, launchTemplateId, latestLaunchTemplateVersion]) => ({
                member: member.name, ip: member.ip, autoScalingGroupName, launchTemplateId, latestLaunchTemplateVersion,
            }));
        });
        this.memberGroups = pulumi.all(groups);

        this.endpoints = pulumi.output(plan.etcd.members.map((m) => m.clientUrl));
        this.registerOutputs({ endpoints: this.endpoints, memberGroups: this.memberGroups });
    }
}

/** Everything a member receives besides user data: its PKI, etcd's configuration and unit, snapshots, restore. */
function memberFiles(plan: ClusterPlan, ctx: ClusterContext, pki: EtcdPki, member: EtcdMember): NodeFile[] {
    return [
        ...etcdMemberPkiFiles(pki, member.index),
        {
            path: etcdPaths.environment,
            mode: "0600",
            content: renderEtcdEnvironment({
                clusterName: plan.clusterName,
                member,
                members: plan.etcd.members,
                quotaBackendBytes: etcdQuotaBytes(plan.config.etcd.volumeSizeGiB),
            }),
        },
        { path: etcdPaths.unit, mode: "0600", content: renderEtcdUnit() },
        { path: etcdPaths.snapshotScript, mode: "0700", content: snapshotScript(plan, ctx, member) },
        { path: etcdPaths.snapshotService, mode: "0644", content: renderEtcdSnapshotService() },
        { path: etcdPaths.snapshotTimer, mode: "0644", content: renderEtcdSnapshotTimer(plan.config.etcd.snapshotIntervalMinutes) },
        { path: etcdPaths.restoreScript, mode: "0700", content: renderEtcdRestoreScript(plan.region) },
    ];
}

function snapshotScript(plan: ClusterPlan, ctx: ClusterContext, member: EtcdMember): pulumi.Output<string> {
    return pulumi.all([ctx.bucket.name, ctx.keyArn]).apply(([bucket, kmsKeyArn]) => renderEtcdSnapshotScript({
        member: member.name, bucket, region: plan.region, kmsKeyArn, prefix: bucketPrefixes.etcdBackups,
    }));
}

/**
 * What an etcd node may do in EC2: find its ENI and volume (Describe* supports no resource-level
 * permissions, hence "*"), and attach only etcd member ENIs and volumes of this cluster to only this
 * cluster's etcd instances. Attaching a volume encrypted with the cluster key makes EC2 create a KMS grant
 * on the caller's behalf ("Requirements for EBS encryption"), so the role may create grants on that key,
 * for AWS resources, through EC2 in this region only.
 */
export function etcdNodeStatements(clusterName: string, region: string, ec2ArnPrefix: string, kmsKeyArn: string): PolicyStatement[] {
    const attach = ["ec2:AttachNetworkInterface", "ec2:AttachVolume"];
    const ofCluster = { "aws:ResourceTag/kaws:cluster": clusterName };
    return [
        { Sid: "FindMemberEniAndVolume", Effect: "Allow", Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeVolumes"], Resource: "*" },
        {
            Sid: "AttachMemberEniAndVolume",
            Effect: "Allow",
            Action: attach,
            Resource: [`${ec2ArnPrefix}:network-interface/*`, `${ec2ArnPrefix}:volume/*`],
            Condition: { StringEquals: ofCluster, StringLike: { [`aws:ResourceTag/${etcdMemberTag}`]: "etcd-*" } },
        },
        {
            Sid: "AttachToEtcdInstances",
            Effect: "Allow",
            Action: attach,
            Resource: `${ec2ArnPrefix}:instance/*`,
            Condition: { StringEquals: ofCluster, StringLike: { "aws:ResourceTag/kaws:role": "etcd-*" } },
        },
        {
            Sid: "GrantEc2UseOfClusterKeyForAttach",
            Effect: "Allow",
            Action: ["kms:CreateGrant"],
            Resource: kmsKeyArn,
            Condition: { Bool: { "kms:GrantIsForAWSResource": "true" }, StringEquals: { "kms:ViaService": `ec2.${region}.amazonaws.com` } },
        },
    ];
}
