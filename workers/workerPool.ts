import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Taint } from "../plan/config";
import { ClusterPlan, WorkerPoolPlan, bucketPrefixes } from "../plan/cluster";
import { autoscalerOwnerTag } from "../plan/tags";
import { ClusterContext } from "../nodes/context";
import { NodeFile, NodeFiles } from "../nodes/nodeFiles";
import { buildNodeGroup } from "../nodes/nodeGroup";
import { NodeRole } from "../nodes/nodeRole";
import { ecrPullStatements } from "../nodes/policies";
import { kubeletNodeFiles } from "../nodes/kubeletFiles";
import { kubeletPaths } from "../nodes/kubelet";
import { kubernetesNodeUserData, noRoleSteps } from "../nodes/boot";

/** How long a terminating worker waits for its drain (node-termination-handler's grace plus margin). */
export const drainTimeoutSeconds = 300;

/** Workers only pull images (the EBS CSI node plugin needs no AWS permission). */
export const workerStatements = ecrPullStatements;

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
    readonly plan: ClusterPlan;
    readonly context: ClusterContext;
    /** The pool's plan (plain: it shapes the ASG). */
    readonly pool: WorkerPoolPlan;
    readonly securityGroupIds: pulumi.Input<string>[];
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
    readonly terminationHook: aws.autoscaling.LifecycleHook;

    constructor(name: string, args: WorkerPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:workers:WorkerPool", name, {}, opts);
        const { plan, context: ctx } = args;
        const pool = args.pool.config;
        const role = args.pool.role;

        this.role = new NodeRole(`${name}-${role}`, {
            kind: "worker",
            plan,
            context: ctx,
            readPrefixes: [`${bucketPrefixes.nodes(role)}/`],
            statements: pulumi.all([ctx.account.id, ctx.account.partition]).apply(([accountId, partition]) =>
                workerStatements({ partition, region: plan.region, accountId })),
        }, { parent: this });

        const files: NodeFile[] = [
            { path: kubeletPaths.clientCa, mode: "0600", content: ctx.clusterCaCertPem },
            ...kubeletNodeFiles(plan, ctx, { server: plan.nodeApi.endpoint, nodeLabels: args.pool.nodeLabels, taints: pool.taints, pins: args.pool.pins }),
        ];
        const group = buildNodeGroup(this, `${name}-${role}`, plan, ctx, {
            role,
            iamRole: this.role,
            files,
            // The pool's own release (it may lag the control plane within the skew policy: plan/config.ts skewProblem).
            userData: kubernetesNodeUserData(plan, role, noRoleSteps, args.pool.pins),
            instances: { types: pool.instanceTypes, securityGroupIds: args.securityGroupIds, rootVolumeSizeGiB: pool.rootVolumeSizeGiB, imdsHopLimit: pool.podsNeedImds ? 2 : 1 },
            scaling: {
                args: {
                    vpcZoneIdentifiers: ctx.privateSubnets.map((s) => s.id),
                    minSize: pool.minSize,
                    maxSize: pool.maxSize,
                    desiredCapacity: pool.desiredSize,
                    capacityRebalance: true,
                    healthCheckType: "EC2",
                    healthCheckGracePeriod: 300,
                    defaultInstanceWarmup: 300,
                    instanceRefresh: {
                        strategy: "Rolling",
                        // Pauses after a fifth and after half of the pool, so a node image or kubelet that does not work
                        // shows (and the upgrade's gate can stop the run) before the whole pool has rolled.
                        preferences: { minHealthyPercentage: 90, maxHealthyPercentage: 110, skipMatching: true, instanceWarmup: "300", checkpointPercentages: [20, 50, 100], checkpointDelay: "300" },
                    },
                    waitForCapacityTimeout: "0",
                },
                instancesDistribution: {
                    onDemandBaseCapacity: pool.onDemandBaseCapacity,
                    onDemandPercentageAboveBaseCapacity: pool.onDemandPercentageAboveBase,
                    onDemandAllocationStrategy: "prioritized",
                    spotAllocationStrategy: "price-capacity-optimized",
                },
                tags: autoscalerTags(plan.clusterName, args.pool.nodeLabels, pool.taints),
                ignoreChanges: ["desiredCapacity"],
            },
        });
        this.files = group.files;
        this.launchTemplate = group.launchTemplate;
        this.autoScalingGroup = group.autoScalingGroup;
        // Instance refresh, scale-in and rebalancing wait here until node-termination-handler has drained the
        // node (it completes the action); if it never does, the instance goes after the timeout anyway.
        this.terminationHook = new aws.autoscaling.LifecycleHook(`${name}-${role}-drain`, {
            name: "kaws-drain",
            autoscalingGroupName: this.autoScalingGroup.name,
            lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
            heartbeatTimeout: drainTimeoutSeconds,
            defaultResult: "CONTINUE",
        }, { parent: this });

        this.registerOutputs({ autoScalingGroupName: this.autoScalingGroup.name, roleArn: this.role.role.arn });
    }
}
