#!/usr/bin/env python3
"""Writes the generated parts of the catalog from the ServiceTitan OpenAPI
documents:

    scripts/gen_catalog.py ../shared/servicetitan-openapi daemon/config

- list_catalog.cc: every top-level GET list endpoint (page and pageSize, no
  path parameter but {tenant}) that has no Data Export equivalent, and how
  to page it;
- spec_fields.cc: for every export and list endpoint, the top-level scalar
  fields of its records (of job-history's entries), which the <table>_v
  views expose as columns.

Both files are run through clang-format. tests/catalog_test.cc checks them
against the documents, so a stale file fails the tests where the documents
are present. The documents themselves are not copied into the project.
"""
import subprocess
import glob
import json
import os
import re
import sys

# Left out, with the reason (also checked by tests/catalog_test.cc).
LEFT_OUT = {
    "/telecom/v3/tenant/{tenant}/calls":
        "the same calls as the calls export (telecom v2)",
    "/jpm/v2/tenant/{tenant}/work-breakdown-structure/segments":
        "its answer has no page envelope (no hasMore)",
    "/payroll/v2/tenant/{tenant}/locations/rates":
        "no integer key (locationId and a labor type code)",
}


# Export endpoints whose rows are the entries of a nested list (the
# catalog's explode_field); their views show the entries' fields.
EXPLODED = {"/jpm/v2/tenant/{tenant}/export/job-history": "history"}


def load(spec_dir):
    exports, lists, record_fields = set(), [], {}
    for f in sorted(glob.glob(os.path.join(spec_dir, "*.json"))):
        d = json.load(open(f))
        base = d["servers"][0]["url"]
        base = base[base.index("/", len("https://")):]
        schemas = d["components"]["schemas"]

        def res(v):
            while isinstance(v, dict) and "$ref" in v:
                v = schemas[v["$ref"].split("/")[-1]]
            return v

        def fields(s):
            s = res(s)
            out = {}
            for a in s.get("allOf", []):
                out.update(fields(a))
            out.update(s.get("properties", {}))
            return out

        def kind(v):
            """I, N, S, B, D for a scalar schema; None otherwise."""
            v = res(v)
            for wrap in ("allOf", "oneOf", "anyOf"):
                parts = [p for p in v.get(wrap, [])
                         if res(p).get("type") != "null"]
                if len(parts) == 1 and "properties" not in v:
                    return kind(parts[0])
            t = v.get("type")
            if isinstance(t, list):
                t = [x for x in t if x != "null"]
                t = t[0] if len(t) == 1 else None
            if t is None and "enum" in v:
                t = "string"
            if t == "integer":
                return "I"
            if t == "number":
                return "N"
            if t == "boolean":
                return "B"
            if t == "string":
                return "D" if v.get("format") == "date-time" else "S"
            return None

        def scalars(s):
            out, seen = [], set()
            for name, v in fields(s).items():
                k = kind(v)
                if k and name.lower() not in seen:
                    seen.add(name.lower())
                    out.append((name, k))
            return out

        for path, item in d["paths"].items():
            if "get" not in item:
                continue
            full = base + path
            op = item["get"]
            if "/export" in path:
                exports.add(full)
                for c in op["responses"]["200"]["content"].values():
                    record = fields(res(fields(c["schema"])["data"])["items"])
                    explode = EXPLODED.get(full)
                    if explode:
                        entry = res(record[explode])["items"]
                        record_fields[full + "#" + explode] = scalars(entry)
                    else:
                        record_fields[full] = scalars(
                            res(fields(c["schema"])["data"])["items"])
                    break
                continue
            params = {}
            for p in op.get("parameters", []):
                p = res(p)
                params[p.get("name")] = p
            if "page" not in params or "pageSize" not in params:
                continue
            if re.findall(r"\{(\w+)\}", path) != ["tenant"]:
                continue
            record, kinds = {}, {}
            for c in op["responses"].get("200", {}).get("content", {}).values():
                envelope = fields(c["schema"])
                if "data" in envelope:
                    items = res(envelope["data"]).get("items", {})
                    record = fields(items)
                    record_fields[full] = scalars(items)
                    kinds = dict(record_fields[full])
                break
            lists.append((full, params, record, kinds))
    return exports, lists, record_fields


def has_export(path, exports):
    prefix, rest = path.split("/tenant/{tenant}/")
    rest = re.sub(r"/paginated$", "", rest)
    return prefix + "/tenant/{tenant}/export/" + rest in exports


def required_params(path, params):
    """The query parameters the document requires beyond page and pageSize,
    each with the value stsync sends: false for a boolean (includeTotal,
    descending, activeOnly: the cheapest answer, and every record)."""
    out = []
    for name, p in params.items():
        if not p.get("required") or p.get("in") != "query":
            continue
        if name in ("page", "pageSize"):
            continue
        if (p.get("schema") or {}).get("type") != "boolean":
            sys.exit(f"{path}: required parameter {name} has no known value")
        out.append((name, "false"))
    return out


def order_of(params):
    for name, kind in (("sort", "kSortParam"), ("orderBy", "kOrderBy")):
        desc = (params.get(name, {}).get("description") or "").lower()
        if "modifiedon" in desc:
            return kind
    return "kDefault"


HEADER = [
    "// Generated by scripts/gen_catalog.py from the ServiceTitan OpenAPI",
    "// documents; tests/catalog_test.cc checks it against them. Do not",
    "// edit by hand.",
    '#include "config/catalog.h"',
    "",
]


def list_catalog(exports, lists):
    out = []
    for path, params, record, kinds in lists:
        if has_export(path, exports) or path in LEFT_OUT:
            continue
        if kinds.get("id") not in ("I", "S"):
            continue  # no id to key by
        name = path.split("/tenant/{tenant}/")[1].replace("/", "-")
        incremental = "modifiedOnOrAfter" in params and "modifiedOn" in record
        page_max = (params["pageSize"].get("schema") or {}).get("maximum")
        sent = [("active", "Any")] if "active" in params else []
        sent += required_params(path, params)
        out.append((name, path, sent, incremental,
                    "modifiedOn" in record, order_of(params),
                    min(int(page_max or 5000), 5000), kinds["id"] == "S"))
    text = HEADER + [
        "namespace stsync {",
        "",
        "std::vector<Endpoint> ListCatalog() {",
        "  using E = Endpoint;",
        "  using O = ListOrder;",
        "  return {",
    ]
    for (name, path, sent, incremental, versioned, order, page_max,
         string_key) in out:
        text.append("E{")
        text.append(f'.name = "{name}",')
        text.append(f'.path = "{path}",')
        if not versioned:
            text.append('.version_field = "",')
        if sent:
            pairs = ", ".join(f'{{"{n}", "{v}"}}' for n, v in sent)
            text.append(f".params = {{{pairs}}},")
        if string_key:
            text.append(".string_key = true,")
        text.append(".kind = EndpointKind::kList,")
        if incremental:
            text.append(".modified_filter = true,")
        if order != "kDefault":
            text.append(f".order = O::{order},")
        if page_max != 5000:
            text.append(f".max_page_size = {page_max},")
        text.append("},")
    text += ["  };", "}", "", "}  // namespace stsync", ""]
    return "\n".join(text), {path for _, path, *_ in out}


def spec_fields(record_fields, paths):
    text = HEADER + [
        "#include <map>",
        "#include <string>",
        "",
        "namespace stsync {",
        "",
        "std::string_view SpecFields(std::string_view path) {",
        "  static const auto* fields =",
        "      new std::map<std::string_view, std::string_view>{",
    ]
    for path in sorted(paths):
        spec = ",".join(f"{n}:{k}" for n, k in record_fields[path])
        text.append(f'{{"{path}", "{spec}"}},')
    text += [
        "      };",
        "  auto it = fields->find(path);",
        '  return it == fields->end() ? std::string_view() : it->second;',
        "}",
        "",
        "}  // namespace stsync",
        "",
    ]
    return "\n".join(text)


def write(path, text):
    formatted = subprocess.run(
        ["clang-format", "--assume-filename=x.cc"], input=text, text=True,
        capture_output=True, check=True).stdout
    with open(path, "w") as f:
        f.write(formatted)


def main():
    exports, lists, record_fields = load(sys.argv[1])
    text, list_paths = list_catalog(exports, lists)
    write(os.path.join(sys.argv[2], "list_catalog.cc"), text)
    paths = {p for p in record_fields if p.split("#")[0] in exports}
    paths |= list_paths
    write(os.path.join(sys.argv[2], "spec_fields.cc"),
          spec_fields(record_fields, paths))


if __name__ == "__main__":
    main()
