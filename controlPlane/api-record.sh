#!/bin/bash
# kaws-api-record: keeps the nodes' name for the API ($KAWS_RECORD_NAME: its weighted record set
# $KAWS_SET_IDENTIFIER in the private zone) at the private IPs of the control-plane group's in-service
# instances, so kubelets and kube-proxy reach the API servers directly and never through the load balancer.
# Every control-plane node runs it at boot and from a timer; each computes the set from the group itself, so
# they agree, and it writes only when the record differs. A new node waiting in its launch lifecycle hook is
# not in service (kaws-ready-gate takes it in once it is ready); a terminating one drops out.
# Header values (controlPlane/apiRecord.ts renderApiRecordScript): KAWS_REGION, KAWS_GROUP, KAWS_ZONE_ID,
# KAWS_RECORD_NAME, KAWS_SET_IDENTIFIER, KAWS_TTL.
set -euo pipefail
aws_() {
  aws --region "$KAWS_REGION" "$@"
}

# shellcheck disable=SC2016 # the backticks are a JMESPath literal
ids=$(aws_ autoscaling describe-auto-scaling-groups --auto-scaling-group-names "$KAWS_GROUP" \
  --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService`].InstanceId' --output text)
if [ -z "$ids" ] || [ "$ids" = "None" ]; then
  echo "kaws-api-record: no instance of $KAWS_GROUP is in service yet"
  exit 0
fi
read -r -a instance_ids <<<"$ids"
ips=$(aws_ ec2 describe-instances --instance-ids "${instance_ids[@]}" \
  --query 'Reservations[].Instances[].PrivateIpAddress' --output text | tr -s '[:blank:]' '\n' | sort -V)
for ip in $ips; do
  [[ $ip =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || { echo "kaws-api-record: not an IPv4 address: $ip" >&2; exit 1; }
done
[ -n "$ips" ] || { echo "kaws-api-record: the in-service instances have no private address" >&2; exit 1; }

current=$(aws_ route53 list-resource-record-sets --hosted-zone-id "$KAWS_ZONE_ID" \
  --start-record-name "$KAWS_RECORD_NAME" --start-record-type A \
  --query "ResourceRecordSets[?Name=='${KAWS_RECORD_NAME}.' && SetIdentifier=='${KAWS_SET_IDENTIFIER}'].ResourceRecords[].Value" \
  --output text | tr -s '[:blank:]' '\n' | sort -V)
if [ "$ips" = "$current" ]; then
  exit 0
fi

values=""
for ip in $ips; do
  values="${values:+$values,}{\"Value\":\"$ip\"}"
done
batch="{\"Comment\":\"kaws-api-record on $(hostname)\",\"Changes\":[{\"Action\":\"UPSERT\",\"ResourceRecordSet\":{\"Name\":\"$KAWS_RECORD_NAME\",\"Type\":\"A\",\"SetIdentifier\":\"$KAWS_SET_IDENTIFIER\",\"Weight\":1,\"TTL\":$KAWS_TTL,\"ResourceRecords\":[$values]}}]}"
aws_ route53 change-resource-record-sets --hosted-zone-id "$KAWS_ZONE_ID" --change-batch "$batch" >/dev/null
echo "kaws-api-record: $KAWS_RECORD_NAME -> ${ips//$'\n'/ }"
