#!/bin/bash
# kaws-kube-admin <name> <kubectl arguments...>: runs kubectl against this control-plane node's own API server
# as a throwaway client "kaws:<name>" in system:masters. As kubeadm's phases use its admin credential, the
# node's scripts (mark-control-plane, node-bootstrap, ready-gate) use one made on the spot: a certificate
# signed with the cluster CA key the node already holds, valid one day, in a private temporary directory
# deleted when kubectl exits, so no admin credential is ever stored on the node.
# Header values (controlPlane/kubeAdmin.ts renderKubeAdminScript): KAWS_CA_CERT, KAWS_CA_KEY, KAWS_API_SERVER.
set -euo pipefail
umask 077
name=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl ecparam -name prime256v1 -genkey -noout -out "$work/client.key"
openssl req -new -key "$work/client.key" -subj "/O=system:masters/CN=kaws:$name" -out "$work/client.csr"
openssl x509 -req -in "$work/client.csr" -CA "$KAWS_CA_CERT" -CAkey "$KAWS_CA_KEY" -set_serial "0x$(openssl rand -hex 16)" -days 1 -out "$work/client.crt" 2>/dev/null
kubectl --server="$KAWS_API_SERVER" --certificate-authority="$KAWS_CA_CERT" \
  --client-certificate="$work/client.crt" --client-key="$work/client.key" "$@"
