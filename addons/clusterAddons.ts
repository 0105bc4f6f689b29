import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { AddonSettings, KubeObject, renderAddons } from ".";

export interface ClusterAddonsArgs {
    /** The cluster's provider, built from the generated admin kubeconfig; never the ambient KUBECONFIG. */
    readonly provider: k8s.Provider;
    /** Cluster facts from the infra stack; plain because they shape the objects, secrets as Inputs. */
    readonly settings: AddonSettings<pulumi.Input<string>>;
}

type ResourceClass = new (name: string, args: any, opts: pulumi.CustomResourceOptions) => pulumi.CustomResource;

const classes: Record<string, ResourceClass> = {
    "v1/ConfigMap": k8s.core.v1.ConfigMap,
    "v1/Secret": k8s.core.v1.Secret,
    "v1/Service": k8s.core.v1.Service,
    "v1/ServiceAccount": k8s.core.v1.ServiceAccount,
    "apps/v1/DaemonSet": k8s.apps.v1.DaemonSet,
    "apps/v1/Deployment": k8s.apps.v1.Deployment,
    "rbac.authorization.k8s.io/v1/ClusterRole": k8s.rbac.v1.ClusterRole,
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": k8s.rbac.v1.ClusterRoleBinding,
    "rbac.authorization.k8s.io/v1/Role": k8s.rbac.v1.Role,
    "rbac.authorization.k8s.io/v1/RoleBinding": k8s.rbac.v1.RoleBinding,
    "storage.k8s.io/v1/CSIDriver": k8s.storage.v1.CSIDriver,
    "storage.k8s.io/v1/StorageClass": k8s.storage.v1.StorageClass,
    "policy/v1/PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "apiregistration.k8s.io/v1/APIService": k8s.apiregistration.v1.APIService,
};

const workloads = new Set(["DaemonSet", "Deployment"]);

/** Pulumi name of an object: "<namespace>/<name>", or the name of a cluster-scoped object. */
export function resourceName(obj: KubeObject): string {
    return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

/**
 * Everything a kaws cluster needs after its API answers (README "Add-ons"): the objects come from the
 * pure renderers in addons/ (the render command writes the same objects as YAML). Each add-on's
 * workloads wait for its accounts, RBAC and configuration.
 */
export class ClusterAddons extends pulumi.ComponentResource {
    /** Names of the installed add-ons, in install order. */
    public readonly addonNames: string[];

    constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kaws:addons:ClusterAddons", name, {}, opts);
        const addons = renderAddons(args.settings);
        for (const addon of addons) {
            const create = (obj: KubeObject, dependsOn: pulumi.Resource[]) => {
                const resourceClass = classes[`${obj.apiVersion}/${obj.kind}`];
                if (!resourceClass) throw new Error(`add-on ${addon.name}: no resource class for ${obj.apiVersion} ${obj.kind}`);
                return new resourceClass(resourceName(obj), obj, { parent: this, provider: args.provider, dependsOn });
            };
            const prerequisites = addon.objects.filter((o) => !workloads.has(o.kind)).map((o) => create(o, []));
            addon.objects.filter((o) => workloads.has(o.kind)).forEach((o) => create(o, prerequisites));
        }
        this.addonNames = addons.map((a) => a.name);
        this.registerOutputs({ addonNames: this.addonNames });
    }
}
