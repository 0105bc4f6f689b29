import { AwsRequest, ResourceRef, arnOf, attachVolume, createEncryptedVolume, createWithTags, onResources, requestTagContext, wildcardOnly } from "../nodes/awsRequests";
import { NodeRequestScope } from "../nodes/requests";

/**
 * What the controllers that run with the control-plane role ask of AWS, on the paths kaws configures. Taken
 * from their source at the pinned tags (file:line@tag):
 * - aws-cloud-controller-manager, kubernetes/cloud-provider-aws v1.36.1 (--configure-cloud-routes=false;
 *   the tagging controller is off by default, cmd/aws-cloud-controller-manager/main.go:76);
 * - aws-ebs-csi-driver controller, kubernetes-sigs/aws-ebs-csi-driver v1.64.0 (--k8s-tag-cluster-id);
 * - cluster-autoscaler, kubernetes/autoscaler cluster-autoscaler-1.36.1 (cloudprovider/aws, tag discovery).
 * - aws-node-termination-handler v1.25.6 in queue mode (pkg/monitor/sqsevent/sqs-monitor.go,
 *   asg-lifecycle-event.go): ReceiveMessage and DeleteMessage on the queue, DescribeInstances for the node,
 *   DescribeLifecycleHooks, CompleteLifecycleAction on the worker group.
 */
export interface ControlPlaneRequestScope extends NodeRequestScope {
    readonly clusterName: string;
    readonly vpc: ResourceRef;
    /** Node security groups the cloud controller opens NodePorts on (workers, control plane). */
    readonly nodeSecurityGroups: readonly ResourceRef[];
    /** Instances volumes are attached to and load balancers target: every Kubernetes node. */
    readonly kubernetesInstances: readonly ResourceRef[];
    /** Worker groups the autoscaler resizes; empty when it is off. */
    readonly autoscalerGroups: readonly ResourceRef[];
    /** Every worker group: node-termination-handler completes their terminate lifecycle actions. */
    readonly workerGroups: readonly ResourceRef[];
    /** The control-plane group: each new control-plane node completes its launch lifecycle action (kaws-ready-gate). */
    readonly controlPlaneGroup: ResourceRef;
    /** The queue node-termination-handler reads. */
    readonly terminationQueueArn: string;
    /** The private zone kaws-api-record writes the nodes' API name in, and that name. */
    readonly privateZoneArn: string;
    readonly nodeApiDnsName: string;
}

const ccm = (where: string) => `aws-cloud-controller-manager v1.36.1 ${where}`;
const csi = (where: string) => `aws-ebs-csi-driver v1.64.0 ${where}`;
const autoscaler = (where: string) => `cluster-autoscaler-1.36.1 cloudprovider/aws/${where}`;

const describe = (action: string, source: string): AwsRequest => ({ action, context: {}, source, ...wildcardOnly("read-only Describe action with no resource type") });

export function controlPlaneRequests(s: ControlPlaneRequestScope): AwsRequest[] {
    return [...cloudControllerRequests(s), ...ebsCsiRequests(s), ...clusterAutoscalerRequests(s), ...nodeTerminationHandlerRequests(s), ...readyGateRequests(s), ...apiRecordRequests(s)];
}

/** buildTags (pkg/providers/v1/tags.go:324) plus the service name on load balancers, target groups and listeners. */
function serviceTags(s: ControlPlaneRequestScope): Record<string, string> {
    return { [`kubernetes.io/cluster/${s.clusterName}`]: "owned", "kubernetes.io/service-name": "default/web" };
}

export function cloudControllerRequests(s: ControlPlaneRequestScope): AwsRequest[] {
    const tags = serviceTags(s);
    const elb = (resource: string) => arnOf(s, "elasticloadbalancing", resource);
    const classic: ResourceRef = { arn: elb("loadbalancer/a0123456789abcdef0123456789abcde"), tags };
    const nlb: ResourceRef = { arn: elb("loadbalancer/net/a0123456789abcdef/0123456789abcdef"), tags };
    const targetGroup: ResourceRef = { arn: elb("targetgroup/k8s-default-web-0123456789/0123456789abcdef"), tags };
    const listener: ResourceRef = { arn: elb("listener/net/a0123456789abcdef/0123456789abcdef/0123456789abcdef"), tags };
    const elbSecurityGroup: ResourceRef = { arn: arnOf(s, "ec2", "security-group/sg-0elb0123456789abc"), tags: { [`kubernetes.io/cluster/${s.clusterName}`]: "owned" } };
    return [
        ...["ec2:DescribeInstances", "ec2:DescribeAvailabilityZones", "ec2:DescribeInstanceTopology", "ec2:DescribeSubnets", "ec2:DescribeRouteTables",
            "ec2:DescribeSecurityGroups", "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"]
            .map((action) => describe(action, ccm("node, node-lifecycle and service controllers (aws.go, instances.go, zones.go, aws_loadbalancer.go)"))),
        // Classic ELB, the default for type: LoadBalancer (aws.go:2325-2760, aws_loadbalancer.go:1151).
        ...createWithTags({
            service: "ec2", action: "ec2:CreateSecurityGroup", created: [elbSecurityGroup.arn.replace(/sg-[0-9a-z]+$/, "*")], existing: [s.vpc],
            tags: { [`kubernetes.io/cluster/${s.clusterName}`]: "owned" }, source: ccm("aws.go:1552 k8s-elb-<name> security group"),
        }),
        ...onResources("ec2:AuthorizeSecurityGroupIngress", [elbSecurityGroup, ...s.nodeSecurityGroups], ccm("aws.go:1460 createSecurityGroupRules / updateInstanceSecurityGroupsForLoadBalancer")),
        ...onResources("ec2:RevokeSecurityGroupIngress", [elbSecurityGroup, ...s.nodeSecurityGroups], ccm("aws.go:1401, aws_loadbalancer.go:1968")),
        ...onResources("ec2:DeleteSecurityGroup", [elbSecurityGroup], ccm("aws.go:3071 deleteSecurityGroupsWithBackoff (cluster-tagged only)")),
        ...createWithTags({ service: "elasticloadbalancing", action: "elasticloadbalancing:CreateLoadBalancer", created: [classic.arn], tags, source: ccm("aws_loadbalancer.go:1151 Classic ELB") }),
        ...["elasticloadbalancing:ConfigureHealthCheck", "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
            "elasticloadbalancing:DeregisterInstancesFromLoadBalancer", "elasticloadbalancing:AttachLoadBalancerToSubnets", "elasticloadbalancing:DetachLoadBalancerFromSubnets",
            "elasticloadbalancing:ApplySecurityGroupsToLoadBalancer", "elasticloadbalancing:CreateLoadBalancerListeners", "elasticloadbalancing:DeleteLoadBalancerListeners",
            "elasticloadbalancing:DeleteLoadBalancer"]
            .flatMap((action) => onResources(action, [classic], ccm("aws_loadbalancer.go:1234-1655, aws.go:3332 (Classic)"))),
        // NLB, service.beta.kubernetes.io/aws-load-balancer-type: nlb (aws_loadbalancer.go:149-959). Listeners and
        // target groups are tagged on create since commit 620e81ca (aws_loadbalancer.go:702-732, :787).
        ...createWithTags({ service: "elasticloadbalancing", action: "elasticloadbalancing:CreateLoadBalancer", created: [nlb.arn], tags, source: ccm("aws_loadbalancer.go:149 NLB") }),
        ...createWithTags({ service: "elasticloadbalancing", action: "elasticloadbalancing:CreateTargetGroup", created: [targetGroup.arn], tags, source: ccm("aws_loadbalancer.go:787 target group") }),
        ...onResources("elasticloadbalancing:CreateListener", [nlb], ccm("aws_loadbalancer.go:732 listener (on the load balancer)"), requestTagContext(tags)),
        { action: "elasticloadbalancing:AddTags", resource: listener.arn, context: { ...requestTagContext(tags), "elasticloadbalancing:CreateAction": "CreateListener" }, source: ccm("aws_loadbalancer.go:702-732 listener tags on create") },
        ...onResources("elasticloadbalancing:ModifyListener", [listener], ccm("aws_loadbalancer.go:337")),
        ...onResources("elasticloadbalancing:DeleteListener", [listener], ccm("aws_loadbalancer.go:741")),
        ...["elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:DeleteTargetGroup"]
            .flatMap((action) => onResources(action, [targetGroup], ccm("aws_loadbalancer.go:839-906, aws.go:3274"))),
        ...onResources("elasticloadbalancing:ModifyLoadBalancerAttributes", [nlb], ccm("aws_loadbalancer.go:508 (v2)")),
        ...onResources("elasticloadbalancing:DeleteLoadBalancer", [nlb], ccm("aws.go:3266 (v2)")),
    ];
}

/** What CreateVolume tags a volume with (pkg/driver/controller.go:125-189, :283-289 with --k8s-tag-cluster-id). */
export function ebsCsiVolumeTags(clusterName: string): Record<string, string> {
    return {
        CSIVolumeName: "pvc-0123",
        "ebs.csi.aws.com/cluster": "true",
        "kubernetes.io/created-for/pv/name": "pvc-0123",
        "kubernetes.io/created-for/pvc/name": "data",
        "kubernetes.io/created-for/pvc/namespace": "default",
        [`kubernetes.io/cluster/${clusterName}`]: "owned",
        Name: `${clusterName}-dynamic-pvc-0123`,
        KubernetesCluster: clusterName,
        "ebs.csi.aws.com/cluster-name": clusterName,
    };
}

export function ebsCsiRequests(s: ControlPlaneRequestScope): AwsRequest[] {
    const tags = ebsCsiVolumeTags(s.clusterName);
    const volume: ResourceRef = { arn: arnOf(s, "ec2", "volume/vol-0csi0123456789abc"), tags };
    return [
        ...["ec2:DescribeAvailabilityZones", "ec2:DescribeVolumes", "ec2:DescribeInstances", "ec2:DescribeInstanceTypes", "ec2:DescribeVolumesModifications"]
            .map((action) => describe(action, csi("pkg/cloud/cloud.go (probe, waitForVolume, getInstance, getCardCount)"))),
        ...createEncryptedVolume(s, tags, s.keyArn, csi("pkg/cloud/cloud.go:914-929 CreateVolume (StorageClass gp3-encrypted, kmsKeyId)")),
        ...s.kubernetesInstances.flatMap((instance) => attachVolume(s, instance, volume, s.keyArn, csi("pkg/cloud/cloud.go AttachDisk"))),
        ...s.kubernetesInstances.flatMap((instance) => onResources("ec2:DetachVolume", [instance, volume], csi("pkg/cloud/cloud.go:1417 DetachDisk"))),
        ...onResources("ec2:ModifyVolume", [volume], csi("pkg/cloud/cloud.go:1118 ResizeOrModifyDisk")),
        ...onResources("ec2:DeleteVolume", [volume], csi("pkg/cloud/cloud.go:1148 DeleteDisk")),
    ];
}

export function clusterAutoscalerRequests(s: ControlPlaneRequestScope): AwsRequest[] {
    if (s.autoscalerGroups.length === 0) return [];
    return [
        describe("ec2:DescribeInstanceTypes", autoscaler("aws_util.go:36")),
        describe("autoscaling:DescribeAutoScalingGroups", autoscaler("aws_wrapper.go:235 (tag discovery)")),
        describe("autoscaling:DescribeScalingActivities", autoscaler("auto_scaling_groups.go:542")),
        ...onResources("autoscaling:SetDesiredCapacity", s.autoscalerGroups, autoscaler("auto_scaling_groups.go:271")),
        ...onResources("autoscaling:TerminateInstanceInAutoScalingGroup", s.autoscalerGroups, autoscaler("auto_scaling_groups.go:374")),
    ];
}

const nth = (where: string) => `aws-node-termination-handler v1.25.6 pkg/monitor/sqsevent/${where}`;

export function nodeTerminationHandlerRequests(s: ControlPlaneRequestScope): AwsRequest[] {
    const queue: ResourceRef = { arn: s.terminationQueueArn, tags: {} };
    return [
        ...onResources("sqs:ReceiveMessage", [queue], nth("sqs-monitor.go:306")),
        ...onResources("sqs:DeleteMessage", [queue], nth("sqs-monitor.go:330")),
        describe("ec2:DescribeInstances", nth("sqs-monitor.go:365 getNodeInfo")),
        describe("autoscaling:DescribeLifecycleHooks", nth("asg-lifecycle-event.go:157")),
        ...onResources("autoscaling:CompleteLifecycleAction", s.workerGroups, nth("sqs-monitor.go:347")),
    ];
}

/** kaws-ready-gate (controlPlane/ready-gate.sh): `aws autoscaling complete-lifecycle-action` on its own group. */
export function readyGateRequests(s: ControlPlaneRequestScope): AwsRequest[] {
    return onResources("autoscaling:CompleteLifecycleAction", [s.controlPlaneGroup], "kaws-ready-gate: aws autoscaling complete-lifecycle-action (kaws-ready hook)");
}

/**
 * kaws-api-record (controlPlane/api-record.sh): the group's in-service instances and their addresses, the
 * record set as it is, and an UPSERT of the nodes' API name (a Route 53 change is authorized on the zone,
 * with the names, types and actions of the batch as condition keys).
 */
export function apiRecordRequests(s: ControlPlaneRequestScope): AwsRequest[] {
    const source = (call: string) => `kaws-api-record: aws ${call}`;
    const zone: ResourceRef = { arn: s.privateZoneArn, tags: {} };
    return [
        describe("autoscaling:DescribeAutoScalingGroups", source("autoscaling describe-auto-scaling-groups")),
        describe("ec2:DescribeInstances", source("ec2 describe-instances")),
        ...onResources("route53:ListResourceRecordSets", [zone], source("route53 list-resource-record-sets")),
        ...onResources("route53:ChangeResourceRecordSets", [zone], source("route53 change-resource-record-sets (UPSERT)"), {
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": [s.nodeApiDnsName],
            "route53:ChangeResourceRecordSetsRecordTypes": ["A"],
            "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
        }),
    ];
}
