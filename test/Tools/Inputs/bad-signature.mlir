// Entry points take and return tensors of numbers, not packed values.

func.func @f(%p: !binq.packed<4x64x!binq.binary>) -> !binq.packed<4x64x!binq.binary> {
  return %p : !binq.packed<4x64x!binq.binary>
}
