import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { NodeFile, NodeFiles } from "../nodes/nodeFiles";
import { NodeRole } from "../nodes/nodeRole";
import { nodeLaunchTemplate } from "../nodes/launchTemplate";
import { nodeImageId } from "../nodes/image";
import { instanceArchitecture } from "../plan/instanceTypes";
import { controlPlaneStatements } from "./policies";
import { kubeletNodeFiles } from "../nodes/kubeletFiles";
import { al2023, ecrCredentialProvider, pinsFor } from "../plan/versions";
import { renderKubeconfig } from "../secrets/kubeconfig";
import { rolePrefix } from "../nodes/fileDelivery";
import {
    admissionConfiguration, apiServerPod, auditPolicy, authenticationConfiguration, controllerManagerPod, controlPlanePaths,
    ControlPlaneSpec, localApiServer, renderYaml, schedulerPod,
} from "./render";
import { controlPlaneNodeLabel } from "../addons/objects";
import { excludeFromLoadBalancersLabel } from "../nodes/kubelet";
import { bootPaths, renderMarkControlPlaneScript, renderMarkControlPlaneUnit, renderNodeUserData } from "../nodes/boot";

export const controlPlaneRole = "controlplane";

/** Label and taint of control-plane nodes (the add-ons that hold AWS permissions select them). */
export const controlPlaneNodeRole = "node-role.kubernetes.io/control-plane";

/** A control-plane component's client identity for its kubeconfig. */
export interface ClientCredentialInput {
    readonly certPem: pulumi.Input<string>;
    readonly keyPem: pulumi.Input<string>;
}

export interface ControlPlaneArgs {
    readonly clusterName: string;
    readonly region: string;
    /** Tags for the instances and volumes (the cluster tag lets the cloud controller find them). */
    readonly tags: Readonly<Record<string, string>>;
    /** Kubernetes patch release (plain: it picks images and packages). */
    readonly kubernetesVersion: string;
    readonly serviceCidr: string;
    readonly clusterDomain: string;
    /** ClusterIP of the cluster DNS Service. */
    readonly clusterDnsIp: string;
    /** Instances (plain: it shapes the rolling-update settings). */
    readonly count: number;
    readonly instanceType: string;
    /** Pre-baked AMI; the pinned Amazon Linux 2023 release when unset. */
    readonly imageId?: string;
    readonly vpcId: pulumi.Input<string>;
    /** Private subnets, one per AZ: the ASG spreads instances across them. */
    readonly subnetIds: pulumi.Input<string>[];
    readonly securityGroupIds: pulumi.Input<string>[];
    /** The API load balancer's target group the ASG registers instances with. */
    readonly targetGroupArn: pulumi.Input<string>;
    /** etcd client URLs (plain: they are in the static pod manifest). */
    readonly etcdEndpoints: readonly string[];
    readonly kmsKeyArn: pulumi.Input<string>;
    readonly assetsBucketName: pulumi.Input<string>;
    readonly assetsBucketArn: pulumi.Input<string>;
    readonly clusterCaCertPem: pulumi.Input<string>;
    /** PKI under /etc/kubernetes/pki and the encryption config, from the Encryption component. */
    readonly pkiFiles: readonly NodeFile[];
    readonly controllerManagerCredentials: ClientCredentialInput;
    readonly schedulerCredentials: ClientCredentialInput;
    readonly bootstrapTokenId: pulumi.Input<string>;
    readonly bootstrapTokenSecret: pulumi.Input<string>;
    /** Whether the role carries the cluster-autoscaler permissions (plain: it shapes the policy). */
    readonly clusterAutoscaler: boolean;
}

/**
 * Instance-refresh preferences that replace at most one instance at a time. One instance: launch the
 * replacement first (the API stays up). Several: keep all but one healthy (the healthy count is rounded up).
 */
export function oneAtATime(count: number): { minHealthyPercentage: number; maxHealthyPercentage: number; checkpointPercentages: number[] } {
    if (!Number.isInteger(count) || count < 1) throw new Error(`oneAtATime: count must be a positive integer, got ${count}`);
    const checkpointPercentages = [...Array(count).keys()].map((i) => Math.min(100, Math.ceil(((i + 1) * 100) / count)));
    if (count === 1) return { minHealthyPercentage: 100, maxHealthyPercentage: 200, checkpointPercentages };
    return { minHealthyPercentage: Math.floor((100 * (count - 1)) / count), maxHealthyPercentage: 100, checkpointPercentages };
}

/**
 * The control plane: an ASG of identical nodes across the private subnets, registered with the API load
 * balancer's target group (its health check routes traffic) and replaced only on EC2 health. Each node runs kubelet and containerd, and
 * kube-apiserver, kube-controller-manager and kube-scheduler as static pods talking to 127.0.0.1:6443.
 */
export class ControlPlane extends pulumi.ComponentResource {
    readonly role: NodeRole;
    readonly files: NodeFiles;
    readonly launchTemplate: aws.ec2.LaunchTemplate;
    readonly autoScalingGroup: aws.autoscaling.Group;

    constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:controlplane:ControlPlane", name, {}, opts);
        const pins = pinsFor(args.kubernetesVersion);
        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const partition = aws.getPartitionOutput({}, { parent: this });

        const statements = pulumi.all([identity.accountId, partition.partition, args.vpcId, args.kmsKeyArn])
            .apply(([accountId, part, vpcId, kmsKeyArn]) => controlPlaneStatements({
                clusterName: args.clusterName, partition: part, region: args.region, accountId, vpcId, kmsKeyArn,
            }, args.clusterAutoscaler));
        this.role = new NodeRole(`${name}-${controlPlaneRole}`, {
            kind: "controlplane",
            clusterName: args.clusterName,
            region: args.region,
            assetsBucketArn: args.assetsBucketArn,
            kmsKeyArn: args.kmsKeyArn,
            readPrefixes: [`${rolePrefix(controlPlaneRole)}/`],
            statements,
        }, { parent: this });

        const spec: ControlPlaneSpec = {
            kubernetesVersion: args.kubernetesVersion,
            clusterName: args.clusterName,
            serviceCidr: args.serviceCidr,
            clusterDomain: args.clusterDomain,
            etcdEndpoints: args.etcdEndpoints,
        };
        const kubeconfig = (userName: string, credential: ClientCredentialInput) => pulumi.secret(
            pulumi.all([args.clusterCaCertPem, credential.certPem, credential.keyPem]).apply(([caCertPem, clientCertPem, clientKeyPem]) =>
                renderKubeconfig({ clusterName: args.clusterName, server: localApiServer, caCertPem, userName, clientCertPem, clientKeyPem })));
        const p = controlPlanePaths;
        const files: NodeFile[] = [
            ...args.pkiFiles,
            { path: p.apiServerManifest, mode: "0600", content: renderYaml(apiServerPod(spec)) },
            { path: p.controllerManagerManifest, mode: "0600", content: renderYaml(controllerManagerPod(spec)) },
            { path: p.schedulerManifest, mode: "0600", content: renderYaml(schedulerPod(spec)) },
            { path: p.controllerManagerKubeconfig, mode: "0600", content: kubeconfig("system:kube-controller-manager", args.controllerManagerCredentials) },
            { path: p.schedulerKubeconfig, mode: "0600", content: kubeconfig("system:kube-scheduler", args.schedulerCredentials) },
            { path: p.authenticationConfig, mode: "0600", content: renderYaml(authenticationConfiguration()) },
            { path: p.admissionConfig, mode: "0600", content: renderYaml(admissionConfiguration()) },
            { path: p.auditPolicy, mode: "0600", content: renderYaml(auditPolicy()) },
            ...kubeletNodeFiles({
                clusterName: args.clusterName,
                server: localApiServer,
                clusterCaCertPem: args.clusterCaCertPem,
                bootstrapTokenId: args.bootstrapTokenId,
                bootstrapTokenSecret: args.bootstrapTokenSecret,
                clusterDnsIp: args.clusterDnsIp,
                clusterDomain: args.clusterDomain,
                // Service load balancers neither target control-plane nodes nor open NodePorts to them (as kubeadm does).
                nodeLabels: { [controlPlaneNodeLabel.key]: controlPlaneNodeLabel.value, [excludeFromLoadBalancersLabel]: "" },
                taints: [{ key: controlPlaneNodeRole, effect: "NoSchedule" }],
                sandboxImage: `registry.k8s.io/pause:${pins.pause}`,
            }),
            { path: bootPaths.markControlPlaneScript, mode: "0700", content: renderMarkControlPlaneScript() },
            { path: bootPaths.markControlPlaneUnit, mode: "0600", content: renderMarkControlPlaneUnit() },
        ];
        this.files = new NodeFiles(`${name}-${controlPlaneRole}`, {
            role: controlPlaneRole,
            bucket: args.assetsBucketName,
            kmsKeyArn: args.kmsKeyArn,
            files,
        }, { parent: this });

        const userData = pulumi.output(args.assetsBucketName).apply((bucket) => renderNodeUserData({
            role: controlPlaneRole,
            bucket,
            region: args.region,
            kubernetesVersion: args.kubernetesVersion,
            criToolsVersion: pins.criTools,
            al2023Release: al2023.release,
            ecrCredentialProvider,
        }));
        this.launchTemplate = nodeLaunchTemplate(`${name}-${controlPlaneRole}`, {
            role: controlPlaneRole,
            tags: args.tags,
            imageId: nodeImageId(args.imageId, instanceArchitecture(args.instanceType), this),
            instanceType: args.instanceType,
            instanceProfileName: this.role.instanceProfileName,
            securityGroupIds: args.securityGroupIds,
            kmsKeyArn: args.kmsKeyArn,
            rootVolumeSizeGiB: 50,
            userData,
            filesDigest: this.files.digest,
            // Pods on the control plane must not borrow its instance role; AWS-calling add-ons there use the host network.
            imdsHopLimit: 1,
        }, this);

        const rolling = oneAtATime(args.count);
        this.autoScalingGroup = new aws.autoscaling.Group(`${name}-${controlPlaneRole}`, {
            name: `${args.clusterName}-${controlPlaneRole}`,
            vpcZoneIdentifiers: args.subnetIds,
            minSize: args.count,
            desiredCapacity: args.count,
            maxSize: args.count + 1,
            launchTemplate: { id: this.launchTemplate.id, version: this.launchTemplate.latestVersion.apply(String) },
            targetGroupArns: [args.targetGroupArn],
            // EC2 health, not ELB: /readyz includes etcd, so an etcd outage or the documented restore (every
            // member stopped) would make ELB health replace every control-plane node at once. The target
            // group's own health check still keeps traffic off a node whose API server is not ready.
            healthCheckType: "EC2",
            healthCheckGracePeriod: 900,
            defaultInstanceWarmup: 300,
            instanceRefresh: {
                strategy: "Rolling",
                preferences: {
                    minHealthyPercentage: rolling.minHealthyPercentage,
                    maxHealthyPercentage: rolling.maxHealthyPercentage,
                    checkpointPercentages: rolling.checkpointPercentages,
                    checkpointDelay: "120",
                    skipMatching: true,
                    instanceWarmup: "300",
                },
            },
            waitForCapacityTimeout: "0",
            tags: Object.entries({ ...args.tags, Name: `${args.clusterName}-${controlPlaneRole}`, "kaws:role": controlPlaneRole })
                .map(([key, value]) => ({ key, value, propagateAtLaunch: false })),
        }, { parent: this, dependsOn: [this.files] });

        this.registerOutputs({ autoScalingGroupName: this.autoScalingGroup.name, roleArn: this.role.role.arn });
    }
}
