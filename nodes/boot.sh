#!/bin/bash
# kaws-boot: first boot of a Kubernetes node. Names the host after its private DNS name (kubelet's node name),
# installs the pinned packages and the role's files, loads kernel settings, starts containerd and kubelet.
# Header values (nodes/boot.ts renderNodeBootScript):
#   KAWS_KUBERNETES_VERSION, KAWS_CRI_TOOLS_VERSION   kubelet/kubectl and cri-tools packages (pkgs.k8s.io)
#   KAWS_AL2023_RELEASE                            the AL2023 release providing containerd and runc
#   KAWS_ECR_PROVIDER_VERSION, KAWS_ECR_PROVIDER_SHA256_AMD64, KAWS_ECR_PROVIDER_SHA256_ARM64
#   KAWS_NODE_ENV, KAWS_KUBERNETES_REPO_FILE, KAWS_FETCH_FILES, KAWS_CREDENTIAL_PROVIDER_BIN_DIR, KAWS_CREDENTIAL_PROVIDER_DROP_IN,
#   KAWS_SYSCTLS                                   path on the node
#   KAWS_PRIVATE_DIRS                              root-only directories: static pod manifests and the role's own
#   KAWS_START_AFTER_KUBELET                       units the role starts once kubelet runs (none on workers)
set -euo pipefail

imds() {
  local token
  token=$(curl -fsS --retry 5 -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  curl -fsS --retry 5 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

node_name=$(imds local-hostname)
node_ip=$(imds local-ipv4)
hostnamectl set-hostname "$node_name"
install -d -m 0755 "$(dirname "$KAWS_NODE_ENV")"
printf 'KAWS_NODE_IP=%s\n' "$node_ip" > "$KAWS_NODE_ENV"

# One pkgs.k8s.io repository per Kubernetes minor.
minor=${KAWS_KUBERNETES_VERSION%.*}
repo="https://pkgs.k8s.io/core:/stable:/v$minor/rpm/"
cat > "$KAWS_KUBERNETES_REPO_FILE" <<REPO
[kubernetes]
name=Kubernetes v$minor
baseurl=$repo
enabled=1
gpgcheck=1
repo_gpgcheck=1
gpgkey=${repo}repodata/repomd.xml.key
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
REPO

# with_retries <attempts> <command...>: the subnet's route to the internet can be minutes old, or flap; wait
# 5 s, 10 s, ... between attempts (12 attempts: about 5.5 minutes).
with_retries() {
  local attempts=$1 attempt=1
  shift
  until "$@"; do
    if [ "$attempt" -ge "$attempts" ]; then
      echo "kaws-boot: gave up after $attempts attempts: $*" >&2
      return 1
    fi
    sleep $((attempt * 5))
    attempt=$((attempt + 1))
  done
}

with_retries 12 dnf install -y --releasever="$KAWS_AL2023_RELEASE" containerd runc iptables-nft conntrack-tools
with_retries 12 dnf install -y --disableexcludes=kubernetes "kubelet-$KAWS_KUBERNETES_VERSION" "kubectl-$KAWS_KUBERNETES_VERSION" "cri-tools-$KAWS_CRI_TOOLS_VERSION"

case "$(uname -m)" in
  x86_64) arch=amd64; ecr_provider_sha256=$KAWS_ECR_PROVIDER_SHA256_AMD64 ;;
  aarch64) arch=arm64; ecr_provider_sha256=$KAWS_ECR_PROVIDER_SHA256_ARM64 ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

# Optional: private ECR pulls. Without a verified provider kubelet still starts (it refuses to start with a
# configured provider whose binary is missing), so a failed download removes the drop-in that enables it.
install_ecr_credential_provider() {
  local download
  download=$(mktemp)
  if curl -fsSL --retry 5 -o "$download" \
      "https://artifacts.k8s.io/binaries/cloud-provider-aws/$KAWS_ECR_PROVIDER_VERSION/linux/$arch/ecr-credential-provider-linux-$arch" \
    && echo "$ecr_provider_sha256  $download" | sha256sum --check --quiet --strict -; then
    install -D -m 0755 "$download" "$KAWS_CREDENTIAL_PROVIDER_BIN_DIR/ecr-credential-provider"
  else
    echo "warning: ecr-credential-provider $KAWS_ECR_PROVIDER_VERSION did not download or verify; private ECR images will not pull" >&2
    rm -f "$KAWS_CREDENTIAL_PROVIDER_DROP_IN"
  fi
  rm -f "$download"
}

"$KAWS_FETCH_FILES"
install_ecr_credential_provider
read -ra private_dirs <<< "$KAWS_PRIVATE_DIRS"
install -d -m 0700 "${private_dirs[@]}"

systemctl restart systemd-modules-load.service
sysctl --load "$KAWS_SYSCTLS"
systemctl daemon-reload
systemctl enable --now containerd.service
systemctl enable --now kubelet.service
read -ra start_after_kubelet <<< "$KAWS_START_AFTER_KUBELET"
for unit in "${start_after_kubelet[@]}"; do
  case "$unit" in
    # User data runs once per instance: a timer is enabled so it runs again after a reboot.
    *.timer) systemctl enable --now --no-block "$unit" ;;
    *) systemctl start --no-block "$unit" ;;
  esac
done
