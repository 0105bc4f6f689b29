import * as pulumi from "@pulumi/pulumi";
import { ClusterPlan } from "../plan/cluster";
import { AddonSettings } from "./objects";
import { renderNodeCriticalAddons } from "./index";
import { renderManifest } from "../nodes/manifest";

/** The add-ons settings that are secret: a secret infra output and a secret add-ons config key. */
export const addonSecretFields = ["weavePassword"] as const;
export type AddonSecrets = Pick<AddonSettings, typeof addonSecretFields[number]>;
export type AddonPlainSettings = Omit<AddonSettings, typeof addonSecretFields[number]>;

/** Every plain field and its type: the contract both sides check (a Record over the keys, so none is forgotten). */
const plainFieldTypes: Record<keyof AddonPlainSettings, "string" | "boolean"> = {
    clusterName: "string",
    region: "string",
    kubernetesVersion: "string",
    podCidr: "string",
    serviceCidr: "string",
    clusterDomain: "string",
    vpcCidr: "string",
    nodeApiEndpoint: "string",
    kmsKeyArn: "string",
    clusterAutoscaler: "boolean",
    terminationQueueUrl: "string",
};

/** What the infra stack knows only once its resources exist. */
export interface AddonInputs {
    readonly kmsKeyArn: pulumi.Input<string>;
    readonly weavePassword: pulumi.Input<string>;
    readonly terminationQueueUrl: pulumi.Input<string>;
}

export interface AddonContract {
    readonly settings: pulumi.Output<AddonPlainSettings>;
    readonly secrets: pulumi.Output<AddonSecrets>;
    /** The node-critical add-ons (addons/index.ts renderNodeCriticalAddons) the control-plane nodes create where missing. Secret: it holds the weave password. */
    readonly nodeCriticalManifest: pulumi.Output<string>;
}

/**
 * The add-ons contract, built once from the plan and the infra stack's outputs: `settings` (plain) and
 * `secrets` (secret), exported as the infra stack's `addonSettings` and `addonSecrets` outputs and copied,
 * as JSON, by the driver (or an ESC environment) to the add-ons stack's config keys of the same names.
 */
export function addonContract(plan: ClusterPlan, inputs: AddonInputs): AddonContract {
    const k = plan.config.kubernetes;
    const settings: pulumi.Output<AddonPlainSettings> = pulumi.all([inputs.kmsKeyArn, inputs.terminationQueueUrl]).apply(([kmsKeyArn, terminationQueueUrl]) => ({
        clusterName: plan.clusterName,
        region: plan.region,
        kubernetesVersion: plan.pins.kubernetes,
        podCidr: k.podCidr,
        serviceCidr: k.serviceCidr,
        clusterDomain: k.clusterDomain,
        vpcCidr: plan.config.network.vpcCidr,
        nodeApiEndpoint: plan.nodeApi.endpoint,
        kmsKeyArn,
        clusterAutoscaler: plan.config.addons.clusterAutoscaler,
        terminationQueueUrl,
    }));
    const secrets = pulumi.secret(pulumi.output(inputs.weavePassword).apply((weavePassword) => ({ weavePassword })));
    const nodeCriticalManifest = pulumi.secret(pulumi.all([settings, secrets]).apply(([plain, secret]) =>
        renderManifest(renderNodeCriticalAddons({ ...plain, ...secret }).flatMap((addon) => addon.objects))));
    return { settings, secrets, nodeCriticalManifest };
}

function problemsOf(value: unknown, fields: Record<string, "string" | "boolean">): string[] {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return ["it is not an object"];
    const record = value as Record<string, unknown>;
    return [
        ...Object.entries(fields).filter(([key, type]) => typeof record[key] !== type || record[key] === "").map(([key, type]) => `${key} (a ${type}) is missing or wrong`),
        ...Object.keys(record).filter((key) => !(key in fields)).map((key) => `${key} is not a setting`),
    ];
}

/** Reads the plain settings back, or throws one line naming every missing or wrong field. */
export function parseAddonSettings(value: unknown, where: string): AddonPlainSettings {
    const problems = problemsOf(value, plainFieldTypes);
    if (problems.length > 0) throw new Error(`${where}: ${problems.join("; ")}; accepted: ${Object.keys(plainFieldTypes).join(", ")}`);
    return value as AddonPlainSettings;
}

/** Reads the secret settings back, or throws one line naming what is missing (never a value). */
export function parseAddonSecrets(value: unknown, where: string): AddonSecrets {
    const problems = problemsOf(value, Object.fromEntries(addonSecretFields.map((key) => [key, "string" as const])));
    if (problems.length > 0) throw new Error(`${where}: ${problems.join("; ")}; accepted: ${addonSecretFields.join(", ")}`);
    return value as AddonSecrets;
}
