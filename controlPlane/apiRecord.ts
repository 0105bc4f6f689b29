import { ClusterPlan, controlPlaneRole, nodeGroupName } from "../plan/cluster";
import { renderShellScript } from "../nodes/shellScript";
import { renderRepeatingTimer, renderRetriedOneshot } from "../nodes/systemdUnits";

export const apiRecordPaths = {
    script: "/usr/local/sbin/kaws-api-record",
    unit: "/etc/systemd/system/kaws-api-record.service",
    timer: "/etc/systemd/system/kaws-api-record.timer",
} as const;

/** Seconds between runs: how long a node that left service may stay in the record (plus its TTL). */
export const apiRecordIntervalSeconds = 30;

/** Keeps plan.nodeApi's record set at the control-plane group's in-service instances (controlPlane/api-record.sh). */
export function renderApiRecordScript(plan: ClusterPlan, privateZoneId: string): string {
    return renderShellScript("controlPlane/api-record.sh", {
        KAWS_REGION: plan.region,
        KAWS_GROUP: nodeGroupName(plan.clusterName, controlPlaneRole),
        KAWS_ZONE_ID: privateZoneId,
        KAWS_RECORD_NAME: plan.nodeApi.dnsName,
        KAWS_SET_IDENTIFIER: plan.nodeApi.nodesSetIdentifier,
        KAWS_TTL: plan.nodeApi.ttlSeconds,
    }, "kaws-api-record: keeps the nodes' API name at the control-plane group's in-service instances.");
}

export function renderApiRecordUnit(): string {
    return renderRetriedOneshot({
        description: "Point the nodes' API name at the control-plane group's in-service instances",
        after: "network-online.target", execStart: apiRecordPaths.script, retrySeconds: 10,
    });
}

export function renderApiRecordTimer(): string {
    return renderRepeatingTimer(`Keep the nodes' API name current every ${apiRecordIntervalSeconds} s`, `${apiRecordIntervalSeconds}s`);
}
