#!/bin/bash
# kaws-mark-control-plane: labels this control-plane node node-role.kubernetes.io/control-plane once it has
# registered (kubelets may not set that label on themselves), through kaws-kube-admin, as kubeadm's
# mark-control-plane phase does with its admin credential.
# Header values (controlPlane/markControlPlane.ts renderMarkControlPlaneScript): KAWS_KUBE_ADMIN.
set -euo pipefail
node_name=$(hostname)
kube() {
  "$KAWS_KUBE_ADMIN" mark-control-plane "$@"
}
until kube get node "$node_name" >/dev/null 2>&1; do
  sleep 10
done
kube label node "$node_name" --overwrite node-role.kubernetes.io/control-plane=
