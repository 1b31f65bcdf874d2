export { Rng } from './sfrng';
