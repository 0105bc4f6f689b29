#!/bin/bash
# kaws-ready-gate: keeps this control-plane node in its group's launch lifecycle hook ($KAWS_HOOK) until it
# is ready, then completes the hook (CONTINUE). Ready means: the local API server answers /readyz, this
# node is registered with the kubelet release it was built for, and, once the cluster has its pod network
# (the CNI DaemonSet exists), the node reports Ready. An instance refresh of the control plane therefore
# replaces the next node only after this one is ready; a node that never is gets abandoned when the hook
# times out, and the nodes not yet replaced keep serving the old release. It talks to the API through
# kaws-kube-admin.
# Header values (controlPlane/readyGate.ts renderReadyGateScript): KAWS_KUBE_ADMIN, KAWS_IMDS, KAWS_REGION,
# KAWS_GROUP, KAWS_HOOK, KAWS_KUBELET_VERSION, KAWS_CNI_DAEMONSET (namespace/name).
set -euo pipefail
node_name=$(hostname)
kube() {
  "$KAWS_KUBE_ADMIN" ready-gate "$@"
}

ready() {
  kube get --raw=/readyz >/dev/null 2>&1 || return 1
  local version
  version=$(kube get node "$node_name" -o 'jsonpath={.status.nodeInfo.kubeletVersion}' 2>/dev/null) || return 1
  [ "$version" = "$KAWS_KUBELET_VERSION" ] || return 1
  if kube get --raw="/apis/apps/v1/namespaces/${KAWS_CNI_DAEMONSET%%/*}/daemonsets/${KAWS_CNI_DAEMONSET#*/}" >/dev/null 2>&1; then
    [ "$(kube get node "$node_name" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = "True" ] || return 1
  fi
}

until ready; do
  sleep 5
done

token=$(curl -fsS -X PUT "$KAWS_IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
instance_id=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" "$KAWS_IMDS/latest/meta-data/instance-id")
if ! answer=$(aws autoscaling complete-lifecycle-action --region "$KAWS_REGION" --auto-scaling-group-name "$KAWS_GROUP" \
  --lifecycle-hook-name "$KAWS_HOOK" --instance-id "$instance_id" --lifecycle-action-result CONTINUE 2>&1); then
  case "$answer" in
    *"No active Lifecycle Action found"*)
      # Launched while no hook held it (the group's first instances are launched before the hook exists).
      echo "kaws-ready-gate: $node_name is ready; no lifecycle action was waiting for it"
      exit 0
      ;;
  esac
  echo "kaws-ready-gate: completing $KAWS_HOOK for $instance_id failed: $answer" >&2
  exit 1
fi
echo "kaws-ready-gate: $node_name is ready at $KAWS_KUBELET_VERSION; completed $KAWS_HOOK for $instance_id"
