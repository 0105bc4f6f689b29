#!/bin/bash
# kaws-mark-control-plane: labels this control-plane node node-role.kubernetes.io/control-plane once it has
# registered (kubelets may not set that label on themselves). Like kubeadm's mark-control-plane phase, it
# uses a throwaway client certificate signed with the cluster CA key, valid one day, deleted afterwards.
# Header values (nodes/boot.ts renderMarkControlPlaneScript): KAWS_CA_CERT, KAWS_CA_KEY, KAWS_API_SERVER.
set -euo pipefail
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl ecparam -name prime256v1 -genkey -noout -out "$work/client.key"
openssl req -new -key "$work/client.key" -subj "/O=system:masters/CN=kaws:mark-control-plane" -out "$work/client.csr"
openssl x509 -req -in "$work/client.csr" -CA "$KAWS_CA_CERT" -CAkey "$KAWS_CA_KEY" -set_serial "0x$(openssl rand -hex 16)" -days 1 -out "$work/client.crt" 2>/dev/null
node_name=$(hostname)
kube() {
  kubectl --server="$KAWS_API_SERVER" --certificate-authority="$KAWS_CA_CERT" \
    --client-certificate="$work/client.crt" --client-key="$work/client.key" "$@"
}
until kube get node "$node_name" >/dev/null 2>&1; do
  sleep 10
done
kube label node "$node_name" --overwrite node-role.kubernetes.io/control-plane=
