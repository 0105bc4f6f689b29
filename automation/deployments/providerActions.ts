/**
 * What pulumi-aws 7.48.0 asks of AWS for each resource type the infra stack creates in EC2, Auto Scaling,
 * ELB and Route 53: the IAM actions of its create, read, update and delete paths and its tag handling, as
 * read in hashicorp/terraform-provider-aws (which pulumi-aws 7.x bridges; 7.48.0 is said to build on v6.66.0,
 * a mapping not confirmed here). Each entry names the file and the version read: the stored copies range
 * from late v5 to v6.36 and later; where an old copy was read first it was checked against a newer one.
 * The deploy role (settings.ts deployPolicy) must allow each of these on the cluster's resources, which
 * test/automation/deployments/deployRole.test.ts simulates for every resource of the evaluated stacks.
 */
export interface ProviderActions {
    /** File in terraform-provider-aws, and the version of it that was read. */
    readonly source: string;
    readonly actions: readonly string[];
}

/** Authorizations AWS makes that no provider call names: kept apart so the table stays what the source says. */
export const impliedActions: Readonly<Record<string, readonly string[]>> = {
    // CreateAutoScalingGroup and UpdateAutoScalingGroup with a launch template check that the caller may launch it.
    "aws:autoscaling/group:Group": ["ec2:RunInstances", "ec2:CreateTags"],
    // A private hosted zone's VPC association is checked against the VPC.
    "aws:route53/zone:Zone": ["ec2:DescribeVpcs"],
};

export const providerActions: Readonly<Record<string, ProviderActions>> = {
    "aws:ec2/vpc:Vpc": {
        source: "internal/service/ec2/vpc_.go @ index id 2181178470 (v5-era copy, checked against a v6 one)",
        actions: [
            "ec2:AssociateVpcCidrBlock", "ec2:CreateTags", "ec2:CreateVpc", "ec2:DeleteTags", "ec2:DeleteVpc",
            "ec2:DescribeNetworkAcls", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcAttribute",
            "ec2:DescribeVpcs", "ec2:DisassociateVpcCidrBlock", "ec2:GetIpamPoolAllocations", "ec2:ModifyVpcAttribute",
            "ec2:ModifyVpcTenancy",
        ],
    },
    "aws:ec2/subnet:Subnet": {
        source: "internal/service/ec2/vpc_subnet.go @ commit 00cda125a19d31754cb0d073cf551264c57955cb",
        actions: [
            "ec2:AssociateSubnetCidrBlock", "ec2:CreateSubnet", "ec2:CreateTags", "ec2:DeleteSubnet", "ec2:DeleteTags",
            "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs",
            "ec2:DisassociateSubnetCidrBlock", "ec2:ModifySubnetAttribute", "ec2:ModifyVpcEndpoint",
        ],
    },
    "aws:ec2/routeTable:RouteTable": {
        source: "internal/service/ec2/vpc_route_table.go @ commit 022092419b7cda11527df3c6b51cbfe1876c1722",
        actions: [
            "ec2:CreateRoute", "ec2:CreateRouteTable", "ec2:CreateTags", "ec2:DeleteRoute", "ec2:DeleteRouteTable",
            "ec2:DeleteTags", "ec2:DescribeNetworkInterfaces", "ec2:DescribeRouteTables", "ec2:DisableVgwRoutePropagation",
            "ec2:DisassociateRouteTable", "ec2:EnableVgwRoutePropagation", "ec2:ReplaceRoute",
        ],
    },
    "aws:ec2/routeTableAssociation:RouteTableAssociation": {
        source: "internal/service/ec2/vpc_route_table_association.go @ commit 0be71beb458ad8875e0acc5c91519c0ceeb214aa",
        actions: [
            "ec2:AssociateRouteTable", "ec2:DescribeRouteTables", "ec2:DisassociateRouteTable",
            "ec2:ReplaceRouteTableAssociation",
        ],
    },
    "aws:ec2/route:Route": {
        source: "internal/service/ec2/vpc_route.go @ commit 0128541e0711766f28540143a9d73738aced60aa",
        actions: [
            "ec2:CreateRoute", "ec2:DeleteRoute", "ec2:DescribeRouteTables", "ec2:ReplaceRoute",
        ],
    },
    "aws:ec2/internetGateway:InternetGateway": {
        source: "internal/service/ec2/vpc_internet_gateway.go @ commit 08923b68b5ad6fcfdd38362fb5247e39a9b07add",
        actions: [
            "ec2:AttachInternetGateway", "ec2:CreateInternetGateway", "ec2:CreateTags", "ec2:DeleteInternetGateway",
            "ec2:DeleteTags", "ec2:DescribeInternetGateways", "ec2:DetachInternetGateway",
        ],
    },
    "aws:ec2/natGateway:NatGateway": {
        source: "internal/service/ec2/vpc_nat_gateway.go @ commit 04088eaa54948421bf1ef7494ae2b2c01d9243e3",
        actions: [
            "ec2:AssignPrivateNatGatewayAddress", "ec2:AssociateNatGatewayAddress", "ec2:CreateNatGateway", "ec2:CreateTags",
            "ec2:DeleteNatGateway", "ec2:DeleteTags", "ec2:DescribeNatGateways", "ec2:DisassociateNatGatewayAddress",
            "ec2:UnassignPrivateNatGatewayAddress",
        ],
    },
    "aws:ec2/eip:Eip": {
        source: "internal/service/ec2/ec2_eip.go @ commit 01606926a0c0ab9174aec440f976a48b0baee722",
        actions: [
            "ec2:AllocateAddress", "ec2:AssociateAddress", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DescribeAddresses",
            "ec2:DescribeAddressesAttribute", "ec2:DisassociateAddress", "ec2:GetIpamPoolAllocations", "ec2:ReleaseAddress",
        ],
    },
    "aws:ec2/vpcEndpoint:VpcEndpoint": {
        source: "internal/service/ec2/vpc_endpoint.go @ commit 008db85aad5e56627b1eecab8830464a282552ed",
        actions: [
            "ec2:CreateTags", "ec2:CreateVpcEndpoint", "ec2:DeleteTags", "ec2:DeleteVpcEndpoints",
            "ec2:DescribeNetworkInterfaces", "ec2:DescribePrefixLists", "ec2:DescribeVpcEndpoints", "ec2:ModifyVpcEndpoint",
        ],
    },
    "aws:ec2/flowLog:FlowLog": {
        source: "internal/service/ec2/vpc_flow_log.go @ commit 00a35305dc1b297a6fcdecdfbba33f1e63c3da39",
        actions: [
            "ec2:CreateFlowLogs", "ec2:CreateTags", "ec2:DeleteFlowLogs", "ec2:DeleteTags", "ec2:DescribeFlowLogs",
        ],
    },
    "aws:ec2/securityGroup:SecurityGroup": {
        source: "internal/service/ec2/vpc_security_group.go @ commit 01606926a0c0ab9174aec440f976a48b0baee722",
        actions: [
            "ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateSecurityGroup",
            "ec2:CreateTags", "ec2:DeleteSecurityGroup", "ec2:DeleteTags", "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSecurityGroupRules", "ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
        ],
    },
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": {
        source: "internal/service/ec2/vpc_default_security_group.go @ commit 01f431114674c27cf790fafb67ac274bf8f765e1",
        actions: [
            "ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateTags", "ec2:DeleteTags",
            "ec2:DescribeSecurityGroupRules", "ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
        ],
    },
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
        source: "internal/service/ec2/vpc_security_group_ingress_rule.go @ index id 1359123306",
        actions: [
            "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DescribeSecurityGroupRules",
            "ec2:ModifySecurityGroupRules", "ec2:RevokeSecurityGroupIngress",
        ],
    },
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
        source: "internal/service/ec2/vpc_security_group_egress_rule.go @ index id 3725520632",
        actions: [
            "ec2:AuthorizeSecurityGroupEgress", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DescribeSecurityGroupRules",
            "ec2:ModifySecurityGroupRules", "ec2:RevokeSecurityGroupEgress",
        ],
    },
    "aws:ec2/networkInterface:NetworkInterface": {
        source: "internal/service/ec2/vpc_network_interface.go @ commit 01c08000ddb14181b5bd19201d8fca311dc570e4",
        actions: [
            "ec2:AssignIpv6Addresses", "ec2:AssignPrivateIpAddresses", "ec2:AttachNetworkInterface",
            "ec2:CreateNetworkInterface", "ec2:CreateTags", "ec2:DeleteNetworkInterface", "ec2:DeleteTags",
            "ec2:DescribeNetworkInterfaces", "ec2:DetachNetworkInterface", "ec2:ModifyNetworkInterfaceAttribute",
            "ec2:UnassignIpv6Addresses", "ec2:UnassignPrivateIpAddresses",
        ],
    },
    "aws:ec2/launchTemplate:LaunchTemplate": {
        source: "internal/service/ec2/ec2_launch_template.go @ commit 025e4f81cab8553cb052aebfcc5987e2aa8c702a",
        actions: [
            "ec2:CreateLaunchTemplate", "ec2:CreateLaunchTemplateVersion", "ec2:CreateTags", "ec2:DeleteLaunchTemplate",
            "ec2:DeleteTags", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeLaunchTemplates",
            "ec2:ModifyLaunchTemplate",
        ],
    },
    "aws:ebs/volume:Volume": {
        source: "internal/service/ec2/ebs_volume.go @ commit 0073593e7d6993ba482409f4dc35438daaa79bb3",
        actions: [
            "ec2:CreateSnapshot", "ec2:CreateTags", "ec2:CreateVolume", "ec2:DeleteTags", "ec2:DeleteVolume",
            "ec2:DescribeSnapshots", "ec2:DescribeVolumes", "ec2:ModifyVolume",
        ],
    },
    "aws:ec2/instance:Instance": {
        source: "internal/service/ec2/ec2_instance.go @ commit 0015dfcd06d5d78e5e1c3cabe8cea837d379d1c7",
        actions: [
            "ec2:AssignPrivateIpAddresses", "ec2:AssociateIamInstanceProfile", "ec2:CancelSpotInstanceRequests",
            "ec2:CreateTags", "ec2:DeleteTags", "ec2:DescribeIamInstanceProfileAssociations", "ec2:DescribeImages",
            "ec2:DescribeInstanceAttribute", "ec2:DescribeInstanceCreditSpecifications", "ec2:DescribeInstanceTypes",
            "ec2:DescribeInstances", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeSpotInstanceRequests",
            "ec2:DescribeTags", "ec2:DescribeVolumes", "ec2:DescribeVolumesModifications", "ec2:DescribeVpcs",
            "ec2:DisassociateIamInstanceProfile", "ec2:GetPasswordData", "ec2:ModifyInstanceAttribute",
            "ec2:ModifyInstanceCapacityReservationAttributes", "ec2:ModifyInstanceCreditSpecification",
            "ec2:ModifyInstanceMaintenanceOptions", "ec2:ModifyInstanceMetadataOptions", "ec2:ModifyNetworkInterfaceAttribute",
            "ec2:ModifyPrivateDnsNameOptions", "ec2:ModifyVolume", "ec2:MonitorInstances",
            "ec2:ReplaceIamInstanceProfileAssociation", "ec2:RunInstances", "ec2:StartInstances", "ec2:StopInstances",
            "ec2:TerminateInstances", "ec2:UnassignPrivateIpAddresses", "ec2:UnmonitorInstances",
        ],
    },
    "aws:autoscaling/group:Group": {
        source: "internal/service/autoscaling/group.go @ commit 00a919d1548eb437816d4838f320502ad34183ff",
        actions: [
            "autoscaling:AttachLoadBalancerTargetGroups", "autoscaling:AttachLoadBalancers",
            "autoscaling:AttachTrafficSources", "autoscaling:CancelInstanceRefresh", "autoscaling:CreateAutoScalingGroup",
            "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteAutoScalingGroup", "autoscaling:DeleteTags",
            "autoscaling:DeleteWarmPool", "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeInstanceRefreshes",
            "autoscaling:DescribeLoadBalancerTargetGroups", "autoscaling:DescribeLoadBalancers",
            "autoscaling:DescribeScalingActivities", "autoscaling:DescribeTrafficSources", "autoscaling:DescribeWarmPool",
            "autoscaling:DetachLoadBalancerTargetGroups", "autoscaling:DetachLoadBalancers",
            "autoscaling:DetachTrafficSources", "autoscaling:DisableMetricsCollection", "autoscaling:EnableMetricsCollection",
            "autoscaling:PutLifecycleHook", "autoscaling:PutWarmPool", "autoscaling:ResumeProcesses",
            "autoscaling:SetInstanceProtection", "autoscaling:StartInstanceRefresh", "autoscaling:SuspendProcesses",
            "autoscaling:UpdateAutoScalingGroup", "elasticloadbalancing:DescribeInstanceHealth",
            "elasticloadbalancing:DescribeTargetHealth",
        ],
    },
    "aws:autoscaling/lifecycleHook:LifecycleHook": {
        source: "internal/service/autoscaling/lifecycle_hook.go @ commit 00a35305dc1b297a6fcdecdfbba33f1e63c3da39",
        actions: [
            "autoscaling:DeleteLifecycleHook", "autoscaling:DescribeLifecycleHooks", "autoscaling:PutLifecycleHook",
        ],
    },
    "aws:lb/loadBalancer:LoadBalancer": {
        source: "internal/service/elbv2/load_balancer.go @ commit 00edc94be7a89c4c485415cdec27094875f61bfc",
        actions: [
            "ec2:DescribeNetworkInterfaces", "elasticloadbalancing:AddTags", "elasticloadbalancing:CreateLoadBalancer",
            "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:DescribeCapacityReservation",
            "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeTags", "elasticloadbalancing:ModifyCapacityReservation",
            "elasticloadbalancing:ModifyIpPools", "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:RemoveTags", "elasticloadbalancing:SetIpAddressType",
            "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
        ],
    },
    "aws:lb/targetGroup:TargetGroup": {
        source: "internal/service/elbv2/target_group.go @ commit 013cfb4cddc9c44a28f34abad0c11768bcdb9b85",
        actions: [
            "elasticloadbalancing:AddTags", "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTargetGroupAttributes",
            "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:ModifyTargetGroup",
            "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:RemoveTags",
        ],
    },
    "aws:lb/listener:Listener": {
        source: "internal/service/elbv2/listener.go @ index id 4164048996",
        actions: [
            "elasticloadbalancing:AddTags", "elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
            "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeTags", "elasticloadbalancing:ModifyListener",
            "elasticloadbalancing:ModifyListenerAttributes", "elasticloadbalancing:RemoveTags",
        ],
    },
    "aws:route53/zone:Zone": {
        source: "internal/service/route53/zone.go @ index id 1555142610",
        actions: [
            "route53:AssociateVPCWithHostedZone", "route53:ChangeResourceRecordSets", "route53:ChangeTagsForResource",
            "route53:CreateHostedZone", "route53:DeleteHostedZone", "route53:DisableHostedZoneDNSSEC",
            "route53:DisassociateVPCFromHostedZone", "route53:GetChange", "route53:GetDNSSEC", "route53:GetHostedZone",
            "route53:ListResourceRecordSets", "route53:ListTagsForResource", "route53:UpdateHostedZoneComment",
        ],
    },
    "aws:route53/record:Record": {
        source: "internal/service/route53/record.go @ commit 00655c1681ea1e49ab10cd32d3f8bee372b2095b",
        actions: [
            "route53:ChangeResourceRecordSets", "route53:GetChange", "route53:GetHostedZone", "route53:ListResourceRecordSets",
        ],
    },
};
