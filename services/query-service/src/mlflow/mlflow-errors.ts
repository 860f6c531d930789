// MLflow's error contract: JSON { error_code, message } with the HTTP status MLflow uses for each code.
export type MlflowErrorCode = 'INVALID_PARAMETER_VALUE' | 'RESOURCE_DOES_NOT_EXIST' | 'RESOURCE_ALREADY_EXISTS' | 'BAD_REQUEST' | 'NOT_IMPLEMENTED' | 'TEMPORARILY_UNAVAILABLE' | 'INTERNAL_ERROR';

const STATUS: Record<MlflowErrorCode, number> = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
};

export class MlflowError extends Error {
  readonly errorCode: MlflowErrorCode;
  readonly statusCode: number;
  constructor(errorCode: MlflowErrorCode, message: string) {
    super(message);
    this.errorCode = errorCode;
    this.statusCode = STATUS[errorCode];
  }
}

export const invalid = (message: string) => new MlflowError('INVALID_PARAMETER_VALUE', message);
export const notFound = (message: string) => new MlflowError('RESOURCE_DOES_NOT_EXIST', message);

export const mlflowErrorSchema = {
  type: 'object',
  properties: { error_code: { type: 'string' }, message: { type: 'string' } },
  required: ['error_code', 'message'],
} as const;
