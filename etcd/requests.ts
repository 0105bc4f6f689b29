import { AwsRequest, ResourceRef, attachVolume, onResources, s3GetEncrypted, s3List, s3PutEncrypted, wildcardOnly } from "../nodes/awsRequests";
import { bucketPrefixes } from "../plan/cluster";
import { NodeRequestScope, nodeRequests } from "../nodes/requests";

/** One etcd member's AWS requests: what its boot, snapshot and restore scripts call, as the etcd role. */
export interface EtcdRequestScope extends NodeRequestScope {
    /** Member name, e.g. etcd-0. */
    readonly member: string;
    readonly eni: ResourceRef;
    readonly volume: ResourceRef;
    /** KMS key of the data volume (the cluster key). */
    readonly volumeKeyArn: string;
    /** Largest snapshot the member uploads: its backend quota. */
    readonly snapshotBytes: number;
}

const bootScript = "kaws-etcd-boot (etcd/boot.sh)";

export function etcdMemberRequests(s: EtcdRequestScope): AwsRequest[] {
    const describe = (action: string): AwsRequest => ({ action, context: {}, source: `${bootScript}: find the member's ENI and volume by tag`, ...wildcardOnly("EC2 Describe actions have no resource type") });
    const snapshotKey = `${bucketPrefixes.etcdBackups}${s.member}/20260101T000000Z.db`;
    return [
        ...nodeRequests(s),
        describe("ec2:DescribeNetworkInterfaces"),
        describe("ec2:DescribeVolumes"),
        ...onResources("ec2:AttachNetworkInterface", [s.instance, s.eni], `${bootScript}: aws ec2 attach-network-interface`),
        ...attachVolume(s, s.instance, s.volume, s.volumeKeyArn, `${bootScript}: aws ec2 attach-volume`),
        ...s3PutEncrypted(s, s.bucketArn, snapshotKey, s.keyArn, s.snapshotBytes, "kaws-etcd-snapshot (etcd/snapshot.sh): aws s3 cp --sse aws:kms"),
        s3List(s.bucketArn, `${bucketPrefixes.etcdBackups}${s.member}/`, "operator lists snapshots before a restore (README)"),
        ...s3GetEncrypted(s, s.bucketArn, snapshotKey, s.keyArn, "kaws-etcd-restore (etcd/restore.sh): aws s3 cp s3://…"),
    ];
}

