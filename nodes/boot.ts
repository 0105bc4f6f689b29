import { renderCloudConfig } from "./cloudInit";
import { renderFetchFilesScript } from "./fileDelivery";
import { kubeletPaths } from "./kubelet";
import { runtimePaths } from "./containerd";
import { controlPlanePaths, localApiServer } from "../controlPlane/render";

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
}

export const bootPaths = {
    fetchFiles: "/usr/local/sbin/kaws-fetch-files",
    boot: "/usr/local/sbin/kaws-boot",
    nodeEnv: "/etc/kaws/node.env",
    markControlPlaneScript: "/usr/local/sbin/kaws-mark-control-plane",
    markControlPlaneUnit: "/etc/systemd/system/kaws-mark-control-plane.service",
} as const;

function check(spec: NodeBootSpec): void {
    const problems: string[] = [];
    if (!/^\d+\.\d+\.\d+$/.test(spec.kubernetesVersion)) problems.push(`kubernetesVersion "${spec.kubernetesVersion}" is not a patch release like 1.36.4`);
    if (!/^\d+\.\d+\.\d+$/.test(spec.criToolsVersion)) problems.push(`criToolsVersion "${spec.criToolsVersion}" is not a release like 1.36.0`);
    if (!/^2023\.\d+\.\d{8}\.\d+$/.test(spec.al2023Release)) problems.push(`al2023Release "${spec.al2023Release}" is not an AL2023 release like 2023.12.20261028.0`);
    if (!/^v\d+\.\d+\.\d+$/.test(spec.ecrCredentialProvider.version)) problems.push(`ecrCredentialProvider.version "${spec.ecrCredentialProvider.version}" is not a tag like v1.31.7`);
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
    const minor = spec.kubernetesVersion.split(".").slice(0, 2).join(".");
    const repo = `https://pkgs.k8s.io/core:/stable:/v${minor}/rpm/`;
    const controlPlane = spec.role === "controlplane";
    return `#!/bin/bash
# kaws node boot (${spec.role}): Kubernetes ${spec.kubernetesVersion}, AL2023 ${spec.al2023Release}.
set -euo pipefail

imds() {
  local token
  token=$(curl -fsS --retry 5 -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  curl -fsS --retry 5 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

node_name=$(imds local-hostname)
node_ip=$(imds local-ipv4)
hostnamectl set-hostname "$node_name"
install -d -m 0755 /etc/kaws
printf 'KAWS_NODE_IP=%s\\n' "$node_ip" > ${bootPaths.nodeEnv}

cat > /etc/yum.repos.d/kubernetes.repo <<'REPO'
[kubernetes]
name=Kubernetes v${minor}
baseurl=${repo}
enabled=1
gpgcheck=1
repo_gpgcheck=1
gpgkey=${repo}repodata/repomd.xml.key
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
REPO

dnf install -y --releasever=${spec.al2023Release} containerd runc iptables-nft conntrack-tools
dnf install -y --disableexcludes=kubernetes kubelet-${spec.kubernetesVersion} kubectl-${spec.kubernetesVersion} cri-tools-${spec.criToolsVersion}

case "$(uname -m)" in
  x86_64) arch=amd64; ecr_provider_sha256=${spec.ecrCredentialProvider.sha256.amd64} ;;
  aarch64) arch=arm64; ecr_provider_sha256=${spec.ecrCredentialProvider.sha256.arm64} ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

# Optional: private ECR pulls. Without a verified provider kubelet still starts (it refuses to start with a
# configured provider whose binary is missing), so a failed download removes the drop-in that enables it.
install_ecr_credential_provider() {
  local download
  download=$(mktemp)
  if curl -fsSL --retry 5 -o "$download" \
      "https://artifacts.k8s.io/binaries/cloud-provider-aws/${spec.ecrCredentialProvider.version}/linux/$arch/ecr-credential-provider-linux-$arch" \
    && echo "$ecr_provider_sha256  $download" | sha256sum --check --quiet --strict -; then
    install -D -m 0755 "$download" ${kubeletPaths.credentialProviderBinDir}/ecr-credential-provider
  else
    echo "warning: ecr-credential-provider ${spec.ecrCredentialProvider.version} did not download or verify; private ECR images will not pull" >&2
    rm -f ${kubeletPaths.credentialProviderDropIn}
  fi
  rm -f "$download"
}

${bootPaths.fetchFiles}
install_ecr_credential_provider
install -d -m 0700 ${kubeletPaths.staticPods}${controlPlane ? ` ${controlPlanePaths.auditLogDir}` : ""}

systemctl restart systemd-modules-load.service
sysctl --load ${runtimePaths.sysctls}
systemctl daemon-reload
systemctl enable --now containerd.service
systemctl enable --now kubelet.service
${controlPlane ? `systemctl start --no-block ${bootPaths.markControlPlaneUnit.split("/").pop()}\n` : ""}`;
}

/**
 * Labels this control-plane node node-role.kubernetes.io/control-plane once it has registered: kubelets may
 * not set that label on themselves (NodeRestriction). Like kubeadm's mark-control-plane phase, it uses a
 * throwaway client certificate signed with the cluster CA key the node already holds, valid one day, kept
 * in a private temporary directory and deleted afterwards.
 */
export function renderMarkControlPlaneScript(): string {
    const p = controlPlanePaths;
    return `#!/bin/bash
set -euo pipefail
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl ecparam -name prime256v1 -genkey -noout -out "$work/client.key"
openssl req -new -key "$work/client.key" -subj "/O=system:masters/CN=kaws:mark-control-plane" -out "$work/client.csr"
openssl x509 -req -in "$work/client.csr" -CA ${p.caCert} -CAkey ${p.caKey} -set_serial "0x$(openssl rand -hex 16)" -days 1 -out "$work/client.crt" 2>/dev/null
node_name=$(hostname)
kube() {
  kubectl --server=${localApiServer} --certificate-authority=${p.caCert} \\
    --client-certificate="$work/client.crt" --client-key="$work/client.key" "$@"
}
until kube get node "$node_name" >/dev/null 2>&1; do
  sleep 10
done
kube label node "$node_name" --overwrite node-role.kubernetes.io/control-plane=
`;
}

export function renderMarkControlPlaneUnit(): string {
    return `[Unit]
Description=Label this node as a kaws control-plane node once it has registered
After=kubelet.service
Wants=kubelet.service

[Service]
Type=oneshot
ExecStart=${bootPaths.markControlPlaneScript}
Restart=on-failure
RestartSec=30
`;
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
