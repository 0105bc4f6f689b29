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
