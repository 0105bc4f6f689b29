/** `urn:pulumi:<stack>::<project>::<ancestor types $-joined>$<type>::<name>` → its type chain (the resource's own last) and name. */
export function parseUrn(urn: string): { types: string[]; name: string } {
    const parts = urn.split("::");
    return { types: (parts[2] ?? "").split("$"), name: parts.slice(3).join("::") };
}
