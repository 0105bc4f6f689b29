import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Taint, WorkerPoolConfig } from "../plan/config";
import { NodeFile, NodeFiles } from "../nodes/nodeFiles";
import { NodeRole } from "../nodes/nodeRole";
import { nodeLaunchTemplate } from "../nodes/launchTemplate";
import { nodeImageId } from "../nodes/image";
import { instanceArchitecture } from "../plan/instanceTypes";
import { autoscalerOwnerTag, workerStatements } from "../controlPlane/policies";
import { kubeletNodeFiles } from "../nodes/kubeletFiles";
import { al2023, ecrCredentialProvider, pinsFor } from "../plan/versions";
import { kubeletPaths } from "../nodes/kubelet";
import { rolePrefix } from "../nodes/fileDelivery";
import { renderNodeUserData } from "../nodes/boot";

/** Node role of a pool: worker-<pool>. */
export function workerRole(poolName: string): string {
    return `worker-${poolName}`;
}

/** Label every node of a pool carries (kubelets may not set node-role.kubernetes.io/* on themselves). */
export const poolLabel = "kaws.io/pool";

/**
 * ASG tags the cluster-autoscaler reads: auto-discovery (enabled + this cluster), and what a node of the
 * pool would look like, so it can scale a pool up from zero for pods that need its labels or tolerate its taints.
 */
export function autoscalerTags(clusterName: string, labels: Readonly<Record<string, string>>, taints: readonly Taint[]): Record<string, string> {
    const tags: Record<string, string> = {
        "k8s.io/cluster-autoscaler/enabled": "true",
        [autoscalerOwnerTag(clusterName)]: "owned",
    };
    for (const [key, value] of Object.entries(labels)) tags[`k8s.io/cluster-autoscaler/node-template/label/${key}`] = value;
    for (const taint of taints) tags[`k8s.io/cluster-autoscaler/node-template/taint/${taint.key}`] = `${taint.value ?? ""}:${taint.effect}`;
    return tags;
}

export interface WorkerPoolArgs {
    readonly clusterName: string;
    readonly region: string;
    /** Tags for the instances and volumes (the cluster tag lets the cloud controller find them). */
    readonly tags: Readonly<Record<string, string>>;
    /** The pool as configured (plain: it shapes the ASG). */
    readonly pool: WorkerPoolConfig;
    readonly kubernetesVersion: string;
    readonly clusterDomain: string;
    readonly clusterDnsIp: string;
    /** Pre-baked AMI; the pinned Amazon Linux 2023 release when unset. */
    readonly imageId?: string;
    readonly subnetIds: pulumi.Input<string>[];
    readonly securityGroupIds: pulumi.Input<string>[];
    /** https URL of the API load balancer: kubelets bootstrap and talk through it. */
    readonly apiEndpoint: pulumi.Input<string>;
    readonly kmsKeyArn: pulumi.Input<string>;
    readonly assetsBucketName: pulumi.Input<string>;
    readonly assetsBucketArn: pulumi.Input<string>;
    readonly clusterCaCertPem: pulumi.Input<string>;
    readonly bootstrapTokenId: pulumi.Input<string>;
    readonly bootstrapTokenSecret: pulumi.Input<string>;
}

/**
 * One worker pool: an ASG with a mixed instances policy (on-demand base, spot share above it, spot
 * chosen price-capacity-optimized, capacity rebalancing), rolling instance refresh, cluster-autoscaler
 * discovery tags, and nodes that join by TLS bootstrapping. The stack never tracks individual nodes, so
 * its size does not depend on the pool's size.
 */
export class WorkerPool extends pulumi.ComponentResource {
    readonly role: NodeRole;
    readonly files: NodeFiles;
    readonly launchTemplate: aws.ec2.LaunchTemplate;
    readonly autoScalingGroup: aws.autoscaling.Group;

    constructor(name: string, args: WorkerPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:workers:WorkerPool", name, {}, opts);
        const pool = args.pool;
        const role = workerRole(pool.name);
        const pins = pinsFor(args.kubernetesVersion);
        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const partition = aws.getPartitionOutput({}, { parent: this });

        this.role = new NodeRole(`${name}-${role}`, {
            kind: "worker",
            clusterName: args.clusterName,
            region: args.region,
            assetsBucketArn: args.assetsBucketArn,
            kmsKeyArn: args.kmsKeyArn,
            readPrefixes: [`${rolePrefix(role)}/`],
            statements: pulumi.all([identity.accountId, partition.partition]).apply(([accountId, part]) =>
                workerStatements({ partition: part, region: args.region, accountId })),
        }, { parent: this });

        const labels = { ...pool.labels, [poolLabel]: pool.name };
        const files: NodeFile[] = [
            { path: kubeletPaths.clientCa, mode: "0600", content: args.clusterCaCertPem },
            ...kubeletNodeFiles({
                clusterName: args.clusterName,
                server: args.apiEndpoint,
                clusterCaCertPem: args.clusterCaCertPem,
                bootstrapTokenId: args.bootstrapTokenId,
                bootstrapTokenSecret: args.bootstrapTokenSecret,
                clusterDnsIp: args.clusterDnsIp,
                clusterDomain: args.clusterDomain,
                nodeLabels: labels,
                taints: pool.taints,
                sandboxImage: `registry.k8s.io/pause:${pins.pause}`,
            }),
        ];
        this.files = new NodeFiles(`${name}-${role}`, { role, bucket: args.assetsBucketName, kmsKeyArn: args.kmsKeyArn, files }, { parent: this });

        const userData = pulumi.output(args.assetsBucketName).apply((bucket) => renderNodeUserData({
            role,
            bucket,
            region: args.region,
            kubernetesVersion: args.kubernetesVersion,
            criToolsVersion: pins.criTools,
            al2023Release: al2023.release,
            ecrCredentialProvider,
        }));
        this.launchTemplate = nodeLaunchTemplate(`${name}-${role}`, {
            role,
            tags: args.tags,
            imageId: nodeImageId(args.imageId, instanceArchitecture(pool.instanceTypes[0]), this),
            instanceProfileName: this.role.instanceProfileName,
            securityGroupIds: args.securityGroupIds,
            kmsKeyArn: args.kmsKeyArn,
            rootVolumeSizeGiB: pool.rootVolumeSizeGiB,
            userData,
            filesDigest: this.files.digest,
            imdsHopLimit: pool.podsNeedImds ? 2 : 1,
        }, this);

        const tags = { ...args.tags, Name: `${args.clusterName}-${role}`, "kaws:role": role, ...autoscalerTags(args.clusterName, labels, pool.taints) };
        this.autoScalingGroup = new aws.autoscaling.Group(`${name}-${role}`, {
            name: `${args.clusterName}-${role}`,
            vpcZoneIdentifiers: args.subnetIds,
            minSize: pool.minSize,
            maxSize: pool.maxSize,
            desiredCapacity: pool.desiredSize,
            capacityRebalance: true,
            mixedInstancesPolicy: {
                instancesDistribution: {
                    onDemandBaseCapacity: pool.onDemandBaseCapacity,
                    onDemandPercentageAboveBaseCapacity: pool.onDemandPercentageAboveBase,
                    onDemandAllocationStrategy: "prioritized",
                    spotAllocationStrategy: "price-capacity-optimized",
                },
                launchTemplate: {
                    launchTemplateSpecification: { launchTemplateId: this.launchTemplate.id, version: this.launchTemplate.latestVersion.apply(String) },
                    overrides: pool.instanceTypes.map((instanceType) => ({ instanceType })),
                },
            },
            healthCheckType: "EC2",
            healthCheckGracePeriod: 300,
            defaultInstanceWarmup: 300,
            instanceRefresh: {
                strategy: "Rolling",
                preferences: { minHealthyPercentage: 90, maxHealthyPercentage: 110, skipMatching: true, instanceWarmup: "300" },
            },
            waitForCapacityTimeout: "0",
            tags: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: false })),
        }, { parent: this, dependsOn: [this.files], ignoreChanges: ["desiredCapacity"] });

        this.registerOutputs({ autoScalingGroupName: this.autoScalingGroup.name, roleArn: this.role.role.arn });
    }
}
