import { PolicyStatement } from "../nodes/nodeRole";
import { ecrPullStatements } from "../nodes/policies";
import { autoscalerOwnerTag } from "../plan/tags";

export interface PolicyScope {
    readonly clusterName: string;
    readonly partition: string;
    readonly region: string;
    readonly accountId: string;
    readonly vpcId: string;
    /** The cluster's KMS key: EBS volumes the CSI driver creates are encrypted with it. */
    readonly kmsKeyArn: string;
    /** The queue node-termination-handler reads termination notices from. */
    readonly terminationQueueArn: string;
    /** The cluster's private zone, where kaws-api-record keeps the nodes' API name. */
    readonly privateZoneId: string;
    /** That name (plan.nodeApi.dnsName): the only record the role may change. */
    readonly nodeApiDnsName: string;
}

const clusterTag = (name: string) => `kubernetes.io/cluster/${name}`;
const taggedForCluster = (name: string) => ({ Null: { [`aws:ResourceTag/${clusterTag(name)}`]: "false" } });
const requestTaggedForCluster = (name: string) => ({ Null: { [`aws:RequestTag/${clusterTag(name)}`]: "false" } });

/**
 * The AWS cloud-controller-manager (cloud-provider-aws "Control Plane Policy", docs/prerequisites.md),
 * scoped: every mutation needs the cluster tag on the resource (or in the creating request). Volume and
 * route actions are left out: the EBS CSI driver owns volumes and the CCM runs with
 * --configure-cloud-routes=false (weave routes pods).
 */
export function cloudControllerStatements(s: PolicyScope): PolicyStatement[] {
    const arn = (service: string, resource: string) => `arn:${s.partition}:${service}:${s.region}:${s.accountId}:${resource}`;
    const lb = [arn("elasticloadbalancing", "loadbalancer/*"), arn("elasticloadbalancing", "targetgroup/*")];
    const listeners = arn("elasticloadbalancing", "listener/net/*");
    return [
        {
            Sid: "CloudControllerRead",
            Effect: "Allow",
            Action: [
                "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeTags",
                "ec2:DescribeAvailabilityZones", "ec2:DescribeInstances", "ec2:DescribeInstanceTopology", "ec2:DescribeRegions",
                "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeLoadBalancerPolicies", "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
            ],
            Resource: "*",
        },
        { Sid: "CloudControllerKey", Effect: "Allow", Action: ["kms:DescribeKey"], Resource: s.kmsKeyArn },
        { Sid: "CreateServiceSecurityGroupsInClusterVpc", Effect: "Allow", Action: ["ec2:CreateSecurityGroup"], Resource: arn("ec2", `vpc/${s.vpcId}`) },
        {
            Sid: "CreateServiceSecurityGroups",
            Effect: "Allow",
            Action: ["ec2:CreateSecurityGroup"],
            Resource: arn("ec2", "security-group/*"),
            Condition: { StringEquals: { [`aws:RequestTag/${clusterTag(s.clusterName)}`]: "owned" } },
        },
        {
            Sid: "TagServiceSecurityGroups",
            Effect: "Allow",
            Action: ["ec2:CreateTags"],
            Resource: arn("ec2", "security-group/*"),
            Condition: { StringEquals: { [`aws:RequestTag/${clusterTag(s.clusterName)}`]: "owned" } },
        },
        {
            Sid: "ChangeClusterSecurityGroups",
            Effect: "Allow",
            Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"],
            Resource: arn("ec2", "security-group/*"),
            Condition: taggedForCluster(s.clusterName),
        },
        {
            Sid: "ChangeClusterInstances",
            Effect: "Allow",
            Action: ["ec2:ModifyInstanceAttribute"],
            Resource: arn("ec2", "instance/*"),
            Condition: taggedForCluster(s.clusterName),
        },
        {
            Sid: "CreateServiceLoadBalancers",
            Effect: "Allow",
            Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
            Resource: lb,
            Condition: requestTaggedForCluster(s.clusterName),
        },
        {
            // The CCM tags load balancers, target groups and (since v1.36) NLB listeners in the creating request.
            Sid: "TagLoadBalancersAtCreation",
            Effect: "Allow",
            Action: ["elasticloadbalancing:AddTags"],
            Resource: [...lb, listeners],
            Condition: {
                StringEquals: {
                    "elasticloadbalancing:CreateAction": ["CreateLoadBalancer", "CreateTargetGroup", "CreateListener"],
                    [`aws:RequestTag/${clusterTag(s.clusterName)}`]: "owned",
                },
            },
        },
        {
            Sid: "ChangeClusterLoadBalancers",
            Effect: "Allow",
            Action: [
                "elasticloadbalancing:AddTags", "elasticloadbalancing:ApplySecurityGroupsToLoadBalancer",
                "elasticloadbalancing:AttachLoadBalancerToSubnets", "elasticloadbalancing:ConfigureHealthCheck",
                "elasticloadbalancing:CreateListener", "elasticloadbalancing:CreateLoadBalancerListeners",
                "elasticloadbalancing:CreateLoadBalancerPolicy", "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:DeleteLoadBalancerListeners", "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:DeregisterInstancesFromLoadBalancer", "elasticloadbalancing:DeregisterTargets",
                "elasticloadbalancing:DetachLoadBalancerFromSubnets", "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
                "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer",
                "elasticloadbalancing:SetLoadBalancerPoliciesOfListener", "elasticloadbalancing:SetSecurityGroups",
            ],
            Resource: lb,
            Condition: taggedForCluster(s.clusterName),
        },
        {
            Sid: "ChangeServiceListeners",
            Effect: "Allow",
            Action: ["elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener"],
            Resource: listeners,
            Condition: taggedForCluster(s.clusterName),
        },
        {
            Sid: "LoadBalancerServiceLinkedRole",
            Effect: "Allow",
            Action: ["iam:CreateServiceLinkedRole"],
            Resource: `arn:${s.partition}:iam::${s.accountId}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing`,
            Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
        },
    ];
}

/**
 * The EBS CSI controller (AmazonEBSCSIDriverPolicyV2, without snapshots: no snapshot CRDs are installed),
 * tightened: it runs with --k8s-tag-cluster-id, so it creates and changes only volumes tagged for this
 * cluster, attaches them only to this cluster's instances, and the KMS grants are for our key only.
 */
export function ebsCsiControllerStatements(s: PolicyScope): PolicyStatement[] {
    const arn = (resource: string) => `arn:${s.partition}:ec2:${s.region}:${s.accountId}:${resource}`;
    const managedVolume = { StringEquals: { "aws:ResourceTag/ebs.csi.aws.com/cluster": "true", [`aws:ResourceTag/${clusterTag(s.clusterName)}`]: "owned" } };
    return [
        {
            Sid: "EbsCsiRead",
            Effect: "Allow",
            Action: ["ec2:DescribeAvailabilityZones", "ec2:DescribeInstances", "ec2:DescribeInstanceTypes", "ec2:DescribeSnapshots", "ec2:DescribeVolumes", "ec2:DescribeVolumesModifications", "ec2:DescribeVolumeStatus"],
            Resource: "*",
        },
        {
            Sid: "EbsCsiCreateVolumes",
            Effect: "Allow",
            Action: ["ec2:CreateVolume"],
            Resource: arn("volume/*"),
            Condition: { StringEquals: { "aws:RequestTag/ebs.csi.aws.com/cluster": "true", [`aws:RequestTag/${clusterTag(s.clusterName)}`]: "owned" } },
        },
        { Sid: "EbsCsiCreateVolumesFromSnapshots", Effect: "Allow", Action: ["ec2:CreateVolume"], Resource: arn("snapshot/*") },
        {
            Sid: "EbsCsiTagAtCreation",
            Effect: "Allow",
            Action: ["ec2:CreateTags"],
            Resource: arn("volume/*"),
            Condition: { StringEquals: { "ec2:CreateAction": "CreateVolume", [`aws:RequestTag/${clusterTag(s.clusterName)}`]: "owned" } },
        },
        {
            Sid: "EbsCsiChangeManagedVolumes",
            Effect: "Allow",
            Action: ["ec2:AttachVolume", "ec2:DetachVolume", "ec2:ModifyVolume", "ec2:DeleteVolume", "ec2:CreateTags", "ec2:DeleteTags"],
            Resource: arn("volume/*"),
            Condition: managedVolume,
        },
        {
            Sid: "EbsCsiAttachToClusterInstances",
            Effect: "Allow",
            Action: ["ec2:AttachVolume", "ec2:DetachVolume"],
            Resource: arn("instance/*"),
            Condition: taggedForCluster(s.clusterName),
        },
        {
            Sid: "EbsCsiEncryptWithClusterKey",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
            Resource: s.kmsKeyArn,
        },
        {
            Sid: "EbsCsiGrantToEbs",
            Effect: "Allow",
            Action: ["kms:CreateGrant"],
            Resource: s.kmsKeyArn,
            Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
        },
    ];
}

/** cluster-autoscaler ("Full Cluster Autoscaler Features Policy"), resizing only this cluster's worker ASGs. */
export function clusterAutoscalerStatements(s: PolicyScope): PolicyStatement[] {
    return [
        {
            Sid: "AutoscalerRead",
            Effect: "Allow",
            Action: [
                "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities", "autoscaling:DescribeTags",
                "ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
            Resource: "*",
        },
        {
            Sid: "AutoscalerResizeWorkerGroups",
            Effect: "Allow",
            Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            Resource: `arn:${s.partition}:autoscaling:${s.region}:${s.accountId}:autoScalingGroup:*:autoScalingGroupName/*`,
            Condition: { StringEquals: { [`aws:ResourceTag/${autoscalerOwnerTag(s.clusterName)}`]: "owned" } },
        },
    ];
}

/**
 * aws-node-termination-handler in queue mode (v1.25.6 pkg/monitor/sqsevent): reads and deletes the queue's
 * notices, looks the instance up, and completes the terminate lifecycle action of this cluster's groups.
 */
export function nodeTerminationHandlerStatements(s: PolicyScope): PolicyStatement[] {
    return [
        { Sid: "TerminationQueue", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage"], Resource: s.terminationQueueArn },
        { Sid: "TerminationHandlerRead", Effect: "Allow", Action: ["ec2:DescribeInstances", "autoscaling:DescribeLifecycleHooks"], Resource: "*" },
        {
            Sid: "CompleteClusterLifecycleActions",
            Effect: "Allow",
            Action: ["autoscaling:CompleteLifecycleAction"],
            Resource: `arn:${s.partition}:autoscaling:${s.region}:${s.accountId}:autoScalingGroup:*:autoScalingGroupName/*`,
            Condition: taggedForCluster(s.clusterName),
        },
    ];
}

/**
 * kaws-api-record (controlPlane/api-record.sh): reads the zone's record sets and upserts A records of the
 * nodes' API name only; it finds the group's instances with the cloud controller's Describe actions.
 */
export function apiRecordStatements(s: PolicyScope): PolicyStatement[] {
    const zone = `arn:${s.partition}:route53:::hostedzone/${s.privateZoneId}`;
    return [
        { Sid: "NodeApiRecordRead", Effect: "Allow", Action: ["route53:ListResourceRecordSets"], Resource: zone },
        {
            Sid: "NodeApiRecord",
            Effect: "Allow",
            Action: ["route53:ChangeResourceRecordSets"],
            Resource: zone,
            Condition: {
                "ForAllValues:StringEquals": {
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": [s.nodeApiDnsName],
                    "route53:ChangeResourceRecordSetsRecordTypes": ["A"],
                    "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
                },
            },
        },
    ];
}

/** Everything the control-plane role needs: the CCM, the EBS CSI controller, the autoscaler when enabled, NTH, the API record, ECR pulls. */
export function controlPlaneStatements(s: PolicyScope, clusterAutoscaler: boolean): PolicyStatement[] {
    return [
        ...cloudControllerStatements(s),
        ...apiRecordStatements(s),
        ...ebsCsiControllerStatements(s),
        ...nodeTerminationHandlerStatements(s),
        ...(clusterAutoscaler ? clusterAutoscalerStatements(s) : []),
        ...ecrPullStatements(s),
    ];
}

