#!/bin/bash
# kaws-node-bootstrap: applies what kubelets need to join (the bootstrap-token Secret, the TLS-bootstrap and
# CSR auto-approval bindings, the apiserver's kubelet-client binding) to this node's own API server as soon as
# it answers, so nodes register while `kaws up` still waits for the API. Server-side apply under one field
# manager is idempotent: every control-plane node runs it at boot and again from a timer, which restores the
# objects if they are deleted. Then it creates the node-critical add-ons (kube-proxy, the pod network) where
# they do not exist, so nodes become Ready before the add-ons stage runs; it never updates them: the add-ons
# stage adopts and owns them (an older copy here must not roll back a newer release). It talks to the API
# through kaws-kube-admin (kubeadm's bootstrap-token phase uses its admin credential).
# Header values (controlPlane/nodeBootstrap.ts renderNodeBootstrapScript):
#   KAWS_KUBE_ADMIN, KAWS_OBJECTS, KAWS_NODE_CRITICAL_ADDONS (root-only node files), KAWS_FIELD_MANAGER.
set -euo pipefail
kube() {
  "$KAWS_KUBE_ADMIN" node-bootstrap "$@"
}
until kube get --raw=/readyz >/dev/null 2>&1; do
  sleep 2
done
# --force-conflicts takes over fields another manager set (the add-ons stage owned these objects before).
kube apply --server-side --force-conflicts --field-manager="$KAWS_FIELD_MANAGER" -f "$KAWS_OBJECTS"

# kubectl create reports each object that exists as AlreadyExists and exits non-zero: any other line fails.
if ! created=$(kube create -f "$KAWS_NODE_CRITICAL_ADDONS" 2>&1); then
  if grep -v -e '(AlreadyExists)' -e ' created$' <<<"$created" | grep -q .; then
    echo "kaws-node-bootstrap: creating the node-critical add-ons failed: $created" >&2
    exit 1
  fi
fi
