#!/bin/bash
# kaws-node-bootstrap: applies what kubelets need to join (the bootstrap-token Secret, the TLS-bootstrap and
# CSR auto-approval bindings, the apiserver's kubelet-client binding) to this node's own API server as soon as
# it answers, so nodes register while `kaws up` still waits for the API. Server-side apply under one field
# manager is idempotent: every control-plane node runs it at boot and again from a timer, which restores the
# objects if they are deleted. It talks to the API through kaws-kube-admin (kubeadm's bootstrap-token phase
# uses its admin credential).
# Header values (controlPlane/nodeBootstrap.ts renderNodeBootstrapScript):
#   KAWS_KUBE_ADMIN, KAWS_OBJECTS (the objects, a root-only node file), KAWS_FIELD_MANAGER.
set -euo pipefail
kube() {
  "$KAWS_KUBE_ADMIN" node-bootstrap "$@"
}
until kube get --raw=/readyz >/dev/null 2>&1; do
  sleep 2
done
# --force-conflicts takes over fields another manager set (the add-ons stage owned these objects before).
kube apply --server-side --force-conflicts --field-manager="$KAWS_FIELD_MANAGER" -f "$KAWS_OBJECTS"
