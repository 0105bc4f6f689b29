/**
 * Every version kaws deploys, per supported Kubernetes release. Nothing here is ever "latest".
 * Sources are listed in README.md ("Pinned versions").
 */
export interface ReleasePins {
    /** Kubernetes patch release: kubelet package and control-plane images. */
    readonly kubernetes: string;
    /** etcd release for the separate etcd cluster (the line this Kubernetes minor is validated with). */
    readonly etcd: string;
    /** Sandbox (pause) image tag kubeadm uses for this minor. */
    readonly pause: string;
    /** CoreDNS image tag kubeadm uses for this minor. */
    readonly coredns: string;
    /** aws-cloud-controller-manager image tag of the matching minor. */
    readonly cloudControllerManager: string;
    /** cluster-autoscaler image tag of the matching minor. */
    readonly clusterAutoscaler: string;
    /** cri-tools (crictl) package from the pkgs.k8s.io repository of the minor; its releases follow the minor. */
    readonly criTools: string;
}

export const supportedReleases: Readonly<Record<string, ReleasePins>> = {
    "1.36.4": {
        kubernetes: "1.36.4",
        etcd: "3.6.14",
        pause: "3.10.2",
        coredns: "v1.14.2",
        cloudControllerManager: "v1.36.1",
        clusterAutoscaler: "v1.36.1",
        criTools: "1.36.0",
    },
    "1.35.9": {
        kubernetes: "1.35.9",
        etcd: "3.6.14",
        pause: "3.10.1",
        coredns: "v1.13.1",
        cloudControllerManager: "v1.35.2",
        clusterAutoscaler: "v1.35.2",
        criTools: "1.35.0",
    },
};

export function pinsFor(kubernetesVersion: string): ReleasePins {
    const pins = supportedReleases[kubernetesVersion];
    if (!pins) {
        throw new Error(`kubernetes version ${kubernetesVersion} is not supported; accepted: ${Object.keys(supportedReleases).join(" | ")}`);
    }
    return pins;
}

/**
 * Amazon Linux 2023 release nodes boot. Its versioned package repository also pins containerd, runc and
 * every other OS package. Kernel 6.12 rather than the 6.18 default: the weave fork predates 6.18.
 */
export const al2023 = {
    release: "2023.12.20261028.0",
    kernel: "6.12",
} as const;

/**
 * Add-on images that do not follow the Kubernetes minor (README "Pinned versions"; reference/versions.md §5).
 * kube-proxy is `registry.k8s.io/kube-proxy:v<kubernetes>`; CoreDNS, the cloud-controller-manager and the
 * cluster-autoscaler come from the per-release pins above.
 */
export const addonImages = {
    weaveKube: "docker.io/rajchaudhuri/weave-kube:2.9.0",
    weaveNpc: "docker.io/rajchaudhuri/weave-npc:2.9.0",
    kubeletCsrApprover: "ghcr.io/postfinance/kubelet-csr-approver:v1.2.14",
    ebsCsiDriver: "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.64.0",
    csiProvisioner: "public.ecr.aws/csi-components/csi-provisioner:v6.3.0-eksbuild.4",
    csiAttacher: "public.ecr.aws/csi-components/csi-attacher:v4.12.0-eksbuild.5",
    csiResizer: "public.ecr.aws/csi-components/csi-resizer:v2.2.1-eksbuild.3",
    csiLivenessProbe: "public.ecr.aws/csi-components/livenessprobe:v2.19.0-eksbuild.5",
    csiNodeDriverRegistrar: "public.ecr.aws/csi-components/csi-node-driver-registrar:v2.17.0-eksbuild.5",
    metricsServer: "registry.k8s.io/metrics-server/metrics-server:v0.8.1",
    nodeTerminationHandler: "public.ecr.aws/aws-ec2/aws-node-termination-handler:v1.25.6",
} as const;

/**
 * ecr-credential-provider (kubernetes/cloud-provider-aws), the kubelet image credential provider for private
 * ECR. It speaks the stable credentialprovider.kubelet.k8s.io/v1 API, so one release serves every Kubernetes
 * minor (kops pins this one for all of them). v1.31.7 is the newest release published under
 * artifacts.k8s.io/binaries/cloud-provider-aws/<tag>/ (later tags were promoted without the tag in the
 * path); checksums from the release's promotion manifest (kubernetes/k8s.io
 * artifacts/manifests/k8s-staging-provider-aws/v1.31.7.yaml) and kops pkg/assets/assetdata/ecr.yaml.
 */
export const ecrCredentialProvider = {
    version: "v1.31.7",
    sha256: {
        amd64: "7644623e4ec9ad443ab352a8a5800a5180ee28741288be805286ba72bb8e7164",
        arm64: "1980e3a038cb16da48a137743b31fb81de6c0b59fa06c206c2bc20ce0a52f849",
    },
} as const;

/**
 * sha256 of the etcd release archives `etcd-v<version>-linux-<arch>.tar.gz`, as listed in the release's
 * SHA256SUMS (https://github.com/etcd-io/etcd/releases/download/v<version>/SHA256SUMS). Members refuse to
 * install a release whose checksum is missing here. Re-check against SHA256SUMS when bumping.
 */
export const etcdReleaseSha256: Readonly<Record<string, Readonly<Record<"amd64" | "arm64", string>>>> = {
    "3.6.14": {
        amd64: "ffe840ff9295808e88cce2794a18a5ac87f12a5203c8314d0bf6aa119b41bac5",
        arm64: "fa1b80565ee6fc2df1ae6f57a508b221f3ecc7d591c317c581cd8281b0842b3e",
    },
};
