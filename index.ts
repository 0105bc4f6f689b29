import * as aws from "@pulumi/aws";
import { readClusterConfig } from "./plan/config";
import { planCluster } from "./plan/cluster";
import { lookupAccount, ClusterContext } from "./nodes/context";
import { ClusterKey } from "./secrets/clusterKey";
import { Encryption } from "./secrets/encryption";
import { Network } from "./network/network";
import { PrivateZone } from "./network/privateZone";
import { SecurityGroups } from "./network/securityGroups";
import { ApiLoadBalancer } from "./controlPlane/apiLoadBalancer";
import { ControlPlane } from "./controlPlane/controlPlane";
import { EtcdCluster } from "./etcd/etcdCluster";
import { WorkerPool } from "./workers/workerPool";
import { TerminationEvents } from "./workers/terminationEvents";
import { addonContract } from "./addons/settings";

const plan = planCluster(readClusterConfig());
const name = plan.clusterName;

// Every AWS resource goes through this provider, so every one carries the cluster tags.
const awsProvider = new aws.Provider("aws", { region: plan.region as aws.Region, defaultTags: { tags: plan.tags } });
const opts = { providers: [awsProvider] };
const account = lookupAccount(awsProvider);

const clusterKey = new ClusterKey(name, { plan, account }, opts);
const network = new Network(name, { plan, kmsKeyArn: clusterKey.arn }, opts);
const privateZone = new PrivateZone(name, { domain: plan.etcd.domain, vpcId: network.vpcId }, opts);
const api = new ApiLoadBalancer(name, {
    plan,
    vpcId: network.vpcId,
    subnetIds: (plan.apiSubnets === "private" ? network.privateSubnets : network.publicSubnets).map((s) => s.id),
    nodeEgressIps: network.egressIps,
    privateZoneId: privateZone.zoneId,
}, opts);
const encryption = new Encryption(name, { plan, apiServerDnsNames: [api.dnsName], apiEndpoint: api.endpoint, kmsKeyArn: clusterKey.arn }, opts);
const securityGroups = new SecurityGroups(name, { plan, vpcId: network.vpcId, apiLoadBalancerSecurityGroupId: api.securityGroup.id }, opts);

const context: ClusterContext = {
    account,
    keyArn: encryption.kmsKeyArn,
    bucket: { name: encryption.assetsBucketName, arn: encryption.assetsBucketArn },
    clusterCaCertPem: encryption.clusterCaCertPem,
    bootstrapToken: { id: encryption.bootstrapTokenId, secret: encryption.bootstrapTokenSecret },
    vpcId: network.vpcId,
    privateSubnets: network.privateSubnets.map((subnet, i) => ({ id: network.nodeSubnetIds[i], availabilityZone: subnet.availabilityZone, cidr: plan.subnets.privateCidrs[i] })),
    privateZoneId: privateZone.zoneId,
};

const terminationEvents = new TerminationEvents(name, { plan }, opts);
// The add-ons stage's input, built once (addons/settings.ts): read by the driver, the add-ons program and the
// offline render; its node-critical part goes to the control-plane nodes too.
const addonInputs = addonContract(plan, { kmsKeyArn: encryption.kmsKeyArn, weavePassword: encryption.weavePassword, terminationQueueUrl: terminationEvents.queueUrl });
const etcd = new EtcdCluster(name, { plan, context, securityGroupId: securityGroups.etcd.id, pki: encryption.pki }, opts);
new ControlPlane(name, {
    plan,
    context,
    securityGroupIds: [securityGroups.controlPlane.id],
    targetGroupArn: api.targetGroup.arn,
    pki: encryption.pki,
    encryptionConfig: encryption.encryptionConfig,
    terminationQueueArn: terminationEvents.queueArn,
    nodeCriticalAddons: addonInputs.nodeCriticalManifest,
}, opts);
for (const pool of plan.workerPools) {
    new WorkerPool(`${name}-${pool.config.name}`, { plan, context, pool, securityGroupIds: [securityGroups.workers.id] }, opts);
}

export const clusterName = plan.clusterName;
export const environment = plan.config.environment;
export const region = plan.region;
export const kubernetesVersion = plan.pins.kubernetes;
export const vpcId = network.vpcId;
export const azNames = network.azNames;
export const publicSubnetIds = network.subnetIdsByAz(network.publicSubnets);
export const privateSubnetIds = network.subnetIdsByAz(network.privateSubnets);
export const apiEndpoint = api.endpoint;
export const apiLoadBalancerDnsName = api.loadBalancerDnsName;
export const workerPoolNames = plan.workerPools.map((pool) => pool.config.name);
export const etcdMemberIps = plan.etcd.members.map((member) => member.ip);
export const etcdEndpoints = etcd.endpoints;
export const etcdMemberGroups = etcd.memberGroups;
export const securityGroupIds = { etcd: securityGroups.etcd.id, controlPlane: securityGroups.controlPlane.id, workers: securityGroups.workers.id };
export const kubeconfig = encryption.adminKubeconfig;
export const clusterCaCertificate = encryption.clusterCaCertPem;
export const kmsKeyArn = encryption.kmsKeyArn;
export const assetsBucket = encryption.assetsBucketName;
export const certificateExpiry = encryption.certificateExpiry;
export const addonSettings = addonInputs.settings;
export const addonSecrets = addonInputs.secrets;
