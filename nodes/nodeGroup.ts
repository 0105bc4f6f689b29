import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ClusterPlan, nodeGroupName } from "../plan/cluster";
import { instanceArchitecture, isBurstable } from "../plan/instanceTypes";
import { ClusterContext } from "./context";
import { nodeImageId } from "./image";
import { withFilesDigest } from "./cloudInit";
import { NodeFile, NodeFiles } from "./nodeFiles";
import { NodeRole } from "./nodeRole";

export interface NodeGroupInstances {
    /** One type: the launch template names it. Several: the group's mixed instances policy picks (plain). */
    readonly types: readonly string[];
    readonly securityGroupIds: pulumi.Input<string>[];
    readonly rootVolumeSizeGiB: number;
    /** 1 keeps instance metadata away from pods; 2 lets pods that need IMDS reach it. */
    readonly imdsHopLimit: 1 | 2;
}

/** The Auto Scaling group's own settings; the builder adds its name, launch template, tags and dependencies. */
export interface NodeGroupScaling {
    readonly args: Omit<aws.autoscaling.GroupArgs, "name" | "launchTemplate" | "mixedInstancesPolicy" | "tags">;
    /** Spread over several instance types with this distribution (workers); otherwise one launch template. */
    readonly instancesDistribution?: aws.types.input.autoscaling.GroupMixedInstancesPolicyInstancesDistribution;
    readonly tags?: Readonly<Record<string, string>>;
    readonly dependsOn?: pulumi.Resource[];
    readonly ignoreChanges?: string[];
}

export interface NodeGroupArgs {
    /** Node role: controlplane, worker-<pool> or etcd-<i>; names the files' prefix and the kaws:role tag. */
    readonly role: string;
    /** The IAM role its instances run as (etcd members share one). */
    readonly iamRole: NodeRole;
    /** Everything its nodes receive besides user data. */
    readonly files: readonly NodeFile[];
    /** Its user data, given the assets bucket name. */
    readonly userData: (bucket: string) => string;
    readonly instances: NodeGroupInstances;
    readonly scaling: NodeGroupScaling;
}

export interface NodeGroup {
    readonly files: NodeFiles;
    readonly launchTemplate: aws.ec2.LaunchTemplate;
    readonly autoScalingGroup: aws.autoscaling.Group;
}

/**
 * One group of identical nodes, as every kaws node kind is built: its files in the assets bucket, its
 * launch template (carrying the files' digest, so changed files roll the nodes), and its Auto Scaling
 * group, tagged for the cluster (provider default tags do not reach groups). The caller owns the IAM role
 * and the group's scaling policy. Children are the caller's: `name` is the resources' common name.
 */
export function buildNodeGroup(parent: pulumi.Resource, name: string, plan: ClusterPlan, ctx: ClusterContext, args: NodeGroupArgs, names: { launchTemplate?: string } = {}): NodeGroup {
    const files = new NodeFiles(name, { role: args.role, bucket: ctx.bucket.name, kmsKeyArn: ctx.keyArn, files: args.files }, { parent });
    const mixed = args.scaling.instancesDistribution !== undefined;
    const launchTemplate = nodeLaunchTemplate(names.launchTemplate ?? name, plan, ctx, args, files.digest, parent);
    const version = launchTemplate.latestVersion.apply(String);
    const tags = { ...plan.tags, Name: nodeGroupName(plan.clusterName, args.role), "kaws:role": args.role, ...args.scaling.tags };
    const autoScalingGroup = new aws.autoscaling.Group(name, {
        ...args.scaling.args,
        name: nodeGroupName(plan.clusterName, args.role),
        ...(mixed
            ? {
                mixedInstancesPolicy: {
                    instancesDistribution: args.scaling.instancesDistribution,
                    launchTemplate: {
                        launchTemplateSpecification: { launchTemplateId: launchTemplate.id, version },
                        overrides: args.instances.types.map((instanceType) => ({ instanceType })),
                    },
                },
            }
            : { launchTemplate: { id: launchTemplate.id, version } }),
        tags: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: false })),
    }, { parent, dependsOn: [...(args.scaling.dependsOn ?? []), files], ignoreChanges: args.scaling.ignoreChanges });
    return { files, launchTemplate, autoScalingGroup };
}

/** The launch template every kaws node uses: IMDSv2 only, encrypted gp3 root with the cluster key, no public IP. */
function nodeLaunchTemplate(name: string, plan: ClusterPlan, ctx: ClusterContext, args: NodeGroupArgs, filesDigest: pulumi.Output<string>, parent: pulumi.Resource): aws.ec2.LaunchTemplate {
    // Provider default tags do not reach what a launch template launches.
    const tags = { ...plan.tags, Name: nodeGroupName(plan.clusterName, args.role), "kaws:role": args.role };
    const mixed = args.scaling.instancesDistribution !== undefined;
    return new aws.ec2.LaunchTemplate(name, {
        imageId: nodeImageId(plan.config.imageId, instanceArchitecture(args.instances.types[0]), parent),
        instanceType: mixed ? undefined : args.instances.types[0],
        iamInstanceProfile: { name: args.iamRole.instanceProfileName },
        vpcSecurityGroupIds: args.instances.securityGroupIds,
        userData: pulumi.all([ctx.bucket.name.apply(args.userData), filesDigest]).apply(([text, digest]) => Buffer.from(withFilesDigest(text, digest), "utf8").toString("base64")),
        ebsOptimized: "true",
        metadataOptions: {
            httpEndpoint: "enabled",
            httpTokens: "required",
            httpPutResponseHopLimit: args.instances.imdsHopLimit,
            instanceMetadataTags: "disabled",
        },
        blockDeviceMappings: [{
            deviceName: "/dev/xvda",
            ebs: {
                volumeType: "gp3",
                volumeSize: args.instances.rootVolumeSizeGiB,
                encrypted: "true",
                kmsKeyId: ctx.keyArn,
                deleteOnTermination: "true",
            },
        }],
        monitoring: { enabled: plan.config.nodes.detailedMonitoring },
        // A mixed group shares one template, so only a group of burstable types alone can carry a credit mode.
        creditSpecification: args.instances.types.every(isBurstable) ? { cpuCredits: plan.config.nodes.cpuCredits } : undefined,
        tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({ resourceType, tags })),
        tags: { "kaws:role": args.role },
        updateDefaultVersion: true,
    }, { parent });
}
