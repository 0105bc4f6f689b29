import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ClusterAddons } from "../clusterAddons";
import { addonSecretFields, parseAddonSecrets, parseAddonSettings } from "../settings";

// The infra stack's add-ons contract (addons/settings.ts), copied here by the driver or an ESC environment.
const config = new pulumi.Config("kaws-addons");
const settings = parseAddonSettings(config.requireObject("addonSettings"), "kaws-addons:addonSettings");
const secrets = config.requireSecretObject<unknown>("addonSecrets").apply((value) => parseAddonSecrets(value, "kaws-addons:addonSecrets"));
const secret = (field: typeof addonSecretFields[number]) => secrets.apply((s) => s[field]);

// The control-plane nodes create kube-proxy and the pod network where they are missing (controlPlane/node-bootstrap.sh):
// this stack adopts them (upsert instead of AlreadyExists) and owns every field it sets (force over the nodes' create).
const provider = new k8s.Provider("cluster", {
    kubeconfig: config.requireSecret("kubeconfig"),
    enableServerSideApply: true,
    upsertExistingObjects: true,
    enablePatchForce: true,
});

const addons = new ClusterAddons(settings.clusterName, {
    provider,
    settings: { ...settings, weavePassword: secret("weavePassword") },
});

export const installedAddons = addons.addonNames;
