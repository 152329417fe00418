"""What Dash's renderer sends to the server, so a load test can drive any page without a browser.

The renderer (dash-renderer `executeCallback` and `fillVals`, dash 4.x) POSTs /_dash-update-component with
    {output, outputs, inputs: [{id, property, value}], changedPropIds, parsedChangedPropsIds[, state]}
where `outputs` is one {id, property} for a single-output callback and a list when the `output` string is
the multi-output form "..a.children...b.search..". An input whose prop is not in the layout has no
"value" key: the browser sends `undefined`, which JSON drops. `state` is left out when a callback has none.
Pattern-matching (dict id) callbacks are skipped: no page here uses them.

Pure functions over the JSON of /_dash-layout and /_dash-dependencies; nothing here imports locust.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator


def prop_id(dep: dict) -> str:
    """The renderer's name of an input or output: "id.property"."""
    return f"{dep['id']}.{dep['property']}"


def outputs_of(callback: dict) -> list[dict]:
    """The {id, property} outputs of a callback, split as `dash._utils.split_callback_id` splits them."""
    output = callback["output"]
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [dict(zip(("id", "property"), part.rsplit(".", 1))) for part in parts]


def body(callback: dict, values: dict[str, Any], changed: Iterable[str] = ()) -> dict:
    """The JSON body the browser POSTs for `callback`, with `values` keyed by "id.property"."""

    def filled(deps: list[dict]) -> list[dict]:
        return [{**dep, "value": values[prop_id(dep)]} if prop_id(dep) in values else dict(dep) for dep in deps]

    outputs = outputs_of(callback)
    changed = list(changed)
    payload = {
        "output": callback["output"],
        "outputs": outputs if callback["output"].startswith("..") else outputs[0],
        "inputs": filled(callback["inputs"]),
        "changedPropIds": changed,
        "parsedChangedPropsIds": changed,
    }
    if callback.get("state"):
        payload["state"] = filled(callback["state"])
    return payload


def nodes(tree: Any) -> Iterator[dict]:
    """Every component in a layout (or callback response) tree, depth first: {type, namespace, props}."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and "type" in node:
                yield node
                stack.extend(reversed(list(props.values())))
            else:
                stack.extend(node.values())


def components(tree: Any) -> dict[str, dict]:
    """The components with a string id in a tree: id -> {type, props}."""
    return {n["props"]["id"]: {"type": n["type"], "props": n["props"]}
            for n in nodes(tree) if isinstance(n["props"].get("id"), str)}


def values_of(found: dict[str, dict]) -> dict[str, Any]:
    """The props a layout sets, keyed "id.property", as the renderer reads them for inputs and state."""
    return {f"{cid}.{prop}": value for cid, c in found.items() for prop, value in c["props"].items()}


def page_paths(tree: Any) -> list[str]:
    """The app's own pages, from the hrefs of its dcc.Link components (the navigation), in layout order."""
    hrefs = []
    for n in nodes(tree):
        href = n["props"].get("href")
        if n["type"] == "Link" and isinstance(href, str) and href.startswith("/") and href not in hrefs:
            hrefs.append(href)
    return hrefs


def _string_ids(deps: list[dict]) -> bool:
    return all(isinstance(d["id"], str) for d in deps)


def find_callback(dependencies: list[dict], inputs: Iterable[str]) -> dict | None:
    """The first server-side callback whose inputs include every "id.property" of `inputs`."""
    wanted = set(inputs)
    for cb in dependencies:
        if not cb.get("clientside_function") and wanted <= {prop_id(d) for d in cb["inputs"]}:
            return cb
    return None


def router(dependencies: list[dict], found: dict[str, dict]) -> dict | None:
    """The callback that renders a page from the URL: its inputs include a dcc.Location's pathname."""
    for cid, c in found.items():
        if c["type"] == "Location":
            cb = find_callback(dependencies, [f"{cid}.pathname"])
            if cb:
                return cb
    return None


def initial_callbacks(dependencies: list[dict], new_ids: set[str], all_ids: set[str]) -> list[dict]:
    """The server callbacks a browser fires when components `new_ids` appear in a layout of `all_ids`.

    As the renderer does for new layout chunks: callbacks touching the new components whose inputs and
    outputs all exist, minus prevent_initial_call and clientside ones.
    """
    fired = []
    for cb in dependencies:
        outputs = outputs_of(cb)
        ids = {d["id"] for d in cb["inputs"] + outputs}
        if (cb.get("prevent_initial_call") or cb.get("clientside_function")
                or not _string_ids(cb["inputs"] + cb.get("state", []))):
            continue
        if ids & new_ids and ids <= all_ids:
            fired.append(cb)
    return fired


def intervals(found: dict[str, dict]) -> dict[str, float]:
    """dcc.Interval components that are running: id -> seconds between ticks."""
    return {cid: c["props"].get("interval", 1000) / 1000 for cid, c in found.items()
            if c["type"] == "Interval" and not c["props"].get("disabled")}


def dependents(dependencies: list[dict], changed: str) -> list[dict]:
    """The server callbacks a browser fires when the prop "id.property" `changed` changes."""
    return [cb for cb in dependencies
            if not cb.get("clientside_function") and _string_ids(cb["inputs"] + cb.get("state", []))
            and changed in {prop_id(d) for d in cb["inputs"]}]


def merge(page: dict[str, dict], response: dict) -> dict[str, dict]:
    """The page after a callback response: its prop updates applied, and any components it returned added."""
    page = dict(page)
    for cid, props in (response.get("response") or {}).items():
        old = page.get(cid, {"type": None, "props": {}})
        page[cid] = {**old, "props": {**old["props"], **props}}
        page.update(components(props))
    return page


def label(callback: dict) -> str:
    """A stable request name for a callback: its first output, "id.property" (without @duplicate marks)."""
    first = outputs_of(callback)[0]
    return f"{first['id']}.{first['property'].split('@')[0]}"
