/**
 * Kubernetes label and taint syntax (apimachinery validation: a qualified name, an optional DNS-subdomain
 * prefix; values of at most 63 characters), and what a kubelet may set on itself under NodeRestriction.
 */
const qualifiedName = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
/** Label prefixes a kubelet may not set on itself under NodeRestriction (kubernetes.io/ and k8s.io/ are reserved). */
const reservedNamespace = /(^|\.)(kubernetes\.io|k8s\.io)\//;
/** Reserved namespaces kubelets may set nevertheless (k8s.io/kubelet/pkg/apis: kubeletLabelNamespaces), subdomains included. */
const kubeletNamespace = /^([a-z0-9.-]+\.)?(kubelet|node)\.kubernetes\.io\//;

const keyRule = "accepted: [prefix/]name, the name of at most 63 characters (letters, digits, '-', '_', '.'), the prefix a DNS subdomain";
const valueRule = "accepted: at most 63 characters (letters, digits, '-', '_', '.'), starting and ending with a letter or digit, or empty";

/** Why a label key or value is not valid, or undefined. */
export function labelKeyProblem(key: string): string | undefined {
    if (key.length > 253 + 1 + 63 || !qualifiedName.test(key) || (key.includes("/") && key.split("/")[0].length > 253)) return `is not a valid label key; ${keyRule}`;
    return undefined;
}

export function labelValueProblem(value: string): string | undefined {
    return labelValue.test(value) ? undefined : `is not a valid label value; ${valueRule}`;
}

/** Why a kubelet may not register with this label, or undefined. */
export function selfLabelProblem(key: string): string | undefined {
    if (reservedNamespace.test(key) && !kubeletNamespace.test(key)) {
        return "kubelets cannot set kubernetes.io/ or k8s.io/ labels on themselves (NodeRestriction); accepted: another prefix such as kaws.io/, or node.kubernetes.io/ and kubelet.kubernetes.io/";
    }
    return undefined;
}
