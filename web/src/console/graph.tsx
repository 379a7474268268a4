// A workflow's flow drawn as a graph (the API's nodes and edges, laid out
// by dagre): steps, decisions, parallel forks and joins, loops. In a run's
// view each step node shows its state as the run goes.
import { Graph, layout } from "@dagrejs/dagre";
import { useMemo } from "preact/hooks";

export interface FlowNode {
  id: string;
  kind: string; // start, end, task, decision, fork, join, loop
  label: string;
  task?: string;
  action?: string;
  line?: number;
}
export interface FlowEdge {
  from: string;
  to: string;
  label?: string;
}
export interface FlowGraph {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

// The node a step record belongs to: its path up to the last ':', without
// loop iterations ("1.branch.0.0:escalate" -> "1.branch.0.0", "2.loop.0:t[3]"
// -> "2.loop.0", "1:fetch.fallback.0:notify" -> "1:fetch.fallback.0",
// "0:refund/approval" -> "0").
export function nodeOf(path: string): string {
  const plain = path.replace(/\[[0-9.]+\]/g, "");
  const at = plain.lastIndexOf(":");
  return at < 0 ? plain : plain.slice(0, at);
}

const W = 168;
const H = 44;

function shorten(s: string, n: number) {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

interface Placed {
  nodes: { n: FlowNode; x: number; y: number; w: number; h: number }[];
  edges: { e: FlowEdge; points: { x: number; y: number }[]; lx?: number; ly?: number }[];
  width: number;
  height: number;
}

function place(graph: FlowGraph): Placed {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 36, marginx: 12, marginy: 12 });
  for (const n of graph.nodes) {
    const small = n.kind === "start" || n.kind === "end" || n.kind === "join";
    g.setNode(n.id, { width: small ? 64 : W, height: small ? 28 : H });
  }
  graph.edges.forEach((e, i) => {
    const label = e.label ? shorten(e.label, 28) : "";
    g.setEdge(e.from, e.to, { label, width: label.length * 6.2, height: label ? 14 : 0, labelpos: "c" }, String(i));
  });
  layout(g);
  const nodes = graph.nodes.map((n) => {
    const p = g.node(n.id) as any;
    return { n, x: p.x, y: p.y, w: p.width, h: p.height };
  });
  const edges = graph.edges.map((e, i) => {
    const p = g.edge({ v: e.from, w: e.to, name: String(i) }) as any;
    return { e, points: p?.points ?? [], lx: p?.x, ly: p?.y };
  });
  const size = g.graph() as any;
  return { nodes, edges, width: size.width ?? 200, height: size.height ?? 200 };
}

export function FlowView(props: {
  graph: FlowGraph;
  states?: Record<string, { status: string; count: number }>;
  selected?: string;
  onSelect?: (id: string) => void;
}) {
  const placed = useMemo(() => place(props.graph), [props.graph]);
  return (
    <div class="graph-scroll">
      <svg
        class="graph"
        width={placed.width}
        height={placed.height}
        viewBox={`0 0 ${placed.width} ${placed.height}`}
        role="img"
        aria-label="The workflow's steps as a graph"
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="arrow" />
          </marker>
        </defs>
        {placed.edges.map(({ e, points, lx, ly }) => (
          <g class="edge">
            <polyline points={points.map((p) => `${p.x},${p.y}`).join(" ")} marker-end="url(#arrow)" />
            {e.label && lx !== undefined && (
              <text x={lx} y={(ly ?? 0) + 4} text-anchor="middle" class="edge-label">
                <title>{e.label}</title>
                {shorten(e.label, 28)}
              </text>
            )}
          </g>
        ))}
        {placed.nodes.map(({ n, x, y, w, h }) => {
          const state = props.states?.[n.id];
          const cls = `node kind-${n.kind}${state ? ` st-${state.status}` : ""}${props.selected === n.id ? " selected" : ""}`;
          const clickable = !!props.onSelect && n.kind === "task";
          const label = n.kind === "task" ? n.label : n.kind === "decision" ? "if" : n.label;
          return (
            <g
              class={cls}
              transform={`translate(${x - w / 2},${y - h / 2})`}
              data-node={n.id}
              data-status={state?.status}
              tabIndex={clickable ? 0 : undefined}
              role={clickable ? "button" : undefined}
              aria-label={clickable ? `${n.label}${state ? `: ${state.status}` : ""}` : undefined}
              onClick={clickable ? () => props.onSelect!(n.id) : undefined}
              onKeyDown={
                clickable
                  ? (ev) => {
                      if (ev.key === "Enter" || ev.key === " ") {
                        ev.preventDefault();
                        props.onSelect!(n.id);
                      }
                    }
                  : undefined
              }
            >
              <rect width={w} height={h} rx={n.kind === "task" ? 6 : h / 2} />
              <text x={w / 2} y={n.action ? h / 2 - 3 : h / 2 + 4} text-anchor="middle" class="node-label">
                {shorten(label, 22)}
              </text>
              {n.action && (
                <text x={w / 2} y={h / 2 + 12} text-anchor="middle" class="node-action">
                  {n.action}
                  {state && state.count > 1 ? ` ×${state.count}` : ""}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
