/**
 * extract-upstream.ts — builds the upstream Kubernetes reference fixtures in test/fixtures/upstream/
 * by parsing Go source files (no Go toolchain needed).
 *
 * What it reads
 * -------------
 * An input directory laid out as  <inputDir>/<owner>/<repo>/<path-in-repo>,  e.g.
 *   /tmp/upstream-work/src/kubernetes/kubelet/config/v1beta1/types.go
 * The exact files, and the git ref each one was read at, are listed in MANIFEST below; every
 * fixture's "sources" array is copied from it, so the fixtures say where each list came from.
 *
 * How to populate the input directory
 * -----------------------------------
 * 1. Staging repositories (bare mirrors; e.g. the `fetch` tool puts them under /work/.mirror/<owner>+<repo>/repo):
 *      put() { g=/work/.mirror/${1/\//+}/repo; mkdir -p "$W/$1/$(dirname $3)"; git --git-dir=$g show "$2:$3" > "$W/$1/$3"; }
 *      W=/tmp/upstream-work/src
 *      put kubernetes/kubelet        kubernetes-1.36.3 config/v1beta1/types.go
 *      put kubernetes/kubelet        kubernetes-1.36.3 config/v1/types.go
 *      put kubernetes/apiserver      kubernetes-1.36.3 pkg/server/options/{admission,api_enablement,audit,authentication,authorization,egress_selector,etcd,feature,server_run_options,serving,tracing}.go
 *      put kubernetes/component-base kubernetes-1.36.3 compatibility/registry.go config/options/leaderelectionconfig.go featuregate/feature_gate.go logs/api/v1/options.go metrics/options.go
 *      put kubernetes/controller-manager kubernetes-1.36.3 options/debugging.go options/generic.go pkg/leadermigration/options/options.go
 *      put kubernetes/cloud-provider kubernetes-1.36.2 options/kubecloudshared.go options/servicecontroller.go
 *    (one path per `put` call). kubernetes/cloud-provider has no kubernetes-1.36.3 tag in the mirror; 1.36.2 is its newest 1.36 tag.
 * 2. kubernetes/kubernetes itself (1.9 GB) cannot be fetched. Its files were read with the source index's
 *    read_file verb (repo "kubernetes/kubernetes", path, commit as named in MANIFEST) and the flag-registration
 *    statements were saved under <inputDir>/kubernetes/kubernetes/<path>. Those versions are NOT the 1.36 tag
 *    (the index could not serve the file at any 1.36 commit); MANIFEST marks them with `atTag: false` and the
 *    fixtures list every flag that only such a source provides under "notVerifiedAtTag".
 *    kube-controller-manager's options.go Flags() was read from the fork zongruxie4/kubernetes (a 1.36 development
 *    version, see its MANIFEST note) and saved likewise under <inputDir>/zongruxie4/kubernetes/<path>; the
 *    per-controller files (nodeipam, podgc, csrsigning, serviceaccount) were read by the ids their notes give
 *    (podgccontroller.go was found by content with find_string, so its ref names the id).
 *
 * 3. Website reference pages (kubernetes/website content/en/docs/reference/command-line-tools-reference/<binary>.md,
 *    generated from the binaries' flag sets) were read with the source index's read_file verb by file id (the index
 *    reports no commit for an id read). Only the flag-name rows (<td colspan="2">--name ...</td>) and a DEPRECATED marker
 *    for rows whose description contains "DEPRECATED" were transcribed, under <websiteDir>/<binary>.md
 *    (default /tmp/upstream-work/website, 3rd CLI argument). The release each page documents is taken from its
 *    --emulated-version text ("Options are: kube=A..B(default:B)"). See WEBSITE below.
 *
 * Run
 * ---
 *   TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register scripts/extract-upstream.ts /tmp/upstream-work/src test/fixtures/upstream [/tmp/upstream-work/website]
 * With --only=<fixture>.json (repeatable) only those fixtures are rebuilt, so the input directory needs only their sources
 * (string constants are then resolved from those sources alone).
 *
 * Parsing rules (deliberately simple, regex + bracket matching over Go text):
 *  - flag registrations: `<recv>.<Method>(args)` where Method is a pflag/flag registration method
 *    (XxxVar, XxxVarP, Var, VarP, Xxx, XxxP). The flag name is argument 1 for *Var* forms and argument 0 otherwise.
 *    The name may be a string literal, a string constant declared in any input file, or
 *    fmt.Sprintf("...%s...", X) where the manifest lists the values X takes (each value must come from source).
 *  - deprecations: `<recv>.MarkDeprecated("name", ...)` (name resolved the same way).
 *  - only statements inside the functions a manifest entry lists (`Type.Method` or `Func`) are taken.
 *  - struct fields: `Name Type \`json:"name,..."\`` inside `type X struct {}`; `,inline` embeds the type's fields;
 *    struct types declared in the same file are followed (`a.b`), slices/maps of them as `a[].b` / `a{}.b`.
 *    Types from other packages are leaves; unresolved inline embeds are reported in "unresolvedInline".
 */
import * as fs from "fs";
import * as path from "path";

interface Source {
    repo: string;
    path: string;
    ref: string;
    /** false: the file could not be read at the release tag; the ref says which version was read. */
    atTag?: boolean;
    note?: string;
    /** Functions whose registrations are taken: "Type.Method" or a plain function name. Empty: whole file. */
    functions?: string[];
    /** Values substituted for %s in fmt.Sprintf flag names (from the calling source, see note). */
    sprintf?: string[];
    /** kubelet only: registrations here are KubeletFlags (flag-only). */
    flagOnly?: boolean;
    /** kubelet only: registrations here are deprecated aliases of KubeletConfiguration fields (whole function marked deprecated). */
    configAlias?: boolean;
}

const TAG136 = "kubernetes-1.36.3";
const CP_TAG = "kubernetes-1.36.2";
const KK = "kubernetes/kubernetes";

const apiserverFile = (p: string, functions: string[], extra: Partial<Source> = {}): Source => ({ repo: "kubernetes/apiserver", path: `pkg/server/options/${p}`, ref: TAG136, functions, ...extra });
const cb = (p: string, functions: string[]): Source => ({ repo: "kubernetes/component-base", path: p, ref: TAG136, functions });

const logs = cb("logs/api/v1/options.go", ["addFlags"]);
const metrics = cb("metrics/options.go", ["Options.AddFlags"]);
const featureGate = cb("featuregate/feature_gate.go", ["featureGate.AddFlag"]);
const leaderElection = cb("config/options/leaderelectionconfig.go", ["BindLeaderElectionFlags"]);
const secureServing = apiserverFile("serving.go", ["SecureServingOptions.AddFlags"]);
const delegatingAuthn = apiserverFile("authentication.go", ["DelegatingAuthenticationOptions.AddFlags", "RequestHeaderAuthenticationOptions.AddFlags", "ClientCertAuthenticationOptions.AddFlags"]);
const delegatingAuthz = apiserverFile("authorization.go", ["DelegatingAuthorizationOptions.AddFlags"]);

const MANIFEST: Record<string, { kind: "fields" | "flags"; root?: string; sources: Source[]; missing?: string[] }> = {
    "kubelet-config-v1beta1.json": {
        kind: "fields", root: "KubeletConfiguration",
        sources: [{ repo: "kubernetes/kubelet", path: "config/v1beta1/types.go", ref: TAG136 }],
    },
    "credential-provider-config-v1.json": {
        kind: "fields", root: "CredentialProviderConfig",
        sources: [{ repo: "kubernetes/kubelet", path: "config/v1/types.go", ref: TAG136 }],
    },
    "kubelet-flags.json": {
        kind: "flags",
        sources: [
            { repo: KK, path: "cmd/kubelet/app/options/options.go", ref: "6785e9ed401a526cfb4ae33d498b088e27237ad1", atTag: false, functions: ["KubeletFlags.AddFlags"], flagOnly: true,
              note: "source-index version (read_file id 3102907); content predates 1.36 (still registers keep-terminated-pod-volumes); excerpt of flag statements" },
            { repo: KK, path: "cmd/kubelet/app/options/options.go", ref: "6785e9ed401a526cfb4ae33d498b088e27237ad1", atTag: false, functions: ["AddKubeletConfigFlags"], configAlias: true,
              note: "same version; AddKubeletConfigFlags marks every flag deprecated except v, vmodule, log-flush-frequency, provider-id (its deferred VisitAll)" },
            { repo: KK, path: "pkg/kubelet/config/flags.go", ref: "030880a5dc5449403c6d1f0aa146a7dc21d6c6dc", atTag: false, functions: ["ContainerRuntimeOptions.AddFlags"], flagOnly: true,
              note: "source-index version (read_file id 424175365), 1.34+ content; ContainerRuntimeOptions is embedded in KubeletFlags" },
            { ...logs, configAlias: true, note: "called as logsapi.AddFlags(&c.Logging, fs) inside AddKubeletConfigFlags" },
        ],
        missing: ["cmd/kubelet/app/options/globalflags*.go (global flags such as --version, --help) not read",
            "cmd/kubelet/app/options/osflags_*.go (windows-only flags) not read"],
    },
    "kube-apiserver-flags.json": {
        kind: "flags",
        sources: [
            { repo: KK, path: "pkg/controlplane/apiserver/options/options.go", ref: "2d0fc8e8bd9a6cb226c27a47de01a6a11007dd8e", atTag: false, functions: ["Options.AddFlags"],
              note: "source-index version (read_file id 106929148), pre-1.36 content; excerpt of flag statements; its AddFlags selects the staging option sets below" },
            apiserverFile("server_run_options.go", ["ServerRunOptions.AddUniversalFlags"]),
            cb("compatibility/registry.go", ["componentGlobalsRegistry.AddFlags"]),
            apiserverFile("etcd.go", ["EtcdOptions.AddFlags"]),
            secureServing,
            apiserverFile("audit.go", ["AuditOptions.AddFlags", "AuditBatchOptions.AddFlags", "AuditTruncateOptions.AddFlags", "AuditLogOptions.AddFlags", "AuditWebhookOptions.AddFlags"],
                { sprintf: ["log", "webhook"], note: "%s = pluginlog.PluginName \"log\" (plugin/pkg/audit/log/backend.go) and pluginwebhook.PluginName \"webhook\" (plugin/pkg/audit/webhook/webhook.go), both at kubernetes-1.36.3" }),
            apiserverFile("feature.go", ["FeatureOptions.AddFlags"]),
            apiserverFile("authentication.go", ["RequestHeaderAuthenticationOptions.AddFlags", "ClientCertAuthenticationOptions.AddFlags"],
                { note: "only the generic parts; BuiltInAuthenticationOptions (pkg/kubeapiserver/options/authentication.go) not readable at 1.36" }),
            apiserverFile("api_enablement.go", ["APIEnablementOptions.AddFlags"]),
            apiserverFile("egress_selector.go", ["EgressSelectorOptions.AddFlags"]),
            apiserverFile("admission.go", ["AdmissionOptions.AddFlags"]),
            metrics,
            logs,
            apiserverFile("tracing.go", ["TracingOptions.AddFlags"]),
        ],
        missing: ["cmd/kube-apiserver/app/options/options.go (kubelet-*, service-cluster-ip-range, ...) not readable at 1.36",
            "pkg/kubeapiserver/options/authentication.go (authentication-config, service-account-*, oidc-*, token-auth-file, ...) not readable at 1.36",
            "pkg/kubeapiserver/options/authorization.go (authorization-mode, authorization-config, ...) not readable at 1.36",
            "pkg/kubeapiserver/options/admission.go (admission-control) and cloudprovider.go not readable at 1.36"],
    },
    "kube-controller-manager-flags.json": {
        kind: "flags",
        sources: [
            { repo: "kubernetes/controller-manager", path: "options/generic.go", ref: TAG136, functions: ["GenericControllerManagerConfigurationOptions.AddFlags"] },
            { repo: "kubernetes/controller-manager", path: "options/debugging.go", ref: TAG136, functions: ["DebuggingOptions.AddFlags"] },
            { repo: "kubernetes/controller-manager", path: "pkg/leadermigration/options/options.go", ref: TAG136, functions: ["LeaderMigrationOptions.AddFlags"] },
            leaderElection,
            { repo: "kubernetes/cloud-provider", path: "options/kubecloudshared.go", ref: CP_TAG, functions: ["KubeCloudSharedOptions.AddFlags"], note: "no kubernetes-1.36.3 tag in the cloud-provider mirror" },
            { repo: "kubernetes/cloud-provider", path: "options/servicecontroller.go", ref: CP_TAG, functions: ["ServiceControllerOptions.AddFlags"], note: "no kubernetes-1.36.3 tag in the cloud-provider mirror" },
            secureServing, delegatingAuthn, delegatingAuthz, metrics, logs, featureGate,
            { repo: "zongruxie4/kubernetes", path: "cmd/kube-controller-manager/app/options/options.go", ref: "0b37ff9338194bd5cb28d3492d667ad8ba8c3a8f", atTag: false, functions: ["KubeControllerManagerOptions.Flags"],
              note: "fork of kubernetes/kubernetes, read with the source index's read_file (id 52418233782); excerpt: Flags() verbatim. 1.36 development content, not the tag: it wires ResourceClaimControllerOptions (--concurrent-resourceclaim-syncs, listed as added in CHANGELOG-1.36.md v1.36.0-alpha.1) and DeviceTaintEvictionController; the same fork's CHANGELOG/CHANGELOG-1.36.md (commit bc15d50fd246bef83aa9b00fcc475d1959296294) reaches v1.36.0-rc.0. Its Flags() also selects the option sets listed above plus ComponentGlobalsRegistry.AddFlags" },
            { ...cb("compatibility/registry.go", ["componentGlobalsRegistry.AddFlags"]), note: "called as s.ComponentGlobalsRegistry.AddFlags(fss.FlagSet(\"generic\")) in the Flags() above" },
            { repo: KK, path: "cmd/kube-controller-manager/app/options/nodeipamcontroller.go", ref: "898b9f800267a757615ecfb71fc377d04d996c6b", atTag: false, functions: ["NodeIPAMControllerOptions.AddFlags"],
              note: "source-index version (read_file id 207750929); 1.36 development commit (the index's CHANGELOG/CHANGELOG-1.36.md at this commit documents v1.36.0-alpha.1); excerpt of AddFlags" },
            { repo: KK, path: "cmd/kube-controller-manager/app/options/podgccontroller.go", ref: "source-index find_string/read_file id 28509208 (repository and commit not reported by the index)", atTag: false, functions: ["PodGCControllerOptions.AddFlags"],
              note: "the upstream podgcconfig-based form of the file (the index's default kubernetes/kubernetes version, commit 25630fff5eab61412d64538065fd5775e0bb5a12, is a non-upstream variant that adds delete-all-terminated-pods); excerpt of AddFlags" },
            { repo: KK, path: "cmd/kube-controller-manager/app/options/csrsigningcontroller.go", ref: "53f1b9d6f8de259644c05a25aa7ac8c6a67258e2", atTag: false, functions: ["CSRSigningControllerOptions.AddFlags"],
              note: "source-index version (read_file id 285543803), the per-signer csrsigningconfig form the 1.36 Flags() above wires as s.CSRSigningController; excerpt of AddFlags" },
            { repo: KK, path: "cmd/kube-controller-manager/app/options/serviceaccountcontroller.go", ref: "d2845bf28925469cb5e78ff46f608fe4e9a6fda0", atTag: false, functions: ["SAControllerOptions.AddFlags"],
              note: "source-index version (read_file id 410046252), the serviceaccountconfig form the 1.36 Flags() above wires as s.SAController; excerpt of AddFlags" },
        ],
        missing: ["cmd/kube-controller-manager/app/options/*controller*.go other than nodeipam, podgc, csrsigning and serviceaccount (their concurrent-*-syncs and tuning flags): not readable at a 1.36 version; kaws renders none of them",
            "cmd/kube-controller-manager/app/options/options.go at the v1.36.x tag: only the 1.36 development version above (zongruxie4/kubernetes) was readable; zongruxie4/kubernetes (1.07 GB) is too big to fetch"],
    },
    "kube-scheduler-flags.json": {
        kind: "flags",
        sources: [secureServing, delegatingAuthn, delegatingAuthz, leaderElection, featureGate, metrics, logs],
        missing: ["cmd/kube-scheduler/app/options/options.go and deprecated.go (config, write-config-to, master, deprecated kubeconfig/kube-api-* flags) not readable at 1.36; the option sets above were chosen after the index's stored options.go initFlags() (commit 7a7c0d87e77ab676747d4684170cbbad3557ea3f, an OpenShift-derived version)"],
    },
};

interface WebsitePage { repo: string; path: string; ref: string; documents: string; note: string }
const WEB = (bin: string, id: string, documents: string, how: string): WebsitePage => ({
    repo: "kubernetes/website", path: `content/en/docs/reference/command-line-tools-reference/${bin}.md`,
    ref: `source-index read_file id ${id} (commit not reported by the index)`, documents,
    note: `generated flag table; ${how}; excerpt of flag-name rows and DEPRECATED markers` });
/** Website pages merged into the flag fixtures (kube-controller-manager and kubelet: no 1.35/1.36 page found in the index). */
const WEBSITE: Record<string, WebsitePage> = {
    "kube-scheduler-flags.json": WEB("kube-scheduler", "52070109846", "kubernetes 1.36",
        "--emulated-version reads 'kube=1.33..1.36(default:1.36)', --min-compatibility-version 'kube=1.33..1.36(default:1.35)'"),
    "kube-apiserver-flags.json": WEB("kube-apiserver", "1424424734", "kubernetes 1.35",
        "--emulated-version reads 'kube=1.32..1.35(default:1.35)'; no 1.36 kube-apiserver page found in the index"),
};

function parseWebsiteFlags(text: string): { flags: string[]; deprecated: string[] } {
    const flags: string[] = [], deprecated: string[] = [];
    const rows = text.split(/<td colspan="2">/).slice(1);
    for (const row of rows) {
        const head = row.slice(0, row.indexOf("</td>"));
        const m = /--([a-z0-9][a-z0-9-]*)/.exec(head);
        if (!m) continue;
        flags.push(m[1]);
        if (/DEPRECATED/.test(row.slice(head.length))) deprecated.push(m[1]);
    }
    return { flags, deprecated };
}

// ---------------------------------------------------------------- Go text helpers

function stripComments(src: string): string {
    let out = "";
    let i = 0;
    while (i < src.length) {
        const c = src[i];
        if (c === "/" && src[i + 1] === "/") { while (i < src.length && src[i] !== "\n") i++; continue; }
        if (c === "/" && src[i + 1] === "*") { const e = src.indexOf("*/", i + 2); i = e < 0 ? src.length : e + 2; continue; }
        if (c === '"' || c === "`" || c === "'") {
            const q = c; let j = i + 1;
            while (j < src.length && src[j] !== q) { if (q !== "`" && src[j] === "\\") j++; j++; }
            out += src.slice(i, j + 1); i = j + 1; continue;
        }
        out += c; i++;
    }
    return out;
}

/** Index of the bracket matching the opener at `open`, skipping string literals. */
function matchBracket(src: string, open: number): number {
    const pairs: Record<string, string> = { "(": ")", "{": "}", "[": "]" };
    const stack: string[] = [];
    for (let i = open; i < src.length; i++) {
        const c = src[i];
        if (c === '"' || c === "`" || c === "'") {
            const q = c; i++;
            while (i < src.length && src[i] !== q) { if (q !== "`" && src[i] === "\\") i++; i++; }
            continue;
        }
        if (pairs[c]) stack.push(pairs[c]);
        else if (c === ")" || c === "}" || c === "]") { if (stack.pop() !== c) throw new Error(`unbalanced bracket at ${i}`); if (!stack.length) return i; }
    }
    throw new Error("no matching bracket");
}

function splitArgs(s: string): string[] {
    const args: string[] = [];
    let depth = 0, cur = "";
    for (let i = 0; i < s.length; i++) {
        const c = s[i];
        if (c === '"' || c === "`" || c === "'") {
            const q = c; let j = i + 1;
            while (j < s.length && s[j] !== q) { if (q !== "`" && s[j] === "\\") j++; j++; }
            cur += s.slice(i, j + 1); i = j; continue;
        }
        if ("([{".includes(c)) depth++;
        if (")]}".includes(c)) depth--;
        if (c === "," && depth === 0) { args.push(cur.trim()); cur = ""; continue; }
        cur += c;
    }
    if (cur.trim()) args.push(cur.trim());
    return args;
}

/** Bodies of the named functions ("Type.Method" or "Func"); all of the file if names is empty. */
function functionBodies(src: string, names: string[] | undefined): string[] {
    if (!names || !names.length) return [src];
    const bodies: string[] = [];
    for (const name of names) {
        const [a, b] = name.includes(".") ? name.split(".") : [undefined, name];
        const re = a
            ? new RegExp(`func\\s*\\(\\s*\\w+\\s+\\*?${a}\\s*\\)\\s*${b}\\s*\\(`, "g")
            : new RegExp(`func\\s+${b}\\s*\\(`, "g");
        const m = re.exec(src);
        if (!m) throw new Error(`function ${name} not found`);
        const paramsOpen = m.index + m[0].length - 1;
        const paramsClose = matchBracket(src, paramsOpen);
        const bodyOpen = src.indexOf("{", paramsClose);
        bodies.push(src.slice(bodyOpen, matchBracket(src, bodyOpen) + 1));
    }
    return bodies;
}

function stringConsts(allSrc: string[]): Map<string, string> {
    const m = new Map<string, string>();
    for (const s of allSrc) for (const r of s.matchAll(/\b([A-Za-z_]\w*)\s*(?:string\s*)?=\s*"([^"\\]*)"/g)) if (!m.has(r[1])) m.set(r[1], r[2]);
    return m;
}

const REG_METHODS = new Set<string>();
for (const base of ["Bool", "String", "Int", "Int8", "Int16", "Int32", "Int64", "Uint", "Uint8", "Uint16", "Uint32", "Uint64", "Float32", "Float64",
    "Duration", "StringSlice", "StringArray", "Int32Slice", "IntSlice", "Int64Slice", "UintSlice", "BoolSlice", "DurationSlice", "Float32Slice", "Float64Slice",
    "IP", "IPNet", "IPSlice", "IPMask", "StringToString", "StringToInt", "StringToInt64", "BytesHex", "BytesBase64", "Count"]) {
    for (const suf of ["", "P", "Var", "VarP"]) REG_METHODS.add(base + suf);
}
REG_METHODS.add("Var"); REG_METHODS.add("VarP"); REG_METHODS.add("VarPF");

function resolveName(expr: string, consts: Map<string, string>, sprintf: string[] | undefined): string[] {
    const lit = /^"([^"\\]*)"$/.exec(expr);
    if (lit) return [lit[1]];
    if (/^[A-Za-z_][\w.]*$/.test(expr)) { const k = expr.split(".").pop()!; const v = consts.get(k); return v === undefined ? [] : [v]; }
    const sp = /^fmt\.Sprintf\(\s*"([^"\\]*)"\s*,\s*[\w.]+\s*\)$/.exec(expr);
    if (sp && sprintf) return sprintf.map((v) => sp[1].replace("%s", v));
    return [];
}

interface FlagHits { flags: string[]; deprecated: string[]; unresolved: string[] }

function extractFlags(body: string, consts: Map<string, string>, sprintf?: string[]): FlagHits {
    const hits: FlagHits = { flags: [], deprecated: [], unresolved: [] };
    const re = /(?:[A-Za-z_]\w*|\))\.([A-Z]\w*)\(/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(body))) {
        const method = m[1];
        const open = m.index + m[0].length - 1;
        if (method !== "MarkDeprecated" && !REG_METHODS.has(method)) continue;
        const close = matchBracket(body, open);
        const args = splitArgs(body.slice(open + 1, close));
        const isVar = /Var(P|PF)?$/.test(method);
        const nameExpr = method === "MarkDeprecated" ? args[0] : isVar ? args[1] : args[0];
        if (nameExpr === undefined) continue;
        // non-Var forms (fs.String("name", ...)) need a literal/constant/Sprintf first argument; otherwise it is not a registration
        const names = resolveName(nameExpr, consts, sprintf);
        if (!names.length) { if (isVar || method === "MarkDeprecated") hits.unresolved.push(`${method}(${nameExpr})`); continue; }
        (method === "MarkDeprecated" ? hits.deprecated : hits.flags).push(...names);
    }
    return hits;
}

// ---------------------------------------------------------------- struct fields

interface Field { json: string; type: string; inline: boolean }

function parseStructs(src: string): Map<string, Field[]> {
    const structs = new Map<string, Field[]>();
    for (const m of src.matchAll(/type\s+(\w+)\s+struct\s*\{/g)) {
        const open = m.index! + m[0].length - 1;
        const body = src.slice(open + 1, matchBracket(src, open));
        const fields: Field[] = [];
        for (const line of body.split("\n")) {
            const t = /`[^`]*json:"([^"]*)"[^`]*`/.exec(line);
            if (!t) continue;
            const decl = line.slice(0, t.index).trim().split(/\s+/);
            const [jsonName, ...opts] = t[1].split(",");
            if (jsonName === "-") continue;
            const type = decl.length >= 2 ? decl.slice(1).join(" ") : decl[0];
            fields.push({ json: jsonName, type, inline: opts.includes("inline") });
        }
        structs.set(m[1], fields);
    }
    return structs;
}

function flattenFields(structs: Map<string, Field[]>, root: string): { fields: string[]; unresolvedInline: string[] } {
    const out: string[] = [];
    const unresolvedInline = new Set<string>();
    const walk = (typeName: string, prefix: string, seen: Set<string>) => {
        const fields = structs.get(typeName);
        if (!fields) throw new Error(`struct ${typeName} not found`);
        for (const f of fields) {
            let t = f.type.replace(/^\*/, "");
            let suffix = "";
            const slice = /^\[\]\*?(.+)$/.exec(t);
            const map = /^map\[[^\]]+\]\*?(.+)$/.exec(t);
            if (slice) { t = slice[1]; suffix = "[]"; } else if (map) { t = map[1]; suffix = "{}"; }
            if (f.inline) {
                if (structs.has(t) && !seen.has(t)) walk(t, prefix, new Set([...seen, t])); else unresolvedInline.add(f.type);
                continue;
            }
            const name = prefix + f.json;
            out.push(name);
            if (structs.has(t) && !seen.has(t)) walk(t, `${name}${suffix}.`, new Set([...seen, t]));
        }
    };
    walk(root, "", new Set([root]));
    return { fields: [...new Set(out)].sort(), unresolvedInline: [...unresolvedInline].sort() };
}

// ---------------------------------------------------------------- main

function main() {
    const args = process.argv.slice(2);
    const only = args.filter((a) => a.startsWith("--only=")).map((a) => a.slice("--only=".length));
    const [inputDir, outDir, webDir = "/tmp/upstream-work/website"] = args.filter((a) => !a.startsWith("--"));
    if (!inputDir || !outDir) { console.error("usage: extract-upstream.ts <inputDir> <outDir> [websiteDir] [--only=<fixture>.json ...]"); process.exit(2); }
    const unknown = only.filter((f) => !(f in MANIFEST));
    if (unknown.length) { console.error(`--only: unknown fixture ${unknown.join(", ")}; accepted: ${Object.keys(MANIFEST).join(", ")}`); process.exit(2); }
    const selected = Object.entries(MANIFEST).filter(([file]) => only.length === 0 || only.includes(file));
    const read = (s: Source) => stripComments(fs.readFileSync(path.join(inputDir, s.repo, s.path), "utf8"));
    const allFiles = new Set<string>();
    for (const [, f] of selected) for (const s of f.sources) allFiles.add(path.join(s.repo, s.path));
    const consts = stringConsts([...allFiles].map((p) => stripComments(fs.readFileSync(path.join(inputDir, p), "utf8"))));
    fs.mkdirSync(outDir, { recursive: true });
    const uniqSources = (ss: Source[]) => {
        const seen = new Set<string>(); const out: Record<string, unknown>[] = [];
        for (const s of ss) {
            const k = `${s.repo}|${s.path}|${s.ref}`;
            if (seen.has(k)) continue; seen.add(k);
            out.push({ repo: s.repo, path: s.path, ref: s.ref, ...(s.atTag === false ? { atTag: false } : {}), ...(s.note ? { note: s.note } : {}) });
        }
        return out;
    };
    for (const [file, spec] of selected) {
        const doc: Record<string, unknown> = { kubernetes: TAG136, sources: uniqSources(spec.sources) };
        if (spec.kind === "fields") {
            const { fields, unresolvedInline } = flattenFields(parseStructs(read(spec.sources[0])), spec.root!);
            doc.root = spec.root;
            doc.fields = fields;
            if (unresolvedInline.length) doc.unresolvedInline = unresolvedInline;
        } else {
            const flags = new Set<string>(), deprecated = new Set<string>(), flagOnly = new Set<string>(), configAlias = new Set<string>();
            const atTag = new Set<string>(), unresolved: string[] = [];
            const bySource: Record<string, string[]> = {};
            const srcList = doc.sources as Record<string, unknown>[];
            const srcIndex = (s: Source) => String(srcList.findIndex((x) => x.repo === s.repo && x.path === s.path && x.ref === s.ref));
            for (const s of spec.sources) {
                const src = read(s);
                for (const body of functionBodies(src, s.functions)) {
                    const h = extractFlags(body, consts, s.sprintf);
                    (bySource[srcIndex(s)] ??= []).push(...h.flags);
                    h.flags.forEach((f) => { flags.add(f); if (s.flagOnly) flagOnly.add(f); if (s.configAlias) configAlias.add(f); if (s.atTag !== false) atTag.add(f); });
                    h.deprecated.forEach((f) => deprecated.add(f));
                    unresolved.push(...h.unresolved.map((u) => `${s.path}: ${u}`));
                }
            }
            if (file === "kubelet-flags.json") {
                // AddKubeletConfigFlags' deferred VisitAll deprecates every flag of its flag set except this map (read in options.go).
                const notDeprecated = new Set(["v", "vmodule", "log-flush-frequency", "provider-id"]);
                configAlias.forEach((f) => { if (!notDeprecated.has(f)) deprecated.add(f); });
                doc.flagOnly = [...flagOnly].sort();
                doc.configFileAliases = [...configAlias].sort();
            }
            const web = WEBSITE[file];
            const webOnly = new Set<string>();
            if (web) {
                const w = parseWebsiteFlags(fs.readFileSync(path.join(webDir, path.basename(web.path)), "utf8"));
                srcList.push({ ...web });
                bySource[String(srcList.length - 1)] = w.flags;
                w.flags.forEach((f) => { if (!flags.has(f)) webOnly.add(f); flags.add(f); if (web.documents === "kubernetes 1.36") atTag.add(f); });
                w.deprecated.forEach((f) => deprecated.add(f));
                doc.websiteOnly = [...webOnly].sort();
            }
            for (const k of Object.keys(bySource)) bySource[k] = [...new Set(bySource[k])].sort();
            doc.bySource = bySource;
            doc.flags = [...flags].sort();
            doc.deprecated = [...deprecated].sort();
            doc.notVerifiedAtTag = [...flags].filter((f) => !atTag.has(f)).sort();
            if (unresolved.length) doc.unresolved = unresolved;
            if (spec.missing) doc.missing = spec.missing;
        }
        fs.writeFileSync(path.join(outDir, file), JSON.stringify(doc, null, 1) + "\n");
        console.log(`${file}: ${((doc.fields ?? doc.flags) as string[]).length} entries`);
    }
}

main();
