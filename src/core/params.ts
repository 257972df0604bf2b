/**
 * The parameter store: all of a model's parameters in one flat buffer (so an optimizer or a gradient
 * accumulator is a single kernel call over it), with a named, shaped view for each parameter.
 *
 * Parameters are packed back to back without padding, so `flat` is exactly the parameter vector θ and a
 * gradient store built from the same specs lines up with it element for element.
 */
import type { Backend, Buf } from '../backend/backend.js';
import { NonFiniteError, ShapeError, UnknownNameError } from './errors.js';
import { type Shape, checkShape, formatShape, shapeSize } from './shapes.js';

export interface ParamSpec {
  readonly name: string;
  readonly shape: Shape;
}

export interface ParamEntry extends ParamSpec {
  /** offset of the first element in the flat buffer */
  readonly offset: number;
  readonly size: number;
  readonly buf: Buf;
}

export class ParamStore {
  readonly flat: Buf;
  readonly size: number;
  private readonly byName = new Map<string, ParamEntry>();

  constructor(
    readonly backend: Backend,
    specs: readonly ParamSpec[],
  ) {
    let size = 0;
    for (const s of specs) {
      checkShape(`parameter '${s.name}'`, s.shape);
      size += shapeSize(s.shape);
    }
    this.size = size;
    this.flat = backend.alloc(size);
    let offset = 0;
    for (const s of specs) {
      if (this.byName.has(s.name)) throw new ShapeError(`parameter '${s.name}' is declared twice`);
      const n = shapeSize(s.shape);
      this.byName.set(s.name, { name: s.name, shape: [...s.shape], offset, size: n, buf: this.flat.view(offset, n) });
      offset += n;
    }
  }

  /** A store with the same names and shapes (gradients, optimizer moments), zero-filled. */
  like(backend: Backend = this.backend): ParamStore {
    return new ParamStore(backend, this.specs());
  }

  specs(): ParamSpec[] {
    return [...this.byName.values()].map(({ name, shape }) => ({ name, shape }));
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  entry(name: string): ParamEntry {
    const e = this.byName.get(name);
    if (!e) throw new UnknownNameError('parameter', name, this.names());
    return e;
  }

  /** The live view of one parameter (kernels write through it). */
  buf(name: string): Buf {
    return this.entry(name).buf;
  }

  shape(name: string): Shape {
    return this.entry(name).shape;
  }

  /** A copy of one parameter's values, as float64. */
  get(name: string): Float64Array {
    return Float64Array.from(this.entry(name).buf.data);
  }

  /** Overwrite one parameter. The values must be finite and match the parameter's size (and shape, if given). */
  set(name: string, values: ArrayLike<number>, shape?: Shape): void {
    const e = this.entry(name);
    if (shape !== undefined && (shape.length !== e.shape.length || shape.some((d, i) => d !== e.shape[i]))) {
      throw new ShapeError(`parameter '${name}' has shape ${formatShape(e.shape)}, got ${formatShape(shape)}`);
    }
    if (values.length !== e.size) {
      throw new ShapeError(`parameter '${name}' has ${e.size} elements (shape ${formatShape(e.shape)}), got ${values.length}`);
    }
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        throw new NonFiniteError(`parameter '${name}' element ${i} is ${values[i]}; parameters must be finite`);
      }
    }
    e.buf.data.set(values);
  }

  /** Copy all values from a store with the same specs. */
  copyFrom(other: ParamStore): void {
    if (other.size !== this.size || other.names().some((n, i) => n !== this.names()[i])) {
      throw new ShapeError('copyFrom: the stores hold different parameters');
    }
    this.flat.data.set(other.flat.data);
  }
}
