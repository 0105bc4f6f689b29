import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ClusterPlan, bucketPrefixes, controlPlaneRole, localApiServer, nodeLabels } from "../plan/cluster";
import { ClusterContext, KeyPair } from "../nodes/context";
import { NodeFile, NodeFiles } from "../nodes/nodeFiles";
import { buildNodeGroup } from "../nodes/nodeGroup";
import { NodeRole } from "../nodes/nodeRole";
import { kubeletNodeFiles } from "../nodes/kubeletFiles";
import { renderKubeconfig } from "../nodes/kubeconfig";
import { kubernetesNodeUserData } from "../nodes/boot";
import { controlPlaneBootSteps, markControlPlanePaths, renderMarkControlPlaneScript, renderMarkControlPlaneUnit } from "./markControlPlane";
import { nodeBootstrapPaths, renderNodeBootstrapObjects, renderNodeBootstrapScript, renderNodeBootstrapTimer, renderNodeBootstrapUnit } from "./nodeBootstrap";
import { controlPlaneStatements } from "./policies";
import { kubeAdminPath, renderKubeAdminScript } from "./kubeAdmin";
import { readyGateHook, readyGatePaths, renderReadyGateScript, renderReadyGateUnit } from "./readyGate";
import { apiRecordPaths, renderApiRecordScript, renderApiRecordTimer, renderApiRecordUnit } from "./apiRecord";
import {
    admissionConfiguration, apiServerPod, auditPolicy, authenticationConfiguration, controllerManagerPod, controlPlanePaths,
    ControlPlaneSpec, renderYaml, schedulerPod,
} from "./render";

/** The certificates and keys control-plane nodes hold (the Pki component has this shape). */
export interface ControlPlanePki {
    readonly clusterCa: KeyPair;
    readonly etcdCa: { readonly certPem: pulumi.Input<string> };
    readonly frontProxyCa: { readonly certPem: pulumi.Input<string> };
    readonly apiServer: KeyPair;
    readonly apiServerKubeletClient: KeyPair;
    readonly apiServerEtcdClient: KeyPair;
    readonly frontProxyClient: KeyPair;
    readonly serviceAccountKeyPem: pulumi.Input<string>;
    readonly serviceAccountPublicKeyPem: pulumi.Input<string>;
    readonly controllerManager: KeyPair;
    readonly scheduler: KeyPair;
}

export interface ControlPlaneArgs {
    readonly plan: ClusterPlan;
    readonly context: ClusterContext;
    readonly securityGroupIds: pulumi.Input<string>[];
    /** The API load balancer's target group the ASG registers instances with. */
    readonly targetGroupArn: pulumi.Input<string>;
    readonly pki: ControlPlanePki;
    /** The kube-apiserver --encryption-provider-config. Secret. */
    readonly encryptionConfig: pulumi.Input<string>;
    /** The queue node-termination-handler (on the control plane) drains nodes from. */
    readonly terminationQueueArn: pulumi.Input<string>;
    /** kube-proxy and the pod network as one manifest (addons/settings.ts), created where missing. Secret. */
    readonly nodeCriticalAddons: pulumi.Input<string>;
}

const certMode = "0644";
const keyMode = "0600";

/** The PKI in kubeadm's layout under /etc/kubernetes, and the secrets-at-rest configuration. */
export function controlPlanePkiFiles(pki: ControlPlanePki, encryptionConfig: pulumi.Input<string>): NodeFile[] {
    const p = controlPlanePaths;
    const cert = (path: string, content: pulumi.Input<string>): NodeFile => ({ path, mode: certMode, content });
    const key = (path: string, content: pulumi.Input<string>): NodeFile => ({ path, mode: keyMode, content: pulumi.secret(content) });
    return [
        cert(p.caCert, pki.clusterCa.certPem),
        key(p.caKey, pki.clusterCa.keyPem),
        cert(p.apiServerCert, pki.apiServer.certPem),
        key(p.apiServerKey, pki.apiServer.keyPem),
        cert(p.kubeletClientCert, pki.apiServerKubeletClient.certPem),
        key(p.kubeletClientKey, pki.apiServerKubeletClient.keyPem),
        cert(p.etcdClientCert, pki.apiServerEtcdClient.certPem),
        key(p.etcdClientKey, pki.apiServerEtcdClient.keyPem),
        cert(p.frontProxyCaCert, pki.frontProxyCa.certPem),
        cert(p.frontProxyClientCert, pki.frontProxyClient.certPem),
        key(p.frontProxyClientKey, pki.frontProxyClient.keyPem),
        key(p.serviceAccountKey, pki.serviceAccountKeyPem),
        cert(p.serviceAccountPublicKey, pki.serviceAccountPublicKeyPem),
        cert(p.etcdCaCert, pki.etcdCa.certPem),
        key(p.encryptionConfig, encryptionConfig),
    ];
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
 * balancer's target group (its health check routes traffic) and replaced only on EC2 health. Each node runs
 * kubelet and containerd, and kube-apiserver, kube-controller-manager and kube-scheduler as static pods
 * talking to 127.0.0.1:6443.
 */
export class ControlPlane extends pulumi.ComponentResource {
    readonly role: NodeRole;
    readonly files: NodeFiles;
    readonly launchTemplate: aws.ec2.LaunchTemplate;
    readonly autoScalingGroup: aws.autoscaling.Group;

    constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:controlplane:ControlPlane", name, {}, opts);
        const { plan, context: ctx } = args;
        const role = controlPlaneRole;
        const count = plan.config.controlPlane.count;

        const statements = pulumi.all([ctx.account.id, ctx.account.partition, ctx.vpcId, ctx.keyArn, args.terminationQueueArn, ctx.privateZoneId])
            .apply(([accountId, partition, vpcId, kmsKeyArn, terminationQueueArn, privateZoneId]) => controlPlaneStatements({
                clusterName: plan.clusterName, partition, region: plan.region, accountId, vpcId, kmsKeyArn, terminationQueueArn,
                privateZoneId, nodeApiDnsName: plan.nodeApi.dnsName,
            }, plan.config.addons.clusterAutoscaler));
        this.role = new NodeRole(`${name}-${role}`, {
            kind: "controlplane",
            plan,
            context: ctx,
            readPrefixes: [`${bucketPrefixes.nodes(role)}/`],
            statements,
        }, { parent: this });

        const spec: ControlPlaneSpec = {
            kubernetesVersion: plan.pins.kubernetes,
            clusterName: plan.clusterName,
            serviceCidr: plan.config.kubernetes.serviceCidr,
            clusterDomain: plan.config.kubernetes.clusterDomain,
            etcdEndpoints: plan.etcd.members.map((member) => member.clientUrl),
        };
        const kubeconfig = (userName: string, credential: KeyPair) => pulumi.secret(
            pulumi.all([ctx.clusterCaCertPem, credential.certPem, credential.keyPem]).apply(([caCertPem, clientCertPem, clientKeyPem]) =>
                renderKubeconfig({ clusterName: plan.clusterName, server: localApiServer, caCertPem, userName, clientCertPem, clientKeyPem })));
        const p = controlPlanePaths;
        const files: NodeFile[] = [
            ...controlPlanePkiFiles(args.pki, args.encryptionConfig),
            { path: p.apiServerManifest, mode: "0600", content: renderYaml(apiServerPod(spec)) },
            { path: p.controllerManagerManifest, mode: "0600", content: renderYaml(controllerManagerPod(spec)) },
            { path: p.schedulerManifest, mode: "0600", content: renderYaml(schedulerPod(spec)) },
            { path: p.controllerManagerKubeconfig, mode: "0600", content: kubeconfig("system:kube-controller-manager", args.pki.controllerManager) },
            { path: p.schedulerKubeconfig, mode: "0600", content: kubeconfig("system:kube-scheduler", args.pki.scheduler) },
            { path: p.authenticationConfig, mode: "0600", content: renderYaml(authenticationConfiguration()) },
            { path: p.admissionConfig, mode: "0600", content: renderYaml(admissionConfiguration()) },
            { path: p.auditPolicy, mode: "0600", content: renderYaml(auditPolicy()) },
            ...kubeletNodeFiles(plan, ctx, {
                server: localApiServer,
                // Service load balancers neither target control-plane nodes nor open NodePorts to them (as kubeadm does).
                nodeLabels: { [nodeLabels.controlPlaneNode.key]: nodeLabels.controlPlaneNode.value, [nodeLabels.excludeFromLoadBalancers]: "" },
                taints: [{ key: nodeLabels.controlPlaneRole, effect: "NoSchedule" }],
            }),
            // The token reaches the node in its encrypted files only, never in user data.
            {
                path: p.nodeBootstrapObjects,
                mode: "0600",
                content: pulumi.secret(pulumi.all([ctx.bootstrapToken.id, ctx.bootstrapToken.secret]).apply(([id, secret]) => renderNodeBootstrapObjects({ id, secret }))),
            },
            { path: p.nodeCriticalAddons, mode: "0600", content: pulumi.secret(args.nodeCriticalAddons) },
            { path: nodeBootstrapPaths.script, mode: "0700", content: renderNodeBootstrapScript() },
            { path: nodeBootstrapPaths.unit, mode: "0600", content: renderNodeBootstrapUnit() },
            { path: nodeBootstrapPaths.timer, mode: "0600", content: renderNodeBootstrapTimer() },
            { path: kubeAdminPath, mode: "0700", content: renderKubeAdminScript() },
            { path: markControlPlanePaths.script, mode: "0700", content: renderMarkControlPlaneScript() },
            { path: markControlPlanePaths.unit, mode: "0600", content: renderMarkControlPlaneUnit() },
            { path: readyGatePaths.script, mode: "0700", content: renderReadyGateScript(plan) },
            { path: readyGatePaths.unit, mode: "0600", content: renderReadyGateUnit() },
            { path: apiRecordPaths.script, mode: "0700", content: ctx.privateZoneId.apply((zoneId) => renderApiRecordScript(plan, zoneId)) },
            { path: apiRecordPaths.unit, mode: "0600", content: renderApiRecordUnit() },
            { path: apiRecordPaths.timer, mode: "0600", content: renderApiRecordTimer() },
        ];

        const rolling = oneAtATime(count);
        const group = buildNodeGroup(this, `${name}-${role}`, plan, ctx, {
            role,
            iamRole: this.role,
            files,
            userData: kubernetesNodeUserData(plan, role, controlPlaneBootSteps),
            // Pods on the control plane must not borrow its instance role; AWS-calling add-ons there use the host network.
            instances: { types: [plan.config.controlPlane.instanceType], securityGroupIds: args.securityGroupIds, rootVolumeSizeGiB: plan.config.controlPlane.rootVolumeSizeGiB, imdsHopLimit: 1 },
            scaling: {
                args: {
                    vpcZoneIdentifiers: ctx.privateSubnets.map((s) => s.id),
                    minSize: count,
                    desiredCapacity: count,
                    maxSize: count + 1,
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
                },
            },
        });
        this.files = group.files;
        this.launchTemplate = group.launchTemplate;
        this.autoScalingGroup = group.autoScalingGroup;
        // A new node (an instance refresh's replacement, a replaced unhealthy node) stays out of service until
        // kaws-ready-gate on it completes this hook, so a refresh moves to the next node only once this one is
        // ready; a node never ready is abandoned at the timeout. Created after the group: its first instances
        // do not wait (the gate then finds no waiting action and just exits).
        // The nodes' API name exists before any node writes it (plan.nodeApi): a weight-0 placeholder.
        const nodeApi = plan.nodeApi;
        new aws.route53.Record(`${name}-node-api-placeholder`, {
            zoneId: ctx.privateZoneId,
            name: nodeApi.dnsName,
            type: "A",
            setIdentifier: nodeApi.placeholderSetIdentifier,
            weightedRoutingPolicies: [{ weight: 0 }],
            ttl: nodeApi.placeholderTtlSeconds,
            records: [nodeApi.placeholderAddress],
        }, { parent: this });
        new aws.autoscaling.LifecycleHook(`${name}-${role}-ready`, {
            name: readyGateHook.name,
            autoscalingGroupName: this.autoScalingGroup.name,
            lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
            heartbeatTimeout: readyGateHook.heartbeatTimeoutSeconds,
            defaultResult: "ABANDON",
        }, { parent: this });

        this.registerOutputs({ autoScalingGroupName: this.autoScalingGroup.name, roleArn: this.role.role.arn });
    }
}
