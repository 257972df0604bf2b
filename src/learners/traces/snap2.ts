/**
 * `snap2` — SnAp-2 (Menick et al., ICLR 2021): RTRL's influence kept only where a parameter can reach within
 * two steps of the recurrent core. A parameter θ of layer l writes into one unit i(θ) (its row of W_ih or
 * W_hh, its bias, its unit parameter). After one step it has touched unit i only (SnAp-1's pattern, the
 * diagonal); after two it has touched every unit j that reads i through a recurrent synapse kept by the mask:
 *
 *   P(θ) = {i(θ)} ∪ {j : W_hh,g[j, i(θ)] is not masked for some gate block g}
 *   M_t[c, j, θ] = ((∂f/∂s)·M_{t−1} + (∂f/∂a)·(W_hh·dy_{t−1}/dθ + W_ih·dx_t/dθ + immediate))[c, j, θ]  if j ∈ P(θ), else 0
 *   dy_t/dθ = Σ_c ∂h/∂s_c ⊙ M_t[c]  (the same pattern)
 *
 * Built on the full influence (traces/full.ts) with this pattern as its restriction, applied to each
 * layer's own parameters in its own influence after every step; the influence of a lower layer's parameters
 * on the layers above is carried as in rtrl. The pattern is read from the network's weight_hh masks at every
 * step (magnitude pruning may change them); LRU layers are diagonal, so their influence is already inside it.
 *
 * Exact: with dense recurrent weights (no `density` mask) every unit reaches every other in one hop, so the
 * pattern is full and snap2 is rtrl, bit for bit. Without recurrent synapses (`recurrent: false`) the true
 * influence of a layer's own parameters lies on the diagonal, inside the pattern: exact on every parameter.
 * With a sparse mask it is the paper's approximation, between snap1 (the diagonal) and rtrl.
 * Cost per step and sample: as rtrl here, O(G·n·(n + d)·P) time and O(S·n·P) memory, plus O(G·n² + P·n) to
 * apply the pattern — this engine computes the dense influence and zeroes what lies outside. A sparse-storage
 * engine would need O(δ·n·P) memory and O(δ²·n²·P) time at weight density δ; it is not built.
 * Reference: J. Menick, E. Elsen, U. Evci, S. Osindero, K. Simonyan, A. Graves, "Practical real time recurrent
 * learning with a sparse approximation", ICLR 2021.
 */
import type { Buf, FloatArray } from '../../backend/backend.js';
import type { Network } from '../../model/network.js';
import { RecurrentLayer } from '../../modules/recurrent.js';
import type { InfluenceRestriction } from './full.js';
import type { ModuleInfluence, UnitLayerInfluence } from './influence.js';

interface LayerPattern {
  layer: RecurrentLayer;
  /** the weight_hh mask (1 kept, 0 pruned), or null: dense, the pattern is full */
  mask: Buf | null;
  /** parameters before the layer's own (the first rows of its influence) */
  Rin: number;
  /** the unit each of the layer's own parameters writes into */
  unitOfRow: Int32Array;
  /** per source unit i: the units outside its pattern, excluded[i·n .. i·n + count[i]) */
  excluded: Int32Array;
  count: Int32Array;
}

export class Snap2Pattern implements InfluenceRestriction {
  private readonly layers: (LayerPattern | null)[];

  constructor(network: Network) {
    this.layers = network.modules.map((m, k) => {
      if (!(m instanceof RecurrentLayer)) return null;
      const n = m.n,
        G = m.unit.G,
        Gn = G * n,
        inp = m.inSize;
      const unitOfRow = new Int32Array(m.ownRows);
      const hh = Gn * inp,
        bias = hh + Gn * n;
      for (let r = 0; r < m.ownRows; r++) {
        if (r < hh) unitOfRow[r] = Math.floor(r / inp) % n;
        else if (r < bias) unitOfRow[r] = Math.floor((r - hh) / n) % n;
        else unitOfRow[r] = (r - bias) % n; // bias_ih, bias_hh, then each unit parameter: one entry per unit
      }
      return {
        layer: m,
        mask: network.masks.get(`${network.prefixes[k]}weight_hh`) ?? null,
        Rin: network.rowsBefore[k]!,
        unitOfRow,
        excluded: new Int32Array(n * n),
        count: new Int32Array(n),
      };
    });
  }

  /** the units outside each unit's two-step pattern, from the current mask; false when the pattern is full */
  private refresh(p: LayerPattern): boolean {
    if (!p.mask) return false;
    const n = p.layer.n,
      G = p.layer.unit.G,
      m = p.mask.data;
    let any = false;
    for (let i = 0; i < n; i++) {
      let c = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        let reaches = false;
        for (let g = 0; g < G && !reaches; g++) reaches = m[(g * n + j) * n + i] !== 0;
        if (!reaches) p.excluded[i * n + c++] = j;
      }
      p.count[i] = c;
      if (c > 0) any = true;
    }
    return any;
  }

  apply(i: number, influence: ModuleInfluence, ty: Buf): void {
    const p = this.layers[i];
    if (!p || !this.refresh(p)) return;
    const inf = influence as UnitLayerInfluence;
    for (let c = 0; c < inf.M.length; c++) this.clear(p, inf.M[c]!.data);
    this.clear(p, ty.data);
    this.clear(p, inf.yT.data);
  }

  /** zero the entries (own parameter row, unit) outside the pattern of a rows × n matrix */
  private clear(p: LayerPattern, d: FloatArray): void {
    const n = p.layer.n;
    for (let r = 0; r < p.unitOfRow.length; r++) {
      const u = p.unitOfRow[r]!,
        base = (p.Rin + r) * n;
      for (let k = 0; k < p.count[u]!; k++) d[base + p.excluded[u * n + k]!] = 0;
    }
  }
}
