import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCompile } from '../src/cli/commands/compile-emit.js';
import { runGraph } from '../src/cli/commands/graph.js';
import { CliError, type CliIO } from '../src/cli/io.js';
import { dotToSvg } from '../src/cli/svg.js';
import { compile } from '../src/compiler/index.js';
import { graphToDot } from '../src/compiler/ir/dot.js';
import { printGraph } from '../src/compiler/ir/print.js';
import { graphPicture } from '../src/compiler/picture.js';
import { repoRoot } from './helpers/cli.js';

const TINY = `model tiny { hidden 8 heads 2 ffn 16 layers 1 }
adapter a { bottleneck 4 at ffn }
`;

const dir = mkdtempSync(join(tmpdir(), 'adapt-graph-'));
writeFileSync(join(dir, 'tiny.adapt'), TINY);

function compiled(source: string, graph = 'default') {
  const result = compile(source, { fileName: 'test.adapt', graph });
  if (!result.ir || !result.model) throw new Error(JSON.stringify(result.diagnostics));
  return { ir: result.ir, optimized: result.optimized, model: result.model };
}

function example(name: string, graph = 'default') {
  return compiled(readFileSync(join(repoRoot, 'examples', `${name}.adapt`), 'utf8'), graph);
}

/** A CliIO that captures what a command writes, with `cwd` in the temp dir. */
function capture() {
  const out = { stdout: '', stderr: '' };
  const io: CliIO = {
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
    color: false,
    cwd: dir,
  };
  return { io, out };
}

/** The DOT statements that declare a node with this label. */
function nodeLine(dot: string, label: RegExp): string {
  const line = dot.split('\n').find((l) => /^\s+\w+ \[/.test(l) && label.test(l));
  if (!line) throw new Error(`no node labelled ${label}`);
  return line;
}

describe('printGraph', () => {
  it('prints one line per node, weights inline by name', () => {
    expect(printGraph(compiled(TINY).ir)).toMatchInlineSnapshot(`
      "# inputs:  %0 hidden_states : f32[B,T,8], %1 attention_mask : i32[B,T] (optional)
      # outputs: %45 hidden_states : f32[B,T,8]
      # weights: 20 tensors, 676 parameters
      # nodes:   26 (not counting weights)
      %0 = input "hidden_states" : f32[B,T,8]
      %1 = input "attention_mask" : i32[B,T]
      # L0/attn/base
      %4 = matmul(%0, @encoder.layer.0.attention.self.query.weight) : f32[B,T,8]
      %5 = add(%4, @encoder.layer.0.attention.self.query.bias) : f32[B,T,8]
      %8 = matmul(%0, @encoder.layer.0.attention.self.key.weight) : f32[B,T,8]
      %9 = add(%8, @encoder.layer.0.attention.self.key.bias) : f32[B,T,8]
      %12 = matmul(%0, @encoder.layer.0.attention.self.value.weight) : f32[B,T,8]
      %13 = add(%12, @encoder.layer.0.attention.self.value.bias) : f32[B,T,8]
      %14 = attention(%5, %9, %13, %1) {causal=false, heads=2} : f32[B,T,8]
      %17 = matmul(%14, @encoder.layer.0.attention.output.dense.weight) : f32[B,T,8]
      %18 = add(%17, @encoder.layer.0.attention.output.dense.bias) : f32[B,T,8]
      # L0/attn/residual
      %19 = add(%0, %18) : f32[B,T,8]
      %22 = layer_norm(%19, @encoder.layer.0.attention.output.LayerNorm.weight, @encoder.layer.0.attention.output.LayerNorm.bias) {eps=1e-12} : f32[B,T,8]
      # L0/ffn/base
      %25 = matmul(%22, @encoder.layer.0.intermediate.dense.weight) : f32[B,T,16]
      %26 = add(%25, @encoder.layer.0.intermediate.dense.bias) : f32[B,T,16]
      %27 = gelu(%26) : f32[B,T,16]
      %30 = matmul(%27, @encoder.layer.0.output.dense.weight) : f32[B,T,8]
      %31 = add(%30, @encoder.layer.0.output.dense.bias) : f32[B,T,8]
      # L0/ffn/adapter:a
      %34 = matmul(%31, @encoder.layer.0.output.adapters.a.adapter_down.0.weight) : f32[B,T,4]
      %35 = add(%34, @encoder.layer.0.output.adapters.a.adapter_down.0.bias) : f32[B,T,4]
      %36 = relu(%35) : f32[B,T,4]
      %39 = matmul(%36, @encoder.layer.0.output.adapters.a.adapter_up.weight) : f32[B,T,8]
      %40 = add(%39, @encoder.layer.0.output.adapters.a.adapter_up.bias) : f32[B,T,8]
      %41 = add(%31, %40) : f32[B,T,8]
      # L0/ffn/residual
      %42 = add(%22, %41) : f32[B,T,8]
      %45 = layer_norm(%42, @encoder.layer.0.output.LayerNorm.weight, @encoder.layer.0.output.LayerNorm.bias) {eps=1e-12} : f32[B,T,8]
      output "hidden_states" = %45
      "
    `);
  });

  it('is deterministic', () => {
    const { ir } = example('bert-base-fusion');
    expect(printGraph(ir)).toBe(printGraph(example('bert-base-fusion').ir));
  });
});

describe('graphToDot', () => {
  it('renders the op-level graph with one cluster per layer', async () => {
    const { ir } = example('bert-base-houlsby');
    const dot = graphToDot(ir);
    expect(dot.match(/subgraph cluster_L\d+ \{/g)).toHaveLength(12);
    expect(dot).not.toMatch(/label="%\d+ weight/);
    expect(dot).toContain('@attention.self.query.weight');
    expect(await dotToSvg(dot)).toMatch(/^<\?xml[\s\S]*<\/svg>\s*$/);
  });
});

describe('graphPicture', () => {
  it('draws one cluster per layer, adapters, the fusion and a legend', async () => {
    const { ir, model } = example('bert-base-fusion');
    const dot = graphPicture(model, 'default', ir);
    expect(dot.match(/subgraph cluster_layer\d+ \{/g)).toHaveLength(12);
    expect(dot).toContain('subgraph cluster_legend');
    expect(dot).toContain("bert-base — graph 'default' = multitask");
    for (const name of ['sentiment', 'ner', 'nli']) expect(dot).toContain(`label="${name}\\nr=`);
    expect(dot).toContain('fusion multitask\\n(3 adapters)');
    // nli is absent from layers 6, 7 and 9: the fusion combines two there.
    expect(dot.match(/\(2 adapters\)/g)).toHaveLength(3);
    const adapter = nodeLine(dot, /label="sentiment\\n/);
    const fusion = nodeLine(dot, /label="fusion multitask/);
    expect(fusion).toContain('shape="hexagon"');
    expect(adapter).not.toContain('shape="hexagon"');
    expect(dot).not.toMatch(/(b\d+) -> \1\b/);
    expect(await dotToSvg(dot)).toContain('</svg>');
  });

  it('marks batch selects and parallel adapters', async () => {
    const routed = example('bert-base-fusion', 'routed');
    const batch = graphPicture(routed.model, 'routed', routed.ir);
    expect(nodeLine(batch, /label="batch select/)).toContain('shape="diamond"');
    expect(batch).toContain('adapter_index\\ni32[B]\\n(read in 12 layers)');
    const parallel = example('bert-base-parallel');
    const dot = graphPicture(parallel.model, 'default', parallel.ir);
    expect(nodeLine(dot, /label="par ∥\\nr=32, relu, scale 4"/)).toContain('#1565c0');
    expect(dot.match(/\{ rank=same; b\d+; b\d+; \}/g)).toHaveLength(12);
    await dotToSvg(batch);
    await dotToSvg(dot);
  });

  it('is deterministic', () => {
    const { ir, model } = example('bert-base-fusion', 'both');
    expect(graphPicture(model, 'both', ir)).toBe(graphPicture(model, 'both', ir));
  });
});

describe('adapt graph', () => {
  it('writes SVG or DOT by the extension', async () => {
    const { io, out } = capture();
    expect(await runGraph(io, 'tiny.adapt', { graph: 'default', output: 'tiny.svg' })).toBe(0);
    expect(await runGraph(io, 'tiny.adapt', { graph: 'default', output: 'tiny.dot' })).toBe(0);
    expect(out.stdout).toBe(
      "wrote tiny.svg (graph 'default', 1 layer)\nwrote tiny.dot (graph 'default', 1 layer)\n",
    );
    expect(readFileSync(join(dir, 'tiny.svg'), 'utf8')).toContain('</svg>');
    expect(readFileSync(join(dir, 'tiny.dot'), 'utf8')).toMatch(/^digraph picture \{/);
  });

  it('rejects other extensions as a usage error', async () => {
    const { io } = capture();
    const run = runGraph(io, 'tiny.adapt', { graph: 'default', output: 'tiny.png' });
    await expect(run).rejects.toThrow(/\.svg .*\.dot/);
    await expect(run).rejects.toMatchObject({ exitCode: 2 });
  });

  it('names the 12 layers of an example', async () => {
    const { io, out } = capture();
    const file = join(repoRoot, 'examples/bert-base-fusion.adapt');
    expect(await runGraph(io, file, { graph: 'routed', output: 'routed.svg' })).toBe(0);
    expect(out.stdout).toBe("wrote routed.svg (graph 'routed', 12 layers)\n");
  });
});

describe('adapt compile --emit', () => {
  const run = (emit: string, output?: string) => {
    const { io, out } = capture();
    const code = runCompile(io, 'tiny.adapt', {
      graph: 'default',
      emit,
      output,
      fuse: true,
      target: 'software',
    });
    return { code, ...out };
  };

  it('emits the AST, the IR, DOT and the program', () => {
    const ast = JSON.parse(run('ast').stdout) as { declarations: unknown[] };
    expect(ast.declarations).toHaveLength(2);
    expect(run('ir').stdout).toBe(printGraph(compiled(TINY).ir));
    expect(run('fused').stdout).toBe(printGraph(compiled(TINY).optimized!));
    expect(run('dot').stdout).toBe(graphToDot(compiled(TINY).optimized!));
    expect(run('wgsl').stdout).toMatch(/^\/\/ kernel k0: /);
    expect(run('plan').stdout).toMatch(/^# target software, fused\n# \d+ dispatches/);
    const program = compile(TINY, { fileName: 'tiny.adapt' }).program;
    expect(JSON.parse(run('program').stdout)).toEqual(program);
  });

  it('writes to -o PATH', () => {
    const result = run('ir', 'tiny.ir');
    expect(result).toMatchObject({ code: 0, stdout: "wrote tiny.ir (ir, graph 'default')\n" });
    expect(readFileSync(join(dir, 'tiny.ir'), 'utf8')).toBe(printGraph(compiled(TINY).ir));
  });

  it('lists the --emit values on a wrong one, as a usage error', () => {
    expect(() => run('bogus')).toThrow(
      expect.objectContaining({
        constructor: CliError,
        exitCode: 2,
        message: expect.stringContaining('choose one of ast, ir, fused, dot, wgsl, plan, program'),
      }),
    );
  });
});
