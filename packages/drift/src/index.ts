export * from './drift-methods.ts';
export * from './histogram-edges.ts';
export { ksTwoSample, kolmogorovSurvival, type KsResult } from './ks-two-sample.ts';
export { chiSquareSurvival, logGamma, upperRegularizedGamma } from './gamma-functions.ts';
export { normalCdf, erf, erfc } from './normal-distribution.ts';
export * from './quantiles.ts';
export * from './bucket-scan.ts';
