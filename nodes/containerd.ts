/** Where the container runtime and kernel settings go on every node. */
export const runtimePaths = {
    containerdConfig: "/etc/containerd/config.toml",
    sysctls: "/etc/sysctl.d/90-kaws-kubernetes.conf",
    modules: "/etc/modules-load.d/kaws-kubernetes.conf",
} as const;

/**
 * containerd 2.x configuration (schema version 3): runc with the systemd cgroup driver (AL2023 runs cgroup
 * v2, kubelet uses systemd), and the sandbox image pinned to the Kubernetes minor's pause release.
 */
export function renderContainerdConfig(sandboxImage: string): string {
    if (!/^[a-z0-9.-]+(\/[a-z0-9._-]+)+:[A-Za-z0-9._-]+$/.test(sandboxImage) || sandboxImage.endsWith(":latest")) {
        throw new Error(`renderContainerdConfig: sandbox image must be pinned (registry/name:tag, not latest), got "${sandboxImage}"`);
    }
    return `version = 3

[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = '${sandboxImage}'

[plugins.'io.containerd.cri.v1.runtime'.containerd]
  default_runtime_name = 'runc'

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = 'io.containerd.runc.v2'

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  SystemdCgroup = true
`;
}

/**
 * Kernel parameters: forwarding and bridged traffic through iptables for pod networking, plus the values
 * kubelet's protectKernelDefaults requires to be set before it starts (it refuses to change them itself).
 */
export const kubernetesSysctls: Readonly<Record<string, string>> = {
    "net.ipv4.ip_forward": "1",
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
    "vm.overcommit_memory": "1",
    "vm.panic_on_oom": "0",
    "kernel.panic": "10",
    "kernel.panic_on_oops": "1",
    "kernel.keys.root_maxkeys": "1000000",
    "kernel.keys.root_maxbytes": "25000000",
};

export function renderSysctls(): string {
    return Object.entries(kubernetesSysctls).map(([key, value]) => `${key} = ${value}\n`).join("");
}

/** Kernel modules containerd and bridged pod networking need at boot. */
export function renderKernelModules(): string {
    return "overlay\nbr_netfilter\n";
}
