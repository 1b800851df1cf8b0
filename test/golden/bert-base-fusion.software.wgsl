// kernel k0: linear_vec4_768x768_bias, 72 dispatches
struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> w: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;

const K4 = 192u;
const N4 = 192u;
const W4 = 192u;
const C4 = 0u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let index = group * 64u + lid;
  let col = index % W4;
  let row0 = (index / W4) * 4u;
  if (row0 >= params.rows) { return; }
  let last = params.rows - 1u;
  let x0 = min(row0 + 0u, last) * K4;
  let x1 = min(row0 + 1u, last) * K4;
  let x2 = min(row0 + 2u, last) * K4;
  let x3 = min(row0 + 3u, last) * K4;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var k = 0u; k < K4; k = k + 1u) {
    let w0 = w[(4u * k) * W4 + col];
    let w1 = w[(4u * k + 1u) * W4 + col];
    let w2 = w[(4u * k + 2u) * W4 + col];
    let w3 = w[(4u * k + 3u) * W4 + col];
    let v0 = x[x0 + k];
    a0 = a0 + v0.x * w0 + v0.y * w1 + v0.z * w2 + v0.w * w3;
    let v1 = x[x1 + k];
    a1 = a1 + v1.x * w0 + v1.y * w1 + v1.z * w2 + v1.w * w3;
    let v2 = x[x2 + k];
    a2 = a2 + v2.x * w0 + v2.y * w1 + v2.z * w2 + v2.w * w3;
    let v3 = x[x3 + k];
    a3 = a3 + v3.x * w0 + v3.y * w1 + v3.z * w2 + v3.w * w3;
  }
  if (row0 + 0u < params.rows) { var v = a0; v = v + bias[col]; out[(row0 + 0u) * N4 + C4 + col] = v; }
  if (row0 + 1u < params.rows) { var v = a1; v = v + bias[col]; out[(row0 + 1u) * N4 + C4 + col] = v; }
  if (row0 + 2u < params.rows) { var v = a2; v = v + bias[col]; out[(row0 + 2u) * N4 + C4 + col] = v; }
  if (row0 + 3u < params.rows) { var v = a3; v = v + bias[col]; out[(row0 + 3u) * N4 + C4 + col] = v; }
}

// kernel k1: attention_768_h12, 12 dispatches
struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<i32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
const D = 768u;
const DH = 64u;
const HEADS = 12u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let index = group * 64u + lid;
  if (index >= params.rows * HEADS) { return; }
  let head = index % HEADS;
  let token = index / HEADS;
  let sequence = token / params.seq;
  let position = token % params.seq;
  let qo = token * D + head * DH;
  var acc: array<f32, 64>;
  for (var c = 0u; c < DH; c = c + 1u) { acc[c] = 0.0; }
  var top = -3.0e38;
  var total = 0.0;
  let keys = params.seq;
  for (var j = 0u; j < keys; j = j + 1u) {
    let key = sequence * params.seq + j;
    if (mask[key] == 0) { continue; }
    let ko = key * D + head * DH;
    var score = 0.0;
    for (var c = 0u; c < DH; c = c + 1u) { score = score + q[qo + c] * k[ko + c]; }
    score = score * 0.125f;
    let next = max(top, score);
    let correction = exp(top - next);
    let p = exp(score - next);
    total = total * correction + p;
    for (var c = 0u; c < DH; c = c + 1u) { acc[c] = acc[c] * correction + p * v[ko + c]; }
    top = next;
  }
  for (var c = 0u; c < DH; c = c + 1u) { out[qo + c] = select(0.0, acc[c] / total, total > 0.0); }
}

// kernel k2: add_layer_norm_768_1e-12, 24 dispatches
struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
var<workgroup> scratch: array<f32, 64>;
fn workgroup_sum(value: f32, lid: u32) -> f32 {
  scratch[lid] = value;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { scratch[lid] = scratch[lid] + scratch[lid + stride]; }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();
  return total;
}
const D = 768u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let row = group;
  if (row >= params.rows) { return; }
  let base = row * D;
  var partial = 0.0;
  for (var i = lid; i < D; i = i + 64u) { partial = partial + x[base + i] + y[base + i]; }
  let mean = workgroup_sum(partial, lid) / f32(D);
  partial = 0.0;
  for (var i = lid; i < D; i = i + 64u) { let c = x[base + i] + y[base + i] - mean; partial = partial + c * c; }
  let inv = inverseSqrt(workgroup_sum(partial, lid) / f32(D) + 9.999999960041972e-13f);
  for (var i = lid; i < D; i = i + 64u) { out[base + i] = (x[base + i] + y[base + i] - mean) * inv * gamma[i] + beta[i]; }
}

// kernel k3: linear_vec4_768x3072_bias_gelu, 12 dispatches
struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> w: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
fn erf_approx(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}
fn act_gelu(x: f32) -> f32 { return 0.5 * x * (1.0 + erf_approx(x * 0.7071067811865476)); }
const K4 = 192u;
const N4 = 768u;
const W4 = 768u;
const C4 = 0u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let index = group * 64u + lid;
  let col = index % W4;
  let row0 = (index / W4) * 4u;
  if (row0 >= params.rows) { return; }
  let last = params.rows - 1u;
  let x0 = min(row0 + 0u, last) * K4;
  let x1 = min(row0 + 1u, last) * K4;
  let x2 = min(row0 + 2u, last) * K4;
  let x3 = min(row0 + 3u, last) * K4;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var k = 0u; k < K4; k = k + 1u) {
    let w0 = w[(4u * k) * W4 + col];
    let w1 = w[(4u * k + 1u) * W4 + col];
    let w2 = w[(4u * k + 2u) * W4 + col];
    let w3 = w[(4u * k + 3u) * W4 + col];
    let v0 = x[x0 + k];
    a0 = a0 + v0.x * w0 + v0.y * w1 + v0.z * w2 + v0.w * w3;
    let v1 = x[x1 + k];
    a1 = a1 + v1.x * w0 + v1.y * w1 + v1.z * w2 + v1.w * w3;
    let v2 = x[x2 + k];
    a2 = a2 + v2.x * w0 + v2.y * w1 + v2.z * w2 + v2.w * w3;
    let v3 = x[x3 + k];
    a3 = a3 + v3.x * w0 + v3.y * w1 + v3.z * w2 + v3.w * w3;
  }
  if (row0 + 0u < params.rows) { var v = a0; v = v + bias[col]; v = vec4f(act_gelu(v.x), act_gelu(v.y), act_gelu(v.z), act_gelu(v.w)); out[(row0 + 0u) * N4 + C4 + col] = v; }
  if (row0 + 1u < params.rows) { var v = a1; v = v + bias[col]; v = vec4f(act_gelu(v.x), act_gelu(v.y), act_gelu(v.z), act_gelu(v.w)); out[(row0 + 1u) * N4 + C4 + col] = v; }
  if (row0 + 2u < params.rows) { var v = a2; v = v + bias[col]; v = vec4f(act_gelu(v.x), act_gelu(v.y), act_gelu(v.z), act_gelu(v.w)); out[(row0 + 2u) * N4 + C4 + col] = v; }
  if (row0 + 3u < params.rows) { var v = a3; v = v + bias[col]; v = vec4f(act_gelu(v.x), act_gelu(v.y), act_gelu(v.z), act_gelu(v.w)); out[(row0 + 3u) * N4 + C4 + col] = v; }
}

// kernel k4: linear_vec4_3072x768_bias, 12 dispatches
struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> w: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;

const K4 = 768u;
const N4 = 192u;
const W4 = 192u;
const C4 = 0u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let index = group * 64u + lid;
  let col = index % W4;
  let row0 = (index / W4) * 4u;
  if (row0 >= params.rows) { return; }
  let last = params.rows - 1u;
  let x0 = min(row0 + 0u, last) * K4;
  let x1 = min(row0 + 1u, last) * K4;
  let x2 = min(row0 + 2u, last) * K4;
  let x3 = min(row0 + 3u, last) * K4;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var k = 0u; k < K4; k = k + 1u) {
    let w0 = w[(4u * k) * W4 + col];
    let w1 = w[(4u * k + 1u) * W4 + col];
    let w2 = w[(4u * k + 2u) * W4 + col];
    let w3 = w[(4u * k + 3u) * W4 + col];
    let v0 = x[x0 + k];
    a0 = a0 + v0.x * w0 + v0.y * w1 + v0.z * w2 + v0.w * w3;
    let v1 = x[x1 + k];
    a1 = a1 + v1.x * w0 + v1.y * w1 + v1.z * w2 + v1.w * w3;
    let v2 = x[x2 + k];
    a2 = a2 + v2.x * w0 + v2.y * w1 + v2.z * w2 + v2.w * w3;
    let v3 = x[x3 + k];
    a3 = a3 + v3.x * w0 + v3.y * w1 + v3.z * w2 + v3.w * w3;
  }
  if (row0 + 0u < params.rows) { var v = a0; v = v + bias[col]; out[(row0 + 0u) * N4 + C4 + col] = v; }
  if (row0 + 1u < params.rows) { var v = a1; v = v + bias[col]; out[(row0 + 1u) * N4 + C4 + col] = v; }
  if (row0 + 2u < params.rows) { var v = a2; v = v + bias[col]; out[(row0 + 2u) * N4 + C4 + col] = v; }
  if (row0 + 3u < params.rows) { var v = a3; v = v + bias[col]; out[(row0 + 3u) * N4 + C4 + col] = v; }
}

// kernel k5: bottleneck_768_v4_64reluyx1, 12 dispatches
struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<vec4f>;
@group(0) @binding(2) var<storage, read> u: array<vec4f>;
@group(0) @binding(3) var<storage, read> adapter0: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
fn act_relu(x: f32) -> f32 { return max(x, 0.0); }
const D = 768u;
const D4 = 192u;
const ROWS = 4u;
var<workgroup> yrow: array<vec4f, 768>;
var<workgroup> hidden: array<vec4f, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let row0 = group * ROWS;
  if (row0 >= params.rows) { return; }
  let last = params.rows - 1u;
  for (var i = lid; i < ROWS * D4; i = i + 64u) { yrow[i] = y[min(row0 + i / D4, last) * D4 + i % D4]; }
  workgroupBarrier();
  // adapter 0: r = 64
  for (var j = lid; j < 64u; j = j + 64u) {
    let bias = adapter0[12288u + j / 4u][j % 4u];
    var s = array<f32, ROWS>(bias, bias, bias, bias);
    for (var c = 0u; c < D4 + params.pad; c = c + 1u) {
      let w = adapter0[j * D4 + c];
      s[0] = s[0] + dot(w, yrow[0u + c]); s[1] = s[1] + dot(w, yrow[192u + c]); s[2] = s[2] + dot(w, yrow[384u + c]); s[3] = s[3] + dot(w, yrow[576u + c]);
    }
    hidden[0u + j / 4u][j % 4u] = act_relu(s[0]); hidden[16u + j / 4u][j % 4u] = act_relu(s[1]); hidden[32u + j / 4u][j % 4u] = act_relu(s[2]); hidden[48u + j / 4u][j % 4u] = act_relu(s[3]);
  }
  workgroupBarrier();
  for (var c = lid; c < D; c = c + 64u) {
    let bias = adapter0[24592u + c / 4u][c % 4u];
    var s = array<f32, ROWS>(bias, bias, bias, bias);
    for (var j = 0u; j < 16u + params.pad; j = j + 1u) {
      let w = adapter0[12304u + c * 16u + j];
      s[0] = s[0] + dot(w, hidden[0u + j]); s[1] = s[1] + dot(w, hidden[16u + j]); s[2] = s[2] + dot(w, hidden[32u + j]); s[3] = s[3] + dot(w, hidden[48u + j]);
    }
    yrow[0u + c / 4u][c % 4u] = yrow[0u + c / 4u][c % 4u] + 1.0f * s[0]; yrow[192u + c / 4u][c % 4u] = yrow[192u + c / 4u][c % 4u] + 1.0f * s[1]; yrow[384u + c / 4u][c % 4u] = yrow[384u + c / 4u][c % 4u] + 1.0f * s[2]; yrow[576u + c / 4u][c % 4u] = yrow[576u + c / 4u][c % 4u] + 1.0f * s[3];
  }
  workgroupBarrier();
  for (var i = lid; i < ROWS * D4; i = i + 64u) { if (row0 + i / D4 < params.rows) { out[row0 * D4 + i] = yrow[i]; } }
}

// kernel k6: bottleneck_768_v4_48reluyx1, 12 dispatches
struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<vec4f>;
@group(0) @binding(2) var<storage, read> u: array<vec4f>;
@group(0) @binding(3) var<storage, read> adapter0: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
fn act_relu(x: f32) -> f32 { return max(x, 0.0); }
const D = 768u;
const D4 = 192u;
const ROWS = 4u;
var<workgroup> yrow: array<vec4f, 768>;
var<workgroup> hidden: array<vec4f, 48>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let row0 = group * ROWS;
  if (row0 >= params.rows) { return; }
  let last = params.rows - 1u;
  for (var i = lid; i < ROWS * D4; i = i + 64u) { yrow[i] = y[min(row0 + i / D4, last) * D4 + i % D4]; }
  workgroupBarrier();
  // adapter 0: r = 48
  for (var j = lid; j < 48u; j = j + 64u) {
    let bias = adapter0[9216u + j / 4u][j % 4u];
    var s = array<f32, ROWS>(bias, bias, bias, bias);
    for (var c = 0u; c < D4 + params.pad; c = c + 1u) {
      let w = adapter0[j * D4 + c];
      s[0] = s[0] + dot(w, yrow[0u + c]); s[1] = s[1] + dot(w, yrow[192u + c]); s[2] = s[2] + dot(w, yrow[384u + c]); s[3] = s[3] + dot(w, yrow[576u + c]);
    }
    hidden[0u + j / 4u][j % 4u] = act_relu(s[0]); hidden[12u + j / 4u][j % 4u] = act_relu(s[1]); hidden[24u + j / 4u][j % 4u] = act_relu(s[2]); hidden[36u + j / 4u][j % 4u] = act_relu(s[3]);
  }
  workgroupBarrier();
  for (var c = lid; c < D; c = c + 64u) {
    let bias = adapter0[18444u + c / 4u][c % 4u];
    var s = array<f32, ROWS>(bias, bias, bias, bias);
    for (var j = 0u; j < 12u + params.pad; j = j + 1u) {
      let w = adapter0[9228u + c * 12u + j];
      s[0] = s[0] + dot(w, hidden[0u + j]); s[1] = s[1] + dot(w, hidden[12u + j]); s[2] = s[2] + dot(w, hidden[24u + j]); s[3] = s[3] + dot(w, hidden[36u + j]);
    }
    yrow[0u + c / 4u][c % 4u] = yrow[0u + c / 4u][c % 4u] + 1.0f * s[0]; yrow[192u + c / 4u][c % 4u] = yrow[192u + c / 4u][c % 4u] + 1.0f * s[1]; yrow[384u + c / 4u][c % 4u] = yrow[384u + c / 4u][c % 4u] + 1.0f * s[2]; yrow[576u + c / 4u][c % 4u] = yrow[576u + c / 4u][c % 4u] + 1.0f * s[3];
  }
  workgroupBarrier();
  for (var i = lid; i < ROWS * D4; i = i + 64u) { if (row0 + i / D4 < params.rows) { out[row0 * D4 + i] = yrow[i]; } }
}

// kernel k7: bottleneck_768_v4_64geluyx1, 9 dispatches
struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<vec4f>;
@group(0) @binding(2) var<storage, read> u: array<vec4f>;
@group(0) @binding(3) var<storage, read> adapter0: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;
fn erf_approx(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}
fn act_gelu(x: f32) -> f32 { return 0.5 * x * (1.0 + erf_approx(x * 0.7071067811865476)); }
const D = 768u;
const D4 = 192u;
const ROWS = 4u;
var<workgroup> yrow: array<vec4f, 768>;
var<workgroup> hidden: array<vec4f, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let row0 = group * ROWS;
  if (row0 >= params.rows) { return; }
  let last = params.rows - 1u;
  for (var i = lid; i < ROWS * D4; i = i + 64u) { yrow[i] = y[min(row0 + i / D4, last) * D4 + i % D4]; }
  workgroupBarrier();
  // adapter 0: r = 64
  for (var j = lid; j < 64u; j = j + 64u) {
    let bias = adapter0[12288u + j / 4u][j % 4u];
    var s = array<f32, ROWS>(bias, bias, bias, bias);
    for (var c = 0u; c < D4 + params.pad; c = c + 1u) {
      let w = adapter0[j * D4 + c];
      s[0] = s[0] + dot(w, yrow[0u + c]); s[1] = s[1] + dot(w, yrow[192u + c]); s[2] = s[2] + dot(w, yrow[384u + c]); s[3] = s[3] + dot(w, yrow[576u + c]);
    }
    hidden[0u + j / 4u][j % 4u] = act_gelu(s[0]); hidden[16u + j / 4u][j % 4u] = act_gelu(s[1]); hidden[32u + j / 4u][j % 4u] = act_gelu(s[2]); hidden[48u + j / 4u][j % 4u] = act_gelu(s[3]);
  }
  workgroupBarrier();
  for (var c = lid; c < D; c = c + 64u) {
    let bias = adapter0[24592u + c / 4u][c % 4u];
    var s = array<f32, ROWS>(bias, bias, bias, bias);
    for (var j = 0u; j < 16u + params.pad; j = j + 1u) {
      let w = adapter0[12304u + c * 16u + j];
      s[0] = s[0] + dot(w, hidden[0u + j]); s[1] = s[1] + dot(w, hidden[16u + j]); s[2] = s[2] + dot(w, hidden[32u + j]); s[3] = s[3] + dot(w, hidden[48u + j]);
    }
    yrow[0u + c / 4u][c % 4u] = yrow[0u + c / 4u][c % 4u] + 1.0f * s[0]; yrow[192u + c / 4u][c % 4u] = yrow[192u + c / 4u][c % 4u] + 1.0f * s[1]; yrow[384u + c / 4u][c % 4u] = yrow[384u + c / 4u][c % 4u] + 1.0f * s[2]; yrow[576u + c / 4u][c % 4u] = yrow[576u + c / 4u][c % 4u] + 1.0f * s[3];
  }
  workgroupBarrier();
  for (var i = lid; i < ROWS * D4; i = i + 64u) { if (row0 + i / D4 < params.rows) { out[row0 * D4 + i] = yrow[i]; } }
}

// kernel k8: weight_product_vec4_768x768x768_t, 12 dispatches
struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;
const M = 768u;
const R4 = 192u;
const C4 = 192u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let index = group * 64u + lid;
  let col = index % C4;
  let row4 = index / C4;
  if (row4 >= R4) { return; }
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var k = 0u; k < M + params.pad; k = k + 1u) {
    let xv = b[k * R4 + row4];
    let yv = a[k * C4 + col];
    a0 = a0 + xv.x * yv;
    a1 = a1 + xv.y * yv;
    a2 = a2 + xv.z * yv;
    a3 = a3 + xv.w * yv;
  }
  let row = row4 * 4u;
  out[row * C4 + col] = a0;
  out[(row + 1u) * C4 + col] = a1;
  out[(row + 2u) * C4 + col] = a2;
  out[(row + 3u) * C4 + col] = a3;
}

// kernel k9: weight_product_scalar_768x768x1, 12 dispatches
struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
const M = 768u;
const R = 768u;
const C = 1u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let index = group * 64u + lid;
  if (index >= R * C) { return; }
  let row = index / C;
  let col = index % C;
  var sum = 0.0;
  for (var k = 0u; k < M + params.pad; k = k + 1u) { sum = sum + a[k * R + row] * b[k * C + col]; }
  out[index] = sum;
}

// kernel k10: fusion_mix_3x768_0.03608439117670059, 9 dispatches
struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> o0: array<f32>;
@group(0) @binding(3) var<storage, read> o1: array<f32>;
@group(0) @binding(4) var<storage, read> o2: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
var<workgroup> scratch: array<f32, 64>;
fn workgroup_sum(value: f32, lid: u32) -> f32 {
  scratch[lid] = value;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { scratch[lid] = scratch[lid] + scratch[lid + stride]; }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();
  return total;
}
const D = 768u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let row = group;
  if (row >= params.rows) { return; }
  let base = row * D;
  var scores: array<f32, 3>;
  var partial0 = 0.0;
  for (var c = lid; c < D; c = c + 64u) { partial0 = partial0 + q[base + c] * o0[base + c]; }
  scores[0] = workgroup_sum(partial0, lid) * 0.03608439117670059f;
  var partial1 = 0.0;
  for (var c = lid; c < D; c = c + 64u) { partial1 = partial1 + q[base + c] * o1[base + c]; }
  scores[1] = workgroup_sum(partial1, lid) * 0.03608439117670059f;
  var partial2 = 0.0;
  for (var c = lid; c < D; c = c + 64u) { partial2 = partial2 + q[base + c] * o2[base + c]; }
  scores[2] = workgroup_sum(partial2, lid) * 0.03608439117670059f;
  var top = scores[0];
  for (var i = 1u; i < 3u; i = i + 1u) { top = max(top, scores[i]); }
  var total = 0.0;
  for (var i = 0u; i < 3u; i = i + 1u) { scores[i] = exp(scores[i] - top); total = total + scores[i]; }
  for (var c = lid; c < D; c = c + 64u) {
    out[base + c] = (scores[0] * o0[base + c] + scores[1] * o1[base + c] + scores[2] * o2[base + c]) / total;
  }
}

// kernel k11: fusion_mix_2x768_0.03608439117670059, 3 dispatches
struct Params { batch: u32, seq: u32, rows: u32, pad: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> o0: array<f32>;
@group(0) @binding(3) var<storage, read> o1: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
var<workgroup> scratch: array<f32, 64>;
fn workgroup_sum(value: f32, lid: u32) -> f32 {
  scratch[lid] = value;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { scratch[lid] = scratch[lid] + scratch[lid + stride]; }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();
  return total;
}
const D = 768u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let row = group;
  if (row >= params.rows) { return; }
  let base = row * D;
  var scores: array<f32, 2>;
  var partial0 = 0.0;
  for (var c = lid; c < D; c = c + 64u) { partial0 = partial0 + q[base + c] * o0[base + c]; }
  scores[0] = workgroup_sum(partial0, lid) * 0.03608439117670059f;
  var partial1 = 0.0;
  for (var c = lid; c < D; c = c + 64u) { partial1 = partial1 + q[base + c] * o1[base + c]; }
  scores[1] = workgroup_sum(partial1, lid) * 0.03608439117670059f;
  var top = scores[0];
  for (var i = 1u; i < 2u; i = i + 1u) { top = max(top, scores[i]); }
  var total = 0.0;
  for (var i = 0u; i < 2u; i = i + 1u) { scores[i] = exp(scores[i] - top); total = total + scores[i]; }
  for (var c = lid; c < D; c = c + 64u) {
    out[base + c] = (scores[0] * o0[base + c] + scores[1] * o1[base + c]) / total;
  }
}
