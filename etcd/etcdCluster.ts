import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { etcdBackupPrefix } from "../secrets/encryption";
import { EtcdMemberPlan } from "../plan/etcdPlan";
import { instanceArchitecture } from "../plan/instanceTypes";
import { NodeFile, NodeFiles } from "../nodes/nodeFiles";
import { nodeImageId } from "../nodes/image";
import { nodeLaunchTemplate } from "../nodes/launchTemplate";
import { NodeRole, PolicyStatement } from "../nodes/nodeRole";
import { renderFetchFilesScript } from "../nodes/fileDelivery";
import {
    etcdMemberTag, etcdPaths, etcdPorts, etcdQuotaBytes, renderEtcdBootScript, renderEtcdEnvironment,
    renderEtcdRestoreScript, renderEtcdSnapshotScript, renderEtcdSnapshotService, renderEtcdSnapshotTimer, renderEtcdUnit,
    renderEtcdUserData,
} from "./render";
import { etcdReleaseSha256 } from "../plan/versions";

export interface EtcdSubnet {
    readonly id: pulumi.Input<string>;
    readonly availabilityZone: pulumi.Input<string>;
    /** The subnet's CIDR, known before deployment. */
    readonly cidr: string;
}

export interface EtcdClusterArgs {
    readonly clusterName: string;
    readonly region: string;
    /** Cluster tags for what the member ASGs launch (provider default tags do not reach instances). */
    readonly tags: Readonly<Record<string, string>>;
    /** The member plan (plain: one ENI, volume, ASG and file set each). */
    readonly members: readonly EtcdMemberPlan[];
    /** Private subnets in AZ order; member i lives in subnets[members[i].azIndex]. */
    readonly subnets: readonly EtcdSubnet[];
    readonly securityGroupId: pulumi.Input<string>;
    readonly instanceType: string;
    /** Pre-baked AMI; the pinned Amazon Linux 2023 image when unset. */
    readonly imageId?: string;
    readonly volumeSizeGiB: number;
    readonly snapshotIntervalMinutes: number;
    /** etcd release to install; its checksums must be in versions.ts. */
    readonly etcdVersion: string;
    readonly kmsKeyArn: pulumi.Input<string>;
    readonly assetsBucketName: pulumi.Input<string>;
    readonly assetsBucketArn: pulumi.Input<string>;
    /** The member's certificates and keys under /etc/etcd/pki (Encryption.etcdMemberFiles). */
    readonly memberPkiFiles: (index: number) => NodeFile[];
    /** Private zone receiving etcd-<i> A records. */
    readonly privateZoneId: pulumi.Input<string>;
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
        if (!etcdReleaseSha256[args.etcdVersion]) {
            throw new Error(`etcd ${args.etcdVersion} has no release checksums in components/versions.ts; accepted: ${Object.keys(etcdReleaseSha256).join(" | ")}`);
        }
        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const partition = aws.getPartitionOutput({}, { parent: this });
        const statements = pulumi.all([identity.accountId, partition.partition, args.kmsKeyArn])
            .apply(([account, part, kmsKeyArn]) => etcdNodeStatements(args.clusterName, args.region, `arn:${part}:ec2:${args.region}:${account}`, kmsKeyArn));
        this.role = new NodeRole(`${name}-etcd`, {
            kind: "etcd",
            clusterName: args.clusterName,
            region: args.region,
            assetsBucketArn: args.assetsBucketArn,
            kmsKeyArn: args.kmsKeyArn,
            readPrefixes: ["nodes/etcd-", etcdBackupPrefix],
            writePrefixes: [etcdBackupPrefix],
            statements,
        }, { parent: this });

        const imageId = nodeImageId(args.imageId, instanceArchitecture(args.instanceType), this);
        const peers = args.members.map((m) => ({ name: m.name, ip: m.ip }));

        const groups = args.members.map((member) => {
            const subnet = args.subnets[member.azIndex];
            const memberTags = { Name: `${args.clusterName}-${member.name}`, [etcdMemberTag]: member.name };
            const eni = new aws.ec2.NetworkInterface(`${name}-${member.name}-eni`, {
                subnetId: subnet.id,
                privateIps: [member.ip],
                securityGroups: [args.securityGroupId],
                description: `etcd ${member.name} of ${args.clusterName}: fixed address`,
                tags: memberTags,
            }, { parent: this });
            const volume = new aws.ebs.Volume(`${name}-${member.name}-data`, {
                availabilityZone: subnet.availabilityZone,
                size: args.volumeSizeGiB,
                type: "gp3",
                encrypted: true,
                kmsKeyId: args.kmsKeyArn,
                tags: { ...memberTags, Name: `${args.clusterName}-${member.name}-data` },
            }, { parent: this });
            new aws.route53.Record(`${name}-${member.name}-dns`, {
                zoneId: args.privateZoneId,
                name: member.dnsName,
                type: "A",
                ttl: 60,
                records: [member.ip],
            }, { parent: this });

            const files = new NodeFiles(`${name}-${member.name}`, {
                role: member.name,
                bucket: args.assetsBucketName,
                kmsKeyArn: args.kmsKeyArn,
                files: memberFiles(args, member, peers),
            }, { parent: this });

            const userData = pulumi.output(args.assetsBucketName).apply((bucket) => renderEtcdUserData(
                renderEtcdBootScript({
                    clusterName: args.clusterName,
                    member: { name: member.name, ip: member.ip },
                    subnetCidr: subnet.cidr,
                    peerIps: peers.filter((p) => p.name !== member.name).map((p) => p.ip),
                    etcdVersion: args.etcdVersion,
                    etcdSha256: etcdReleaseSha256[args.etcdVersion],
                }),
                renderFetchFilesScript(bucket, member.name, args.region),
            ));
            const template = nodeLaunchTemplate(`${name}-${member.name}-lt`, {
                role: member.name,
                tags: args.tags,
                imageId,
                instanceType: args.instanceType,
                instanceProfileName: this.role.instanceProfileName,
                securityGroupIds: [args.securityGroupId],
                kmsKeyArn: args.kmsKeyArn,
                rootVolumeSizeGiB: 20,
                userData,
                filesDigest: files.digest,
                imdsHopLimit: 1,
            }, this);

            // One instance, in the member's own subnet (its ENI and volume live in that AZ). EC2 health only:
            // etcd's own health is the cluster's business, and replacing members on an application failure
            // (a lost quorum, a full disk) could take down every member at once without fixing anything.
            const group = new aws.autoscaling.Group(`${name}-${member.name}`, {
                name: `${args.clusterName}-${member.name}`,
                minSize: 1,
                maxSize: 1,
                desiredCapacity: 1,
                vpcZoneIdentifiers: [subnet.id],
                launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
                healthCheckType: "EC2",
                healthCheckGracePeriod: 300,
                // Provider default tags do not reach Auto Scaling groups.
                tags: Object.entries({ ...args.tags, Name: `${args.clusterName}-${member.name}`, "kaws:role": member.name })
                    .map(([key, value]) => ({ key, value, propagateAtLaunch: false })),
            }, { parent: this, dependsOn: [eni, volume, files], ignoreChanges: ["launchTemplate.version"] });
            return pulumi.all([group.name, template.id, template.latestVersion]).apply(([autoScalingGroupName, launchTemplateId, latestLaunchTemplateVersion]) => ({
                member: member.name, ip: member.ip, autoScalingGroupName, launchTemplateId, latestLaunchTemplateVersion,
            }));
        });
        this.memberGroups = pulumi.all(groups);

        this.endpoints = pulumi.output(args.members.map((m) => `https://${m.ip}:${etcdPorts.client}`));
        this.registerOutputs({ endpoints: this.endpoints, memberGroups: this.memberGroups });
    }
}

/** Everything a member receives besides user data: its PKI, etcd's configuration and unit, snapshots, restore. */
function memberFiles(args: EtcdClusterArgs, member: EtcdMemberPlan, peers: { name: string; ip: string }[]): NodeFile[] {
    const snapshotScript = pulumi.all([args.assetsBucketName, args.kmsKeyArn]).apply(([bucket, kmsKeyArn]) => renderEtcdSnapshotScript({
        member: member.name, bucket, region: args.region, kmsKeyArn, prefix: etcdBackupPrefix,
    }));
    return [
        ...args.memberPkiFiles(member.index),
        {
            path: etcdPaths.environment,
            mode: "0600",
            content: renderEtcdEnvironment({
                clusterName: args.clusterName,
                member: { name: member.name, ip: member.ip },
                members: peers,
                quotaBackendBytes: etcdQuotaBytes(args.volumeSizeGiB),
            }),
        },
        { path: etcdPaths.unit, mode: "0600", content: renderEtcdUnit() },
        { path: etcdPaths.snapshotScript, mode: "0700", content: snapshotScript },
        { path: etcdPaths.snapshotService, mode: "0644", content: renderEtcdSnapshotService() },
        { path: etcdPaths.snapshotTimer, mode: "0644", content: renderEtcdSnapshotTimer(args.snapshotIntervalMinutes) },
        { path: etcdPaths.restoreScript, mode: "0700", content: renderEtcdRestoreScript(args.region) },
    ];
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
