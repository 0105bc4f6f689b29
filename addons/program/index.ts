import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ClusterAddons } from "../clusterAddons";

// Config keys are the infra stack's output names (see Pulumi.yaml); the driver copies them over.
const config = new pulumi.Config("kaws-addons");
const clusterName = config.require("clusterName");

const provider = new k8s.Provider("cluster", {
    kubeconfig: config.requireSecret("kubeconfig"),
    enableServerSideApply: true,
});

const addons = new ClusterAddons(clusterName, {
    provider,
    settings: {
        clusterName,
        region: config.require("region"),
        kubernetesVersion: config.require("kubernetesVersion"),
        podCidr: config.require("podCidr"),
        serviceCidr: config.require("serviceCidr"),
        clusterDomain: config.require("clusterDomain"),
        vpcCidr: config.require("vpcCidr"),
        apiEndpoint: config.require("apiEndpoint"),
        kmsKeyArn: config.require("kmsKeyArn"),
        bootstrapTokenId: config.require("bootstrapTokenId"),
        bootstrapTokenSecret: config.requireSecret("bootstrapTokenSecret"),
        weavePassword: config.requireSecret("weavePassword"),
        clusterAutoscaler: config.getBoolean("clusterAutoscaler") ?? false,
    },
});

export const installedAddons = addons.addonNames;
