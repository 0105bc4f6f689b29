#!/bin/bash
# kaws-node-bootstrap: applies what kubelets need to join (the bootstrap-token Secret, the TLS-bootstrap and
# CSR auto-approval bindings, the apiserver's kubelet-client binding) to this node's own API server as soon as
# it answers, so nodes register while `kaws up` still waits for the API. Server-side apply under one field
# manager is idempotent: every control-plane node runs it at boot and again from a timer, which restores the
# objects if they are deleted. Like kaws-mark-control-plane, it authenticates with a throwaway client
# certificate signed with the cluster CA key the node holds (kubeadm's bootstrap-token phase uses its admin
# credential), valid one day, deleted afterwards.
# Header values (controlPlane/nodeBootstrap.ts renderNodeBootstrapScript):
#   KAWS_CA_CERT, KAWS_CA_KEY, KAWS_API_SERVER, KAWS_OBJECTS (the objects, a root-only node file), KAWS_FIELD_MANAGER.
set -euo pipefail
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl ecparam -name prime256v1 -genkey -noout -out "$work/client.key"
openssl req -new -key "$work/client.key" -subj "/O=system:masters/CN=kaws:node-bootstrap" -out "$work/client.csr"
openssl x509 -req -in "$work/client.csr" -CA "$KAWS_CA_CERT" -CAkey "$KAWS_CA_KEY" -set_serial "0x$(openssl rand -hex 16)" -days 1 -out "$work/client.crt" 2>/dev/null
kube() {
  kubectl --server="$KAWS_API_SERVER" --certificate-authority="$KAWS_CA_CERT" \
    --client-certificate="$work/client.crt" --client-key="$work/client.key" "$@"
}
until kube get --raw=/readyz >/dev/null 2>&1; do
  sleep 2
done
# --force-conflicts takes over fields another manager set (the add-ons stage owned these objects before).
kube apply --server-side --force-conflicts --field-manager="$KAWS_FIELD_MANAGER" -f "$KAWS_OBJECTS"
