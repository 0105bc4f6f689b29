import * as pulumi from "@pulumi/pulumi";
import { Taint } from "../plan/config";
import { NodeFile } from "./nodeFiles";
import { kubeletPaths, renderBootstrapKubeconfig, renderCredentialProviderConfig, renderCredentialProviderDropIn, renderKubeletConfiguration, renderKubeletService } from "./kubelet";
import { renderContainerdConfig, renderKernelModules, renderSysctls, runtimePaths } from "./containerd";

export interface KubeletFilesArgs {
    readonly clusterName: string;
    /** API server URL the kubelet bootstraps against. */
    readonly server: pulumi.Input<string>;
    readonly clusterCaCertPem: pulumi.Input<string>;
    readonly bootstrapTokenId: pulumi.Input<string>;
    readonly bootstrapTokenSecret: pulumi.Input<string>;
    readonly clusterDnsIp: string;
    readonly clusterDomain: string;
    readonly nodeLabels: Readonly<Record<string, string>>;
    readonly taints: readonly Taint[];
    /** Pinned pause image, e.g. registry.k8s.io/pause:3.10.2. */
    readonly sandboxImage: string;
}

/**
 * What every Kubernetes node runs besides its role's own files: kubelet (config, unit, bootstrap
 * kubeconfig, ECR credential provider config), containerd and kernel settings. Everything root-only.
 */
export function kubeletNodeFiles(args: KubeletFilesArgs): NodeFile[] {
    const bootstrapKubeconfig = pulumi.secret(pulumi.all([args.server, args.clusterCaCertPem, args.bootstrapTokenId, args.bootstrapTokenSecret])
        .apply(([server, caCertPem, tokenId, tokenSecret]) => renderBootstrapKubeconfig({ clusterName: args.clusterName, server, caCertPem, tokenId, tokenSecret })));
    return [
        { path: kubeletPaths.config, mode: "0600", content: renderKubeletConfiguration({ clusterDnsIp: args.clusterDnsIp, clusterDomain: args.clusterDomain, registerWithTaints: args.taints }) },
        { path: kubeletPaths.unit, mode: "0600", content: renderKubeletService({ nodeLabels: args.nodeLabels }) },
        { path: kubeletPaths.bootstrapKubeconfig, mode: "0600", content: bootstrapKubeconfig },
        { path: kubeletPaths.credentialProviderConfig, mode: "0600", content: renderCredentialProviderConfig() },
        { path: kubeletPaths.credentialProviderDropIn, mode: "0644", content: renderCredentialProviderDropIn() },
        { path: runtimePaths.containerdConfig, mode: "0600", content: renderContainerdConfig(args.sandboxImage) },
        { path: runtimePaths.sysctls, mode: "0644", content: renderSysctls() },
        { path: runtimePaths.modules, mode: "0644", content: renderKernelModules() },
    ];
}
