/**
 * A timer that runs its service `interval` after the timer starts and again `interval` after each run
 * finishes, installed into timers.target so it runs again after a reboot (user data runs once per instance:
 * the boot enables it, nodes/boot.sh). `interval` is a systemd time span, such as 30s or 5min.
 */
export function renderRepeatingTimer(description: string, interval: string): string {
    return `[Unit]
Description=${description}

[Timer]
OnActiveSec=${interval}
OnUnitInactiveSec=${interval}

[Install]
WantedBy=timers.target
`;
}

export interface OneshotUnit {
    readonly description: string;
    /** The unit it runs after and wants (kubelet.service, network-online.target). */
    readonly after: string;
    readonly execStart: string;
    /** Seconds before systemd runs it again after a failure: it retries until it succeeds. */
    readonly retrySeconds: number;
    /** No start timeout: it waits as long as its condition takes (the ready gate). */
    readonly waitsIndefinitely?: boolean;
}

/** A oneshot service that systemd retries on failure. */
export function renderRetriedOneshot(unit: OneshotUnit): string {
    return `[Unit]
Description=${unit.description}
After=${unit.after}
Wants=${unit.after}

[Service]
Type=oneshot
ExecStart=${unit.execStart}
${unit.waitsIndefinitely ? "TimeoutStartSec=infinity\n" : ""}Restart=on-failure
RestartSec=${unit.retrySeconds}
`;
}
