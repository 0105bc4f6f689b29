import * as aws from "@pulumi/aws";
import { readClusterConfig } from "./plan/config";
import { clusterTags } from "./plan/tags";
import { ClusterKey } from "./secrets/clusterKey";
import { Network } from "./network/network";
import { ApiLoadBalancer } from "./controlPlane/apiLoadBalancer";
import { internalDomain, planEtcdMembers } from "./plan/etcdPlan";
import { SecurityGroups } from "./network/securityGroups";
import { Encryption } from "./secrets/encryption";
import { PrivateZone } from "./network/privateZone";
import { EtcdCluster } from "./etcd/etcdCluster";
import { pinsFor } from "./plan/versions";
import { ControlPlane } from "./controlPlane/controlPlane";
import { WorkerPool } from "./workers/workerPool";
import { clusterDnsIp } from "./addons/coredns";

const cfg = readClusterConfig();
const tags = clusterTags(cfg.clusterName, cfg.environment);

// Every AWS resource goes through this provider, so every one carries the cluster tags.
const awsProvider = new aws.Provider("aws", {
    region: cfg.region as aws.Region,
    defaultTags: { tags },
});

const clusterKey = new ClusterKey(cfg.clusterName, { clusterName: cfg.clusterName, region: cfg.region }, { providers: [awsProvider] });

const network = new Network(cfg.clusterName, {
    clusterName: cfg.clusterName,
    region: cfg.region,
    vpcCidr: cfg.network.vpcCidr,
    azCount: cfg.network.azCount,
    natGateways: cfg.network.natGateways,
    flowLogs: cfg.network.flowLogs,
    flowLogRetentionDays: cfg.network.flowLogRetentionDays,
    kmsKeyArn: clusterKey.arn,
}, { providers: [awsProvider] });

const etcdMembers = planEtcdMembers(cfg.clusterName, network.privateSubnetCidrs, cfg.etcd.members);

const api = new ApiLoadBalancer(cfg.clusterName, {
    clusterName: cfg.clusterName,
    vpcId: network.vpcId,
    vpcCidr: cfg.network.vpcCidr,
    subnetIds: (cfg.controlPlane.apiAccess === "internal" ? network.privateSubnets : network.publicSubnets).map((s) => s.id),
    scheme: cfg.controlPlane.apiAccess,
    allowedCidrs: cfg.controlPlane.allowedCidrs,
    nodeEgressIps: network.natGateways.map((nat) => nat.publicIp),
}, { providers: [awsProvider] });

const encryption = new Encryption(cfg.clusterName, {
    clusterName: cfg.clusterName,
    pki: cfg.pki,
    apiServerDnsNames: [api.dnsName],
    apiEndpoint: api.endpoint,
    serviceCidr: cfg.kubernetes.serviceCidr,
    clusterDomain: cfg.kubernetes.clusterDomain,
    etcdMembers,
    etcdSnapshotRetentionDays: cfg.etcd.snapshotRetentionDays,
    kmsKeyArn: clusterKey.arn,
}, { providers: [awsProvider] });

const securityGroups = new SecurityGroups(cfg.clusterName, {
    clusterName: cfg.clusterName,
    vpcId: network.vpcId,
    vpcCidr: cfg.network.vpcCidr,
    apiLoadBalancerSecurityGroupId: api.securityGroup.id,
}, { providers: [awsProvider] });

const privateZone = new PrivateZone(cfg.clusterName, { domain: internalDomain(cfg.clusterName), vpcId: network.vpcId }, { providers: [awsProvider] });

const etcd = new EtcdCluster(cfg.clusterName, {
    clusterName: cfg.clusterName,
    region: cfg.region,
    tags,
    members: etcdMembers,
    subnets: network.privateSubnets.map((subnet, i) => ({ id: subnet.id, availabilityZone: subnet.availabilityZone, cidr: network.privateSubnetCidrs[i] })),
    securityGroupId: securityGroups.etcd.id,
    instanceType: cfg.etcd.instanceType,
    imageId: cfg.imageId,
    volumeSizeGiB: cfg.etcd.volumeSizeGiB,
    snapshotIntervalMinutes: cfg.etcd.snapshotIntervalMinutes,
    etcdVersion: pinsFor(cfg.kubernetes.version).etcd,
    kmsKeyArn: encryption.kmsKeyArn,
    assetsBucketName: encryption.assetsBucketName,
    assetsBucketArn: encryption.assetsBucketArn,
    memberPkiFiles: (index) => encryption.etcdMemberFiles(index),
    privateZoneId: privateZone.zoneId,
}, { providers: [awsProvider] });

const privateSubnetIdList = network.privateSubnets.map((subnet) => subnet.id);

new ControlPlane(cfg.clusterName, {
    clusterName: cfg.clusterName,
    region: cfg.region,
    tags,
    kubernetesVersion: cfg.kubernetes.version,
    serviceCidr: cfg.kubernetes.serviceCidr,
    clusterDomain: cfg.kubernetes.clusterDomain,
    clusterDnsIp: clusterDnsIp(cfg.kubernetes.serviceCidr),
    count: cfg.controlPlane.count,
    instanceType: cfg.controlPlane.instanceType,
    imageId: cfg.imageId,
    vpcId: network.vpcId,
    subnetIds: privateSubnetIdList,
    securityGroupIds: [securityGroups.controlPlane.id],
    targetGroupArn: api.targetGroup.arn,
    etcdEndpoints: etcdMembers.map((member) => `https://${member.ip}:2379`),
    kmsKeyArn: encryption.kmsKeyArn,
    assetsBucketName: encryption.assetsBucketName,
    assetsBucketArn: encryption.assetsBucketArn,
    clusterCaCertPem: encryption.clusterCaCertPem,
    pkiFiles: encryption.controlPlaneFiles,
    controllerManagerCredentials: encryption.clientCredentials.controllerManager,
    schedulerCredentials: encryption.clientCredentials.scheduler,
    bootstrapTokenId: encryption.bootstrapTokenId,
    bootstrapTokenSecret: encryption.bootstrapTokenSecret,
    clusterAutoscaler: cfg.addons.clusterAutoscaler,
}, { providers: [awsProvider] });

for (const pool of cfg.workerPools) {
    new WorkerPool(`${cfg.clusterName}-${pool.name}`, {
        clusterName: cfg.clusterName,
        region: cfg.region,
        tags,
        pool,
        kubernetesVersion: cfg.kubernetes.version,
        clusterDomain: cfg.kubernetes.clusterDomain,
        clusterDnsIp: clusterDnsIp(cfg.kubernetes.serviceCidr),
        imageId: cfg.imageId,
        subnetIds: privateSubnetIdList,
        securityGroupIds: [securityGroups.workers.id],
        apiEndpoint: api.endpoint,
        kmsKeyArn: encryption.kmsKeyArn,
        assetsBucketName: encryption.assetsBucketName,
        assetsBucketArn: encryption.assetsBucketArn,
        clusterCaCertPem: encryption.clusterCaCertPem,
        bootstrapTokenId: encryption.bootstrapTokenId,
        bootstrapTokenSecret: encryption.bootstrapTokenSecret,
    }, { providers: [awsProvider] });
}

export const clusterName = cfg.clusterName;
export const environment = cfg.environment;
export const vpcId = network.vpcId;
export const azNames = network.azNames;
export const publicSubnetIds = network.subnetIdsByAz(network.publicSubnets);
export const privateSubnetIds = network.subnetIdsByAz(network.privateSubnets);
export const apiEndpoint = api.endpoint;
// Cluster facts the add-ons stack receives (automation/driver.ts addonsInputs).
export const region = cfg.region;
export const kubernetesVersion = cfg.kubernetes.version;
export const podCidr = cfg.kubernetes.podCidr;
export const serviceCidr = cfg.kubernetes.serviceCidr;
export const clusterDomain = cfg.kubernetes.clusterDomain;
export const vpcCidr = cfg.network.vpcCidr;
export const clusterAutoscaler = cfg.addons.clusterAutoscaler;
export const workerPoolNames = cfg.workerPools.map((pool) => pool.name);
export const etcdMemberIps = etcdMembers.map((member) => member.ip);
export const etcdEndpoints = etcd.endpoints;
export const etcdMemberGroups = etcd.memberGroups;
export const securityGroupIds = { etcd: securityGroups.etcd.id, controlPlane: securityGroups.controlPlane.id, workers: securityGroups.workers.id };
export const kubeconfig = encryption.adminKubeconfig;
export const clusterCaCertificate = encryption.clusterCaCertPem;
export const kmsKeyArn = encryption.kmsKeyArn;
export const assetsBucket = encryption.assetsBucketName;
export const weavePassword = encryption.weavePassword;
export const bootstrapTokenId = encryption.bootstrapTokenId;
export const bootstrapTokenSecret = encryption.bootstrapTokenSecret;
export const certificateExpiry = encryption.certificateExpiry;
