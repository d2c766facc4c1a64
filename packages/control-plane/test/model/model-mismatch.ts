/**
 * A difference between a store and the reference model of the contract. Thrown by the checks of
 * the model-based property; a plain `Error` from the same code is a bug of the test itself.
 */
export class ModelMismatch extends Error {
  override readonly name = 'ModelMismatch';
}
