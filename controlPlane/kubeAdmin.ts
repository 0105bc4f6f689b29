import { localApiServer } from "../plan/cluster";
import { renderShellScript } from "../nodes/shellScript";
import { controlPlanePaths } from "./render";

/** kubectl as a throwaway system:masters client of the node's own API server, for its boot-time scripts. */
export const kubeAdminPath = "/usr/local/sbin/kaws-kube-admin";

export function renderKubeAdminScript(): string {
    return renderShellScript("controlPlane/kube-admin.sh", {
        KAWS_CA_CERT: controlPlanePaths.caCert,
        KAWS_CA_KEY: controlPlanePaths.caKey,
        KAWS_API_SERVER: localApiServer,
    }, "kaws-kube-admin: kubectl against this node's API server as a throwaway system:masters client.");
}
