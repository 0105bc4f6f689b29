import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { root } from "./harness";

// The shape DESIGN.md asks for, checked on the source: dependencies point down (plan/ at the bottom, nodes/
// above it, one folder per concern above that, the CLI and index.ts on top), no import cycles, index.ts is
// wiring only, and no component takes an args interface of more than eight fields.

const concerns = ["network", "secrets", "etcd", "controlPlane", "workers", "addons"];
const layers: Record<string, readonly string[]> = {
    plan: ["plan"],
    nodes: ["plan", "nodes"],
    ...Object.fromEntries(concerns.map((c) => [c, ["plan", "nodes", c]])),
    automation: ["plan", "nodes", ...concerns, "automation"],
};

/** Every source module (no tests) and the project modules it imports. */
export function moduleGraph(base = root): Map<string, string[]> {
    const files = ["index.ts"];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(path.join(base, dir), { withFileTypes: true })) {
            const relative = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(relative);
            else if (relative.endsWith(".ts")) files.push(relative);
        }
    };
    Object.keys(layers).forEach(walk);
    const graph = new Map<string, string[]>();
    for (const file of files) {
        const text = fs.readFileSync(path.join(base, file), "utf8");
        const targets = [...text.matchAll(/(?:from|import|require)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => {
            const target = path.normalize(path.join(path.dirname(file), m[1]));
            return fs.existsSync(path.join(base, `${target}.ts`)) ? `${target}.ts` : path.join(target, "index.ts");
        });
        graph.set(file, [...new Set(targets)]);
    }
    return graph;
}

/** Every import cycle, as the list of modules around it. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
    const found: string[][] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (node: string) => {
        state.set(node, "open");
        stack.push(node);
        for (const next of graph.get(node) ?? []) {
            if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
            else if (!state.has(next)) visit(next);
        }
        stack.pop();
        state.set(node, "done");
    };
    for (const node of graph.keys()) if (!state.has(node)) visit(node);
    return found;
}

const folderOf = (file: string) => (file.includes("/") ? file.split("/")[0] : "index.ts");

describe("architecture", () => {
    const graph = moduleGraph();

    it("has no import cycle", () => {
        expect(cycles(graph).map((c) => c.join(" -> "))).to.deep.equal([]);
        const arrows = [...graph.values()].reduce((n, targets) => n + targets.length, 0);
        console.log(`      ${graph.size} modules, ${arrows} import arrows`);
    });

    it("finds a cycle when there is one, so the check above can fail", () => {
        const looped = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]], ["d.ts", ["a.ts"]]]);
        expect(cycles(looped)).to.deep.equal([["a.ts", "b.ts", "c.ts", "a.ts"]]);
    });

    it("dependencies point down: plan/ is pure, nodes/ builds on it, concerns use only the plan and nodes/", () => {
        const wrong: string[] = [];
        for (const [file, targets] of graph) {
            const allowed = layers[folderOf(file)];
            if (!allowed) continue;
            for (const target of targets) if (!allowed.includes(folderOf(target))) wrong.push(`${file} -> ${target}`);
        }
        expect(wrong).to.deep.equal([]);
        const planImports = [...graph.keys()].filter((f) => f.startsWith("plan/"))
            .flatMap((f) => [...fs.readFileSync(path.join(root, f), "utf8").matchAll(/from "(@pulumi\/[^"]+)"/g)].map((m) => `${f}: ${m[1]}`))
            .filter((imp) => !imp.endsWith("@pulumi/pulumi"));
        expect(planImports, "plan/ creates no resources").to.deep.equal([]);
    });

    it("index.ts is wiring only: at most 100 lines, no loops over derived facts beyond the pools", () => {
        const index = fs.readFileSync(path.join(root, "index.ts"), "utf8");
        expect(index.split("\n").length).to.be.at.most(100);
        expect(index, "no literal ports").to.not.match(/\b(2379|2380|6443|10250)\b/);
        expect(index, "no address maths").to.not.match(/Netmask|serviceIp|clusterDnsIp|planEtcdMembers|planSubnets/);
    });

    it("no args interface has more than eight fields", () => {
        const large: string[] = [];
        for (const file of graph.keys()) {
            const text = fs.readFileSync(path.join(root, file), "utf8");
            for (const m of text.matchAll(/export interface (\w+Args)(?: extends [^{]+)? \{\n([\s\S]*?)\n\}/g)) {
                const fields = m[2].split("\n").filter((line) => /^ {4}readonly \w+\??:/.test(line)).length;
                if (fields > 8) large.push(`${file} ${m[1]}: ${fields} fields`);
            }
        }
        expect(large).to.deep.equal([]);
    });

    it("README's Layout names every source folder, and only folders that exist", () => {
        const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
        const layout = readme.split(/^## /m).find((s) => s.startsWith("Layout"))!;
        expect(layout, "README Layout section").to.not.equal(undefined);
        const named = [...layout.matchAll(/^([a-zA-Z]+)\/\s/gm)].map((m) => m[1]);
        const folders = fs.readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules").map((e) => e.name);
        expect(named.filter((f) => !folders.includes(f)), "named but missing").to.deep.equal([]);
        expect(folders.filter((f) => !named.includes(f)), "missing from Layout").to.deep.equal([]);
    });
});
