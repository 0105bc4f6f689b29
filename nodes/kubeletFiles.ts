import * as pulumi from "@pulumi/pulumi";
import { Taint } from "../plan/config";
import { ClusterPlan } from "../plan/cluster";
import { ReleasePins } from "../plan/versions";
import { ClusterContext } from "./context";
import { NodeFile } from "./nodeFiles";
import { kubeletPaths, renderBootstrapKubeconfig, renderCredentialProviderConfig, renderCredentialProviderDropIn, renderKubeletConfiguration, renderKubeletService } from "./kubelet";
import { renderContainerdConfig, renderKernelModules, renderSysctls, runtimePaths } from "./containerd";

/** What differs between the control plane's and a pool's kubelets. */
export interface KubeletRole {
    /** API server URL the kubelet bootstraps against (control plane: its own; workers: the load balancer). */
    readonly server: pulumi.Input<string>;
    readonly nodeLabels: Readonly<Record<string, string>>;
    readonly taints: readonly Taint[];
    /** Pins of the node's Kubernetes release (a worker pool's own, which may lag); unset, the cluster's. */
    readonly pins?: ReleasePins;
}

/**
 * What every Kubernetes node runs besides its role's own files: kubelet (config, unit, bootstrap
 * kubeconfig, ECR credential provider config), containerd and kernel settings. Everything root-only.
 */
export function kubeletNodeFiles(plan: ClusterPlan, ctx: ClusterContext, role: KubeletRole): NodeFile[] {
    const bootstrapKubeconfig = pulumi.secret(pulumi.all([role.server, ctx.clusterCaCertPem, ctx.bootstrapToken.id, ctx.bootstrapToken.secret])
        .apply(([server, caCertPem, tokenId, tokenSecret]) => renderBootstrapKubeconfig({ clusterName: plan.clusterName, server, caCertPem, tokenId, tokenSecret })));
    return [
        { path: kubeletPaths.config, mode: "0600", content: renderKubeletConfiguration({ clusterDnsIp: plan.serviceIps.dns, clusterDomain: plan.config.kubernetes.clusterDomain, registerWithTaints: role.taints }) },
        { path: kubeletPaths.unit, mode: "0600", content: renderKubeletService({ nodeLabels: role.nodeLabels }) },
        { path: kubeletPaths.bootstrapKubeconfig, mode: "0600", content: bootstrapKubeconfig },
        { path: kubeletPaths.credentialProviderConfig, mode: "0600", content: renderCredentialProviderConfig() },
        { path: kubeletPaths.credentialProviderDropIn, mode: "0644", content: renderCredentialProviderDropIn() },
        { path: runtimePaths.containerdConfig, mode: "0600", content: renderContainerdConfig(`registry.k8s.io/pause:${(role.pins ?? plan.pins).pause}`) },
        { path: runtimePaths.sysctls, mode: "0644", content: renderSysctls() },
        { path: runtimePaths.modules, mode: "0644", content: renderKernelModules() },
    ];
}
