import { ClusterPlan } from "../plan/cluster";
import { ReleasePins, al2023, ecrCredentialProvider } from "../plan/versions";
import { renderCloudConfig } from "./cloudInit";
import { renderFetchFilesScript } from "./fileDelivery";
import { renderShellScript } from "./shellScript";
import { kubeletPaths } from "./kubelet";
import { runtimePaths } from "./containerd";

export interface NodeBootSpec {
    /** Node role: "controlplane" or "worker-<pool>"; names the files to fetch. */
    readonly role: string;
    readonly bucket: string;
    readonly region: string;
    /** Kubernetes patch release: kubelet and kubectl packages, one pkgs.k8s.io repository per minor. */
    readonly kubernetesVersion: string;
    /** cri-tools package release of the same minor. */
    readonly criToolsVersion: string;
    /** Amazon Linux 2023 release whose versioned repository provides containerd and runc. */
    readonly al2023Release: string;
    /** ecr-credential-provider release and the sha256 of its binaries (versions.ts). */
    readonly ecrCredentialProvider: { readonly version: string; readonly sha256: Readonly<Record<"amd64" | "arm64", string>> };
    /** What the role adds to the boot (the control plane: its audit log directory and its node labeller). */
    readonly roleSteps: RoleBootSteps;
}

/** Boot steps a node role contributes; the generic boot knows no role. */
export interface RoleBootSteps {
    /** Directories created root-only (0700) besides the static pod manifests. */
    readonly privateDirs: readonly string[];
    /** systemd units started (without waiting) once kubelet runs. */
    readonly startAfterKubelet: readonly string[];
}

export const noRoleSteps: RoleBootSteps = { privateDirs: [], startAfterKubelet: [] };

export const bootPaths = {
    fetchFiles: "/usr/local/sbin/kaws-fetch-files",
    boot: "/usr/local/sbin/kaws-boot",
    nodeEnv: "/etc/kaws/node.env",
    /** The pkgs.k8s.io repository of the Kubernetes minor. */
    kubernetesRepo: "/etc/yum.repos.d/kubernetes.repo",
} as const;

function check(spec: NodeBootSpec): void {
    const problems: string[] = [];
    if (!/^\d+\.\d+\.\d+$/.test(spec.kubernetesVersion)) problems.push(`kubernetesVersion "${spec.kubernetesVersion}" is not a patch release like 1.36.4`);
    if (!/^\d+\.\d+\.\d+$/.test(spec.criToolsVersion)) problems.push(`criToolsVersion "${spec.criToolsVersion}" is not a release like 1.36.0`);
    if (!/^2023\.\d+\.\d{8}\.\d+$/.test(spec.al2023Release)) problems.push(`al2023Release "${spec.al2023Release}" is not an AL2023 release like 2023.12.20261028.0`);
    if (!/^v\d+\.\d+\.\d+$/.test(spec.ecrCredentialProvider.version)) problems.push(`ecrCredentialProvider.version "${spec.ecrCredentialProvider.version}" is not a tag like v1.31.7`);
    for (const item of [...spec.roleSteps.privateDirs, ...spec.roleSteps.startAfterKubelet]) {
        if (!/^[A-Za-z0-9_@%+=:,./-]+$/.test(item)) problems.push(`role step "${item}" must be a path or unit name without spaces or quotes`);
    }
    for (const [arch, sum] of Object.entries(spec.ecrCredentialProvider.sha256)) {
        if (!/^[0-9a-f]{64}$/.test(sum)) problems.push(`ecrCredentialProvider.sha256.${arch} is not a sha256 (64 hex digits)`);
    }
    if (!/^(controlplane|worker-[a-z0-9-]+)$/.test(spec.role)) problems.push(`role "${spec.role}" is not controlplane or worker-<pool>`);
    if (problems.length > 0) throw new Error(`renderNodeBootScript: ${problems.join("; ")}`);
}

/**
 * First-boot script of a Kubernetes node: names the host after its private DNS name (kubelet's node name,
 * no --hostname-override), installs the pinned packages (containerd and runc from the pinned AL2023
 * release, kubelet/kubectl/cri-tools from the pkgs.k8s.io repository of the minor), installs the role's
 * files, loads kernel settings and starts containerd and kubelet. Holds no secret.
 */
export function renderNodeBootScript(spec: NodeBootSpec): string {
    check(spec);
    return renderShellScript("nodes/boot.sh", {
        KAWS_KUBERNETES_VERSION: spec.kubernetesVersion,
        KAWS_CRI_TOOLS_VERSION: spec.criToolsVersion,
        KAWS_AL2023_RELEASE: spec.al2023Release,
        KAWS_ECR_PROVIDER_VERSION: spec.ecrCredentialProvider.version,
        KAWS_ECR_PROVIDER_SHA256_AMD64: spec.ecrCredentialProvider.sha256.amd64,
        KAWS_ECR_PROVIDER_SHA256_ARM64: spec.ecrCredentialProvider.sha256.arm64,
        KAWS_NODE_ENV: bootPaths.nodeEnv,
        KAWS_KUBERNETES_REPO_FILE: bootPaths.kubernetesRepo,
        KAWS_FETCH_FILES: bootPaths.fetchFiles,
        KAWS_CREDENTIAL_PROVIDER_BIN_DIR: kubeletPaths.credentialProviderBinDir,
        KAWS_CREDENTIAL_PROVIDER_DROP_IN: kubeletPaths.credentialProviderDropIn,
        KAWS_PRIVATE_DIRS: [kubeletPaths.staticPods, ...spec.roleSteps.privateDirs].join(" "),
        KAWS_SYSCTLS: runtimePaths.sysctls,
        KAWS_START_AFTER_KUBELET: spec.roleSteps.startAfterKubelet.join(" "),
    }, `kaws node boot (${spec.role}): Kubernetes ${spec.kubernetesVersion}, AL2023 ${spec.al2023Release}.`);
}

/**
 * A Kubernetes node role's user data, given the bucket: the release's pins (a worker pool's own, which may
 * lag the control plane; by default the cluster's) and the role's own boot steps.
 */
export function kubernetesNodeUserData(plan: ClusterPlan, role: string, roleSteps: RoleBootSteps, pins: ReleasePins = plan.pins): (bucket: string) => string {
    return (bucket) => renderNodeUserData({
        role,
        bucket,
        region: plan.region,
        kubernetesVersion: pins.kubernetes,
        criToolsVersion: pins.criTools,
        al2023Release: al2023.release,
        ecrCredentialProvider,
        roleSteps,
    });
}

/** EC2 user data: the fetch script and the boot script as cloud-config files, then the boot script. */
export function renderNodeUserData(spec: NodeBootSpec): string {
    return renderCloudConfig({
        files: [
            { path: bootPaths.fetchFiles, permissions: "0700", content: renderFetchFilesScript(spec.bucket, spec.role, spec.region) },
            { path: bootPaths.boot, permissions: "0700", content: renderNodeBootScript(spec) },
        ],
        runcmd: [[bootPaths.boot]],
    });
}
