export type Architecture = "x86_64" | "arm64";

/** Graviton families carry a "g" right after the generation digit (m7g, c6gn, t4g, im4gn); a1 is the first one. */
export function instanceArchitecture(instanceType: string): Architecture {
    const family = instanceType.split(".")[0];
    return family === "a1" || /^[a-z]+\d+g/.test(family) ? "arm64" : "x86_64";
}
